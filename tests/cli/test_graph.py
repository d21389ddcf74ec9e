"""``handshake-viz graph`` as a user runs it: each kind as SVG and CSV for a capture with
retransmissions, and one line on stderr for each way it can go wrong."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from handshake_viz.model.graphs_series import GraphKind
from tests.helpers.graphs import LOOPBACK, LOSS_STREAM, read_graph_oracle
from tests.helpers.live import cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

HEADERS = {
    "tsg": ["frame", "time", "epoch", "dir", "seq", "len", "next_seq", "ack", "window",
            "window_edge", "mark"],
    "rtt": ["frame", "time", "epoch", "dir", "ack", "ack_rtt", "acked_frame"],
    "inflight": ["frame", "time", "epoch", "dir", "len", "bytes_in_flight", "throughput"],
    "window": ["frame", "time", "epoch", "dir", "window_field", "scale", "window",
               "zero_window"],
}  # fmt: skip


def graph(*args: str) -> tuple[int, str]:
    r = cli("graph", str(LOOPBACK), *args)
    return r.returncode, r.stderr


@pytest.mark.parametrize("kind", [k.value for k in GraphKind])
def test_each_kind_as_svg_and_csv(kind: str, tmp_path: Path) -> None:
    for suffix in ("svg", "csv"):
        out = tmp_path / f"{kind}.{suffix}"
        code, err = graph("--stream", str(LOSS_STREAM), "--kind", kind, "--output", str(out))
        assert code == 0, err
        assert err.count("\n") == 1 and f"tcp stream {LOSS_STREAM}, {kind}" in err
    svg = (tmp_path / f"{kind}.svg").read_text()
    assert svg.startswith("<svg") and "tcp stream 3" in svg.replace("&#160;", " ")
    with open(tmp_path / f"{kind}.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == HEADERS[kind] and len(rows) > 100


def test_the_rtt_csv_is_tsharks_ack_rtt(tmp_path: Path) -> None:
    out = tmp_path / "rtt.csv"
    assert graph("--stream", str(LOSS_STREAM), "--kind", "rtt", "--output", str(out))[0] == 0
    with open(out, newline="") as f:
        got = {int(r["frame"]): float(r["ack_rtt"]) for r in csv.DictReader(f)}
    want = {int(r["frame.number"]): float(r["tcp.analysis.ack_rtt"])
            for r in read_graph_oracle(LOOPBACK)
            if r["tcp.analysis.ack_rtt"] and r["tcp.stream"] == str(LOSS_STREAM)}  # fmt: skip
    assert got.keys() == want.keys()
    assert all(abs(got[f] - want[f]) < 5e-7 for f in got)


def test_the_retransmissions_are_in_the_time_sequence_csv(tmp_path: Path) -> None:
    out = tmp_path / "tsg.csv"
    assert graph("--stream", str(LOSS_STREAM), "--output", str(out))[0] == 0
    with open(out, newline="") as f:
        marks = [r["mark"] for r in csv.DictReader(f)]
    assert marks.count("retransmission") >= 5


def test_without_stream_the_largest_connection(tmp_path: Path) -> None:
    code, err = graph("--output", str(tmp_path / "g.csv"))
    assert code == 0 and f"tcp stream {LOSS_STREAM}, tsg" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--stream", "42", "--output", "x.csv"], "has no TCP stream 42 (its TCP streams are "
         "0 to 3): choose one with --stream"),
        (["--kind", "pie", "--output", "x.csv"], "no graph kind 'pie': choose --kind tsg, rtt, "
         "inflight or window"),
        (["--output", "/proc/no/such/graph.svg"], "cannot write /proc/no/such/graph.svg: "),
        (["--output", "graph.png"], "end it in .svg (the picture) or .csv (its data)"),
        ([], "say where to write the graph: --output PATH"),
        (["--output", "x.svg", "--width", "10"], "--width and --height must be at least"),
    ],
    ids=["missing-stream", "bad-kind", "unwritable", "suffix", "no-output", "too-small"],
)  # fmt: skip
def test_one_line_errors(args: list[str], says: str, tmp_path: Path) -> None:
    code, err = graph(*args)
    assert code == 2
    assert err.startswith("handshake-viz: ") and err.count("\n") == 1
    assert says in err
    assert "Traceback" not in err


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    r = cli("graph", str(tmp_path / "nope.pcap"), "--output", str(tmp_path / "g.svg"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file" in r.stderr
    assert not (tmp_path / "g.svg").exists()
