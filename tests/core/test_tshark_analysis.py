"""tshark's other analysis marks and its completeness bitmask, frame by frame.

The `.analysis.tsv` files beside the public captures are `tshark -2 -T fields` output (made
with tshark 4.0.17; `test_the_analysis_oracle_is_current` remakes one with the installed tshark).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from handshake_viz.core.events import ConnectionSummary, PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import TSHARK_DATA

MARKS = {
    "tcp.analysis.duplicate_ack": "duplicate_ack",
    "tcp.analysis.fast_retransmission": "fast_retransmission",
    "tcp.analysis.spurious_retransmission": "spurious_retransmission",
    "tcp.analysis.out_of_order": "out_of_order",
    "tcp.analysis.zero_window": "zero_window",
    "tcp.analysis.keep_alive": "keep_alive",
    "tcp.analysis.keep_alive_ack": "keep_alive_ack",
    "tcp.analysis.window_update": "window_update",
    "tcp.analysis.lost_segment": "previous_segment_not_captured",
    "tcp.analysis.ack_lost_segment": "ack_lost_segment",
    "tcp.analysis.zero_window_probe": "zero_window_probe",
}
ORACLES = sorted(
    p for p in TSHARK_DATA.glob("*.analysis.tsv") if len(p.read_text().splitlines()) > 1
)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def replay(capture: Path) -> tuple[dict[int, PacketEvent], list[ConnectionSummary]]:
    evs = list(ReplaySource(capture).events())
    return (
        {e.frame: e for e in evs if isinstance(e, PacketEvent)},
        [e for e in evs if isinstance(e, ConnectionSummary) and e.proto == "tcp"],
    )


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_analysis_marks_agree_with_tshark(oracle: Path) -> None:
    capture = Path(str(oracle).removesuffix(".analysis.tsv"))
    events, _ = replay(capture)
    bad = []
    for r in rows(oracle):
        if not r["tcp.stream"]:
            continue
        ev = events[int(r["frame.number"])]
        want = {mark for field, mark in MARKS.items() if r[field]}
        got = set(ev.analysis) & set(MARKS.values())
        if want != got:
            bad.append(f"frame {r['frame.number']}: {sorted(got)} != tshark {sorted(want)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_completeness_agrees_with_tshark(oracle: Path) -> None:
    capture = Path(str(oracle).removesuffix(".analysis.tsv"))
    _, summaries = replay(capture)
    final: dict[int, int] = {}
    for r in rows(oracle):
        if r["tcp.stream"]:
            final[int(r["tcp.stream"])] = int(r["tcp.completeness"])  # the last row is final
    assert {s.stream: s.completeness for s in summaries} == final


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_the_analysis_oracle_is_current() -> None:
    oracle = TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap.analysis.tsv"
    header = rows(oracle)[0].keys()
    args = [
        "tshark",
        "-2",
        "-r",
        str(TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap"),
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=/t",
    ]
    for field in header:
        args += ["-e", field]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert out == oracle.read_text()
