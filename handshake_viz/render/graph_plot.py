"""A connection's graph drawn with plotext, the terminal plotting library (no Textual here).

`draw` puts a `Graph` on any plotext figure: the TUI's (textual-plotext's widget holds one) or
a figure of its own for the SVG export (`plot_text`), so the screen and the file show the
same picture. Series are thinned to what the plot's width can show before plotext sees them
(it takes seconds for a million points, and the terminal has a few hundred columns). The
legend is drawn outside the plot (`legend`): inside, plotext's covers the data.

`PlotArea.value_at` maps a terminal cell of the drawn plot back to the graph's coordinates,
so a click can choose the packet under it.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from plotext._figure import _figure_class as PlotextFigure

from handshake_viz.model.graphs_series import Graph, GraphKind, Note, Series, Style
from handshake_viz.model.rows import C2S
from handshake_viz.model.timeline import Timeline
from handshake_viz.words.catalog import Catalog

RGB = tuple[int, int, int]
BLUE, GREEN = (80, 160, 255), (80, 220, 120)
COLOURS: dict[tuple[str, int], RGB] = {
    ("ack", C2S): (40, 110, 200),
    ("ack", 1): (40, 150, 80),
    ("window_edge", C2S): (150, 130, 255),
    ("window_edge", 1): (200, 200, 90),
    ("throughput", C2S): (150, 130, 255),
    ("throughput", 1): (200, 200, 90),
}
"""Colours besides each direction's own (blue for the client's data and what answers it,
green for the server's)."""
MARK_COLOURS: dict[str, RGB] = {
    "retransmission": (255, 70, 70),
    "out_of_order": (255, 90, 255),
    "lost": (255, 170, 40),
    "zero_window": (255, 70, 70),
}
"""Marked packets stand out in a colour of their own, the same both ways."""
MARKER_COLOUR: RGB = (255, 255, 255)
PLOT_MARKERS = {Style.POINTS: "dot", Style.MARKS: "x", Style.STEPS: "braille"}
LEGEND_MARKERS = {Style.POINTS: "•", Style.MARKS: "x", Style.STEPS: "─"}
EDGE_HEADROOM = 2.0
"""The window edge is shown up to twice the highest segment or ACK; above that it runs along
the top (and a note says how high it goes), or the segments would be a flat line at the
bottom of every transfer that a large window did not limit."""


def colour_of(s: Series) -> RGB:
    return (MARK_COLOURS.get(s.key) or COLOURS.get((s.key, s.dir))
            or (BLUE if s.dir == C2S else GREEN))  # fmt: skip


def x_unit(span: float) -> tuple[str, float]:
    """The time unit a span reads best in, and the factor from seconds to it."""
    if span >= 2.0:
        return "s", 1.0
    if span >= 0.002:
        return "ms", 1e3
    return "µs", 1e6


def series_label(s: Series, cat: Catalog) -> str:
    side = cat.text("word.client" if s.dir == C2S else "word.server")
    dir_name = cat.text(f"graph.dir.{'c2s' if s.dir == C2S else 's2c'}")
    return cat.text(f"graph.series.{s.key}", dir=dir_name, side=side)


def legend(graph: Graph, cat: Catalog) -> list[tuple[str, RGB, str]]:
    """(marker, colour, label) of each series that has points, in drawing order."""
    return [(LEGEND_MARKERS[s.style], colour_of(s), series_label(s, cat))
            for s in graph.series if len(s)]  # fmt: skip


def graph_title(graph: Graph, timeline: Timeline, cat: Catalog) -> str:
    s = timeline.streams[graph.sid]
    return cat.text(f"graph.title.{graph.kind.value}", stream=s.stream,
                    client=f"{s.client}:{s.cport}", server=f"{s.server}:{s.sport}")  # fmt: skip


def note_lines(notes: list[Note], cat: Catalog) -> list[str]:
    return [cat.text(n.key, **n.kwargs) for n in notes]


@dataclass(frozen=True, slots=True)
class PlotArea:
    """What `draw` drew: the axes' ranges (to map a cell back to values) and notes of its
    own (a clipped window edge)."""

    x0: float
    x1: float
    y0: float
    y1: float
    factor: float
    """Seconds to the x axis's unit."""
    notes: tuple[Note, ...] = ()

    def value_at(self, col: int, row: int, box: tuple[int, int, int, int]) -> tuple[float, float]:
        """The (seconds, y) of cell (col, row) of the built plot whose inside is `box`
        (left, top, right, bottom cells, as `frame_box` finds them)."""
        left, top, right, bottom = box
        fx = (col - left) / max(right - left, 1)
        fy = (bottom - row) / max(bottom - top, 1)
        x = self.x0 + fx * (self.x1 - self.x0)
        return x / self.factor, self.y0 + fy * (self.y1 - self.y0)

    def cell_of(self, x: float, y: float, box: tuple[int, int, int, int]) -> tuple[int, int]:
        """The cell (col, row) where the point (seconds, y) is drawn: `value_at` reversed."""
        left, top, right, bottom = box
        fx = (x * self.factor - self.x0) / ((self.x1 - self.x0) or 1.0)
        fy = (y - self.y0) / ((self.y1 - self.y0) or 1.0)
        return left + round(fx * (right - left)), bottom - round(fy * (bottom - top))

    def cell_size(self, box: tuple[int, int, int, int]) -> tuple[float, float]:
        """One cell's width in seconds and height in the y axis's unit."""
        left, top, right, bottom = box
        w = (self.x1 - self.x0) / self.factor / max(right - left, 1)
        return w or 1.0, (self.y1 - self.y0) / max(bottom - top, 1) or 1.0


def frame_box(plain: str) -> tuple[int, int, int, int] | None:
    """The cells inside the plot's frame (left, top, right, bottom) in plotext's plain
    output, None if it drew no frame (a plot too small)."""
    lines = plain.split("\n")
    for top, line in enumerate(lines):
        left = line.find("┌")
        if left < 0:
            continue
        right = line.find("┐", left)
        for bottom in range(top + 1, len(lines)):
            if lines[bottom][left : left + 1] == "└":
                return left + 1, top + 1, right - 1, bottom - 1
        return None
    return None


def draw(
    plt: Any,
    graph: Graph,
    cat: Catalog,
    *,
    width: int,
    marker_row: int | None = None,
    title: str | None = None,
    view: tuple[float, float] | None = None,
) -> PlotArea:
    """Plot `graph` on the plotext figure `plt` (cleared first); its size is the caller's.

    Args:
        view: the span of time to show (seconds since the connection's first packet), a
            zoom; the y axes fit what lies in it. None: the whole connection.
        width: the plot's width in cells: each series is thinned to about two points a cell.
        marker_row: the timeline row to mark (the ladder's cursor): a vertical line at its
            time and a bright dot on its points.
        title: the plot's title line, if any.
    """
    plt.clear_figure()
    full = graph.x_range()
    x0, x1 = view or full
    zoomed = (x0, x1) != full
    unit, factor = x_unit(x1 - x0)
    lo, hi, top = _y_range(graph, "left", x0, x1, zoomed)
    r_lo, r_hi, _ = _y_range(graph, "right", x0, x1, zoomed)
    for s in graph.series:
        if not len(s):
            continue
        thin = s.thinned(max(width, 10), x0, x1)
        xs, ys = _steps(thin) if s.style is Style.STEPS else (thin.xs, thin.ys)
        side = "right" if s.axis == "right" else "left"
        ys = array("d", (min(y, r_hi if side == "right" else hi) for y in ys))
        draw_series = plt.plot if s.style is Style.STEPS else plt.scatter
        draw_series([x * factor for x in xs], list(ys), marker=PLOT_MARKERS[s.style],
                    color=colour_of(s), yside=side)  # fmt: skip
    if marker_row is not None:
        points = graph.points_of(marker_row)
        if points and x0 <= points[0][0].xs[points[0][1]] <= x1:
            plt.vline(points[0][0].xs[points[0][1]] * factor, color=MARKER_COLOUR)
            for s, i in points:
                side = "right" if s.axis == "right" else "left"
                plt.scatter([s.xs[i] * factor], [min(s.ys[i], hi)], marker="●",
                            color=MARKER_COLOUR, yside=side)  # fmt: skip
    plt.xlabel(cat.text("graph.axis.time", unit=unit))
    plt.ylabel(cat.text(f"graph.axis.{graph.kind.value}"), yside="left")
    if graph.kind is GraphKind.INFLIGHT:
        plt.ylabel(cat.text("graph.axis.throughput"), yside="right")
        plt.ylim(r_lo, r_hi, yside="right")
    if title:
        plt.title(title)
    if x1 > x0:
        plt.xlim(x0 * factor, x1 * factor)
        plt.xticks(*_ticks(x0 * factor, x1 * factor))
    plt.ylim(lo, hi, yside="left")
    plt.yticks(*_ticks(lo, hi), yside="left")
    if graph.kind is GraphKind.INFLIGHT:
        plt.yticks(*_ticks(r_lo, r_hi), yside="right")
    plt.frame(True)
    notes = (Note("graph.note.edge_clipped", (("top", f"{top:,.0f}"),)),) if top else ()
    return PlotArea(x0 * factor, x1 * factor, lo, hi, factor, notes)


def _y_range(graph: Graph, axis: str, x0: float, x1: float,
             zoomed: bool) -> tuple[float, float, float | None]:  # fmt: skip
    """The y range to show on one axis for what lies between x0 and x1 (from zero where all
    is positive, unless zoomed in; never empty), and how high the window edge goes where it
    is cut at the top (else None)."""
    low, hi, edge = None, None, None
    for s in graph.series:
        if s.axis != axis or not len(s):
            continue
        a, b = bisect_left(s.xs, x0), bisect_right(s.xs, x1)
        if s.style is Style.STEPS and a > 0:
            a -= 1  # the value that holds at x0
        if a >= b:
            continue
        part = s.ys[a:b]
        top = max(part)
        low = min(part) if low is None else min(low, min(part))
        if s.key == "window_edge":
            edge = top if edge is None else max(edge, top)
        else:
            hi = top if hi is None else max(hi, top)
    lo = 0.0 if low is None else (low if zoomed else min(low, 0.0))
    if hi is None:
        hi = edge if edge is not None else lo + 1.0
    clipped = None
    if edge is not None and edge > hi:
        if edge - lo > (hi - lo) * EDGE_HEADROOM and hi > lo:
            clipped, hi = edge, lo + (hi - lo) * EDGE_HEADROOM
        else:
            hi = edge
    if hi <= lo:
        hi = lo + 1.0
    margin = (hi - lo) * 0.04
    return (lo - margin if zoomed else lo), hi + margin, clipped


def _ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Round tick values (1, 2 or 5 times a power of ten) and short labels (12k, 1.5M)."""
    span = hi - lo
    if span <= 0:
        return [lo], [_short(lo)]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    values = [first + i * step for i in range(int((hi - first) / step) + 1)]
    return values, [_short(v) for v in values]


def _short(v: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.4g}{suffix}"
    return f"{v:.4g}"


def _steps(s: Series) -> tuple[array[float], array[float]]:
    """A value that holds until the next: each point repeated at the next one's x."""
    xs, ys = array("d"), array("d")
    prev = None
    for x, y in zip(s.xs, s.ys, strict=True):
        if prev is not None:
            xs.append(x)
            ys.append(prev)
        xs.append(x)
        ys.append(y)
        prev = y
    return xs, ys


def plot_text(
    graph: Graph,
    timeline: Timeline,
    cat: Catalog,
    width: int,
    height: int,
    marker_row: int | None = None,
    view: tuple[float, float] | None = None,
) -> tuple[str, PlotArea]:
    """The graph as the terminal shows it (ANSI colours), `width` x `height` cells with its
    title on top, and what was drawn."""
    fig = PlotextFigure()
    area = draw(fig, graph, cat, width=width, marker_row=marker_row,
                title=graph_title(graph, timeline, cat), view=view)  # fmt: skip
    fig.plotsize(width, height)
    fig._set_size(width, height)  # as textual-plotext does: plotsize alone is capped at 80x24
    fig.theme("clear")  # no background of its own: the terminal's (or the SVG's) shows
    return str(fig.build()), area
