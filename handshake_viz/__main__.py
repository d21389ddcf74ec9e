"""``python -m handshake_viz`` is the same as the ``handshake-viz`` command."""

from handshake_viz.cli.main import main

if __name__ == "__main__":  # not when a helper process (decode_worker) imports the main module
    raise SystemExit(main())
