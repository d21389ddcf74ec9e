"""The one interface every source of events offers: replay, live capture, the demo.

A source is iterated once (possibly in a thread); ``stop()`` may be called from another thread
and makes the iteration end soon. The tracker and the views never know which source feeds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from handshake_viz.events import CaptureStats, Event


class SourceError(Exception):
    """A source cannot start or cannot go on: the message is one line naming problem and fix."""


class EventSource(Protocol):
    """Something that yields events in time order."""

    description: str
    """What the status bar shows: a file name, or an interface and filter."""
    stats: CaptureStats
    """Counts kept up to date while iterating."""
    live: bool
    """True for live capture (follow mode), False for a file (playback)."""

    def events(self) -> Iterator[Event]:
        """Yield the events; may block waiting for packets when live."""
        ...

    def stop(self) -> None:
        """Ask the iteration to end (thread-safe)."""
        ...
