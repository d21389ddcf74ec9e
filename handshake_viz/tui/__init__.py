"""The Textual timeline app: `app.make_app` for tests and embedding, `app.run_tui` for the CLI.

Importing this package does not import the app (nor textual): import `handshake_viz.tui.app`.
"""
