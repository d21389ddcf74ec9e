"""A graph's exports: its data as CSV, and the picture as SVG (the terminal's drawing, with its
legend and notes under it), for the TUI's export key and `handshake-viz graph`.

The SVG is the plot the terminal shows, recorded by Rich as the app's screenshots are, so the
file and the screen never disagree.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console
from rich.style import Style as RichStyle
from rich.text import Text

from handshake_viz.model.graphs_series import Graph
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.graph_plot import legend, note_lines, plot_text
from handshake_viz.words.catalog import Catalog

SVG_SIZE = (120, 34)
"""Cells of the exported picture (a wide terminal's)."""


def graph_csv(graph: Graph) -> str:
    """The table behind the graph: a header line, then one line per packet it uses.

    Times and RTTs are printed to the microsecond (what the timeline's float times hold),
    other numbers as they are; an empty cell is a value the packet has not.
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(graph.table.header)
    names = graph.table.header
    for row in graph.table.rows():
        w.writerow([_cell(name, v) for name, v in zip(names, row, strict=True)])
    return out.getvalue()


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if name in ("time", "epoch", "ack_rtt"):
            return f"{value:.6f}"
        return f"{value:.3f}"
    return value


def legend_text(graph: Graph, cat: Catalog) -> Text:
    """The legend as one line of coloured markers and labels (wrapped by whoever shows it)."""
    text = Text()
    for marker, rgb, label in legend(graph, cat):
        if text:
            text.append("   ")
        text.append(f"{marker} ", style=RichStyle(color=f"rgb{rgb}", bold=True))
        text.append(label)
    return text


def graph_svg(
    graph: Graph,
    timeline: Timeline,
    cat: Catalog,
    size: tuple[int, int] = SVG_SIZE,
    marker_row: int | None = None,
    view: tuple[float, float] | None = None,
) -> str:
    """The graph as an SVG picture of the terminal drawing, legend and notes below (`view`:
    the span of time shown, see `graph_plot.draw`)."""
    width, height = size
    plot, area = plot_text(graph, timeline, cat, width, height, marker_row, view)
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor",
                      force_terminal=True, legacy_windows=False)  # fmt: skip
    console.print(Text.from_ansi(plot), soft_wrap=False, crop=True)
    console.print(legend_text(graph, cat))
    for line in note_lines([*graph.notes, *area.notes], cat):
        console.print(Text(f"· {line}", style="italic"))
    return console.export_svg(title="handshake-viz")
