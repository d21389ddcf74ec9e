"""TCP's graphs of one connection, from the model alone, checked against tshark's reading of
the same captures (committed oracles; tests/data/graphs/)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from handshake_viz.core.events import SYN
from handshake_viz.model.graphs import GraphError, build_graph, largest_tcp_stream
from handshake_viz.model.graphs_series import GraphKind, Series, Style
from handshake_viz.render.graph_export import graph_csv
from tests.helpers.graphs import (
    FAST009,
    LOOPBACK,
    LOSS_STREAM,
    SYN_RETRANSMISSION_STREAM,
    SYN_RETRIES,
    ZERO_WINDOW_STREAM,
    load,
    oracle_captures,
    oracle_path,
    read_graph_oracle,
)

CAPTURES = oracle_captures()


def tables(capture: Path, kind: str) -> dict[int, dict[str, object]]:
    """Every TCP stream's table of graph `kind`, by frame."""
    timeline, source = load(capture)
    out: dict[int, dict[str, object]] = {}
    for info in timeline.streams:
        if info.proto != "tcp":
            continue
        graph = build_graph(timeline, info.sid, kind, frames=source)
        header = graph.table.header
        for row in graph.table.rows():
            out[row[0]] = dict(zip(header, row, strict=True))
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_ack_rtt_is_tsharks(capture: Path) -> None:
    """One row per acknowledging packet, with tshark's tcp.analysis.ack_rtt and acks_frame
    (to the microsecond the capture's times hold)."""
    want = {int(r["frame.number"]): r for r in read_graph_oracle(capture)
            if r["tcp.analysis.ack_rtt"]}  # fmt: skip
    got = tables(capture, "rtt")
    assert sorted(got) == sorted(want)
    for frame, row in got.items():
        assert row["ack_rtt"] == pytest.approx(float(want[frame]["tcp.analysis.ack_rtt"]),
                                               abs=5e-7), frame  # fmt: skip
        assert row["acked_frame"] == int(want[frame]["tcp.analysis.acks_frame"])


def test_the_loopback_capture_has_hundreds_of_rtts() -> None:
    rows = tables(LOOPBACK, "rtt")
    assert len(rows) > 300  # every data segment of the transfers, retransmissions included


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_window_is_tsharks_scaled_window(capture: Path) -> None:
    want = {int(r["frame.number"]): int(r["tcp.window_size"])
            for r in read_graph_oracle(capture) if r["tcp.window_size"]}  # fmt: skip
    got = {f: row["window"] for f, row in tables(capture, "window").items()}
    assert got == want


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_bytes_in_flight_is_tsharks_where_nothing_was_sacked(capture: Path) -> None:
    """tshark subtracts the last SACK's blocks; the timeline keeps none, so streams that
    carried SACK blocks are left out (their graph says so)."""
    oracle = read_graph_oracle(capture)
    sacked = {r["tcp.stream"] for r in oracle if r["tcp.options.sack_le"]}
    want = {int(r["frame.number"]): int(r["tcp.analysis.bytes_in_flight"]) for r in oracle
            if r["tcp.analysis.bytes_in_flight"] and r["tcp.stream"] not in sacked}  # fmt: skip
    streams = {int(r["frame.number"]): r["tcp.stream"] for r in oracle}
    got = {f: row["bytes_in_flight"] for f, row in tables(capture, "inflight").items()
           if row["bytes_in_flight"] is not None and streams[f] not in sacked}  # fmt: skip
    assert got == want


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle here")
@pytest.mark.parametrize("capture", [LOOPBACK, FAST009], ids=lambda p: p.name)
def test_committed_oracles_are_what_tshark_says(capture: Path) -> None:
    """The oracle files are tshark's own output, not edited by hand."""
    committed = oracle_path(capture).read_text()
    fields = committed.splitlines()[0].split("\t")
    cmd = ["tshark", "-2", "-r", str(capture), "-T", "fields", "-E", "header=y",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]  # fmt: skip
    for f in fields:
        cmd += ["-e", f]
    assert subprocess.run(cmd, capture_output=True, text=True, check=True).stdout == committed


def series(graph: object, key: str, d: int) -> Series:
    return next(s for s in graph.series if s.key == key and s.dir == d)  # type: ignore[attr-defined]


def test_time_sequence_marks_retransmissions_apart() -> None:
    timeline, source = load(LOOPBACK)
    sid = timeline.sid_of("tcp", LOSS_STREAM)
    graph = build_graph(timeline, sid, GraphKind.TSG, frames=source)
    oracle = read_graph_oracle(LOOPBACK)
    resent = {
        int(r["frame.number"])
        for r in oracle
        if r["tcp.analysis.retransmission"] and r["tcp.stream"] == str(LOSS_STREAM)
    }
    marked = series(graph, "retransmission", 0)
    assert {timeline.frame[r] for r in marked.rows} == resent
    data = series(graph, "data", 0)
    assert not set(data.rows) & set(marked.rows)  # each segment once, in its own colour
    assert len(data) > 500
    # The ACK line of the client's data is the server's acks, the edge ack + window above it.
    acks, edge = series(graph, "ack", 0), series(graph, "window_edge", 0)
    assert len(acks) == len(edge) > 100
    assert all(e > a for a, e in zip(acks.ys, edge.ys, strict=True))
    assert list(acks.ys) == sorted(acks.ys)  # cumulative


def test_a_syn_retransmission_is_a_second_after_the_syn() -> None:
    timeline, source = load(LOOPBACK)
    sid = timeline.sid_of("tcp", SYN_RETRANSMISSION_STREAM)
    graph = build_graph(timeline, sid, GraphKind.TSG, frames=source)
    syns = [r for key in ("data", "retransmission") for r in series(graph, key, 0).rows
            if timeline.flags[r] & SYN]  # fmt: skip
    assert len(syns) == 2
    resent = series(graph, "retransmission", 0)
    assert list(resent.rows) == [max(syns)]
    gap = resent.xs[0] - series(graph, "data", 0).xs[0]
    assert 0.9 < gap < 1.3  # Linux waits one second before sending a SYN again


def test_unanswered_syns_make_a_graph_of_points_without_acks() -> None:
    timeline, source = load(SYN_RETRIES)
    graph = build_graph(timeline, 0, GraphKind.TSG, frames=source)
    assert len(series(graph, "data", 0)) == 1 and len(series(graph, "retransmission", 0)) == 3
    assert not len(series(graph, "ack", 0))
    assert build_graph(timeline, 0, GraphKind.RTT).empty


def test_zero_windows_are_marked() -> None:
    timeline, source = load(LOOPBACK)
    sid = timeline.sid_of("tcp", ZERO_WINDOW_STREAM)
    graph = build_graph(timeline, sid, GraphKind.WINDOW, frames=source)
    want = {int(r["frame.number"]) for r in read_graph_oracle(LOOPBACK)
            if r["tcp.analysis.zero_window"]}  # fmt: skip
    zeros = series(graph, "zero_window", 1)  # the server's receive buffer filled up
    assert want and {timeline.frame[r] for r in zeros.rows} == want
    assert set(zeros.ys) == {0.0}
    assert max(series(graph, "window", 1).ys) > 0  # and opened again


def test_window_scale_unknown_without_the_syn_is_said() -> None:
    capture = FAST009.with_name("zeek__tcp_retransmit-timeout.pcapng")
    timeline, source = load(capture)
    graph = build_graph(timeline, 0, GraphKind.WINDOW, frames=source)
    assert {n.key for n in graph.notes} == {"graph.note.wscale_unknown_client",
                                            "graph.note.wscale_unknown_server"}  # fmt: skip


def test_scaling_known_from_the_syns() -> None:
    timeline, source = load(LOOPBACK)
    graph = build_graph(timeline, timeline.sid_of("tcp", LOSS_STREAM), "window")
    assert graph.notes == []  # both SYNs seen, both offered a scale
    scales = {row[5] for row in graph.table.rows()}
    assert scales == {0, 10}  # WS=1024 both ways; the SYNs' own windows are never scaled


def test_rtt_csv_has_a_header_and_a_row_per_acknowledging_packet() -> None:
    timeline, source = load(FAST009)
    text = graph_csv(build_graph(timeline, 0, "rtt", frames=source))
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["frame", "time", "epoch"]
    assert {"frame", "time", "ack_rtt"} <= set(lines[0].split(","))
    want = [r for r in read_graph_oracle(FAST009) if r["tcp.analysis.ack_rtt"]]
    assert len(lines) == 1 + len(want)


def test_the_graph_grows_with_the_rows_revealed() -> None:
    timeline, source = load(FAST009)
    some = build_graph(timeline, 0, "tsg", upto=10)
    every = build_graph(timeline, 0, "tsg")
    assert max(r for s in some.series for r in s.rows) < 10
    assert sum(map(len, some.series)) < sum(map(len, every.series))


def test_not_a_graph_or_not_tcp() -> None:
    timeline, _ = load(FAST009)
    with pytest.raises(GraphError, match="choose one of tsg, rtt, inflight, window"):
        build_graph(timeline, 0, "pie")
    udp, _ = load(FAST009.with_name("zeek__pcapng-multi-interface.pcapng"))
    assert largest_tcp_stream(udp) is None
    with pytest.raises(GraphError, match="udp stream 0 has no TCP graphs"):
        build_graph(udp, 0, "tsg")


def test_thinning_keeps_each_buckets_extremes() -> None:
    s = Series("data", 0, Style.POINTS)
    for i in range(100_000):
        s.add(i / 1000, math.sin(i / 500) * 1000 + (5000 if i == 54_321 else 0), i)
    thin = s.thinned(100, 0.0, 100.0)
    assert len(thin) <= 2 * 100 + 2
    assert max(thin.ys) == max(s.ys)  # the spike survives
    assert thin.rows[0] == 0 and thin.rows[-1] == 99_999
    assert list(thin.xs) == sorted(thin.xs)
