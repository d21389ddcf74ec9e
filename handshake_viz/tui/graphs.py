"""The graph pane: TCP's graphs of the chosen connection under the ladder, drawn with
textual-plotext (plotext in a Textual widget).

`g` (the app's key, `toggle_graphs`) mounts it under the ladder, and hides or shows it again.
It graphs the connection chosen among the connections, else the selected row's, else the
largest; and only the rows the ladder has revealed, so a replay draws its graph as it plays.
The graph is computed by the model in a thread worker (a connection of a million packets
takes a second or two there) and drawn by `render.graph_plot`, the same drawing as the SVG
export. The ladder's cursor is a marker on the graph (the pane looks at it ten times a
second); a click on the graph, or ← →, selects a point's packet on the ladder.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from handshake_viz.core.source import FrameSource
from handshake_viz.model.graphs import GraphError, build_graph, largest_tcp_stream
from handshake_viz.model.graphs_series import Graph, GraphKind
from handshake_viz.render.export import write_export
from handshake_viz.render.graph_export import graph_csv, graph_svg, legend_text
from handshake_viz.render.graph_plot import (
    PlotArea,
    draw,
    frame_box,
    graph_title,
    note_lines,
)
from handshake_viz.tui.binding_words import speak_bindings
from handshake_viz.words.catalog import Catalog, load

if TYPE_CHECKING:
    from handshake_viz.tui.app import TimelineApp

KIND_KEYS = (("t", GraphKind.TSG), ("r", GraphKind.RTT), ("i", GraphKind.INFLIGHT),
             ("w", GraphKind.WINDOW))  # fmt: skip
LOOK = 0.1
"""Seconds between two looks at the ladder's cursor, the chosen connection and the revealed
rows (the pane follows the app, it is not told)."""
REDRAW = 0.5
"""At most this often is a growing graph computed again (live capture, playback)."""


class GraphPlot(PlotextPlot):
    """textual-plotext's widget drawing a `Graph`; a click chooses the point under it."""

    class PointChosen(Message):
        """A point was clicked: select its packet (a timeline row) on the ladder."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, cat: Catalog, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cat = cat
        self.graph: Graph | None = None
        self.marker_row: int | None = None
        self.title: str | None = None
        self.view: tuple[float, float] | None = None
        """The span of time shown (a zoom), None for the whole connection."""
        self.area: PlotArea | None = None
        self._box: tuple[int, int, int, int] | None = None

    def render(self) -> Any:
        if self.graph is None:
            self.plt.clear_figure()
            self.area = None
        else:
            self.area = draw(
                self.plt, self.graph, self.cat, width=self.size.width,
                marker_row=self.marker_row, title=self.title, view=self.view,
            )  # fmt: skip
        text = super().render()
        self._box = frame_box(text.plain) if isinstance(text, Text) else None
        return text

    def on_click(self, event: events.Click) -> None:
        if self.graph is None or self.area is None or self._box is None:
            return
        x, y = self.area.value_at(event.x, event.y, self._box)
        w, h = self.area.cell_size(self._box)
        right = self._right_scale()
        row = self.graph.nearest_row(x, y, w, h, right)
        if row is not None:
            self.post_message(self.PointChosen(row))

    def _right_scale(self) -> float:
        """One cell's height on the right axis (throughput), from its series' range."""
        if self.graph is None or self._box is None:
            return 1.0
        values = [v for s in self.graph.series if s.axis == "right" for v in (min(s.ys, default=0),
                  max(s.ys, default=0))]  # fmt: skip
        if not values:
            return 1.0
        _, top, _, bottom = self._box
        return (max(values) - min(0.0, min(values))) / max(bottom - top, 1) or 1.0


class GraphReady(Message):
    """The worker computed a graph (for the key it was asked for)."""

    def __init__(self, key: tuple[Any, ...], graph: Graph | None, error: str | None) -> None:
        super().__init__()
        self.key = key
        self.graph = graph
        self.error = error


class GraphPane(Vertical, can_focus=True):
    """The graphs of one connection, with their kinds, legend and notes."""

    DEFAULT_CSS = """
    GraphPane { height: 1fr; min-height: 12; border-top: hkey $panel-lighten-2; }
    GraphPane:focus { border-top: hkey $accent; }
    GraphPane > #graph-head { height: 1; background: $panel; }
    GraphPane > #graph-plot { height: 1fr; }
    GraphPane > #graph-legend { height: auto; max-height: 2; }
    GraphPane > #graph-notes { height: auto; max-height: 2; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"kind('{kind.value}')", f"graph.key.{kind.value}", show=False)
          for key, kind in KIND_KEYS),
        Binding("right", "point(1)", "graph.key.next", show=False),
        Binding("left", "point(-1)", "graph.key.previous", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "graph.key.zoom_in", show=False),
        Binding("minus", "zoom(2)", "graph.key.zoom_out", show=False),
        Binding("0", "zoom(0)", "graph.key.whole", show=False),
        Binding("e", "export", "graph.key.export", show=False),
    ]  # fmt: skip
    """Described by catalog keys, said in the app's language (`binding_words`)."""

    def __init__(self, app: TimelineApp, *, id: str | None = "graphs") -> None:
        super().__init__(id=id)
        speak_bindings(self, app.lang)
        self.owner = app
        self.cat = load(app.lang)
        self.kind = GraphKind.TSG
        self.sid: int | None = None
        self._asked: tuple[Any, ...] | None = None
        self._shown: tuple[Any, ...] | None = None
        self._last_compute = 0.0
        self._marker: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="graph-head")
        yield GraphPlot(self.cat, id="graph-plot")
        yield Static("", id="graph-legend")
        yield Static("", id="graph-notes")

    def on_mount(self) -> None:
        self.plot = self.query_one(GraphPlot)
        self.set_interval(LOOK, self.look)
        self.look()

    # -- following the app

    def _frames(self) -> FrameSource | None:
        src = self.owner.source
        return src if isinstance(src, FrameSource) else None

    def _current_sid(self) -> int | None:
        """The chosen connection, else the selected row's (if TCP), else the largest."""
        app = self.owner
        tl = app.timeline
        chosen = app.connections.chosen
        if chosen is not None and tl.streams[chosen].proto == "tcp":
            return chosen
        row = self._selected_row()
        if row is not None:
            sid = tl.sid[row] if row not in tl.sockets else tl.socket_sid(row)
            if sid is not None and sid >= 0 and tl.streams[sid].proto == "tcp":
                return sid
        if self.sid is not None:
            return self.sid
        return largest_tcp_stream(tl)

    def _selected_row(self) -> int | None:
        app = self.owner
        index = app.ladder.selected
        if index is None or index >= app.view.visible_count:
            return None
        return app.view.row_at(index)

    def look(self) -> None:
        """Follow the ladder's cursor and the connection, and compute again if need be."""
        if not self.display:
            return
        row = self._selected_row()
        if row != self._marker:
            self._marker = row
            self.plot.marker_row = row
            self.plot.refresh()
        sid = self._current_sid()
        if sid is None:
            self._show_message(self.cat.text("graph.no_connection"))
            return
        upto = min(self.owner.view.revealed, self.owner.timeline.count)
        key = (sid, self.kind, upto)
        if key == self._asked:
            return
        now = time.monotonic()
        same_graph = self._asked is not None and self._asked[:2] == key[:2]
        if same_graph and (now - self._last_compute < REDRAW or self._asked != self._shown):
            return  # a growing graph: drawn again at most twice a second, one at a time
        self._last_compute = now
        self._asked = key
        self.sid = sid
        if self.plot.graph is None or not same_graph:
            packets = self.owner.timeline.streams[sid].packets
            self.query_one("#graph-head", Static).update(
                self.cat.text("graph.computing", packets=f"{packets:,}")
            )
        self._compute(key)

    @work(thread=True, exclusive=True, group="graph", exit_on_error=False)
    def _compute(self, key: tuple[Any, ...]) -> None:
        sid, kind, upto = key
        try:
            graph = build_graph(self.owner.timeline, sid, kind, upto=upto, frames=self._frames(),
                                table=False)  # fmt: skip
        except GraphError as exc:
            self.post_message(GraphReady(key, None, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - said in the pane, never a dead pane
            self.post_message(GraphReady(key, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(GraphReady(key, graph, None))

    @on(GraphReady)
    def _ready(self, message: GraphReady) -> None:
        if message.key != self._asked:
            return  # an older question's answer
        if message.graph is None:
            self._shown = message.key  # answered: the next question may be asked
            self._show_message(message.error or "")
            return
        if self._shown is None or self._shown[:2] != message.key[:2]:
            self.plot.view = None  # another connection or kind: the whole of it
        self._shown = message.key
        graph = message.graph
        self.plot.graph = graph
        self.plot.title = graph_title(graph, self.owner.timeline, self.cat)
        self.plot.refresh()
        self._update_texts(graph)

    def _show_message(self, text: str) -> None:
        self.plot.graph = None
        self.plot.refresh()
        self.query_one("#graph-head", Static).update(text)
        self.query_one("#graph-legend", Static).update("")
        self.query_one("#graph-notes", Static).update("")

    def _update_texts(self, graph: Graph) -> None:
        head = Text()
        for key, kind in KIND_KEYS:
            style = "bold reverse" if kind is self.kind else "dim"
            head.append(f" {key} {self.cat.text(f'graph.kind.{kind.value}')} ", style=style)
        self.query_one("#graph-head", Static).update(head)
        legend = legend_text(graph, self.cat) if not graph.empty else Text(
            self.cat.text("graph.empty"))  # fmt: skip
        self.query_one("#graph-legend", Static).update(legend)
        area = self.plot.area
        notes = [*graph.notes, *(area.notes if area else ())]
        lines = [*note_lines(notes, self.cat), self.cat.text("graph.keys")]
        self.query_one("#graph-notes", Static).update(" · ".join(lines))

    # -- choosing on the graph

    @on(GraphPlot.PointChosen)
    def _chosen(self, message: GraphPlot.PointChosen) -> None:
        self.select_row(message.row)

    def select_row(self, row: int) -> None:
        """Select timeline row `row` on the ladder (where the filter shows it)."""
        app = self.owner
        index = app.view.index_of(row)
        if index is None:
            app.notify(self.cat.text("graph.hidden"), timeout=4)
            return
        app.ladder.select(index)
        self._marker = row
        self.plot.marker_row = row
        self._keep_in_view(row)
        self.plot.refresh()

    def _marker_x(self, row: int | None) -> float | None:
        graph = self.plot.graph
        if graph is None or row is None:
            return None
        points = graph.points_of(row)
        return points[0][0].xs[points[0][1]] if points else None

    def _keep_in_view(self, row: int) -> None:
        """A zoomed graph follows a marker that leaves it (centred on it again)."""
        view, x = self.plot.view, self._marker_x(row)
        if view is None or x is None or view[0] <= x <= view[1]:
            return
        half = (view[1] - view[0]) / 2
        self.plot.view = self._clamp(x - half, x + half)

    def _clamp(self, a: float, b: float) -> tuple[float, float] | None:
        graph = self.plot.graph
        if graph is None:
            return None
        lo, hi = graph.x_range()
        width = b - a
        if width >= hi - lo:
            return None
        a = min(max(a, lo), hi - width)
        return a, a + width

    def action_zoom(self, factor: float) -> None:
        """Zoom in (factor below 1) or out around the marker, or back to the whole (0)."""
        graph = self.plot.graph
        if graph is None:
            return
        if factor == 0:
            self.plot.view = None
        else:
            lo, hi = self.plot.view or graph.x_range()
            x = self._marker_x(self._marker)
            centre = x if x is not None and lo <= x <= hi else (lo + hi) / 2
            half = (hi - lo) * factor / 2
            self.plot.view = self._clamp(centre - half, centre + half)
        self.plot.refresh()

    def action_point(self, delta: int) -> None:
        """The previous or next packet of the graph, in time (and select it)."""
        graph = self.plot.graph
        if graph is None:
            return
        rows = sorted({r for s in graph.series for r in s.rows})
        if not rows:
            return
        current = self._marker
        if current is None:
            target = rows[0] if delta > 0 else rows[-1]
        else:
            i = bisect_right(rows, current) if delta > 0 else bisect_left(rows, current) - 1
            target = rows[max(0, min(i, len(rows) - 1))]
        self.select_row(target)

    def action_kind(self, kind: str) -> None:
        self.kind = GraphKind(kind)
        self.look()

    # -- export

    def action_export(self) -> None:
        if self._shown is None or self.plot.graph is None:
            return
        self._export(self._shown)

    @work(thread=True, exclusive=True, group="graph-export", exit_on_error=False)
    def _export(self, key: tuple[Any, ...]) -> None:
        sid, kind, upto = key
        app = self.owner
        graph = build_graph(app.timeline, sid, kind, upto=upto, frames=self._frames())
        folder = app.export_dir
        try:
            svg = write_export(
                folder,
                f"-{kind.value}.svg",
                graph_svg(graph, app.timeline, self.cat, marker_row=self._marker),
            )
            csv = write_export(folder, f"-{kind.value}.csv", graph_csv(graph))  # fmt: skip
        except OSError as exc:
            text = self.cat.text("graph.error.write", path=folder, reason=exc.strerror or exc)
            self.app.call_from_thread(app.notify, text, severity="error")
            return
        text = self.cat.text("graph.exported", svg=svg.name, csv=csv.name, folder=folder)
        self.app.call_from_thread(app.notify, text)


def toggle_graphs(app: TimelineApp) -> None:
    """The app's `g`: mount the graph pane under the ladder, or hide it, or show it again."""
    found = app.query(GraphPane)
    if not found:
        pane = GraphPane(app)
        app.ladder_pane.mount(pane, after=app.ladder)
        pane.focus()
        return
    pane = found.first()
    pane.display = not pane.display
    if pane.display:
        pane.focus()
        pane.look()
    else:
        app.ladder.focus()
