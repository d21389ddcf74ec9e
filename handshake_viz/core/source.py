"""The one interface every source of events offers (replay, live capture, the demo, a lesson),
and the optional capabilities some of them add.

A source is iterated once (possibly in a thread); ``stop()`` may be called from another thread
and makes the iteration end soon. The tracker and the views never know which source feeds
them: where a view can do more with a capability (re-read a frame for the packet detail, show
how much of a file is read, open the capture before the UI starts), it asks with
``isinstance(source, FrameSource)`` and the like, never by probing attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from handshake_viz.core.events import CaptureStats, Event


class SourceError(Exception):
    """A source cannot start or cannot go on: the message is one line naming problem and fix.

    Raised above the core, it may carry its message's catalog key and the values that fill
    it (`key`, `values`): the message is English, and the command says it again in the
    user's language.
    """

    def __init__(self, message: str, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@runtime_checkable
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


@runtime_checkable
class Openable(Protocol):
    """A source with a step that may fail before any event (privilege, file, interface)."""

    def open(self) -> None:
        """Acquire what the source needs; raises `SourceError` with one line if it cannot."""
        ...


@runtime_checkable
class FrameSource(Protocol):
    """A source that can give back one captured frame's bytes (for the packet detail)."""

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        """(pcap link type, captured bytes) of 1-based `frame`, None if it cannot be had."""
        ...


@runtime_checkable
class Progress(Protocol):
    """A source that knows how much of its input it has read."""

    def progress(self) -> float | None:
        """From 0 to 1, None where the total is unknown (a pipe)."""
        ...


@runtime_checkable
class Notices(Protocol):
    """A source that may have skipped something without failing, to be told once at the end."""

    def notices(self) -> list[str]:
        """One line each (frames of a link type that is not decoded, for instance)."""
        ...


@runtime_checkable
class Arriving(Protocol):
    """A source whose input arrives while it is read (a pipe, a FIFO): when `is_stream`, the
    views follow its newest event as they follow a live capture, instead of pacing a replay."""

    is_stream: bool
    """True while the input is a stream (stdin, a FIFO), False for a file on disk."""


ENDINGS = ("stopped", "duration", "count", "activity", "error", "eof")
"""Why a source's events ended (`Ended.ended`): asked to stop, its ``--duration`` ran out,
its ``--count`` of packets was reached, the demo's activity ended, an error, the end of a
stream. The status bar says each in words (``status.ended_<code>``)."""


@runtime_checkable
class Ended(Protocol):
    """A source that can say why its events ended (a live capture, a stream)."""

    ended: str | None
    """One of `ENDINGS` once the events have ended, None while they go on."""
