"""The ladder's lines as text and Rich segments, without a terminal UI.

One line per event between a client column and a server column: the time, the phase band,
the connection's marker, each end's TCP state where it changes, and an arrow labelled with
flags, relative seq and ack, length and tshark's marks (socket calls on their own side).
`LadderView` (the TUI) draws these segments for the rows on screen; the text export and the
handout write them out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from handshake_viz.core.events import endpoint, flag_names
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.rows import (
    CLIENT_CHANGED,
    CLIENT_DIFFERS,
    KIND_SOCKET,
    KIND_UDP,
    NONE,
    PHASES,
    S2C,
    SERVER_CHANGED,
    SERVER_DIFFERS,
    STATES,
)
from handshake_viz.render.palette import PHASE_COLOURS, stream_marker, stream_style
from handshake_viz.words.catalog import load
from handshake_viz.words.results import result_text

SHORT_STATES = {
    "ESTABLISHED": "ESTAB",
    "SYN-RECEIVED": "SYN-RCVD",
    "FIN-WAIT-1": "FIN-WT1",
    "FIN-WAIT-2": "FIN-WT2",
    "CLOSE-WAIT": "CLOSE-WT",
    "TIME-WAIT": "TIME-WT",
}


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each column of a ladder line goes, for a given width (narrow screens drop some)."""

    width: int
    delta: bool
    frame: bool
    state_w: int
    time_w: int = 11
    band_w: int = 9
    conn_w: int = 6

    @classmethod
    def fit(cls, width: int, streams: int = 0) -> Columns:
        """The columns of a `width`-cell line; `streams` (how many there are) widens the
        connection column so that the highest stream number shows whole (★20000)."""
        delta = width >= 100
        frame = width >= 130
        state_w = 12 if width >= 90 else 8
        conn_w = max(6, 3 + len(str(max(streams - 1, 0))))  # " ●20000 " then the state
        return cls(width, delta, frame, state_w, conn_w=conn_w)

    @property
    def arrow_w(self) -> int:
        fixed = self.time_w + self.band_w + self.conn_w + 2 * self.state_w + 2
        fixed += 10 if self.delta else 0
        fixed += 9 if self.frame else 0
        return max(self.width - fixed, 8)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` cut or filled to exactly `width` terminal cells: a Chinese character takes two,
    so a header or a call's result in Chinese keeps the columns where English has them."""
    if text.isascii():
        text = text[:width]
        return text.rjust(width) if right else text.ljust(width)
    cells = cell_len(text)
    if cells > width:
        text, cells = set_cell_size(text, width), width  # a wide character cut in two: a space
    fill = " " * (width - cells)
    return fill + text if right else text + fill


def _fmt_time(t: float) -> str:
    return f"{t:.6f}" if t < 1000 else f"{t:.3f}"


def fmt_delta(d: float) -> str:
    """The time since the row above, in the 9 cells of its column: to the microsecond under a
    second (``+0.000031``, loopback's scale), to the millisecond up to hours (``+12.406``),
    then in hours (``+27.8h``). Rounded, never cut."""
    if d < 0.9999995:
        return f"+{d:.6f}"
    if d < 9999.9995:
        return f"+{d:.3f}"
    return f"+{d / 3600:.1f}h"


SYN_FIN = 0x03
"""The flags that use a sequence number (FIN 0x01, SYN 0x02)."""

SHORT_MARKS: dict[str, str] = {
    "retransmission": "retrans", "fast_retransmission": "fast retrans",
    "spurious_retransmission": "spurious retrans", "out_of_order": "out-of-order",
    "previous_segment_not_captured": "prev seg lost", "ack_lost_segment": "acks unseen",
    "duplicate_ack": "dup ack", "zero_window": "zero win", "zero_window_probe": "zw probe",
    "zero_window_probe_ack": "zw probe ack", "keep_alive": "keep-alive",
    "keep_alive_ack": "keep-alive ack", "window_update": "win update",
    "port_reused": "port reused", "kernel_retransmit_timeout": "kernel: timer",
    "kernel_retransmit_fast": "kernel: fast retrans", "kernel_reset_sent": "kernel RST",
    "kernel_reset_received": "kernel took RST",
}  # fmt: skip
"""The analysis marks as an arrow says them when the full names do not fit."""


def arrow_label(view: TimelineView, row: int, width: int | None = None) -> str:
    """The words on a packet's arrow: flags, relative seq and ack, payload length, analysis.

    With `width`, a label longer than that gives up, in this order: the marks' long names
    (`SHORT_MARKS`), a zero length, a pure ACK's seq, the marks (the arrow stays red), the
    length, the seq; the flags and the ack go last (a FIN's lesson is in its ack). A label
    that left something out ends with "…"; one still too long is cut after a whole word.
    """
    tl = view.timeline
    if tl.kind[row] == KIND_UDP:
        flags, seq, ack, length = f"UDP len={tl.length[row]}", "", "", ""
    else:
        flags = ",".join(flag_names(tl.flags[row])) or "—"
        seq = f" seq={tl.seq[row]}"
        ack = f" ack={tl.ack[row]}" if tl.ack[row] != NONE else ""
        length = f" len={tl.length[row]}"
    mask = tl.analysis[row]
    names = [n for b, n in enumerate(tl.analysis_names) if mask >> b & 1] if mask else []
    marks = " [" + ",".join(n.replace("_", " ") for n in names) + "]" if names else ""
    label = flags + seq + ack + length + marks
    if width is None or len(label) <= width:
        return label
    short = [SHORT_MARKS.get(n, n) for n in names]
    if "retrans" in short and len(short) > 1 and any(m.endswith(" retrans") for m in short):
        short.remove("retrans")  # "fast retrans" says it already
    brief = " [" + ",".join(short) + "]" if short else ""
    nonzero = "" if length == " len=0" else length
    complete = (flags + seq + ack + length + brief, flags + seq + ack + nonzero + brief)
    for candidate in complete:
        if len(candidate) <= width:
            return candidate
    # A pure ACK's seq is only the next byte it would send; a segment's is which bytes it is.
    pure_ack = tl.kind[row] != KIND_UDP and nonzero == "" and not tl.flags[row] & SYN_FIN
    shorter = [flags + ack + brief] if pure_ack else []
    for candidate in (*shorter, flags + seq + ack + nonzero, flags + seq + ack, flags + ack):
        if len(candidate) + 2 <= width:
            return candidate + " …"
    cut = candidate[: max(width - 1, 0)]
    if " " in cut and candidate[len(cut)] != " ":
        cut = cut[: cut.rindex(" ") + 1]  # whole words only: "ack=9…" would misread as nine
    return cut + "…"


def socket_label(view: TimelineView, row: int, lang: str = "en", width: int | None = None) -> str:
    """A call and its result as its side of the ladder says it (``send() → 14 bytes``), after
    its program where that is not this one (``curl 4711: ``).

    With `width`, a longer label gives up its program's pid where that makes it fit whole;
    else it is cut after a whole word, its result first; where the call itself would not
    stay whole, the pid goes, then the program: the call is what the row is about.
    """
    ev = view.timeline.sockets[row]
    call = f"{ev.call}()"
    text = call + (f" → {result_text(ev.result, lang)}" if ev.result else "")
    labels = [text]
    if ev.pid is not None and ev.pid != os.getpid():
        labels = [f"{ev.comm} {ev.pid}: {text}", f"{ev.comm}: {text}", text]
    if width is None:
        return labels[0]
    whole = next((label for label in labels[:2] if cell_len(label) <= width), None)
    if whole is not None:
        return whole
    for label in labels:
        cut = cut_words(label, width)
        if cut == label or call in cut:
            return cut
    return cut


def cut_words(text: str, room: int) -> str:
    """`text` in at most `room` cells, cut after a whole word with "…" where it is longer."""
    if cell_len(text) <= room:
        return text
    cut = set_cell_size(text, max(room - 1, 0)).rstrip()
    if " " in cut and cell_len(cut) < cell_len(text) and text[len(cut)] not in " ":
        head = cut[: cut.rindex(" ")].rstrip()
        cut = head if cell_len(head) >= room // 2 else cut  # a long last word: cut inside it
    return cut.removesuffix(" →").removesuffix(":") + "…"  # nothing said after an arrow


def _arrow(label: str, width: int, leftward: bool, dashed: bool) -> str:
    """An arrow of exactly `width` cells with the label in its middle."""
    line = "╌" if dashed else "─"
    label = f" {label} "
    body = width - 1
    if len(label) > body - 2:
        label = label[: max(body - 2, 0)]
    left = (body - len(label)) // 2
    right = body - len(label) - left
    text = line * left + label + line * right
    return ("◀" + text) if leftward else (text + "▶")


def with_app_line(label: str, line: str | None, room: int) -> str:
    """The arrow's label and the line of application data it carries, in `room` characters
    (``PSH,ACK seq=1 ack=1 len=136 «GET /»``). Where both do not fit, the label leaves out
    its seq, then its length, then its ack (the line was asked for, and says what the data
    is), until 16 characters of the line fit; the line is cut to fit, and left out below 6
    characters of it."""
    if not line:
        return label
    words = label.split(" ")
    drop = ("seq=", "len=", "ack=")
    for n in range(len(drop) + 1):
        short = " ".join(w for w in words if not w.startswith(drop[:n]) or w is words[0])
        free = room - len(short) - 3
        if free >= min(len(line), 16) or (n == len(drop) and free >= 6):
            return f"{short} «{line if len(line) <= free else line[: free - 1] + '…'}»"
    return label


def ladder_segments(
    view: TimelineView,
    index: int,
    cols: Columns,
    lang: str = "en",
    app_line: Callable[[int], str | None] | None = None,
) -> list[Segment]:
    """The segments of visible row `index` (unstyled by selection; the widget adds that).

    The phase band says the phase's code word (``listen``), in every language: it is the word
    the filter takes, and the legend gives each language's name for it.
    """
    tl = view.timeline
    row = view.row_at(index)
    t = tl.time[row]
    first = tl.first_time or 0.0
    segs: list[Segment] = [Segment(pad(_fmt_time(t - first), cols.time_w - 1, True) + " ")]
    if cols.delta:
        prev = tl.time[view.row_at(index - 1)] if index > 0 else t
        segs.append(Segment(pad(fmt_delta(t - prev), 9, True) + " ", Style(dim=True)))
    phase = PHASES[tl.phase[row]]
    colour = PHASE_COLOURS[phase]
    segs.append(Segment("▌", Style(color=colour)))
    segs.append(Segment(pad(phase.value, cols.band_w - 1), Style(color=colour, bold=True)))
    kind = tl.kind[row]
    sid = tl.sid[row]
    sw, aw = cols.state_w, cols.arrow_w
    if kind == KIND_SOCKET:
        own = tl.socket_sid(row)  # which connection's call, where its endpoints say
        if own is None:
            segs.append(Segment(" " * cols.conn_w))
        else:
            conn = f"{stream_marker(own)}{tl.streams[own].stream}"
            segs.append(Segment(pad(" " + conn, cols.conn_w), stream_style(own)))
        side_server = tl.dir[row] == S2C
        # The side's marker is never cut, and the other side's edge stays clear: a server's
        # call starting at the client's edge would read as the client's.
        label = socket_label(view, row, lang, aw - 4)
        style = Style(italic=True, color=colour)
        segs.append(Segment(" " * sw + "│"))
        if side_server:
            text = pad(label + " ●", aw - 1, True)
        else:
            text = pad("● " + label, aw - 1)
        segs.append(Segment(text, style))
        segs.append(Segment("│" + " " * sw))
    else:
        sstyle = stream_style(sid)
        conn = f"{stream_marker(sid)}{tl.streams[sid].stream}"
        segs.append(Segment(pad(" " + conn, cols.conn_w), sstyle))
        changed = tl.changed[row]
        cs = _state_text(tl.client_state[row], sw, changed & CLIENT_DIFFERS)
        ss = _state_text(tl.server_state[row], sw, changed & SERVER_DIFFERS)
        cs = cs if changed & CLIENT_CHANGED else ""
        ss = ss if changed & SERVER_CHANGED else ""
        segs.append(Segment(pad(cs, sw, True), Style(color="#d7d7af")))
        segs.append(Segment("│"))
        arrow_style = sstyle
        if tl.analysis[row]:
            arrow_style = sstyle + Style(color="#ff5f5f")
        label = arrow_label(view, row, aw - 6)  # the arrow's room for words (see _arrow)
        if app_line is not None and tl.length[row]:
            label = with_app_line(label, app_line(row), aw - 6)
        text = _arrow(label, aw - 1, tl.dir[row] == S2C, kind == KIND_UDP)
        segs.append(Segment(text, arrow_style))
        segs.append(Segment("│"))
        segs.append(Segment(pad(ss, sw), Style(color="#d7d7af")))
    if cols.frame:
        f = tl.frame[row]
        segs.append(Segment(pad(f"#{f}" if f else "", 9, True), Style(dim=True)))
    return segs


DIFFERS_MARK = "*"
"""After a state the kernel said where the packets alone suggest another."""


def _state_text(code: int, width: int, differs: int = 0) -> str:
    if code == NONE:
        return ""
    name = STATES[code].value
    room = width - (1 if differs else 0)
    text = SHORT_STATES.get(name, name) if len(name) > room else name
    return text + DIFFERS_MARK if differs else text


def header_text(view: TimelineView, cols: Columns, lang: str = "en") -> str:
    """Column names, and the two ends (or how many) above their columns.

    The server's end matters most (the port is what a lesson or a capture is about): with
    several connections the server port(s) still show (``servers :80 :443``); where room is
    short, the role words go first, then the client's address (its port stays: ``…:59856``),
    then the server's address; an address is never cut in its middle.
    """
    cat = load(lang)
    tl = view.timeline
    streams = tl.streams
    client_word, server_word = cat.text("word.client"), cat.text("word.server")
    ends: list[list[str]] = [[client_word], [server_word]]
    if streams:
        clients = {(s.client, s.cport) for s in streams[:50]}
        servers = {(s.server, s.sport) for s in streams[:50]}
        if len(clients) == 1:
            c = streams[0]
            ends[0] = [f"{client_word} {endpoint(c.client, c.cport)}", endpoint(c.client, c.cport),
                       f"…:{c.cport}"]  # fmt: skip
        else:
            ends[0] = [cat.text("ladder.clients")]
        if len(servers) == 1:
            sv = streams[0]
            ends[1] = [f"{server_word} {endpoint(sv.server, sv.sport)}",
                       endpoint(sv.server, sv.sport), f"…:{sv.sport}"]  # fmt: skip
        else:
            ports = " ".join(f":{p}" for p in sorted({p for _, p in servers})[:4])
            more = " …" if len({p for _, p in servers}) > 4 else ""
            ends[1] = [f"{cat.text('ladder.servers')} {ports}{more}", f"{ports}{more}"]
    text = pad(cat.text("ladder.time"), cols.time_w - 1, True) + " "
    if cols.delta:
        text += pad(cat.text("ladder.delta"), 9, True) + " "
    text += pad(" " + cat.text("ladder.phase"), cols.band_w)
    text += pad(" " + cat.text("ladder.conn"), cols.conn_w)
    state = cat.text("ladder.state")
    text += pad(state, cols.state_w, True) + "│"
    aw = cols.arrow_w - 1
    # Shorter forms, the client's first, until both fit with a space between.
    ci, si = 0, 0
    while cell_len(ends[0][ci]) + cell_len(ends[1][si]) + 1 > aw:
        if ci + 1 < len(ends[0]) and (ci <= si or si + 1 >= len(ends[1])):
            ci += 1
        elif si + 1 < len(ends[1]):
            si += 1
        else:
            break
    client, server = ends[0][ci], ends[1][si]
    if cell_len(client) + cell_len(server) + 1 > aw:
        server = pad(server, max(aw - 1, 0)).rstrip()
        client = pad(client, max(aw - cell_len(server) - 1, 0)).rstrip()
    text += client + " " * (aw - cell_len(client) - cell_len(server)) + server
    text += "│" + pad(state, cols.state_w)
    if cols.frame:
        text += pad(cat.text("ladder.frame"), 9, True)
    return text


def ladder_text(
    view: TimelineView, width: int = 120, limit: int | None = None, lang: str = "en"
) -> list[str]:
    """The visible ladder as plain text lines (header first), for the text export."""
    cols = Columns.fit(width, len(view.timeline.streams))
    lines = [header_text(view, cols, lang).rstrip()]
    n = view.visible_count if limit is None else min(view.visible_count, limit)
    for i in range(n):
        lines.append("".join(s.text for s in ladder_segments(view, i, cols, lang)).rstrip())
    return lines
