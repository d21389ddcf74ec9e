"""Exit codes and the one line a user reads when something is wrong.

Every problem that reaches the user is one line on stderr naming the problem and the fix,
and a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_ERROR = 2
"""Bad input, a missing privilege, a file that cannot be read or written."""
EXIT_INTERRUPTED = 130
"""Ctrl-C where nothing could be finished cleanly (128 + SIGINT, as shells report it)."""


def error(message: str) -> int:
    """Print one line on stderr and return the error exit status."""
    print(f"handshake-viz: {message}", file=sys.stderr, flush=True)
    return EXIT_ERROR


def note(message: str) -> None:
    """Print one line of information on stderr (stdout carries the events)."""
    print(f"handshake-viz: {message}", file=sys.stderr, flush=True)
