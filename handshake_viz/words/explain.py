"""Plain-words explanations of events, in the teacher's language.

`explain(event, lang)` is a pure function: it picks a message from the catalog by what the
event is (`packet_kind`, `socket_kind`) and fills it with the event's own numbers, so the
class reads "ack = 1 = the client's ISN + 1" beside the packet that carries it.
"""

from __future__ import annotations

from typing import Any

from handshake_viz.core.events import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    WAITING,
    PacketEvent,
    Phase,
    SocketEvent,
    TcpState,
)
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.results import result_text

PACKET_KINDS = (
    "syn", "syn_retransmission", "synack", "handshake_ack", "data", "data_ack", "fin",
    "fin_ack", "rst_refused", "rst_abort", "udp",
)  # fmt: skip
"""Every kind of packet the catalogs explain (``packet.<kind>``)."""

SOCKET_KINDS = (
    "socket", "bind", "listen", "accept", "connect", "connect_refused", "connect_waiting",
    "send", "recv", "recv_eof", "sendto", "recvfrom", "shutdown", "close", "close_udp",
    "close_listener", "abort", "failed", "failed_timeout", "failed_kernel_timeout",
    "failed_reset",
)  # fmt: skip
"""Every kind of socket call the catalogs explain (``call.<kind>``)."""

NOTE_KINDS = (
    "retransmission", "fast_retransmission", "out_of_order", "duplicate_ack", "zero_window",
)  # fmt: skip
"""tshark's marks that add a sentence (``note.<mark>``); ``note.push`` is the other note."""

_HEARD_FIN = {TcpState.CLOSE_WAIT, TcpState.TIME_WAIT, TcpState.CLOSING}
"""States a sender is in only once it has received the peer's FIN: a pure ACK sent from one
of them acknowledges that FIN (data can no longer arrive)."""


def packet_kind(ev: PacketEvent) -> str:
    """Which message explains this packet (a key of ``[packet]``)."""
    if ev.proto == "udp":
        return "udp"
    f = ev.flags
    if f & RST:
        # The kernel's answer to a SYN on a closed port: from the server, acknowledging
        # exactly the SYN (ack = 1), before any byte of data.
        if ev.dir == "s2c" and ev.ack == 1 and (ev.seq or 0) <= 1:
            return "rst_refused"
        return "rst_abort"
    if f & SYN:
        if f & ACK:
            return "synack"
        return "syn_retransmission" if "retransmission" in ev.analysis else "syn"
    if f & FIN:
        return "fin"
    if ev.len > 0:
        return "data"
    if ev.phase == Phase.CONFIRM:
        return "handshake_ack"
    sender_state = ev.client_state if ev.dir == "c2s" else ev.server_state
    if ev.phase == Phase.TEARDOWN and sender_state in _HEARD_FIN:
        return "fin_ack"
    return "data_ack"


def socket_kind(ev: SocketEvent) -> str:
    """Which message explains this socket call (a key of ``[call]``)."""
    result = ev.result or ""
    if ev.call == "connect":
        if result == WAITING:
            return "connect_waiting"
        if result == "ECONNREFUSED":
            return "connect_refused"
    if ev.call == "close" and ("SO_LINGER" in result or "RST" in result):
        return "abort"
    if ev.call == "close" and ev.proto == "udp":
        return "close_udp"
    if ev.call == "close" and ev.local and not ev.remote:
        return "close_listener"
    if result == "ETIMEDOUT":  # no errno: the program's own timeout ran out, not the kernel's
        return "failed_timeout" if ev.errno is None else "failed_kernel_timeout"
    if result == "ECONNRESET":
        return "failed_reset"
    if ev.errno is not None:
        return "failed"
    if ev.call == "recv" and result.startswith("0 bytes"):
        return "recv_eof"
    if ev.call in SOCKET_KINDS:
        return ev.call
    return "failed" if ev.errno else "socket"


def phase_name(phase: Phase, lang: str = "en") -> str | None:
    """The language's name for a phase where it is not the phase's own code word.

    The ladder's band and the filter use the code (``listen``); a view shows the name beside
    it (``listen 服务器监听``), and English, whose names are the codes, shows nothing more.
    """
    name = load(lang).text(f"phase.{phase.value}")
    return None if name == phase.value else name


def _state(cat: Catalog, state: TcpState | None) -> str:
    return cat.text("word.nobody") if state is None else cat.text(f"state.{state.value}")


def packet_values(ev: PacketEvent, cat: Catalog) -> dict[str, Any]:
    """The placeholders a packet message may use."""
    sender, receiver = ("client", "server") if ev.dir == "c2s" else ("server", "client")
    seq = ev.seq or 0
    nxt = seq + ev.len + (1 if ev.flags & (SYN | FIN) else 0)
    return {
        "sender": cat.text(f"word.{sender}"),
        "receiver": cat.text(f"word.{receiver}"),
        "seq": seq,
        "ack": ev.ack,
        "ack_minus_1": (ev.ack or 1) - 1,
        "len": ev.len,
        "last": seq + ev.len - 1,
        "next": nxt,
        "src": ev.src,
        "dst": ev.dst,
        "server_port": ev.dport if ev.dir == "c2s" else ev.sport,
        "client_port": ev.sport if ev.dir == "c2s" else ev.dport,
        "client_state": _state(cat, ev.client_state),
        "server_state": _state(cat, ev.server_state),
    }


def socket_values(ev: SocketEvent, cat: Catalog) -> dict[str, Any]:
    """The placeholders a socket-call message may use: the result's numbers on their own
    ({nbytes}, {backlog}, {peer}), so a sentence in any language reads them in its words."""
    result = ev.result or ""
    words = result.split()
    number = int(words[0]) if words and words[0].isdigit() else 0
    return {
        "side": cat.text(f"word.{ev.side}"),
        "call": ev.call,
        "local": ev.local or "?",
        "remote": ev.remote or "?",
        "result": result_text(ev.result, cat.lang),
        "nbytes": number,
        "backlog": words[1] if len(words) > 1 and words[0] == "backlog" else "?",
        "peer": words[-1] if " from " in result else ev.remote or "?",
    }


def packet_notes(ev: PacketEvent) -> list[str]:
    """What else to say about a packet (keys of ``[note]``): tshark's marks, and PSH."""
    kind = packet_kind(ev)
    notes = [n for n in NOTE_KINDS if n in ev.analysis]
    if "fast_retransmission" in notes:
        notes.remove("retransmission")  # the fast one says it
    if kind == "syn_retransmission" and "retransmission" in notes:
        notes.remove("retransmission")  # its own message says it
    if kind == "data" and ev.flags & PSH:
        notes.append("push")
    return notes


def explain(event: PacketEvent | SocketEvent, lang: str = "en", states: bool = True) -> str:
    """One or two sentences on what `event` does and why its numbers are what they are.

    `states`: end with both ends' TCP states after it (the timeline shows them beside it).
    """
    cat = load(lang)
    if isinstance(event, SocketEvent):
        return cat.text(f"call.{socket_kind(event)}", **socket_values(event, cat))
    values = packet_values(event, cat)
    parts = [cat.text(f"packet.{packet_kind(event)}", **values)]
    parts += [cat.text(f"note.{n}", **values) for n in packet_notes(event)]
    if states and event.proto == "tcp":
        parts.append(cat.text("packet.states", **values))
    return cat.text("meta.sentence_gap").join(parts)
