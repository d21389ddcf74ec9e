"""The ladder: one line per event between a client column and a server column.

A `ScrollView` drawing with the line API: only the lines on screen are ever built (from the
timeline's columns, in `render_line`), so a million events cost no more to show than twenty.
Line 0 is a sticky header naming the columns and the two ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from handshake_viz.events import Phase, endpoint, flag_names
from handshake_viz.timeline import (
    CLIENT_CHANGED,
    KIND_SOCKET,
    KIND_UDP,
    NONE,
    PHASES,
    S2C,
    SERVER_CHANGED,
    STATES,
    TimelineView,
)

PHASE_COLOURS: dict[Phase, str] = {
    Phase.LISTEN: "#5f87ff",
    Phase.REQUEST: "#d7af00",
    Phase.CONFIRM: "#5fd75f",
    Phase.DATA: "#00afd7",
    Phase.TEARDOWN: "#af87d7",
    Phase.RESET: "#ff5f5f",
    Phase.DATAGRAM: "#a8a8a8",
}
"""One colour per phase, the same in the band, the legend and the exports."""

PHASE_LABELS_ZH: dict[Phase, str] = {
    Phase.LISTEN: "服务器监听",
    Phase.REQUEST: "客户端请求",
    Phase.CONFIRM: "连接确认",
    Phase.DATA: "数据传输",
    Phase.TEARDOWN: "连接释放",
    Phase.RESET: "连接重置",
    Phase.DATAGRAM: "数据报",
}

STREAM_COLOURS = (
    "#5fafff", "#ffaf5f", "#87d787", "#d787d7", "#ffd75f", "#5fd7d7", "#ff8787", "#afafff",
)  # fmt: skip
"""Connections cycle through these; the stream number beside the marker tells them apart."""
STREAM_MARKERS = "●■▲◆★✚◉▼"

SHORT_STATES = {
    "ESTABLISHED": "ESTAB",
    "SYN-RECEIVED": "SYN-RCVD",
    "FIN-WAIT-1": "FIN-WT1",
    "FIN-WAIT-2": "FIN-WT2",
    "CLOSE-WAIT": "CLOSE-WT",
    "TIME-WAIT": "TIME-WT",
}


def stream_style(sid: int) -> Style:
    return Style(color=STREAM_COLOURS[sid % len(STREAM_COLOURS)])


def stream_marker(sid: int) -> str:
    return STREAM_MARKERS[(sid // len(STREAM_COLOURS)) % len(STREAM_MARKERS)]


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
    def fit(cls, width: int) -> Columns:
        delta = width >= 100
        frame = width >= 130
        state_w = 12 if width >= 90 else 8
        return cls(width, delta, frame, state_w)

    @property
    def arrow_w(self) -> int:
        fixed = self.time_w + self.band_w + self.conn_w + 2 * self.state_w + 2
        fixed += 10 if self.delta else 0
        fixed += 9 if self.frame else 0
        return max(self.width - fixed, 8)


def _pad(text: str, width: int, right: bool = False) -> str:
    text = text[:width]
    return text.rjust(width) if right else text.ljust(width)


def _fmt_time(t: float) -> str:
    return f"{t:.6f}" if t < 1000 else f"{t:.3f}"


SHORT_MARKS: dict[str, str] = {
    "retransmission": "retrans", "fast_retransmission": "fast retrans",
    "spurious_retransmission": "spurious retrans", "out_of_order": "out-of-order",
    "previous_segment_not_captured": "prev seg lost", "ack_lost_segment": "acks unseen",
    "duplicate_ack": "dup ack", "zero_window": "zero win", "zero_window_probe": "zw probe",
    "zero_window_probe_ack": "zw probe ack", "keep_alive": "keep-alive",
    "keep_alive_ack": "keep-alive ack", "window_update": "win update",
    "port_reused": "port reused",
}  # fmt: skip
"""The analysis marks as an arrow says them when the full names do not fit."""


def arrow_label(view: TimelineView, row: int, width: int | None = None) -> str:
    """The words on a packet's arrow: flags, relative seq and ack, payload length, analysis.

    With `width`, a label longer than that says its marks the short way (`SHORT_MARKS`), then
    leaves out a zero length, and only then is cut after a whole word, with "…".
    """
    tl = view.timeline
    if tl.kind[row] == KIND_UDP:
        head, length = f"UDP len={tl.length[row]}", ""
    else:
        parts = [",".join(flag_names(tl.flags[row])) or "—", f"seq={tl.seq[row]}"]
        if tl.ack[row] != NONE:
            parts.append(f"ack={tl.ack[row]}")
        head, length = " ".join(parts), f" len={tl.length[row]}"
    mask = tl.analysis[row]
    names = [n for b, n in enumerate(tl.analysis_names) if mask >> b & 1] if mask else []
    marks = " [" + ",".join(n.replace("_", " ") for n in names) + "]" if names else ""
    label = head + length + marks
    if width is None or len(label) <= width:
        return label
    short = [SHORT_MARKS.get(n, n) for n in names]
    if "retrans" in short and len(short) > 1 and any(m.endswith(" retrans") for m in short):
        short.remove("retrans")  # "fast retrans" says it already
    brief = " [" + ",".join(short) + "]" if short else ""
    for candidate in (head + length + brief, head + ("" if length == " len=0" else length) + brief):
        if len(candidate) <= width:
            return candidate
    cut = candidate[: max(width - 1, 0)]
    if " " in cut and candidate[len(cut)] != " ":
        cut = cut[: cut.rindex(" ") + 1]  # whole words only: "len=9…" would misread as nine
    if " [" in cut:
        cut = cut[: cut.index(" [") + 1]  # and the marks whole or not at all
    return cut + "…"


def socket_label(view: TimelineView, row: int) -> str:
    ev = view.timeline.sockets[row]
    text = f"{ev.call}()"
    if ev.result:
        text += f" → {ev.result}"
    return text


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


def ladder_segments(view: TimelineView, index: int, cols: Columns) -> list[Segment]:
    """The segments of visible row `index` (unstyled by selection; the widget adds that)."""
    tl = view.timeline
    row = view.row_at(index)
    t = tl.time[row]
    first = tl.first_time or 0.0
    segs: list[Segment] = [Segment(_pad(_fmt_time(t - first), cols.time_w - 1, True) + " ")]
    if cols.delta:
        prev = tl.time[view.row_at(index - 1)] if index > 0 else t
        segs.append(Segment(_pad("+" + _fmt_time(t - prev), 9, True) + " ", Style(dim=True)))
    phase = PHASES[tl.phase[row]]
    colour = PHASE_COLOURS[phase]
    segs.append(Segment("▌", Style(color=colour)))
    segs.append(Segment(_pad(phase.value, cols.band_w - 1), Style(color=colour, bold=True)))
    kind = tl.kind[row]
    sid = tl.sid[row]
    sw, aw = cols.state_w, cols.arrow_w
    if kind == KIND_SOCKET:
        own = tl.socket_sid(row)  # which connection's call, where its endpoints say
        if own is None:
            segs.append(Segment(" " * cols.conn_w))
        else:
            conn = f"{stream_marker(own)}{tl.streams[own].stream}"
            segs.append(Segment(_pad(" " + conn, cols.conn_w), stream_style(own)))
        side_server = tl.dir[row] == S2C
        label = socket_label(view, row)
        style = Style(italic=True, color=colour)
        segs.append(Segment(" " * sw + "│"))
        if side_server:
            text = _pad(label + " ●", aw - 1, True)
        else:
            text = _pad("● " + label, aw - 1)
        segs.append(Segment(text, style))
        segs.append(Segment("│" + " " * sw))
    else:
        sstyle = stream_style(sid)
        conn = f"{stream_marker(sid)}{tl.streams[sid].stream}"
        segs.append(Segment(_pad(" " + conn, cols.conn_w), sstyle))
        changed = tl.changed[row]
        cs = _state_text(tl.client_state[row], sw) if changed & CLIENT_CHANGED else ""
        ss = _state_text(tl.server_state[row], sw) if changed & SERVER_CHANGED else ""
        segs.append(Segment(_pad(cs, sw, True), Style(color="#d7d7af")))
        segs.append(Segment("│"))
        arrow_style = sstyle
        if tl.analysis[row]:
            arrow_style = sstyle + Style(color="#ff5f5f")
        label = arrow_label(view, row, aw - 6)  # the arrow's room for words (see _arrow)
        text = _arrow(label, aw - 1, tl.dir[row] == S2C, kind == KIND_UDP)
        segs.append(Segment(text, arrow_style))
        segs.append(Segment("│"))
        segs.append(Segment(_pad(ss, sw), Style(color="#d7d7af")))
    if cols.frame:
        f = tl.frame[row]
        segs.append(Segment(_pad(f"#{f}" if f else "", 9, True), Style(dim=True)))
    return segs


def _state_text(code: int, width: int) -> str:
    if code == NONE:
        return ""
    name = STATES[code].value
    return SHORT_STATES.get(name, name) if len(name) > width else name


def header_text(view: TimelineView, cols: Columns) -> str:
    """Column names, and the two ends (or how many) above their columns."""
    tl = view.timeline
    streams = tl.streams
    if not streams:
        client, server = "client", "server"
    else:
        clients = {(s.client, s.cport) for s in streams[:50]}
        servers = {(s.server, s.sport) for s in streams[:50]}
        c0, s0 = streams[0], streams[0]
        client = f"client {endpoint(c0.client, c0.cport)}" if len(clients) == 1 else "clients"
        server = f"server {endpoint(s0.server, s0.sport)}" if len(servers) == 1 else "servers"
    text = _pad("time", cols.time_w - 1, True) + " "
    if cols.delta:
        text += _pad("Δ prev", 9, True) + " "
    text += _pad(" phase", cols.band_w) + _pad(" conn", cols.conn_w)
    text += _pad("state", cols.state_w, True) + "│"
    aw = cols.arrow_w - 1
    if len(client) + len(server) + 2 > aw:  # drop the role words before cutting addresses
        client, server = client.removeprefix("client "), server.removeprefix("server ")
    if len(client) + len(server) + 2 > aw:  # cut addresses from the left: the port stays
        room = aw // 2 - 1
        client, server = (t if len(t) <= room else "…" + t[len(t) - room + 1 :]
                          for t in (client, server))  # fmt: skip
    text += client + " " * (aw - len(client) - len(server)) + server
    text += "│" + _pad("state", cols.state_w)
    if cols.frame:
        text += _pad("frame", 9, True)
    return text


class LadderView(ScrollView, can_focus=True, inherit_bindings=False):
    """The ladder timeline of a `TimelineView`, drawing only the lines on screen."""

    # Not inheriting ScrollView's keys: left/right/home/end/space belong to playback.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous row", show=False),
        Binding("down", "cursor(1)", "Next row", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "app.tab('packet')", "Open the packet detail", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"ladder--header", "ladder--selected"}

    following: reactive[bool] = reactive(True)
    """Live: the newest row stays on screen. Scrolling up turns it off; f or End back on."""

    class Selected(Message):
        """The selected row changed (row: a timeline row, or None)."""

        def __init__(self, row: int | None) -> None:
            super().__init__()
            self.row = row

    class FollowChanged(Message):
        """Live follow mode went on or off (so the status bar can say so)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, view: TimelineView, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self.selected: int | None = None
        """Visible index of the selected row."""
        self._cache: LRUCache[tuple[int, int, int, bool, int], Strip] = LRUCache(1024)
        self._auto_scroll = False

    # -- data changes

    def reset(self) -> None:
        """The filter or the revealed rows changed in a way that breaks the line cache."""
        self._cache.clear()
        self.update_size()
        self.refresh()

    def update_size(self) -> None:
        # Width 0: every line is drawn to the region's width, so nothing scrolls sideways. The
        # widget's own width here made a horizontal scrollbar appear with the vertical one (one
        # column narrower than the lines), which hid the newest row under it after End.
        self.virtual_size = Size(0, self.view.visible_count + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self.update_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def show_newest(self) -> None:
        """Select the newest visible row and scroll so it is on screen (playback, follow)."""
        self.update_size()
        n = self.view.visible_count
        self.select(n - 1 if n else None, scroll=True)

    def select(self, index: int | None, *, scroll: bool = True) -> None:
        n = self.view.visible_count
        if index is not None:
            index = max(0, min(index, n - 1)) if n else None
        changed = index != self.selected
        self.selected = index
        if scroll and index is not None:
            self.scroll_to_index(index)
        self.refresh()
        if changed:
            self.post_message(self.Selected(None if index is None else self.view.row_at(index)))

    def scroll_to_index(self, index: int) -> None:
        rows_on_screen = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_y)
        if index < top:
            target = index
        elif index >= top + rows_on_screen:
            target = index - rows_on_screen + 1
        else:
            return
        self._auto_scroll = True
        try:
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
        finally:
            self._auto_scroll = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # The wheel, the scrollbar or a key moved the view up, away from the newest row (a
        # layout change that clamps scroll_y to a new bottom is not the user leaving it).
        if (
            self.view.live
            and self.following
            and not self._auto_scroll
            and new < old - 0.01
            and new < self.max_scroll_y - 0.5
        ):
            self.following = False

    def watch_following(self, following: bool) -> None:
        self.post_message(self.FollowChanged(following))

    # -- actions

    def action_cursor(self, delta: int) -> None:
        n = self.view.visible_count
        if not n:
            return
        cur = self.selected if self.selected is not None else n - 1
        self.select(cur + delta)
        if self.view.live and delta < 0:
            self.following = False

    def action_page(self, delta: int) -> None:
        self.action_cursor(delta * max(self.scrollable_content_region.height - 2, 1))

    def on_click(self, event: events.Click) -> None:
        y = event.y
        if y < 1:
            return
        index = round(self.scroll_y) + y - 1
        if index < self.view.visible_count:
            self.select(index, scroll=False)
            if self.view.live and index < self.view.visible_count - 1:
                self.following = False

    # -- drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        cols = Columns.fit(width)
        if y == 0:
            style = self.get_component_rich_style("ladder--header")
            return Strip([Segment(_pad(header_text(self.view, cols), width), style)])
        index = round(self.scroll_y) + y - 1
        if index >= self.view.visible_count:
            return Strip.blank(width, base)
        row = self.view.row_at(index)
        prev = self.view.row_at(index - 1) if index else -1
        selected = index == self.selected
        # A socket call's connection may be known only once its SYN is in (connect() first).
        streams = len(self.view.timeline.streams) if row in self.view.timeline.sockets else 0
        key = (row, prev, width, selected, streams)
        strip = self._cache.get(key)
        if strip is None:
            segs = ladder_segments(self.view, index, cols)
            strip = Strip(segs).apply_style(base)
            if selected:
                strip = strip.apply_style(self.get_component_rich_style("ladder--selected"))
            strip = strip.adjust_cell_length(width, base)
            self._cache[key] = strip
        return strip


def ladder_text(view: TimelineView, width: int = 120, limit: int | None = None) -> list[str]:
    """The visible ladder as plain text lines (header first), for the text export."""
    cols = Columns.fit(width)
    lines = [header_text(view, cols).rstrip()]
    n = view.visible_count if limit is None else min(view.visible_count, limit)
    for i in range(n):
        lines.append("".join(s.text for s in ladder_segments(view, i, cols)).rstrip())
    return lines
