"""The graphs of what the acknowledgements tell: the round-trip time of each acknowledged
segment, and the bytes in flight with the throughput beside them.

Both come from tshark's walk of the unacknowledged segments (`graphs_acks`), one pass over
the connection's packets; the throughput is the payload each way over a moving window of
1/`THROUGHPUT_WINDOWS` of the connection's duration, from running sums and bisection, in
C-level passes (`map` over `bisect_left` and `operator`), not a Python loop per segment.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from itertools import accumulate, compress, repeat
from operator import getitem, sub, truediv
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

THROUGHPUT_WINDOWS = 40
"""Throughput is averaged over 1/40 of the connection's duration: short enough to show a
stall, long enough to smooth single segments."""


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
    """Each direction's payload bytes per second over the moving window that ends with each
    of its data segments (none where the connection's data spans no time)."""
    out = [Series("throughput", d, Style.STEPS, axis="right") for d in (C2S, S2C)]
    times = _only(cols.time, data)
    window = (times[-1] - times[0]) / THROUGHPUT_WINDOWS if times else 0.0
    if window <= 0:
        return out
    for d, series in zip((C2S, S2C), out, strict=True):
        mine = both(data, dir_mask(cols.dir, d))
        ts = _only(cols.time, mine)
        sums = array("q", [0, *accumulate(compress(cols.length, mine))])
        starts = list(map(bisect_left, repeat(ts), map(sub, ts, repeat(window))))
        got = map(sub, sums[1:], map(getitem, repeat(sums), starts))
        elapsed = map(max, map(sub, ts, map(getitem, repeat(ts), starts)), repeat(window))
        series.ys = array("d", map(truediv, got, elapsed))
        series.xs = _only(xs, mine)
        series.rows = _only(cols.rows, mine)
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
        per_dir = [iter(s.ys) for s in rates]
        rate = array("d", [next(per_dir[d], math.nan) for d in _only(cols.dir, data)])
        graph.table = Table([
            Column("frame", _only(cols.frame, data)), Column("time", at, offset=t0),
            Column("epoch", at), Column("dir", _only(cols.dir, data), labels=DIR_NAMES),
            Column("len", _only(cols.length, data)),
            Column("bytes_in_flight", _only(flight, data), missing=NONE),
            Column("throughput", rate, missing=math.nan),
        ])  # fmt: skip
    return graph
