"""A sentence or two on what one event does in the connection, and why its numbers are so.

Plain functions of a `timeline.Row`, no UI: the detail view shows them, the classroom mode
(issue 5) can replace them with its message catalogs.
"""

from __future__ import annotations

from handshake_viz.events import ACK, FIN, PSH, RST, SYN, Phase
from handshake_viz.timeline import Row

SOCKET_CALLS = {
    "socket": "A socket is created: nothing is sent yet.",
    "bind": "The socket takes its address and port: still nothing on the wire.",
    "listen": "The server's socket now listens: the kernel will answer SYNs to this port by "
    "itself, and queue finished handshakes for accept(). No packet is sent.",
    "connect": "connect() makes the kernel send the SYN, and returns when the handshake is done "
    "(or refused).",
    "accept": "accept() hands over a connection the kernel already established: the whole "
    "handshake happened before it returned.",
    "send": "send() copies bytes into the kernel, which sends them as data segments.",
    "recv": "recv() returns bytes the kernel already received and acknowledged.",
    "sendto": "sendto() sends one UDP datagram: no connection, no handshake.",
    "recvfrom": "recvfrom() returns one datagram.",
    "shutdown": "shutdown() stops this side's writing: the kernel sends a FIN.",
    "close": "close() releases the socket; if the connection is still open the kernel sends a "
    "FIN (or a RST if data was left unread).",
}


def explain(row: Row) -> str:
    """What this event does and why its numbers are what they are."""
    if row.socket is not None:
        ev = row.socket
        text = SOCKET_CALLS.get(ev.call, f"{ev.call}() on the {ev.side} side.")
        if ev.errno:
            text += f" It failed: {ev.result or ev.errno}."
        return text
    if row.stream is not None and row.stream.proto == "udp":
        return "A UDP datagram: no handshake, no sequence numbers, no acknowledgements."
    f = row.flags
    sender = "client" if row.dir == 0 else "server"
    other = "server" if row.dir == 0 else "client"
    parts: list[str] = []
    if "retransmission" in row.analysis:
        parts.append("A retransmission: the same sequence numbers sent again because no "
                     "acknowledgement came in time.")  # fmt: skip
    if f & RST:
        if row.stream is not None and row.stream.completeness & 2 == 0 and sender == "server":
            parts.append(f"Reset: nothing listens on port {row.stream.sport}, so the kernel "
                         "refuses the SYN with RST; connect() fails with ECONNREFUSED.")  # fmt: skip
        else:
            parts.append(f"Reset: the {sender} aborts the connection at once; no answer is "
                         "expected and unsent data is lost.")  # fmt: skip
    elif f & SYN and not f & ACK:
        parts.append("The client asks to connect (step 2, request). The SYN carries its initial "
                     "sequence number (ISN; shown relative, seq=0) and uses one sequence number, "
                     "so the server must acknowledge ISN + 1.")  # fmt: skip
    elif f & SYN:
        parts.append("The server agrees (step 3, confirm): its own SYN carries its ISN (seq=0), "
                     "and ack=1 = the client's ISN + 1, because the client's SYN used one "
                     "sequence number.")  # fmt: skip
    elif row.phase == Phase.CONFIRM:
        parts.append("The client acknowledges the server's SYN: ack=1 = the server's ISN + 1. "
                     "Both ends are now ESTABLISHED; the server's accept() can return.")  # fmt: skip
    elif f & FIN:
        parts.append(f"The {sender} has nothing more to send (FIN). The FIN uses one sequence "
                     f"number, so the {other} acknowledges seq + 1 = {(row.seq or 0) + 1}.")  # fmt: skip
    elif row.length:
        nxt = (row.seq or 0) + row.length
        parts.append(f"{row.length} bytes of data from the {sender}, from relative byte "
                     f"{row.seq} on; the {other} will acknowledge {nxt}, the next byte it "
                     "expects.")  # fmt: skip
        if f & PSH:
            parts.append("PSH asks the receiver to hand the data to the application now.")
    elif f & ACK:
        parts.append(f"A pure acknowledgement: the {sender} has every byte before {row.ack} "
                     "and expects that one next.")  # fmt: skip
    if "duplicate_ack" in row.analysis:
        parts.append("A duplicate ACK: the receiver saw a gap and asks for the missing bytes.")
    if "zero_window" in row.analysis:
        parts.append("Window 0: the receiver's buffer is full, the sender must wait.")
    return " ".join(parts) or "A TCP segment."
