"""Each end's kernel state after each packet: the kernel's state changes anchored to the packets
that caused them.

A kernel changes a socket's state in two ways, and they sit differently around a packet's
capture time:

- **for what it sends** (connect() to SYN-SENT, close() to FIN-WAIT-1 or LAST-ACK, an abort):
  just *before* the packet leaves; the change belongs to the next packet of that end that
  carries the flag (SYN, FIN, RST), and shows from that packet on;
- **for what it receives** (the SYN-ACK's ESTABLISHED, a FIN's CLOSE-WAIT, the last ACK's
  CLOSED): just *after* the packet is captured (loopback captures a packet as it is
  delivered); the change belongs to the latest packet to that end that could cause it.

So a packet is held a moment (`SETTLE`) for the changes its receiver makes on its account, and
a sending change waits for its packet (at most `SEND_WINDOW`). The result, per packet, is
what the kernel of each end said once that packet had been sent and received: the ladder's
state columns, and the yardstick of the tracker's inference. Where a kernel said nothing (no
socket of that end traced yet, or one gone into the timewait table in FIN-WAIT-2) the state
is unknown (None); a SYN to a port nothing listens on finds the kernel's answer CLOSED.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from handshake_viz.core.events import (
    ACK,
    FIN,
    RST,
    SYN,
    Event,
    KernelEvent,
    KernelStates,
    PacketEvent,
    SocketEvent,
    StateEvent,
    TcpState,
    endpoint,
    split_endpoint,
)

S = TcpState
SETTLE = 0.005
"""Seconds a packet waits for its receiver's state changes (microseconds on loopback)."""
SEND_WINDOW = 0.5
"""Seconds a sending change waits for the packet that carries it before it stands alone."""
EXPIRE_EVERY = 0.01
"""Seconds of packets between two looks for sending changes waiting too long."""
_ANY = ("0.0.0.0", "::")

End = tuple[str, str]
"""A socket as (its own endpoint, its peer's endpoint)."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Which packets a state change can belong to: flags it needs, flags it must not have."""

    sending: bool
    need: int
    forbid: int = 0

    def fits(self, flags: int) -> bool:
        return flags & self.need == self.need and not flags & self.forbid


_RULES: dict[tuple[TcpState, TcpState], Cause] = {
    (S.CLOSED, S.SYN_SENT): Cause(True, SYN, ACK),
    (S.ESTABLISHED, S.FIN_WAIT_1): Cause(True, FIN),
    (S.SYN_RECEIVED, S.FIN_WAIT_1): Cause(True, FIN),
    (S.CLOSE_WAIT, S.LAST_ACK): Cause(True, FIN),
    (S.SYN_SENT, S.ESTABLISHED): Cause(False, SYN | ACK),
    (S.SYN_SENT, S.SYN_RECEIVED): Cause(False, SYN, ACK),
    (S.LISTEN, S.SYN_RECEIVED): Cause(False, ACK, SYN),
    (S.SYN_RECEIVED, S.ESTABLISHED): Cause(False, ACK),
    (S.ESTABLISHED, S.CLOSE_WAIT): Cause(False, FIN),
    (S.FIN_WAIT_1, S.FIN_WAIT_2): Cause(False, ACK),
    (S.FIN_WAIT_1, S.CLOSING): Cause(False, FIN),
    (S.FIN_WAIT_2, S.TIME_WAIT): Cause(False, FIN),
    (S.FIN_WAIT_2, S.FIN_WAIT_2): Cause(False, ACK),
    (S.CLOSING, S.TIME_WAIT): Cause(False, ACK),
    (S.LAST_ACK, S.CLOSED): Cause(False, ACK),
}
"""Where each change of a connected socket belongs (the rest: a reset, or no packet)."""
_RESET_RECEIVED = Cause(False, RST)
_RESET_SENT = Cause(True, RST)


def _port_of(text: str) -> tuple[str, int] | None:
    return split_endpoint(text)


@dataclass(slots=True)
class _Held:
    """A packet waiting for its receiver's changes, with both ends' states so far."""

    event: PacketEvent
    sender: End
    receiver: End
    states: dict[End, TcpState | None]
    note: str | None = None


class KernelAnchors:
    """Annotates packets with both ends' kernel states (`PacketEvent.kernel`), in one pass over
    a time-ordered stream of packets and side events; everything passes through in order."""

    def __init__(self) -> None:
        self._expired_at = float("-inf")
        self.states: dict[End, TcpState | None] = {}
        """Each traced socket's state as of the packets released so far."""
        self._listeners: dict[tuple[str, int], int] = {}
        self._programs: dict[End, str] = {}
        self._port_programs: dict[int, str] = {}
        """A listener's program by port: the server's before its own socket is known."""
        self._timewait: dict[End, TcpState] = {}
        """Sockets in the kernel's timewait table (TIME-WAIT, or FIN-WAIT-2 waiting for the
        peer's FIN): their later changes (that FIN, a reset) are not traced."""
        self._portless: dict[tuple[str, str], StateEvent] = {}
        """SYN-SENT changes whose local port the kernel had not picked yet, by (local
        address, remote endpoint): the next SYN from there to there is theirs."""
        self._sending: dict[End, list[tuple[StateEvent, Cause]]] = {}
        """Changes for what an end sends, waiting for the packet that carries them."""
        self._after_sending: dict[End, list[StateEvent]] = {}
        """Changes for what an end received, after a sending change still waiting."""
        self._queue: deque[Event] = deque()
        self._held: dict[int, _Held] = {}
        """Held packets by id (each waits in `_queue` too)."""
        self._cache: dict[tuple[object, ...], KernelStates] = {}
        self._notes: dict[End, list[tuple[float, str, Cause]]] = {}
        """The kernel's retransmissions and resets, waiting for the packet they sent."""

    # -- the stream ------------------------------------------------------------------------

    def feed(self, events: Iterable[Event], now: float | None = None) -> list[Event]:
        """Take events (in time order); return those whose packets have settled, in order.

        `now`: the time up to which everything has been fed (a live watermark), so a quiet
        moment releases the last packets; without it, only later events do.
        """
        latest = now
        for ev in events:
            self._take(ev)
            t = getattr(ev, "time", None)
            if t is not None and (latest is None or t > latest):
                latest = t
        return list(self._release(latest))

    def flush(self) -> list[Event]:
        """The end of the stream: everything still held."""
        for end, waiting in list(self._sending.items()):
            for state, _ in waiting:
                self._apply(state)
            for state in self._after_sending.pop(end, ()):
                self._apply(state)
        self._sending.clear()
        return list(self._release(None, everything=True))

    def run(self, events: Iterable[Event]) -> Iterator[Event]:
        """The whole stream annotated (for a saved capture)."""
        for ev in events:
            yield from self.feed((ev,))
        yield from self.flush()

    def _release(self, upto: float | None, everything: bool = False) -> Iterator[Event]:
        queue = self._queue
        while queue:
            head = queue[0]
            if type(head) is PacketEvent and not everything:
                if upto is None or head.time + SETTLE > upto:
                    return
            queue.popleft()
            if type(head) is PacketEvent:
                held = self._held.pop(id(head), None)
                if held is not None:  # a TCP packet (a datagram has no states)
                    head.kernel = self._annotation(held)
            yield head

    # -- events ------------------------------------------------------------------------------

    def _take(self, ev: Event) -> None:
        kind = type(ev)
        if kind is PacketEvent:
            assert isinstance(ev, PacketEvent)
            if ev.proto == "tcp":
                self._packet(ev)
        elif kind is StateEvent:
            assert isinstance(ev, StateEvent)
            self._state(ev)
        elif kind is SocketEvent:
            assert isinstance(ev, SocketEvent)
            self._learn_program(ev.local, ev.remote, ev.pid, ev.comm, ev.call == "listen")
        elif kind is KernelEvent:
            assert isinstance(ev, KernelEvent)
            self._kernel(ev)
        self._queue.append(ev)

    def _learn_program(
        self, local: str | None, remote: str | None, pid: int | None, comm: str | None,
        listener: bool,
    ) -> None:  # fmt: skip
        if pid is None or local is None:
            return
        name = f"{comm} {pid}"
        if listener or remote is None:
            end = _port_of(local)
            if end is not None:
                self._port_programs[end[1]] = name
        else:
            self._programs[(local, remote)] = name

    def _state(self, ev: StateEvent) -> None:
        self._learn_program(ev.local, ev.remote, ev.pid, ev.comm, ev.remote is None)
        if ev.local is None:
            return
        if ev.remote is None:  # a listener
            key = _port_of(ev.local)
            if key is not None:
                if ev.new is S.LISTEN:
                    self._listeners[key] = self._listeners.get(key, 0) + 1
                elif ev.old is S.LISTEN and self._listeners.get(key):
                    self._listeners[key] -= 1
            return
        end = (ev.local, ev.remote)
        if ev.old is None:
            self.states[end] = ev.new  # found so when the view began
            return
        if ev.new is S.SYN_SENT and ev.local.endswith(":0"):
            self._portless[(ev.local.rsplit(":", 1)[0], ev.remote)] = ev
            return
        cause = _RULES.get((ev.old, ev.new))
        if cause is None and ev.new is S.CLOSED:
            cause = _RESET_RECEIVED if self._latest_to(end, _RESET_RECEIVED) else _RESET_SENT
        if cause is None:
            self._apply(ev)
        elif cause.sending:
            self._sending.setdefault(end, []).append((ev, cause))
        elif self._sending.get(end):
            # It received after a change of its own that its packet has not shown yet (two
            # FINs crossing): it follows that change, from that packet on.
            self._after_sending.setdefault(end, []).append(ev)
        else:
            held = self._latest_to(end, cause)
            self._apply(ev, held)

    def _kernel(self, ev: KernelEvent) -> None:
        """The kernel's own doings mark the packet they made or took."""
        if ev.local is None or ev.remote is None:
            return
        end = (ev.local, ev.remote)
        if ev.event == "receive_reset":
            held = self._latest_to(end, _RESET_RECEIVED)
            if held is not None:
                held.note = "reset_received"
            return
        if ev.event == "send_reset":
            note, cause = "reset_sent", _RESET_SENT
        elif ev.event == "retransmit_synack":
            note, cause = "retransmit_timeout", Cause(True, SYN | ACK)
        else:
            note, cause = f"retransmit_{ev.reason or 'timeout'}", Cause(True, 0)
        self._notes.setdefault(end, []).append((ev.time, note, cause))

    def _latest_to(self, end: End, cause: Cause) -> _Held | None:
        """The latest held packet to `end` that `cause` fits."""
        for ev in reversed(self._queue):
            held = self._held.get(id(ev))
            if held is not None and held.receiver == end and cause.fits(held.event.flags):
                return held
        return None

    def _apply(self, ev: StateEvent, at: _Held | None = None) -> None:
        """Make `ev`'s change: from packet `at` on (and to every later held packet)."""
        assert ev.local is not None and ev.remote is not None
        end = (ev.local, ev.remote)
        new: TcpState | None = ev.new
        if ev.timewait:
            self._timewait[end] = ev.new
        else:
            self._timewait.pop(end, None)
        self.states[end] = new
        if at is None:
            return
        seen = False
        for item in self._queue:
            held = self._held.get(id(item))
            if held is at:
                seen = True
            if seen and held is not None and end in held.states:
                held.states[end] = new

    def _packet(self, ev: PacketEvent) -> None:
        sender = (endpoint(ev.src, ev.sport), endpoint(ev.dst, ev.dport))
        receiver = (sender[1], sender[0])
        flags = ev.flags
        if flags & (SYN | ACK) == SYN and sender not in self.states and self._portless:
            portless = self._portless.pop((sender[0].rsplit(":", 1)[0], sender[1]), None)
            if portless is not None:  # connect()'s SYN-SENT, before its port was picked
                self.states[sender] = S.SYN_SENT
        waiting = self._sending.get(sender)
        if waiting:
            for state, cause in list(waiting):
                if cause.fits(flags):
                    waiting.remove((state, cause))
                    self._apply(state)
            if not waiting:
                del self._sending[sender]
                for state in self._after_sending.pop(sender, ()):
                    self._apply(state)
        self._expire(ev.time)
        held_state = self._timewait.get(receiver)
        if held_state is not None and flags & RST or held_state is S.FIN_WAIT_2 and flags & FIN:
            del self._timewait[receiver]
            self.states[receiver] = None  # the timewait table's own doing: not traced
        held = _Held(ev, sender, receiver, {})
        notes = self._notes.get(sender)
        if notes:
            for item in list(notes):
                t, note, cause = item
                if ev.time - t > SEND_WINDOW:
                    notes.remove(item)
                elif cause.fits(flags):
                    notes.remove(item)
                    held.note = note
                    break
        held.states[sender] = self._known(sender, flags, sending=True)
        held.states[receiver] = self._known(receiver, flags, sending=False)
        self._held[id(ev)] = held

    def _expire(self, now: float) -> None:
        """Apply the sending changes whose packet did not come within `SEND_WINDOW`: looked
        at every `EXPIRE_EVERY` (at thousands of connections a second thousands wait, and
        looking at each for each packet cost more than the packets)."""
        if now - self._expired_at < EXPIRE_EVERY:
            return
        self._expired_at = now
        for end, waiting in list(self._sending.items()):
            for state, cause in list(waiting):
                if now - state.time > SEND_WINDOW:
                    waiting.remove((state, cause))
                    self._apply(state)
            if not waiting:
                del self._sending[end]
                for state in self._after_sending.pop(end, ()):
                    self._apply(state)

    def _known(self, end: End, flags: int, sending: bool) -> TcpState | None:
        """An end's kernel state now; for a port without a socket, the kernel's answer to a
        SYN (or the reset it sends) where nothing listens: CLOSED."""
        if end in self.states:
            return self.states[end]
        refusal = flags & RST if sending else flags & (SYN | ACK) == SYN
        if not refusal:
            return None
        local = _port_of(end[0])
        if local is None:
            return None
        addr, port = local
        if self._listeners.get((addr, port)) or any(self._listeners.get((a, port)) for a in _ANY):
            return None  # a request socket, which no tracepoint shows
        return S.CLOSED

    def _annotation(self, held: _Held) -> KernelStates:
        ev = held.event
        c2s = ev.dir == "c2s"
        client, server = (held.sender, held.receiver) if c2s else (held.receiver, held.sender)
        cs, ss = held.states.get(client), held.states.get(server)
        cp = self._programs.get(client)
        sp = self._programs.get(server)
        if sp is None:
            port = _port_of(server[0])
            sp = self._port_programs.get(port[1]) if port else None
        key = (cs, ss, cp, sp, held.note)
        out = self._cache.get(key)
        if out is None:
            out = self._cache[key] = KernelStates(cs, ss, cp, sp, held.note)
        return out
