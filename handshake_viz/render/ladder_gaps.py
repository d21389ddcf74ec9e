"""The time-true ladder's gap lines, as text and Rich segments.

A gap line keeps the ladder's two rails (the client's and the server's lines) going down, with
a dotted mark in the time column, and on its middle line says what the wait means where it
means something (`model.timescale.gap_meaning`). The rails sit where the header has its two
"│", so the gap lines follow whatever column widths the ladder's rows have.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timescale import GapKind, GapMeaning, TimeTrueLayout, gap_meaning
from handshake_viz.render.ladder_text import Columns, header_text, ladder_segments
from handshake_viz.words.catalog import load

GAP_COLOURS: dict[GapKind, str] = {
    GapKind.SYN_TIMER: "#ffaf5f",
    GapKind.SYNACK_TIMER: "#ffaf5f",
    GapKind.RTT: "#87afd7",
    GapKind.DELAYED_ACK: "#d7af87",
}
"""A timer's wait in the retransmission's warm colour, a round trip and a held ACK calmer."""
RAIL_STYLE = Style(dim=True)
TIME_MARK = "⋮"
"""In the time column of a gap line: time passes here."""


def format_seconds(seconds: float) -> str:
    """A wait as a person reads it: ``0.03 ms``, ``4.20 ms``, ``40 ms``, ``1.00 s``."""
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1.0:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def gap_label(meaning: GapMeaning, lang: str = "en") -> str:
    """What a gap means, in `lang` ("1.00 s: the SYN retransmission timer")."""
    return load(lang).text(f"ladder.gap.{meaning.kind.value}", time=format_seconds(meaning.seconds))


def rails(header: str) -> tuple[int, int] | None:
    """The cells of the ladder's two rails, where the header line has its two "│"."""
    at = [i for i, ch in enumerate(header) if ch == "│"]
    if len(at) != 2:
        return None
    return cell_len(header[: at[0]]), cell_len(header[: at[1]])


def gap_segments(
    width: int, time_w: int, where: tuple[int, int] | None, label: str = "", colour: str = ""
) -> list[Segment]:
    """One gap line of `width` cells: the time column's mark, the rails at `where`, and
    `label` centred between them; a label too long for that goes over the right rail, then
    over everything right of the time column (the states' columns are empty on a gap line),
    and is cut with "…" last."""
    cells = [" "] * width
    for x, ch in ((max(time_w - 6, 0), TIME_MARK), *((x, "│") for x in (where or ()))):
        if x < width:
            cells[x] = ch
    background = "".join(cells)
    if not label:
        return [Segment(background, RAIL_STYLE)]
    text = f" {label} "
    left, right = (where[0] + 1, where[1]) if where else (time_w, width)
    for wider in ((left, width), (min(time_w, width), width)):
        if cell_len(text) <= right - left:
            break
        left, right = wider
    room = max(right - left, 0)
    if cell_len(text) > room:
        text = set_cell_size(text, max(room - 1, 0)) + "…" if room else ""
    start = left + (room - cell_len(text)) // 2
    stop = start + cell_len(text)
    return [
        Segment(background[:start], RAIL_STYLE),
        Segment(text, Style(color=colour or None, italic=True)),
        Segment(background[stop:], RAIL_STYLE),
    ]


def gap_line(
    view: TimelineView,
    index: int,
    k: int,
    lines: int,
    cols: Columns,
    where: tuple[int, int] | None,
    lang: str = "en",
) -> list[Segment]:
    """Gap line `k` of the `lines` above visible row `index`: its middle line says what the
    gap means, if anything."""
    label, colour = "", ""
    if k == (lines - 1) // 2:
        meaning = gap_meaning(view, index)
        if meaning is not None:
            label, colour = gap_label(meaning, lang), GAP_COLOURS[meaning.kind]
    return gap_segments(cols.width, cols.time_w, where, label, colour)


def time_true_text(
    view: TimelineView, width: int = 120, limit: int | None = None, lang: str = "en"
) -> list[str]:
    """The visible ladder as plain text lines with its gap lines (header first)."""
    cols = Columns.fit(width, len(view.timeline.streams))
    header = header_text(view, cols, lang)
    where = rails(header)
    layout = TimeTrueLayout(view)
    layout.sync()
    out = [header.rstrip()]
    n = view.visible_count if limit is None else min(view.visible_count, limit)
    for i in range(n):
        lines = layout.gap_before(i)
        for k in range(lines):
            segs = gap_line(view, i, k, lines, cols, where, lang)
            out.append("".join(s.text for s in segs).rstrip())
        out.append("".join(s.text for s in ladder_segments(view, i, cols, lang)).rstrip())
    return out
