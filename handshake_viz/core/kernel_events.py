"""What the kernel's view adds to the event stream: state changes and the kernel's own doings
(retransmissions, resets) of watched sockets, and both ends' kernel states after a packet.

Their JSON form extends the JSONL contract (``"type": "state"``, ``"type": "kernel"``, and
``kernel_client_state``/``kernel_server_state`` on a packet). Pure data: no UI, no sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handshake_viz.core.events import TcpState


def state_name(state: TcpState | None) -> str | None:
    """A state's RFC 9293 name, or None."""
    return None if state is None else str(state)


@dataclass(frozen=True, slots=True)
class KernelStates:
    """Both ends' TCP states after a packet as their kernels reported them (None: the kernel
    did not say: no socket of that end was traced yet, or it left the tracepoints' sight in
    the kernel's timewait table), and the program at each end where known."""

    client: TcpState | None
    server: TcpState | None
    client_program: str | None = None
    """ "curl 4711": the process name and pid that used the client's socket."""
    server_program: str | None = None
    note: str | None = None
    """What the kernel said of this very packet, where it did: "retransmit_timeout",
    "retransmit_fast" (it sent this segment again, and why), "reset_sent", "reset_received"."""


@dataclass(slots=True)
class StateEvent:
    """A TCP state change of one socket, as its kernel made it (``inet_sock_set_state``)."""

    time: float
    """Epoch seconds, on the packets' clock."""
    local: str | None
    """The socket's own endpoint, "addr:port" (IPv6 "[addr]:port")."""
    remote: str | None
    """Its peer's endpoint; None for a listening socket."""
    old: TcpState | None
    """The state before; None for a state the kernel's view found when it began."""
    new: TcpState
    pid: int | None = None
    """The process that owns the socket, where known."""
    comm: str | None = None
    side: str | None = None
    """ "client" or "server" where known: which end of the ladder the socket is on."""
    timewait: bool = False
    """The kernel moved the socket into its timewait table here: it reports nothing more of
    it (a FIN-WAIT-2 socket's later move to TIME-WAIT included)."""

    type: str = field(default="state", init=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": "state",
            "time": self.time,
            "local": self.local,
            "remote": self.remote,
            "old": state_name(self.old),
            "new": str(self.new),
            "side": self.side,
            "pid": self.pid,
            "comm": self.comm,
        }
        if self.timewait:
            d["timewait"] = True
        return d


@dataclass(slots=True)
class KernelEvent:
    """Something the kernel did on its own to a watched socket: a retransmission or a reset."""

    time: float
    event: str
    """ "retransmit" (a segment sent again), "retransmit_synack", "send_reset",
    "receive_reset"."""
    local: str | None
    remote: str | None
    state: TcpState | None = None
    """The socket's state when it happened, where the tracepoint says."""
    reason: str | None = None
    """Why, where the kernel says: "timeout" (the retransmission timer) or "fast" (duplicate
    ACKs) for a retransmission; the kernel's reset reason code for a reset."""
    pid: int | None = None
    comm: str | None = None
    side: str | None = None

    type: str = field(default="kernel", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "kernel",
            "time": self.time,
            "event": self.event,
            "local": self.local,
            "remote": self.remote,
            "state": state_name(self.state),
            "reason": self.reason,
            "side": self.side,
            "pid": self.pid,
            "comm": self.comm,
        }
