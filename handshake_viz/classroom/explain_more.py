"""What a lesson adds to a row's explanation: this kernel's own timers, and why a close took
three packets, where the words alone (`words.explain`) cannot know.

`words.explain` is pure: it reads one event. A lesson knows more: the sysctls of the network
it runs in (a SYN sent again waits as *this* kernel says), the rows before the selected one
(a FIN that also acknowledges the other side's FIN), and that Linux keeps TIME-WAIT 60 s.
"""

from __future__ import annotations

from handshake_viz.classroom.guided import syn_timer_text, synack_timer_text
from handshake_viz.classroom.sysctls import TIME_WAIT_SECONDS, read_syn_timers
from handshake_viz.core.events import ACK, FIN, SYN, PacketEvent, SocketEvent, TcpState
from handshake_viz.model.timeline import Timeline
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.explain import explain, packet_kind

LOOK_BACK = 64
"""Rows searched backwards for the packet before the selected one in its connection."""


def _previous_packet(tl: Timeline, row: int, stream: int) -> PacketEvent | None:
    for i in range(row - 1, max(row - LOOK_BACK, -1), -1):
        ev = tl.row(i).event()
        if isinstance(ev, PacketEvent) and ev.proto == "tcp" and ev.stream == stream:
            return ev
    return None


def extra_sentences(tl: Timeline, row: int, cat: Catalog) -> list[str]:
    """The lesson's own sentences about the event in `row` (may be none)."""
    ev = tl.row(row).event()
    out: list[str] = []
    if isinstance(ev, SocketEvent):
        if ev.call == "connect" and ev.result == "ETIMEDOUT" and ev.proto == "tcp":
            out.append(syn_timer_text(read_syn_timers(), cat))
        return out
    if not isinstance(ev, PacketEvent) or ev.proto != "tcp":
        return out
    kind = packet_kind(ev)
    if kind == "syn_retransmission":
        out.append(syn_timer_text(read_syn_timers(), cat))
    elif kind == "synack" and "retransmission" in ev.analysis:
        out.append(synack_timer_text(read_syn_timers(), cat))
    if ev.flags & FIN and ev.flags & ACK:
        before = _previous_packet(tl, row, ev.stream)
        if before is not None and before.dir != ev.dir and before.flags & FIN:
            out.append(cat.text("lesson.close_in_three"))
    sender = ev.client_state if ev.dir == "c2s" else ev.server_state
    if sender == TcpState.TIME_WAIT and not ev.flags & (FIN | SYN):
        out.append(cat.text("lesson.time_wait", seconds=TIME_WAIT_SECONDS))
    return out


def lesson_explanation(tl: Timeline, row: int, lang: str) -> str:
    """The explanation of `row` with the lesson's own sentences after it."""
    cat = load(lang)
    parts = [explain(tl.row(row).event(), lang), *extra_sentences(tl, row, cat)]
    return cat.text("meta.sentence_gap").join(p for p in parts if p)
