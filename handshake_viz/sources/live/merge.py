"""One timeline from three producers: the sniffer's packets, the demo's socket calls and the
kernel's view (any program's calls, state changes, retransmissions and resets).

All carry CLOCK_REALTIME stamps (the kernel's packet timestamp, ``time.time()`` around each
demo call, the tracepoints' monotonic clock converted), but they reach us by different roads:
a packet can be read by the sniffer a fraction of a millisecond after the ``accept()`` it
caused has already been reported, and the tracer's lines come through bpftrace's buffers. So
events wait a short `delay` (and for the tracer's ticks, when it runs) and leave in time
order; with the kernel's view, each packet then carries both ends' kernel states
(`sources.kernel.anchors`). A call that causes packets while it runs
(``connect()``, ``send()``, ``close()``) is announced with `begin` and holds back every later
packet until it returns, so that ``connect()`` stands before its SYN; a call that blocks
longer than `hold_cap` is shown at once as "waiting" and its outcome later, so one slow
``connect()`` (a SYN dropped by a full backlog) never freezes the timeline.

Packets keep their receipt order among themselves (the order of the capture file's frames);
socket events are slotted in between by time, before a packet of the same instant.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from handshake_viz.core.events import Event, PacketEvent, SideEvent, SocketEvent
from handshake_viz.core.listeners import ListenerLog
from handshake_viz.sources.kernel.anchors import KernelAnchors

"""Result of a call shown before it returned (it blocked longer than the hold cap)."""


@dataclass(slots=True)
class PendingCall:
    """A socket call in progress, announced by `TimelineMerger.begin`."""

    start: float
    provisional: SocketEvent
    """What to show if the call blocks too long: the call with result "waiting"."""
    announced: bool = False


class TimelineMerger:
    """A thread-safe buffer that releases packets and socket events in time order.

    Args:
        delay: seconds every event waits for earlier ones still on their way (0 for live
            capture without socket events: packets then pass straight through).
        hold_cap: longest a call in progress holds back later packets.
        paced: nothing is released until the capture has caught up with it (`caught_up`):
            a packet reaches us through another process, a file and a thread that competes
            with the TUI for the GIL, and can take longer than `delay`, which would put a
            socket call above the SYN it caused.
    """

    CAUGHT_UP_MARGIN = 0.005
    """Seconds a packet may take from the kernel into the capture file (another process)."""
    PACE_CAP = 0.25
    """Longest anything waits for the capture to catch up (a steady stream of packets never
    lets the reader find the file's end)."""

    def __init__(self, delay: float = 0.02, hold_cap: float = 0.3, paced: bool = False):
        self.delay = delay
        self.hold_cap = hold_cap
        self._caught_up = 0.0 if paced else None
        """Wall time when the capture's reader last found nothing more to read."""
        self._tracer_at: float | None = None
        """With the kernel's view: the time up to which the tracer has reported everything."""
        self.anchors: KernelAnchors | None = None
        """With the kernel's view: puts both ends' kernel states on each packet."""
        self.on_side: Callable[[SideEvent], None] | None = None
        """Told of every side event as it is queued (the capture file's writer keeps them),
        outside the lock: writing one costs tens of microseconds that the capture's thread
        must not wait for."""
        self._unsaved: list[SideEvent] = []
        self._save_lock = threading.Lock()
        """Keeps `on_side` in queueing order across threads."""
        self.default_process: tuple[int, str] | None = None
        """(pid, name) given to socket calls that come without one (the demo's own)."""
        self._cond = threading.Condition()
        self._packets: deque[PacketEvent] = deque()
        self._sockets: list[tuple[float, int, SideEvent]] = []
        self._pending: dict[int, PendingCall] = {}
        self._order = itertools.count()
        self.listeners = ListenerLog()
        """Where the traced sockets listened, and when (for the tracker's SYNs)."""

    def add_packet(self, event: PacketEvent) -> None:
        with self._cond:
            self._packets.append(event)

    def add_packets(self, events: list[PacketEvent]) -> None:
        """A batch of packets in capture order: one lock and one wake-up for all of them."""
        with self._cond:
            self._packets.extend(events)

    def add_socket(self, event: SocketEvent) -> None:
        with self._cond:
            self._push(event)
        self._save()

    def add_side(self, event: SideEvent) -> None:
        """A socket call, state change or kernel event, released in time order."""
        with self._cond:
            self._push(event)
        self._save()

    def add_sides(self, events: list[SideEvent], saved: bool = False) -> None:
        """A batch of side events (the kernel's view's): one lock for all of them.
        `saved`: already in the capture file (the kernel's view's reader writes them)."""
        with self._cond:
            for event in events:
                self._push(event, saved)
        self._save()

    def _save(self) -> None:
        """Hand `on_side` what was queued since (not under the lock)."""
        if not self._unsaved or self.on_side is None:
            return
        with self._save_lock:
            with self._cond:
                unsaved, self._unsaved = self._unsaved, []
            for event in unsaved:
                self.on_side(event)

    def _push(self, event: SideEvent, saved: bool = False) -> None:
        """A side event into the queue (a call also into `listeners`); under the lock."""
        if type(event) is SocketEvent:
            self.listeners.add(event)
            if event.pid is None and self.default_process is not None:
                event.pid, event.comm = self.default_process
        heapq.heappush(self._sockets, (event.time, next(self._order), event))
        if self.on_side is not None and not saved:
            self._unsaved.append(event)

    def tracer_ready(self) -> None:
        """The kernel's view runs (from now on: before, packets pass without waiting for
        it): hold everything for its ticks and for the capture (a state change must not pass
        the packet that caused it), and annotate packets."""
        with self._cond:
            self._tracer_at = time.time() - self.CAUGHT_UP_MARGIN
            if self._caught_up is None:
                self._caught_up = 0.0
            self.anchors = KernelAnchors()

    def tracer_at(self, t: float) -> None:
        """The tracer has reported everything that happened before `t` (wall clock)."""
        with self._cond:
            if self._tracer_at is not None and t > self._tracer_at:
                self._tracer_at = t

    def tracer_gone(self) -> None:
        """The tracer stopped: wait for it no longer (the states already had stay)."""
        with self._cond:
            self._tracer_at = None

    def begin(self, provisional: SocketEvent) -> int:
        """Announce a call starting at ``provisional.time``; returns a token for `end`."""
        token = next(self._order)
        with self._cond:
            self._pending[token] = PendingCall(provisional.time, provisional)
        return token

    def end(
        self, token: int, build: Callable[[bool], SocketEvent | None], saved: bool = False
    ) -> None:
        """The call returned: ``build(announced)`` makes its event (None: nothing to show).

        `announced` tells whether the "waiting" event was already shown, in which case the
        outcome should carry the time of return rather than the time of the call.
        """
        with self._cond:
            pending = self._pending.pop(token)
            event = build(pending.announced)
            if event is not None:
                self._push(event, saved)
        self._save()

    def caught_up(self, at: float) -> None:
        """The capture's reader read everything written before `at` (wall clock)."""
        with self._cond:
            self._caught_up = at

    def lag(self) -> float:
        """Seconds the timeline is behind the packets: the oldest packet not taken yet has
        waited so long, or the capture's reader last found the file's end so long ago (it is
        reading a backlog). Read without the lock: a glance, not a promise."""
        now = time.time()
        behind = now - self._caught_up if self._caught_up else 0.0
        packets = self._packets
        try:
            return max(behind, now - packets[0].time)
        except IndexError:
            return behind

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def take(self, now: float | None = None, final: bool = False) -> list[Event]:
        """Events whose turn has come, in order; `final` releases everything buffered."""
        out = self._take(now, final)
        self._save()  # calls shown waiting, queued by `_take`
        return out

    def _take(self, now: float | None, final: bool) -> list[Event]:
        now = time.time() if now is None else now
        with self._cond:
            watermark = float("inf") if final else now - self.delay
            if self._caught_up is not None and not final:
                caught_up = max(self._caught_up - self.CAUGHT_UP_MARGIN, now - self.PACE_CAP)
                watermark = min(watermark, caught_up)
            if self._tracer_at is not None and not final:
                watermark = min(watermark, max(self._tracer_at, now - self.PACE_CAP))
            for call in self._pending.values():
                if call.announced:
                    continue
                if now - call.start > self.hold_cap or final:
                    call.announced = True
                    self._push(call.provisional)
                else:
                    watermark = min(watermark, call.start)
            out: list[Event] = []
            packets, sockets = self._packets, self._sockets
            if not sockets and not self._pending and self.delay == 0 and self.anchors is None:
                out.extend(packets)  # live capture: nothing to merge, everything is due
                packets.clear()
                return out
            while True:
                p_time = packets[0].time if packets else None
                s_time = sockets[0][0] if sockets else None
                if (
                    s_time is not None
                    and s_time <= watermark
                    and (p_time is None or s_time <= p_time)
                ):
                    out.append(heapq.heappop(sockets)[2])
                elif p_time is not None and (p_time < watermark or (final and p_time <= watermark)):
                    out.append(packets.popleft())
                else:
                    break
            if self.anchors is not None:
                out = self.anchors.feed(out, None if final else watermark)
                if final:
                    out += self.anchors.flush()
            return out

    def wait(self, timeout: float) -> None:
        """Sleep `timeout` (the consumer's polling period).

        Deliberately not woken per packet: each wake-up hands the GIL from the capture thread
        to the consumer, and at tens of thousands of packets a second those hand-offs cost
        more than the packets. A 5 ms period keeps latency far below what a screen shows.
        """
        with self._cond:
            self._cond.wait(timeout)

    def __len__(self) -> int:
        with self._cond:
            return len(self._packets) + len(self._sockets)
