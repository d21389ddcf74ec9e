"""A live capture that runs for as long as the lesson does, beside the stepper's sockets.

`LessonSource` wraps the live engineer's `LiveSource` (same sniffer, pipeline and capture
file) with an activity that simply waits until the lesson ends, so packets keep coming while
the teacher presses keys; the stepper reports its socket calls into the same merger, so calls
and packets share one timeline. It is an `EventSource`: the TUI reads it like any other.

`Collector` iterates a source in a thread and keeps the events, for tests and headless runs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.sources.live.source import LiveSource


class LessonSource:
    """Capture on ``lo`` for the lesson's ports until `stop()`.

    Args:
        ports: the ports the lesson uses (the stepper's port).
        save: capture file to write (the handout goes beside it), or None.
        name: what the status bar shows.
        tee: also given every event, in the order they are yielded (a teacher's stream).
    """

    live = True

    def __init__(
        self,
        ports: Iterable[int],
        save: Path | None = None,
        name: str = "classroom",
        tee: Callable[[Event], None] | None = None,
    ) -> None:
        self.tee = tee
        self.ready = threading.Event()
        """Set once the capture runs: a call made before would miss its packets."""
        self._done = threading.Event()
        self.live_source = LiveSource(
            "lo", list(ports), save=save, activity=self._lesson, name=name, tail=0.1
        )
        self.description = self.live_source.description
        self.stats = self.live_source.stats
        self.recorder = self.live_source.merger
        """Where the stepper reports its socket calls (`demo.tracing.Recorder`)."""

    @property
    def save(self) -> Path | None:
        """The capture file (None: unnamed), as `open` named it."""
        return self.live_source.save

    def capture_bytes(self) -> bytes | None:
        """The capture so far as a pcap file's bytes, saved or not (None: nothing captured).

        Read through the capture's own descriptor with pread (after the privileges are given
        up, /proc/self/fd is no longer this process's to open)."""
        reader = getattr(self.live_source, "_reader", None)
        if reader is not None and not reader.closed:
            chunks, offset = [], 0
            while chunk := os.pread(reader.fileno(), 1 << 20, offset):
                chunks.append(chunk)
                offset += len(chunk)
            return b"".join(chunks) or None
        if self.save is not None and self.save.exists():
            return self.save.read_bytes()
        return None

    def _lesson(self) -> None:
        self.ready.set()  # the activity starts once the capture process reads the socket
        self._done.wait()

    def open(self) -> None:
        """Open the capture socket now (SourceError without the privilege)."""
        self.live_source.open()

    def events(self) -> Iterator[Event]:
        if self.tee is None:
            yield from self.live_source.events()
            return
        for ev in self.live_source.events():
            self.tee(ev)
            yield ev

    def stop(self) -> None:
        """End the lesson: the activity returns, the capture ends after a short tail."""
        self._done.set()
        self.live_source.stop()

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        return self.live_source.raw_frame(frame)


class Collector:
    """Iterates a source in a thread and keeps its events (thread-safe reads)."""

    def __init__(self, source: LessonSource, on_event: Callable[[Event], None] | None = None):
        self.source = source
        self.on_event = on_event
        self.events: list[Event] = []
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="collector", daemon=True)

    def start(self, timeout: float = 10.0) -> Collector:
        """Open the capture and read it in a thread; return once it captures."""
        self.source.open()
        self._thread.start()
        self.source.ready.wait(timeout)
        return self

    def _run(self) -> None:
        try:
            for ev in self.source.events():
                with self._lock:
                    self.events.append(ev)
                if self.on_event is not None:
                    self.on_event(ev)
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def packets(self) -> list[PacketEvent]:
        with self._lock:
            return [e for e in self.events if isinstance(e, PacketEvent)]

    def settle(self, quiet: float = 0.15, timeout: float = 3.0) -> list[PacketEvent]:
        """Wait until no new packet came for `quiet` seconds (at most `timeout`); the packets.

        Loopback packets arrive within a millisecond of the call that caused them, but a busy
        machine may delay the capture thread: waiting for quiet is robust, not a fixed sleep.
        """
        deadline = time.monotonic() + timeout
        seen, since = len(self.packets()), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            n = len(self.packets())
            if n != seen:
                seen, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return self.packets()

    def stop(self, timeout: float = 5.0) -> None:
        self.source.stop()
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
