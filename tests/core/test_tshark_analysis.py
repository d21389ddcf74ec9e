"""tshark's analysis marks (every one), its completeness bitmask and its initial RTT, frame by
frame and connection by connection.

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
from handshake_viz.core.source import SourceError
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.oracle import compare_marks, initial_rtts
from tests.helpers.paths import TSHARK_DATA

RTT_CHOICES = {
    # tshark times the SYN against the RST-ACK refusing it: a refusal, no round trip.
    ("zeek__irc-353.pcap", 0),
    # tshark times the SYN against an injected RST-ACK (the handshake completes later).
    ("zeek__tcp_rst-inject-rae.pcap", 0),
}
"""Connections whose handshake_rtt is null where tshark gives an initial RTT, on purpose."""

ORACLES = sorted(
    p for p in TSHARK_DATA.glob("*.analysis.tsv") if len(p.read_text().splitlines()) > 1
)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def replay(capture: Path) -> tuple[dict[int, PacketEvent], list[ConnectionSummary]]:
    evs = []
    try:
        evs.extend(ReplaySource(capture).events())
    except SourceError:
        pass  # a file cut short: the packets before the cut are compared
    return (
        {e.frame: e for e in evs if isinstance(e, PacketEvent)},
        [e for e in evs if isinstance(e, ConnectionSummary) and e.proto == "tcp"],
    )


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_analysis_marks_agree_with_tshark(oracle: Path) -> None:
    capture = Path(str(oracle).removesuffix(".analysis.tsv"))
    events, _ = replay(capture)
    _, bad = compare_marks(rows(oracle), list(events.values()))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda p: p.name.split(".")[0])
def test_handshake_rtt_is_tsharks_initial_rtt(oracle: Path) -> None:
    capture = Path(str(oracle).removesuffix(".analysis.tsv"))
    _, summaries = replay(capture)
    want = initial_rtts(rows(oracle))
    for s in summaries:
        if (capture.name, s.stream) in RTT_CHOICES:
            assert s.handshake_rtt is None and s.stream in want
        elif s.stream in want:
            assert s.handshake_rtt == pytest.approx(want[s.stream], abs=2e-6), s.stream
        else:
            assert s.handshake_rtt is None, s.stream


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
