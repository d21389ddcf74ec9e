"""A saved capture's socket calls and kernel states, read back among its packets (replay).

The events were written as they reached the capture file, a little after the packets around
them (the tracer's lines take a few milliseconds), so the reader keeps the packets a moment
(`WINDOW` of capture time) until every event from before them has been read: then the
tracker knows whether anything listened where a SYN went, and events and packets leave in
time order, each packet with both ends' kernel states (`anchors`), as they were shown live.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from handshake_viz.core.events import (
    Event,
    PacketEvent,
    SideEvent,
    SocketEvent,
    StateEvent,
    TcpState,
    split_endpoint,
)
from handshake_viz.core.listeners import ListenerLog
from handshake_viz.core.pcapfile import RawRecord
from handshake_viz.sources.kernel.anchors import KernelAnchors
from handshake_viz.sources.kernel.journal import parse_entry
from handshake_viz.sources.live.pcapwriter import PCAPNG_APPLICATION

WINDOW = 1.0
"""Seconds of capture time a packet waits for the events written after it."""
_ANY = ("0.0.0.0", "::")


def holds_events(path: str) -> bool:
    """A pcapng file this program wrote (its section header names it): it may hold events."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    return head[:4] == b"\x0a\x0d\x0d\x0a" and PCAPNG_APPLICATION in head


class KernelListeners:
    """Where listeners were, from state changes: what a SYN's server end was, for the tracker.

    Thread-safe (the tracer's thread adds, the tracking thread asks). A SYN to a port with no
    listener may have come before the tracer's line about that listener: `listening` gives
    the tracer `grace` seconds past the SYN before it answers no.
    """

    def __init__(self, grace: float = 0.0) -> None:
        self.grace = grace
        self._open: dict[tuple[str, int], float] = {}
        self._closed: list[tuple[str, int, float, float]] = []
        self._lock = threading.Lock()

    def add(self, event: StateEvent) -> None:
        if event.remote is not None or event.local is None:
            return
        end = split_endpoint(event.local)
        if end is None:
            return
        with self._lock:
            if event.new is TcpState.LISTEN:
                self._open.setdefault(end, event.time)
            elif event.old is TcpState.LISTEN and end in self._open:
                self._closed.append((*end, self._open.pop(end), event.time))

    def _listening(self, addr: str, port: int, at: float) -> bool:
        with self._lock:
            spans = [(a, p, since, float("inf")) for (a, p), since in self._open.items()]
            return any(
                p == port and (a == addr or a in _ANY) and since <= at <= until
                for a, p, since, until in spans + self._closed
            )

    def listening(self, addr: str, port: int, at: float) -> bool:
        """Did anything listen on `addr`:`port` at `at`?"""
        if self._listening(addr, port, at):
            return True
        wait = at + self.grace - time.time()
        if wait > 0:
            time.sleep(min(wait, self.grace))
            return self._listening(addr, port, at)
        return False


class SavedKernelView:
    """Collects the journal entries `pcapfile.read_records` finds, and merges them back.

    Use `on_journal` as the reader's journal callback, `hold` around its records, `listening`
    as the tracker's, and `merged` around the tracked events.
    """

    def __init__(self) -> None:
        self.kernel = False
        """The file says the kernel's view was on while it was captured."""
        self.active = False
        """The file holds events of ours (the kernel's view, or a demo's own calls)."""
        self.view: dict[str, Any] | None = None
        self._heap: list[tuple[float, int, SideEvent]] = []
        self._order = itertools.count()
        self._latest = 0.0
        self.kernel_listeners = KernelListeners()
        self.demo_listeners = ListenerLog()
        self.events = 0

    def on_journal(self, frame: int, body: bytes) -> None:
        event = parse_entry(body)
        if event is None:
            return
        self.active = True
        if isinstance(event, dict):
            self.view = event
            self.kernel = bool(event.get("kernel"))
            return
        self.events += 1
        if isinstance(event, StateEvent):
            self.kernel_listeners.add(event)
        elif isinstance(event, SocketEvent):
            self.demo_listeners.add(event)
        self._latest = max(self._latest, event.time)
        heapq.heappush(self._heap, (event.time, next(self._order), event))

    def listening(self, addr: str, port: int, at: float) -> bool:
        """For the tracker: the kernel's listeners, or the demo's, or (neither) yes."""
        if self.kernel:
            return self.kernel_listeners.listening(addr, port, at)
        if self.active:
            return self.demo_listeners.listening(addr, port, at)
        return True

    def hold(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        """Pass records on once the events from before them have been read (`WINDOW`)."""
        held: deque[RawRecord] = deque()
        for rec in records:
            if not self.active:
                yield rec
                continue
            held.append(rec)
            newest = max(rec[1], self._latest)
            while held and held[0][1] + WINDOW < newest:
                yield held.popleft()
        yield from held

    def merged(self, events: Iterable[Event]) -> Iterator[Event]:
        """The tracked events with the saved ones in among them, in time order, and each
        packet with its kernel states where the kernel's view was on."""
        stream = self._interleave(events)
        first = next(stream, None)  # the view's entry comes before the first packet
        if first is None:
            return
        rest = itertools.chain((first,), stream)
        if self.kernel:
            yield from KernelAnchors().run(rest)
        else:
            yield from rest

    def _interleave(self, events: Iterable[Event]) -> Iterator[Event]:
        heap = self._heap
        for ev in events:
            if type(ev) is PacketEvent:
                t = ev.time
                while heap and heap[0][0] <= t:
                    yield heapq.heappop(heap)[2]
            elif getattr(ev, "type", "") == "connection":
                while heap:  # the summaries come last
                    yield heapq.heappop(heap)[2]
            yield ev
        while heap:
            yield heapq.heappop(heap)[2]
