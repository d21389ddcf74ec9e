"""A fake event source the TUI tests drive, and waits for what the app does in threads.

The fake source plays events given to it (from a real capture, plus socket calls), either all
at once (replay) or as the test pushes them (live), so tests control time and never sniff.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from handshake_viz.core.events import CaptureStats, Event, PacketEvent, SocketEvent
from handshake_viz.sources.replay import ReplaySource


def read_events(path: Path) -> list[Event]:
    """Every event the engine reads from a capture (packets, then summaries)."""
    return list(ReplaySource(path).events())


class FakeSource:
    """An EventSource over a list of events; live ones wait for `push` until `stop`/`close`."""

    def __init__(
        self, events: list[Event] | None = None, *, live: bool = False, raw: Any = None
    ) -> None:
        self.description = "fake source"
        self.stats = CaptureStats(source="fake")
        self.live = live
        self._events = list(events or [])
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._raw = raw
        self.stopped = False

    def push(self, *events: Event) -> None:
        for ev in events:
            self._queue.put(ev)

    def close(self) -> None:
        self._queue.put(None)

    def events(self) -> Iterator[Event]:
        for ev in self._events:
            if self.stopped:
                return
            if isinstance(ev, PacketEvent):
                self.stats.packets += 1
            yield ev
        if not self.live:
            return
        while not self.stopped:
            try:
                ev = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if ev is None:
                return
            self.stats.packets += 1
            yield ev

    def stop(self) -> None:
        self.stopped = True

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        return None if self._raw is None else self._raw(frame)


def socket_calls(t0: float) -> list[SocketEvent]:
    """The server's listen() before the first SYN, and the client's connect()."""
    return [
        SocketEvent(t0 - 0.002, "server", "socket", result="ok"),
        SocketEvent(t0 - 0.0015, "server", "bind", local="192.150.187.43:80", result="ok"),
        SocketEvent(t0 - 0.001, "server", "listen", local="192.150.187.43:80", result="ok"),
        SocketEvent(t0 - 0.0001, "client", "connect", remote="192.150.187.43:80"),
    ]


async def wait_indexed(app: Any, pilot: Any, timeout: float = 5.0) -> None:
    """Let the reading thread finish and the tick take in every row."""
    waited = 0.0
    while not (app.timeline.done and app.view.matched == app.timeline.count) and waited < timeout:
        await pilot.pause(0.02)
        waited += 0.02
    await pilot.pause(0.05)


async def wait_dissection(detail: Any, pilot: Any, needle: str, timeout: float = 5.0) -> str:
    """Wait for the packet detail's Scapy dissection (made in a thread) to contain `needle`."""
    from textual.widgets import Static

    waited = 0.0
    while True:
        text = str(detail.query_one("#dissection", Static).render())
        if needle in text or waited >= timeout:
            return text
        await pilot.pause(0.05)
        waited += 0.05
