"""The lab's captures read as tshark reads them: every packet (stream, flags, relative
seq/ack, length, phase where flags decide), every analysis mark, every connection's initial
RTT, and each class of the reader's rules shown where it should be.

The captures are in tests/data/lab/, made by ``scripts/lab`` (real programs across network
namespaces through impairments, and a few made by hand: tests/lab/crafted.py), each with its
`.oracle.tsv` and `.analysis.tsv` from tshark 4.0.17.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handshake_viz.core.events import ConnectionSummary, PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.oracle import compare, compare_marks, initial_rtts, read_oracle
from tests.helpers.paths import LAB_DATA

CAPTURES = sorted(LAB_DATA.glob("*.pcap"))

RTT_CHOICES = {
    ("lab__handshakes.pcap", 2): "SYN answered by RST-ACK: a refusal, no round trip",
    ("crafted__handshakes.pcap", 4): "SYN answered by RST-ACK: a refusal, no round trip",
    ("crafted__handshakes.pcap", 7): "tshark's second pass times an earlier ACK: -0.5 s",
}
"""Connections whose handshake_rtt is null where tshark gives an initial RTT, on purpose."""


def replay(capture: Path) -> list:
    return list(ReplaySource(capture).events())


def test_every_class_has_its_captures() -> None:
    names = {c.name.removesuffix(".pcap") for c in CAPTURES}
    assert {"lab__http-loss", "lab__handshakes", "lab__vxlan", "lab__tunnels",
            "lab__zero-window", "crafted__tunnels", "crafted__windows", "crafted__fast-open",
            "crafted__handshakes", "crafted__odd-headers",
            "crafted__fragments"} <= names  # fmt: skip


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_packets_agree_with_tshark(capture: Path) -> None:
    rows = read_oracle(Path(f"{capture}.oracle.tsv"))
    checked, bad = compare(rows, replay(capture))
    assert checked and not bad, "\n".join(bad)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_every_mark_agrees_with_tshark(capture: Path) -> None:
    rows = read_oracle(Path(f"{capture}.analysis.tsv"))
    _, bad = compare_marks(rows, replay(capture))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_handshake_rtt_is_tsharks_initial_rtt(capture: Path) -> None:
    want = initial_rtts(read_oracle(Path(f"{capture}.analysis.tsv")))
    for s in replay(capture):
        if not isinstance(s, ConnectionSummary) or s.proto != "tcp":
            continue
        if (capture.name, s.stream) in RTT_CHOICES:
            assert s.handshake_rtt is None and s.stream in want
        elif s.stream in want:
            assert s.handshake_rtt == pytest.approx(want[s.stream], abs=2e-6), s.stream
        else:
            assert s.handshake_rtt is None, s.stream


def marks_of(name: str) -> set[str]:
    return {m for e in replay(LAB_DATA / name) if isinstance(e, PacketEvent) for m in e.analysis}


def test_loss_in_the_network_shows_as_tshark_shows_it() -> None:
    marks = marks_of("lab__http-loss.pcap") | marks_of("lab__reorder-duplicate.pcap")
    assert {"previous_segment_not_captured", "duplicate_ack", "fast_retransmission",
            "out_of_order", "spurious_retransmission", "retransmission"} <= marks  # fmt: skip


def test_a_closed_window_shows_window_full_zero_window_and_probes() -> None:
    assert {"window_full", "zero_window", "window_update"} <= marks_of("lab__zero-window.pcap")
    # A sender that is not Linux probes with one new byte: tshark's zero-window probe.
    assert {"window_full", "zero_window", "zero_window_probe",
            "zero_window_probe_ack"} <= marks_of("crafted__windows.pcap")  # fmt: skip


def test_fast_open_marks_the_syn_and_its_answer() -> None:
    assert {"tfo_syn", "tfo_ack"} <= marks_of("lab__fast-open.pcap")
    assert {"tfo_syn", "tfo_ack", "tfo_ignored"} <= marks_of("crafted__fast-open.pcap")


def test_the_initial_rtt_starts_at_the_latest_syn() -> None:
    summaries = [e for e in replay(LAB_DATA / "lab__handshakes.pcap")
                 if isinstance(e, ConnectionSummary)]  # fmt: skip
    lost_syn = summaries[0]
    assert lost_syn.last_time - lost_syn.first_time > 1  # the SYN was sent again a second later
    assert lost_syn.handshake_rtt is not None and lost_syn.handshake_rtt < 0.1


def test_tcp_inside_each_tunnel_is_a_stream_of_its_own() -> None:
    events = replay(LAB_DATA / "lab__tunnels.pcap")
    tcp = {e.stream for e in events if isinstance(e, PacketEvent) and e.proto == "tcp"}
    assert len(tcp) == 5  # GRE, Ethernet over GRE, IP in IP, 6in4, Geneve
    crafted = replay(LAB_DATA / "crafted__tunnels.pcap")
    assert len({e.stream for e in crafted if isinstance(e, PacketEvent) and e.proto == "tcp"}) > 10
    vxlan = replay(LAB_DATA / "lab__vxlan.pcap")
    inner = [e for e in vxlan if isinstance(e, PacketEvent) and e.src.startswith("10.78.")]
    assert {e.proto for e in inner} == {"tcp", "udp"}
    assert any("retransmission" in e.analysis for e in inner)
