"""What a graph of one connection is made of, without any drawing: series of points, notes
that qualify them, and the table behind them (the CSV export).

A series keeps, beside each point, the timeline row it comes from: that is how a point chosen
on the graph selects its packet on the ladder, and how the ladder's cursor finds its point.
Series can be thinned for drawing (`Series.thinned`): a terminal shows a few hundred columns,
and a plotting library asked to draw a million points takes seconds.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class GraphKind(StrEnum):
    """The graphs of a connection (the names `handshake-viz graph --kind` takes)."""

    TSG = "tsg"
    """Time-sequence (Stevens, with tcptrace's ACK line and window edge)."""
    RTT = "rtt"
    """Round-trip time of each acknowledged segment (tshark's tcp.analysis.ack_rtt)."""
    INFLIGHT = "inflight"
    """Bytes in flight (tshark's tcp.analysis.bytes_in_flight) and throughput."""
    WINDOW = "window"
    """The receive window each end advertises, zero windows marked."""


DIR_NAMES = ("c2s", "s2c")
"""The tables' names of the two directions (as the JSONL's ``dir``), by `rows.C2S`/`S2C`."""


class Style(StrEnum):
    """How a series is drawn."""

    POINTS = "points"
    """One dot per packet (segments, RTT samples)."""
    STEPS = "steps"
    """A value that holds until the next one (the ACK line, the window edge, a window)."""
    MARKS = "marks"
    """Packets singled out (retransmissions, zero windows): drawn over the rest, in a colour
    of their own."""


@dataclass(slots=True)
class Series:
    """One line or cloud of points of a graph, in one direction of the connection.

    `xs`, `ys` and `rows` have the same length: point i is at (xs[i], ys[i]) and comes from
    timeline row rows[i]. `xs` never decreases (rows are in capture order).
    """

    key: str
    """What it shows, as the catalogs name it: ``data``, ``retransmission``, ``ack``,
    ``window_edge``, ``rtt``, ``in_flight``, ``throughput``, ``window``, ``zero_window``..."""
    dir: int
    """The direction whose data it is about, `rows.C2S` (client to server) or `rows.S2C`:
    the ACK line and window edge of the client's data come from the server's packets."""
    style: Style
    xs: array[float] = field(default_factory=lambda: array("d"))
    """Seconds since the connection's first packet."""
    ys: array[float] = field(default_factory=lambda: array("d"))
    rows: array[int] = field(default_factory=lambda: array("i"))
    axis: str = "left"
    """The y axis it is read on: "left", or "right" for a second unit (throughput)."""

    def __len__(self) -> int:
        return len(self.xs)

    def add(self, x: float, y: float, row: int) -> None:
        self.xs.append(x)
        self.ys.append(y)
        self.rows.append(row)

    def thinned(self, buckets: int, x0: float, x1: float) -> Series:
        """At most about 2 x `buckets` points over [x0, x1], keeping each bucket's lowest and
        highest point (so spikes and gaps survive) and the first and last point.

        Steps keep the last point of each bucket too, so a line drawn through them still
        ends each bucket at the right level. Buckets are found by bisection on `xs` and
        reduced with `min`/`max` on slices, so a million points cost a few milliseconds.
        """
        lo, hi = bisect_left(self.xs, x0), bisect_right(self.xs, x1)
        n = hi - lo
        if n <= 2 * buckets or buckets <= 0:
            return self._slice(lo, hi)
        keep: set[int] = {lo, hi - 1}
        xs, ys = self.xs, self.ys
        step = (x1 - x0) / buckets if x1 > x0 else 0.0
        start = lo
        for b in range(1, buckets + 1):
            stop = hi if b == buckets or step == 0 else bisect_left(xs, x0 + b * step, start, hi)
            if stop > start:
                part = ys[start:stop]
                keep.add(start + part.index(min(part)))
                keep.add(start + part.index(max(part)))
                if self.style is Style.STEPS:
                    keep.add(stop - 1)
            start = stop
        out = Series(self.key, self.dir, self.style, axis=self.axis)
        for i in sorted(keep):
            out.add(xs[i], ys[i], self.rows[i])
        return out

    def _slice(self, lo: int, hi: int) -> Series:
        return Series(self.key, self.dir, self.style, self.xs[lo:hi], self.ys[lo:hi],
                      self.rows[lo:hi], self.axis)  # fmt: skip

    def nearest(self, x: float, y: float, x_scale: float, y_scale: float) -> tuple[float, int]:
        """(distance, index) of the point nearest to (x, y), distances measured in units of
        `x_scale` and `y_scale` (a terminal cell, say); (inf, -1) for an empty series.

        Looks only at points whose x is within the best distance found so far, starting from
        the bisection point, so it stays cheap on long series.
        """
        xs, ys = self.xs, self.ys
        if not xs:
            return math.inf, -1
        best, where = math.inf, -1
        mid = bisect_left(xs, x)
        for direction in (range(mid, len(xs)), range(mid - 1, -1, -1)):
            for i in direction:
                dx = (xs[i] - x) / x_scale
                if abs(dx) > best:
                    break
                d = math.hypot(dx, (ys[i] - y) / y_scale)
                if d < best:
                    best, where = d, i
        return best, where


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader must know to read a graph right, as a catalog key and values
    (``graph.note.wscale_unknown``, ...): the model names it, the view words it."""

    key: str
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(slots=True)
class Column:
    """One column of a graph's table: values shared with the computation (arrays of a
    million rows are never copied into tuples), and how to read them."""

    name: str
    values: Sequence[Any]
    missing: Any = None
    """The value that stands for "none" in `values` (-1, NaN), shown as an empty cell."""
    labels: tuple[str, ...] | None = None
    """Names of the codes in `values` (a direction, a mark); code 0 of a mark is none."""
    offset: float = 0.0
    """Subtracted from each value (seconds since the connection's first packet)."""

    def cell(self, v: Any) -> Any:
        m = self.missing
        if m is not None and (v == m or (isinstance(m, float) and math.isnan(m) and v != v)):
            return None
        if self.labels is not None:
            return self.labels[v] or None
        return v - self.offset if self.offset else v


@dataclass(slots=True)
class Table:
    """The data behind a graph, one row per packet it uses (the CSV export), as columns.

    Column names are a contract like the JSONL's: ``frame``, ``time`` (seconds since the
    connection's first packet, as plotted), ``epoch``, then each kind's own.
    """

    columns: list[Column]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Each row's cells, None where the packet has no such value."""
        cols = self.columns
        for values in zip(*(c.values for c in cols), strict=True):
            yield tuple(c.cell(v) for c, v in zip(cols, values, strict=True))


@dataclass(slots=True)
class Graph:
    """One graph of one connection: its series, what qualifies them, and its table."""

    kind: GraphKind
    sid: int
    """The connection (dense index in `Timeline.streams`)."""
    t0: float
    """Epoch time of x = 0: the connection's first packet."""
    series: list[Series]
    table: Table
    notes: list[Note] = field(default_factory=list)
    span: float = 0.0
    """Seconds from the connection's first packet to its last one graphed: every kind of
    graph of a connection shares this time axis."""

    @property
    def empty(self) -> bool:
        return not any(len(s) for s in self.series)

    def x_range(self) -> tuple[float, float]:
        """The time axis: from the connection's first packet to its last, and wider where a
        point lies outside (a capture whose clock went back)."""
        spans = [(s.xs[0], s.xs[-1]) for s in self.series if len(s)]
        lo = min([0.0, *(a for a, _ in spans)])
        return lo, max([self.span, *(b for _, b in spans)])

    def nearest_row(
        self, x: float, y: float, x_scale: float, y_scale: float, right_scale: float = 1.0
    ) -> int | None:
        """The timeline row of the point nearest to (x, y) in the left axis's units (a point
        on the right axis is compared in its own scale), None if the graph is empty."""
        best, row = math.inf, None
        for s in self.series:
            scale = right_scale if s.axis == "right" else y_scale
            d, i = s.nearest(x, y, x_scale, scale)
            if d < best:
                best, row = d, s.rows[i]
        return row

    def points_of(self, row: int) -> list[tuple[Series, int]]:
        """Every point that comes from timeline row `row` (the ladder's cursor)."""
        out = []
        for s in self.series:
            rows = s.rows
            # Rows grow with x: bisect on rows themselves (they are ascending too).
            i = bisect_left(rows, row)
            while i < len(rows) and rows[i] == row:
                out.append((s, i))
                i += 1
        return out
