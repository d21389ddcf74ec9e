"""The graphs of what the acknowledgements tell: the round-trip time of each acknowledged
segment, and the bytes in flight with the throughput beside them.

Both come from tshark's walk of the unacknowledged segments (`graphs_acks`), one pass over
the connection's packets; the throughput is the payload each way in each of
`THROUGHPUT_SLICES` slices of the time it carried data.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from itertools import accumulate, compress
from typing import Any

from handshake_viz.model.graphs_acks import AckFigures, analyse_acks
from handshake_viz.model.graphs_columns import StreamColumns, both, dir_mask, mask, picked
from handshake_viz.model.graphs_frames import FrameReader, ackless_acks
from handshake_viz.model.graphs_series import (
    DIR_NAMES,
    Column,
    Graph,
    GraphKind,
    Note,
    Series,
    Style,
    Table,
)
from handshake_viz.model.rows import C2S, NONE, S2C
from handshake_viz.model.timeline import Timeline

THROUGHPUT_SLICES = 100
"""Throughput is measured over 1/100 of the time the connection carried data: short enough
to show a stall, long enough to smooth single segments."""


def _acks(cols: StreamColumns, reader: FrameReader | None) -> AckFigures:
    ackless = {} if reader is None else ackless_acks(reader, cols.rows, cols.dir, cols.flags,
                                                     cols.seq)  # fmt: skip
    return analyse_acks(cols.dir, cols.flags, cols.seq, cols.ack, cols.length, cols.time,
                        cols.frame, cols.analysis, ackless)  # fmt: skip


def _only(values: array[Any], keep: bytes) -> array[Any]:
    return array(values.typecode, compress(values, keep))


def rtt_graph(cols: StreamColumns, xs: array[float], t0: float, reader: FrameReader | None,
              with_table: bool) -> Graph:  # fmt: skip
    """One point per acknowledging packet: the RTT of the other end's data, in ms, at the
    time the acknowledgement was captured."""
    fig = _acks(cols, reader)
    has = numbers(fig.ack_rtt)
    ms = array("d", map((1000.0).__mul__, fig.ack_rtt))
    series = []
    for d in (C2S, S2C):  # the other end's acknowledgements time d's data
        sel = both(has, dir_mask(cols.dir, 1 - d))
        series.append(picked(cols, xs, ms, sel, Series("rtt", d, Style.POINTS)))
    graph = Graph(GraphKind.RTT, -1, t0, series, Table([]))
    if with_table:
        times = _only(cols.time, has)
        graph.table = Table([
            Column("frame", _only(cols.frame, has)), Column("time", times, offset=t0),
            Column("epoch", times), Column("dir", _only(cols.dir, has), labels=DIR_NAMES),
            Column("ack", _only(cols.ack, has), missing=NONE),
            Column("ack_rtt", _only(fig.ack_rtt, has)),
            Column("acked_frame", _only(fig.acked_frame, has)),
        ])  # fmt: skip
    return graph


def numbers(values: array[float]) -> bytes:
    """1 where the value is not NaN (NaN is the one float unequal to itself), C-level."""
    return bytes(map(float.__eq__, values, values))


def throughput(cols: StreamColumns, xs: array[float], data: bytes) -> list[Series]:
    """Each direction's payload bytes per second in each of `THROUGHPUT_SLICES` equal slices
    of time, from the first data segment to the last: one point a slice, at its end, on the
    last segment sent in it (a slice with none, a stall, is 0 on its predecessor's).

    Running sums and bisection on the slices' edges: a few hundred C-level searches, not a
    Python step per segment.
    """
    out = [Series("throughput", d, Style.STEPS, axis="right") for d in (C2S, S2C)]
    times = _only(cols.time, data)
    if len(times) < 2 or times[-1] <= times[0]:
        return out
    t0, t1 = times[0], times[-1]
    width = (t1 - t0) / THROUGHPUT_SLICES
    edges = [t0 + k * width for k in range(THROUGHPUT_SLICES)] + [math.inf]
    x0 = t0 - cols.time[0]  # the first data segment's x
    for d, series in zip((C2S, S2C), out, strict=True):
        mine = both(data, dir_mask(cols.dir, d))
        ts = _only(cols.time, mine)
        if not ts:
            continue
        rows = _only(cols.rows, mine)
        sums = array("q", [0, *accumulate(compress(cols.length, mine))])
        starts = [bisect_left(ts, e) for e in edges]
        for k in range(THROUGHPUT_SLICES):
            a, b = starts[k], starts[k + 1]
            if b == 0:
                continue  # before this direction's first segment
            series.add(x0 + (k + 1) * width, (sums[b] - sums[a]) / width, rows[b - 1])
    return out


def _rate_of_each(cols: StreamColumns, data: bytes, rates: list[Series]) -> array[float]:
    """The throughput of each data segment's slice (the table's column), NaN where none."""
    out = array("d")
    xs0 = cols.time[0]
    per_dir = [(s.xs, s.ys) for s in rates]
    for t, d in zip(_only(cols.time, data), _only(cols.dir, data), strict=True):
        sx, sy = per_dir[d]
        k = bisect_left(sx, t - xs0)
        out.append(sy[k] if k < len(sy) else math.nan)
    return out


def inflight_graph(cols: StreamColumns, xs: array[float], t0: float, timeline: Timeline,
                   reader: FrameReader | None, with_table: bool) -> Graph:  # fmt: skip
    """Bytes in flight after each data segment (tshark's), and each direction's throughput
    (bytes per second) at each of its data segments."""
    fig = _acks(cols, reader)
    data = mask(cols.length)
    rates = throughput(cols, xs, data)
    flight = fig.in_flight
    counted = mask(flight, NONE.__lt__)
    series = []
    for d in (C2S, S2C):
        sel = both(counted, dir_mask(cols.dir, d))
        series.append(picked(cols, xs, flight, sel, Series("in_flight", d, Style.STEPS)))
    series.extend(rates)
    notes = []
    options = timeline.options
    if any(options.get(r, {}).get("sack_perm") for r in cols.rows[:8]):
        notes.append(Note("graph.note.sack_not_subtracted"))
    graph = Graph(GraphKind.INFLIGHT, -1, t0, series, Table([]), notes)
    if with_table:
        at = _only(cols.time, data)
        rate = _rate_of_each(cols, data, rates)
        graph.table = Table([
            Column("frame", _only(cols.frame, data)), Column("time", at, offset=t0),
            Column("epoch", at), Column("dir", _only(cols.dir, data), labels=DIR_NAMES),
            Column("len", _only(cols.length, data)),
            Column("bytes_in_flight", _only(flight, data), missing=NONE),
            Column("throughput", rate, missing=math.nan),
        ])  # fmt: skip
    return graph
