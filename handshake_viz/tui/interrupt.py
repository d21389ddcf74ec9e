"""Ctrl-C while the TUI starts: a request to quit once the app stands, never a traceback.

Until Textual puts the terminal in raw mode, and again after it restores it, Ctrl-C is a
signal, not a key: left as Python's KeyboardInterrupt it unwinds the app wherever it is, and
an app stopped half mounted has Textual report its own widgets' errors (a tab strip whose
tabs were already removed: "No Tab with id ..."). While `quit_on_ctrl_c` is in effect the
signal only calls `request_quit`; the app quits as `q` does at its next tick after its first
frame (`TimelineApp._tick`), and a source is stopped the same way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def quit_on_ctrl_c(request_quit: Callable[[], None]) -> Iterator[None]:
    """While in effect, SIGINT calls `request_quit` (main thread only: elsewhere, nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        request_quit()

    old = signal.signal(signal.SIGINT, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
