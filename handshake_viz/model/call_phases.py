"""The phase of a socket call's row: the phase of its connection at the moment it is made.

Packets take their phase from the handshake's steps (the tracker's rule); a call takes it
from what it does and from what its connection has carried so far:

- a UDP socket's calls: ``datagram`` (no handshake at all);
- a call that fails because of a reset (ECONNREFUSED, ECONNRESET, EPIPE), and every call on
  a connection that has carried a RST: ``reset``;
- socket(), bind() and listen() on the server: ``listen``; on the client, socket(), bind()
  and connect(): ``request`` (they prepare and send the SYN);
- accept(): ``confirm`` (it returns the connection the handshake made);
- any other call on a connection that has carried a FIN: ``teardown``; shutdown(), close()
  and a read that returns 0 bytes (it read the peer's FIN) begin it;
- send and receive calls otherwise: ``data``.

Pure: it takes the call and tshark's completeness bits of its connection so far.
"""

from __future__ import annotations

from handshake_viz.core.events import Phase, SocketEvent

COMPLETENESS_FIN, COMPLETENESS_RST = 16, 32
"""tshark's completeness bits for a FIN and a RST seen on the connection."""

RESET_ERRORS = frozenset({"ECONNREFUSED", "ECONNRESET", "EPIPE"})
"""Results that mean the peer answered with a RST."""

SAME_AS = {
    "accept4": "accept",
    "sendto": "send",
    "sendmsg": "send",
    "write": "send",
    "recvfrom": "recv",
    "recvmsg": "recv",
    "read": "recv",
}
"""System calls (the kernel's view names them) that do what a demo call does."""


def call_phase(ev: SocketEvent, seen: int = 0) -> Phase:
    """The phase band of socket call `ev`; `seen`: the completeness bits of its connection's
    packets before it (0 where it has none yet)."""
    if ev.proto == "udp":
        return Phase.DATAGRAM
    if (ev.result or "").split(" ")[0] in RESET_ERRORS or seen & COMPLETENESS_RST:
        return Phase.RESET
    call = SAME_AS.get(ev.call, ev.call)
    if call in ("socket", "bind", "listen"):
        return Phase.LISTEN if ev.side == "server" else Phase.REQUEST
    if call == "connect":
        return Phase.REQUEST
    if call == "accept":
        return Phase.CONFIRM
    if seen & COMPLETENESS_FIN or call in ("shutdown", "close"):
        return Phase.TEARDOWN
    if call == "recv" and (ev.result or "").startswith("0 bytes"):
        return Phase.TEARDOWN
    return Phase.DATA
