"""The tracer's records as events: socket calls, state changes and the kernel's own doings.

What the kernel prints needs a little help to read as the ladder wants it:

- **Whose socket.** A state change often happens in whatever process the packet's softirq
  interrupted (on loopback: the peer, inside its connect()), so a state's process is the
  socket's owner, learnt from the calls made on it; the server's new socket, before accept(),
  belongs to the listener's owner.
- **The client's port.** connect() sets SYN-SENT before the kernel picks the local port, so
  that change is held until connect() returns (or the next record of the socket says it).
- **TIME-WAIT.** The kernel hands a closing socket to its timewait table with a change to
  CLOSE; with the peer's FIN received (SOCK_DONE) that is TIME-WAIT, without it the socket
  waits there in FIN-WAIT-2, and its later move to TIME-WAIT is not traced.
- **Calls that send while they run** (connect, send, shutdown, close) are announced when they
  begin, so the timeline can hold the packets they cause behind them, and resolved when they
  return, as the demo's own traced sockets do.
"""

from __future__ import annotations

import errno as errno_mod
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from handshake_viz.core.events import (
    WAITING,
    KernelEvent,
    SideEvent,
    SocketEvent,
    StateEvent,
    TcpState,
)
from handshake_viz.sources.kernel.clock import MonotonicClock
from handshake_viz.sources.kernel.lines import (
    CallLine,
    KernelLine,
    Line,
    OriginLine,
    StateLine,
    Tick,
)

S = TcpState
KERNEL_STATES: dict[int, TcpState] = {
    1: S.ESTABLISHED, 2: S.SYN_SENT, 3: S.SYN_RECEIVED, 4: S.FIN_WAIT_1, 5: S.FIN_WAIT_2,
    6: S.TIME_WAIT, 7: S.CLOSED, 8: S.CLOSE_WAIT, 9: S.LAST_ACK, 10: S.LISTEN, 11: S.CLOSING,
    12: S.SYN_RECEIVED,
}  # fmt: skip
"""The kernel's state numbers (include/net/tcp_states.h) by their RFC 9293 names."""
SOCK_DONE = 0x2
TCP_CA_RECOVERY, TCP_CA_LOSS = 3, 4
CAUSING = {"connect", "sendto", "sendmsg", "write", "shutdown", "close"}
"""Calls that make packets while they run: shown where they began."""
WAITING_CALLS = {"accept", "recvfrom", "recvmsg", "read"}
"""Calls that wait for the peer: shown where they returned."""
SYN_SENT_WAIT = 0.25
"""Seconds a SYN-SENT change waits for its socket's port (connect() returning) before it is
shown without it."""
TICK_MARGIN = 0.01
"""Seconds a tick's time is taken back: lines from another CPU's buffer may still be read
after it."""


class SideSink(Protocol):
    """Where the view's events go (`sources.live.merge.TimelineMerger` is one)."""

    def add_side(self, event: SideEvent) -> None: ...

    def add_sides(self, events: list[SideEvent], saved: bool = False) -> None: ...

    def begin(self, provisional: SocketEvent) -> int: ...

    def end(
        self, token: int, build: Callable[[bool], SocketEvent | None], saved: bool = False
    ) -> None: ...

    def tracer_ready(self) -> None: ...

    def tracer_at(self, t: float) -> None: ...

    def tracer_gone(self) -> None: ...

    def lag(self) -> float: ...


@dataclass(slots=True)
class _Owner:
    pid: int
    comm: str
    side: str | None = None


@dataclass(slots=True)
class _Pending:
    """A call announced by its B line, waiting for its E line."""

    token: int
    call: str
    began: float
    local: str
    remote: str
    owner: _Owner
    syn_sent: StateLine | None = None
    """Its socket's SYN-SENT change, held for the local port (connect only)."""


def result_text(call: str, ret: int, remote: str | None) -> tuple[str, int | None]:
    """The result word of a call that returned `ret`, and its errno if it failed."""
    if ret < 0:
        return errno_mod.errorcode.get(-ret, str(-ret)), -ret
    if call == "accept":
        return f"new socket from {remote}", None
    if call in ("sendto", "sendmsg", "write", "recvfrom", "recvmsg", "read"):
        if ret == 0 and call in ("recvfrom", "recvmsg", "read"):
            return "0 bytes (end of stream)", None
        return f"{ret} bytes", None
    return "ok", None


class KernelView:
    """Turns tracer records into events for a `SideSink`, in the order they are fed.

    Args:
        sink: where events go.
        ports: the watched ports (a socket whose own port is one of them is a server's).
        clock: converts the records' times (default: measured now).
        on_state: also told every state change (the listener table the tracker asks).
        default_owner: (pid, name) of sockets no traced call tells the owner of (the demo's
            own, whose calls it reports itself).
    """

    def __init__(
        self,
        sink: SideSink,
        ports: Iterable[int],
        clock: MonotonicClock | None = None,
        on_state: Callable[[StateEvent], None] | None = None,
        default_owner: tuple[int, str] | None = None,
    ) -> None:
        self.sink = sink
        self._default = None if default_owner is None else _Owner(*default_owner)
        self.ports = frozenset(ports)
        self.clock = clock or MonotonicClock()
        self.on_state = on_state
        self._owners: dict[str, _Owner] = {}
        """By socket address."""
        self._listener_owners: dict[int, _Owner] = {}
        """By listening port: the owner of a server's sockets before accept() says."""
        self._pending: dict[int, _Pending] = {}
        """By thread id."""
        self._syn_sent: dict[str, tuple[StateLine, float]] = {}
        """SYN-SENT changes waiting for their port, by socket (and since when, wall clock)."""
        self._reset_seen: dict[str, int] = {}
        """Sockets a reset was just sent or received on (the next CLOSE is that reset's)."""
        self.ready = False
        self.records = 0

    def seed_owner(self, port: int, pid: int, comm: str) -> None:
        """The process holding a listener on `port` since before the view began."""
        self._listener_owners[port] = _Owner(pid, comm, "server")

    # -- helpers ---------------------------------------------------------------------------

    def _side(self, sk: str, lport: int, rport: int, pid: int | None = None) -> str | None:
        owner = self._owners.get(sk)
        if owner is not None and owner.side is not None:
            return owner.side
        if lport in self.ports and rport not in self.ports:
            return "server"
        if rport in self.ports:
            return "client"
        if pid is not None and any(o.pid == pid for o in self._listener_owners.values()):
            return "server"  # a socket seen without its port, in the process that listens
        return None

    def _owner(self, sk: str, lport: int) -> _Owner | None:
        owner = self._owners.get(sk)
        if owner is None:
            owner = self._listener_owners.get(lport)
        return owner if owner is not None else self._default

    def _learn(self, line: CallLine) -> None:
        owner = self._owners.get(line.sk)
        side = owner.side if owner is not None else None
        if line.call == "connect":
            side = "client"
        elif line.call in ("accept", "listen"):
            side = "server"
        self._owners[line.sk] = _Owner(line.pid, line.comm, side)
        if line.call in ("listen", "bind") and line.lport in self.ports:
            self._listener_owners[line.lport] = _Owner(line.pid, line.comm, "server")

    # -- records -----------------------------------------------------------------------------

    def feed(self, line: Line) -> None:
        """Take one record."""
        self.records += 1
        if isinstance(line, Tick):
            self._tick(line)
        elif isinstance(line, StateLine):
            self._state(line)
        elif isinstance(line, CallLine):
            self._call(line)
        elif isinstance(line, KernelLine):
            self._kernel(line)
        elif isinstance(line, OriginLine):
            self.sink.add_side(
                SocketEvent(
                    self.clock.real(line.t),
                    self._side_of_thread(line),
                    "socket",
                    result="ok",
                    pid=line.pid,
                    comm=line.comm,
                )  # fmt: skip
            )

    def _side_of_thread(self, line: OriginLine) -> str:
        """A socket() is printed at the connect or bind that showed its port: that call
        decides the side, and it is still pending on this thread when connect."""
        pending = self._pending.get(line.tid)
        return "client" if pending is not None and pending.call == "connect" else "server"

    def _tick(self, line: Tick) -> None:
        if line.ready:
            self.ready = True
            self.sink.tracer_ready()
        now = time.monotonic()
        for sk, (held, since) in list(self._syn_sent.items()):
            if now - since > SYN_SENT_WAIT:
                del self._syn_sent[sk]
                self._emit_state(held)
        self.sink.tracer_at(self.clock.real(line.t) - TICK_MARGIN)

    def _state(self, line: StateLine) -> None:
        if line.old == line.new:
            return  # close() after shutdown(): FIN-WAIT-1 again, nothing changed
        if line.new == 2 and line.lport == 0:
            pending = self._pending.get(line.tid)
            if pending is not None and pending.call == "connect":
                pending.syn_sent = line
            else:
                self._syn_sent[line.sk] = (line, time.monotonic())
            return
        held = self._syn_sent.pop(line.sk, None)
        if held is not None:
            self._emit_state(held[0]._replace(local=line.local, lport=line.lport))
        self._emit_state(line)

    def _emit_state(self, line: StateLine, owner: _Owner | None = None) -> None:
        """Emit one state change (`owner`: the socket's, where the caller knows it)."""
        old = KERNEL_STATES.get(line.old)
        new = KERNEL_STATES.get(line.new)
        if new is None or old is None:
            return
        timewait = False
        reset = self._reset_seen.pop(line.sk, None) is not None
        if new is S.CLOSED and not reset and old in (S.FIN_WAIT_2, S.CLOSING):
            # Handed to the timewait table: in TIME-WAIT once the peer's FIN arrived.
            timewait = True
            new = S.TIME_WAIT if line.flags & SOCK_DONE else S.FIN_WAIT_2
        if owner is not None:
            self._owners[line.sk] = owner
        owner = self._owner(line.sk, line.lport)
        if new is S.CLOSED or timewait:
            self._owners.pop(line.sk, None)  # its address may serve another socket next
        listening = new is S.LISTEN or old is S.LISTEN and line.new == 7
        event = StateEvent(
            self.clock.real(line.t),
            line.local,
            None if listening else line.remote,
            old,
            new,
            owner.pid if owner else None,
            owner.comm if owner else None,
            "server" if listening else self._side(line.sk, line.lport, line.rport),
            timewait,
        )
        if self.on_state is not None:
            self.on_state(event)
        self.sink.add_side(event)

    def _call(self, line: CallLine) -> None:
        if line.begins:
            self._begin(line)
            return
        if line.call == "accept" and line.ret is not None and line.ret >= 0:
            self._owners[line.sk] = _Owner(line.pid, line.comm, "server")
        pending = self._pending.pop(line.tid, None)
        if pending is not None and pending.call != line.call:
            pending = None  # a begin whose end was lost: let the merger's cap show it
        if line.call in ("connect", "bind", "listen", "accept") and line.ret is not None:
            if line.ret >= 0 or line.call == "connect":
                self._learn(line)
        ret = line.ret if line.ret is not None else 0
        if ret == -errno_mod.EAGAIN and line.call in WAITING_CALLS:
            return  # a non-blocking read that found nothing: not a call worth a row
        local, remote = line.local, line.remote
        if pending is not None:  # the socket's endpoints as the call began (close clears them)
            if line.lport == 0:
                local = pending.local
            if line.rport == 0:
                remote = pending.remote
        owner = self._owners.get(line.sk)
        if owner and owner.side:
            side: str | None = owner.side
        else:
            side = self._side(line.sk, line.lport, line.rport, line.pid)
        word, code = result_text(line.call, ret, remote)
        proto = "udp" if line.proto == 17 else "tcp"
        began, returned = self.clock.real(line.began), self.clock.real(line.t)
        show_remote = None if line.call in ("bind", "listen") or remote.endswith(":0") else remote
        show_local = None if local.endswith(":0") and line.call == "connect" and ret < 0 else local

        def build(announced: bool) -> SocketEvent:
            """Sending calls stand where they began (connect() before its SYN), unless shown
            already as waiting or refused (ECONNREFUSED beside its RST); waiting calls where
            they returned (accept() after the handshake's ACK)."""
            refused = line.call == "connect" and code not in (None, errno_mod.EINPROGRESS)
            if line.call in WAITING_CALLS or announced or refused:
                when = returned
            else:
                when = began
            return SocketEvent(when, side or "client", line.call, show_local, show_remote, word,
                               code, proto, line.pid, line.comm)  # fmt: skip

        syn_sent = pending.syn_sent if pending is not None else None
        if syn_sent is not None and pending is not None:
            self._emit_state(syn_sent._replace(local=line.local, lport=line.lport),
                             pending.owner)  # fmt: skip
        if pending is not None:
            self.sink.end(pending.token, build)
        else:
            self.sink.add_side(build(False))

    def abandon(self) -> None:
        """Give up the calls still waiting for their return (the tracer stopped, or its
        reader shed their lines): the timeline must not wait for them."""
        for pending in self._pending.values():
            self.sink.end(pending.token, lambda announced: None)
        self._pending.clear()

    def _begin(self, line: CallLine) -> None:
        owner = self._owners.get(line.sk)
        side = owner.side if owner and owner.side else self._side(line.sk, line.lport,
                                                                   line.rport)  # fmt: skip
        if line.call == "connect":
            side = "client"
        began = self.clock.real(line.t)
        remote = None if line.rport == 0 else line.remote
        provisional = SocketEvent(began, side or "client", line.call, line.local, remote,
                                  WAITING, None, "udp" if line.proto == 17 else "tcp",
                                  line.pid, line.comm)  # fmt: skip
        stale = self._pending.pop(line.tid, None)
        if stale is not None:  # its return was never read: let it go
            self.sink.end(stale.token, lambda announced: None)
        token = self.sink.begin(provisional)
        owner = _Owner(line.pid, line.comm, side)
        if line.call == "connect":
            self._owners[line.sk] = owner
        self._pending[line.tid] = _Pending(token, line.call, began, line.local, line.remote,
                                           owner)  # fmt: skip

    def _kernel(self, line: KernelLine) -> None:
        name = {
            "tcp_retransmit_skb": "retransmit",
            "tcp_retransmit_synack": "retransmit_synack",
            "tcp_send_reset": "send_reset",
            "tcp_receive_reset": "receive_reset",
        }.get(line.name, line.name)
        reason: str | None = None
        state = KERNEL_STATES.get(line.state)
        if name == "retransmit":
            if state is S.SYN_SENT or line.extra == TCP_CA_LOSS:
                reason = "timeout"
            elif line.extra == TCP_CA_RECOVERY:
                reason = "fast"
        elif name == "retransmit_synack":
            reason = "timeout"
        elif name == "send_reset":
            reason = {0: "not_specified", 1: "no_socket"}.get(line.extra, f"code {line.extra}")
            state = None if line.sk in ("(nil)", "0") else state
        if name in ("send_reset", "receive_reset") and line.sk not in ("(nil)", "0"):
            self._reset_seen[line.sk] = line.t
        held = self._syn_sent.pop(line.sk, None)
        if held is not None and line.lport:
            self._emit_state(held[0]._replace(local=line.local, lport=line.lport))
        owner = self._owner(line.sk, line.lport)
        self.sink.add_side(
            KernelEvent(
                self.clock.real(line.t),
                name,
                line.local,
                line.remote,
                state,
                reason,
                owner.pid if owner else None,
                owner.comm if owner else None,
                self._side(line.sk, line.lport, line.rport),
            )  # fmt: skip
        )
