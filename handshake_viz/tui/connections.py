"""The connections table: one line per stream, drawn with the line API.

A DataTable took 12 s for 100,000 rows here, and a million-packet capture of short loopback
connections has 100,000 streams, so this is a virtual list like the ladder. Line 1 is "all";
choosing a stream filters the ladder to it, choosing "all" brings everything back.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from handshake_viz.core.events import endpoint
from handshake_viz.model.rows import StreamInfo
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.ladder_text import pad
from handshake_viz.render.palette import stream_marker, stream_style
from handshake_viz.tui.binding_words import speak_bindings
from handshake_viz.words.catalog import load

ENDINGS = ("open", "fin", "rst")
"""How a connection ends, as the tracker says it; each is a word of the catalogs (``conn.*``)."""


CONNECTION_LEVELS = 8
"""How many forms a connection's line has (`connection_text`'s `level`), fullest first."""
_GONE = ("", "", "bytes", "rtt", "programs", "packets", "ended", "")
"""The part each level leaves out, besides those of the levels before it."""


def connection_text(
    s: StreamInfo, lang: str = "en", width: int | None = None, level: int | None = None
) -> str:
    """One stream as a line: handshake (✓ complete, ½ partial, ✗ none), its RTT, bytes each
    way (↑ client to server), how it ended, packets, the programs at each end where the
    kernel's view names them ("curl 4711 → python3 4702"), then the endpoints.

    Shorter forms (`level` 1 to 7) give up, in this order: the client's address (its port
    stays: ``…:56678``), the bytes, the RTT, the programs, the packets, how it ended, the
    server's address (its port stays); the stream and the handshake always show. With
    `width` and no `level`, the fullest form that fits (`fit_level`).
    """
    if level is None:
        level = 0 if width is None else fit_level(s, lang, width)
    cat = load(lang)
    hs = {"complete": "✓", "partial": "½", "none": "✗"}[s.handshake]
    rtt = s.handshake_rtt
    rtt_text = "—" if rtt is None else f"{rtt * 1000:.3f}ms"
    ended = cat.text(f"conn.{s.ended}") if s.ended in ENDINGS else s.ended
    ended += " " * (4 - cell_len(ended))  # a column of four cells, as "open"
    programs = ""
    if s.client_program or s.server_program:  # the kernel's view names them
        programs = f"{s.client_program or '?'} → {s.server_program or '?'}"
    client = endpoint(s.client, s.cport) if level < 1 else f"…:{s.cport}"
    server = endpoint(s.server, s.sport) if level < 7 else f"…:{s.sport}"
    parts = {
        "id": f"{s.proto} {s.stream:<4} {hs}", "rtt": f"{rtt_text:>9}",
        "bytes": f"↑{s.bytes_c2s}B ↓{s.bytes_s2c}B", "ended": ended, "packets": f"{s.packets}p",
        "programs": programs,
    }  # fmt: skip
    for gone in _GONE[: level + 1]:
        if gone:
            parts[gone] = ""
    head = " ".join(parts[k] for k in ("id", "rtt", "bytes", "ended", "packets") if parts[k])
    return "  ".join(p for p in (head, parts["programs"], f"{client} → {server}") if p)


def fit_level(s: StreamInfo, lang: str, width: int) -> int:
    """The fullest form of `s`'s line (`connection_text`'s level) in `width` cells."""
    for level in range(CONNECTION_LEVELS):
        if cell_len(connection_text(s, lang, level=level)) <= width:
            return level
    return CONNECTION_LEVELS - 1


def header_line(streams: int, lang: str = "en") -> str:
    """The list's first line: how many connections, and what its columns say."""
    cat = load(lang)
    count = cat.text("conn.count_one" if streams == 1 else "conn.count_many", n=streams)
    return f" {count} · {cat.text('conn.columns')}"


class ConnectionsView(ScrollView, can_focus=True, inherit_bindings=False):
    """Every stream of the timeline; Enter or a click chooses one (or "all")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "key.previous_connection", show=False),
        Binding("down", "cursor(1)", "key.next_connection", show=False),
        Binding("pageup", "page(-1)", "key.page_up", show=False),
        Binding("pagedown", "page(1)", "key.page_down", show=False),
        Binding("home", "cursor(-1_000_000_000)", "key.first_connection", show=False),
        Binding("end", "cursor(1_000_000_000)", "key.last_connection", show=False),
        Binding("enter", "choose", "key.show_connection", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "connections--header",
        "connections--cursor",
        "connections--chosen",
    }

    class Chosen(Message):
        """A stream was chosen (sid), or "all" (None)."""

        def __init__(self, sid: int | None) -> None:
            super().__init__()
            self.sid = sid

    def __init__(self, timeline: Timeline, *, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        speak_bindings(self, lang)
        self.timeline = timeline
        self.lang = lang
        self.cursor = 0
        """0 is "all", k is stream sid k-1."""
        self.chosen: int | None = None
        self._fitted: tuple[tuple[int, int, int], int] = ((-1, -1, -1), 0)
        """(width, first row, rows) on screen, and the form of their lines."""

    def update_size(self) -> None:
        # Width 0: no sideways scrolling, as in the ladder (see LadderView.update_size).
        self.virtual_size = Size(0, len(self.timeline.streams) + 2)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.update_size()

    def action_cursor(self, delta: int) -> None:
        n = len(self.timeline.streams) + 1
        self.cursor = max(0, min(self.cursor + delta, n - 1))
        top = round(self.scroll_y)
        h = max(self.scrollable_content_region.height - 1, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False, immediate=True, force=True)
        self.refresh()

    def action_page(self, delta: int) -> None:
        self.action_cursor(delta * max(self.scrollable_content_region.height - 2, 1))

    def action_choose(self) -> None:
        self.chosen = None if self.cursor == 0 else self.cursor - 1
        self.refresh()
        self.post_message(self.Chosen(self.chosen))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = round(self.scroll_y) + event.y - 1
        if index <= len(self.timeline.streams):
            self.cursor = index
            self.action_choose()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        streams = self.timeline.streams
        if y == 0:
            style = self.get_component_rich_style("connections--header")
            return Strip([Segment(pad(header_line(len(streams), self.lang), width), style)])
        index = round(self.scroll_y) + y - 1
        if index > len(streams):
            return Strip.blank(width, base)
        if index == 0:
            segs = [Segment("  " + load(self.lang).text("conn.all"))]
        else:
            s = streams[index - 1]
            level = self._level(width)
            segs = [
                Segment(f" {stream_marker(s.sid)} ", stream_style(s.sid)),
                Segment(connection_text(s, self.lang, level=level)),
            ]
        strip = Strip(segs).apply_style(base)
        chosen_index = 0 if self.chosen is None else self.chosen + 1
        if index == chosen_index:
            strip = strip.apply_style(self.get_component_rich_style("connections--chosen"))
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(self.get_component_rich_style("connections--cursor"))
        return strip.adjust_cell_length(width, base)

    def _level(self, width: int) -> int:
        """One form for every line on screen (`connection_text`): the fullest in which each
        fits, so the columns line up."""
        top = max(round(self.scroll_y) - 1, 0)
        shown = self.timeline.streams[top : top + self.scrollable_content_region.height]
        key = (width, top, sum(s.packets for s in shown))  # a live connection's line grows
        if key != self._fitted[0]:
            room = max(width - 3, 0)
            self._fitted = (key, max((fit_level(s, self.lang, room) for s in shown), default=0))
        return self._fitted[1]

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
