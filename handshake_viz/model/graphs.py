"""TCP's graphs of one connection, computed from the timeline's columns (no UI, no drawing).

- time-sequence (Stevens): each segment's relative sequence number over time, both ways;
  retransmissions, out-of-order segments and segments after a gap (a lost segment) apart;
  with tcptrace's ACK line and receive-window edge (the other end's ack, and ack + window);
- round-trip time of each acknowledged segment, by tshark's rule (`graphs_acks`);
- bytes in flight (tshark's) and throughput (payload bytes over a moving window);
- the receive window each end advertises, scaled as tshark scales it (`graphs_window`),
  zero windows marked.

`build_graph` gathers the connection's rows once (slices of the columns where its rows are
contiguous, as in a capture of one transfer) and computes only the kind asked for, column by
column (comprehensions and `itertools.compress`, not a Python loop per packet and series), so
a connection of a million packets is drawn in about a second.
"""

from __future__ import annotations

from array import array
from itertools import compress
from operator import add

from handshake_viz.core.events import FIN, RST, SYN
from handshake_viz.core.source import FrameSource
from handshake_viz.model.graphs_columns import (
    StreamColumns,
    both,
    dir_mask,
    either,
    flag_mask,
    mask,
    picked,
    stream_columns,
    without,
)
from handshake_viz.model.graphs_frames import FrameReader
from handshake_viz.model.graphs_rates import inflight_graph, rtt_graph
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
from handshake_viz.model.graphs_window import NO_SCALING, scaled_windows
from handshake_viz.model.rows import ANALYSIS_NAMES, C2S, NONE, S2C
from handshake_viz.model.timeline import Timeline

SIDES = ("client", "server")
"""The sender of each direction."""


def _bits(*names: str) -> int:
    return sum(1 << ANALYSIS_NAMES.index(n) for n in names)


MARKS: tuple[tuple[str, int], ...] = (
    ("retransmission", _bits("retransmission", "fast_retransmission", "spurious_retransmission")),
    ("out_of_order", _bits("out_of_order")),
    ("lost", _bits("previous_segment_not_captured")),
)
"""The time-sequence graph's marked segments, by priority: a retransmitted segment that also
follows a gap is a retransmission. ``lost`` is the segment after a gap in the sequence (the
lost one itself was never captured), tshark's "previous segment not captured"."""
MARK_NAMES = ("", *(name for name, _ in MARKS))
"""Mark codes (the table's ``mark`` column): 0 none, then `MARKS` in order."""
ZERO_WINDOW = _bits("zero_window")


class GraphError(ValueError):
    """A graph that cannot be drawn: a UDP stream, an unknown kind (one line, the fix)."""


def build_graph(
    timeline: Timeline,
    sid: int,
    kind: GraphKind | str,
    *,
    upto: int | None = None,
    frames: FrameSource | None = None,
    table: bool = True,
) -> Graph:
    """The graph `kind` of connection `sid`, from its rows below `upto`.

    Args:
        frames: the capture, where it can be re-read: the few packets whose fields the
            timeline does not keep (a SYN's options past the ones it keeps, the ack field of
            a packet without the ACK flag) come from there; without it they are unknown,
            and the graph says so where it matters (`graphs_frames`).
        table: build the table behind the graph (the CSV); a view that only draws leaves it
            empty and builds the graph again to export it (the table holds the connection's
            columns: 60 bytes a packet).

    Raises:
        GraphError: the connection is not TCP, or `kind` is not a graph.
    """
    try:
        kind = GraphKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in GraphKind)
        raise GraphError(f"no graph {kind!r}: choose one of {names}") from None
    info = timeline.streams[sid]
    if info.proto != "tcp":
        raise GraphError(f"udp stream {info.stream} has no TCP graphs: choose a TCP stream")
    cols = stream_columns(timeline, sid, upto)
    reader = None if frames is None else FrameReader(timeline, frames)
    t0 = cols.time[0] if len(cols) else 0.0
    xs = array("d", map(t0.__rsub__, cols.time))
    if kind is GraphKind.TSG:
        graph = _tsg(cols, xs, t0, timeline, reader, table)
    elif kind is GraphKind.WINDOW:
        graph = _window(cols, xs, t0, timeline, reader, table)
    elif kind is GraphKind.RTT:
        graph = rtt_graph(cols, xs, t0, reader, table)
    else:
        graph = inflight_graph(cols, xs, t0, timeline, reader, table)
    graph.sid = sid
    graph.span = xs[-1] if xs else 0.0
    return graph


def _scale_notes(cols: StreamColumns, shifts: list[int], unknown: bool) -> list[Note]:
    notes = [Note(f"graph.note.wscale_unknown_{SIDES[d]}") for d in (C2S, S2C)
             if shifts[d] == -1 and d in cols.dir]  # fmt: skip
    if unknown:
        notes.append(Note("graph.note.wscale_not_kept"))
    if shifts == [NO_SCALING, NO_SCALING]:
        notes.append(Note("graph.note.no_scaling"))
    return notes


def _marks(cols: StreamColumns, carries: bytes) -> bytearray:
    """Each row's mark code (0 none, then `MARKS` in order), for segments only. Marked rows
    are few: only they are looked at one by one."""
    codes = bytearray(len(cols))
    any_mark = sum(m for _, m in MARKS)
    analysis = cols.analysis
    for i in compress(range(len(cols)), carries):
        a = analysis[i]
        if a & any_mark:
            codes[i] = next(k for k, (_, m) in enumerate(MARKS, 1) if a & m)
    return codes


def _tsg(cols: StreamColumns, xs: array[float], t0: float, timeline: Timeline,
         reader: FrameReader | None, with_table: bool) -> Graph:  # fmt: skip
    win, _, shifts, unknown = scaled_windows(cols, timeline, reader)
    flags, dirs, acks = cols.flags, cols.dir, cols.ack
    carries = either(mask(cols.length), flag_mask(flags, SYN | FIN))
    marks = bytes(_marks(cols, both(carries, mask(cols.analysis))))
    marked = mask(marks)
    plain = without(carries, marked)
    acking = without(mask(acks, NONE.__lt__), flag_mask(flags, RST))
    edges = array("q", map(add, acks, win))
    series: list[Series] = []
    for d in (C2S, S2C):
        mine = dir_mask(dirs, d)
        # The ACK line and window edge of d's data come from the other end's packets.
        theirs = without(acking, mine)
        edge = picked(cols, xs, edges, theirs, Series("window_edge", d, Style.STEPS))
        line = Series("ack", d, Style.STEPS, edge.xs, array("d", compress(acks, theirs)),
                      edge.rows)  # the same packets: their x and rows are shared  # fmt: skip
        series += (edge, line)
        data = both(plain, mine)
        series.append(picked(cols, xs, cols.seq, data, Series("data", d, Style.POINTS)))
        for code, (name, _) in enumerate(MARKS, 1):
            sel = both(marks.translate(_CODE[code]), mine)
            series.append(picked(cols, xs, cols.seq, sel, Series(name, d, Style.MARKS)))
    notes = _scale_notes(cols, shifts, unknown)
    graph = Graph(GraphKind.TSG, -1, t0, series, Table([]), notes)
    if with_table:
        sf = flag_mask(flags, SYN | FIN)
        next_seq = array("q", map(_end, cols.seq, cols.length, sf))
        graph.table = Table([
            Column("frame", cols.frame), Column("time", cols.time, offset=t0),
            Column("epoch", cols.time), Column("dir", dirs, labels=DIR_NAMES),
            Column("seq", cols.seq), Column("len", cols.length), Column("next_seq", next_seq),
            Column("ack", acks, missing=NONE), Column("window", win),
            Column("window_edge", array("q", map(_edge, acks, edges)), missing=NONE),
            Column("mark", marks, labels=MARK_NAMES),
        ])  # fmt: skip
    return graph


_CODE = [bytes(1 if b == code else 0 for b in range(256)) for code in range(len(MARK_NAMES))]
"""Translation tables: a mark code's rows as a mask."""


def _end(seq: int, length: int, syn_fin: int) -> int:
    return (seq + length + syn_fin) & 0xFFFFFFFF


def _edge(ack: int, edge: int) -> int:
    return NONE if ack < 0 else edge


def _window(cols: StreamColumns, xs: array[float], t0: float, timeline: Timeline,
            reader: FrameReader | None, with_table: bool) -> Graph:  # fmt: skip
    win, shift_of_row, shifts, unknown = scaled_windows(cols, timeline, reader)
    zero = mask(cols.analysis, ZERO_WINDOW.__and__)
    series = []
    for d in (C2S, S2C):
        series.append(picked(cols, xs, win, dir_mask(cols.dir, d),
                             Series("window", d, Style.STEPS)))  # fmt: skip
    for d in (C2S, S2C):
        series.append(picked(cols, xs, win, both(zero, dir_mask(cols.dir, d)),
                             Series("zero_window", d, Style.MARKS)))  # fmt: skip
    notes = _scale_notes(cols, shifts, unknown)
    graph = Graph(GraphKind.WINDOW, -1, t0, series, Table([]), notes)
    if with_table:
        graph.table = Table([
            Column("frame", cols.frame), Column("time", cols.time, offset=t0),
            Column("epoch", cols.time), Column("dir", cols.dir, labels=DIR_NAMES),
            Column("window_field", cols.window), Column("scale", shift_of_row, missing=-1),
            Column("window", win), Column("zero_window", zero),
        ])  # fmt: skip
    return graph


def largest_tcp_stream(timeline: Timeline) -> int | None:
    """The sid of the TCP connection with the most packets (the graph to open on)."""
    best, sid = -1, None
    for info in timeline.streams:
        if info.proto == "tcp" and info.packets > best:
            best, sid = info.packets, info.sid
    return sid
