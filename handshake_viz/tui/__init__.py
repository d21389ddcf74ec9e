"""The Textual timeline app (issue 4): `make_app` for tests and embedding, `run_tui` for the CLI.

Importing this package imports textual; the core modules never import it.
"""

from handshake_viz.tui.app import TimelineApp, make_app, run_tui

__all__ = ["TimelineApp", "make_app", "run_tui"]
