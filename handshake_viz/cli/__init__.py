"""The ``handshake-viz`` command: `main` parses and dispatches, one module per command family.

Exit codes and the one-line error printer live in `errors`; nothing below this layer prints
to the terminal on its own.
"""
