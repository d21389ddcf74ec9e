"""Exit codes and the one line a user reads when something is wrong.

Every problem that reaches the user is one line on stderr naming the problem and the fix,
and a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import sys

from handshake_viz.sources.catalog_errors import said

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "error", "note", "one_line", "said"]

EXIT_OK = 0
EXIT_ERROR = 2
"""Bad input, a missing privilege, a file that cannot be read or written."""
EXIT_INTERRUPTED = 130
"""Ctrl-C where nothing could be finished cleanly (128 + SIGINT, as shells report it)."""


def one_line(message: str) -> str:
    """`message` on one line: a control character (a newline in a file name) is escaped."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def error(message: str) -> int:
    """Print one line on stderr and return the error exit status."""
    _say(message)
    return EXIT_ERROR


def note(message: str) -> None:
    """Print one line of information on stderr (stdout carries the events)."""
    _say(message)


def _say(message: str) -> None:
    if sys.stderr is None:  # closed (2>&-): the exit status says it
        return
    try:
        print(f"handshake-viz: {one_line(message)}", file=sys.stderr, flush=True)
    except OSError:
        pass
