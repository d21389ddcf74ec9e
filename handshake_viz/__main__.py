"""``python -m handshake_viz`` is the same as the ``handshake-viz`` command."""

from handshake_viz.cli import main

raise SystemExit(main())
