"""Zeek's conn.log history and conn_state on each connection summary.

Where Zeek's own test baselines (zeek/zeek, testing/btest/Baseline/) give the history and
conn_state of a trace this project has, they are the oracle; elsewhere the letters follow
Zeek's documentation of conn.log and its TCP analyzer, on captures that show each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handshake_viz.core.events import ConnectionSummary
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import LAB_DATA, TSHARK_DATA


def zeek_fields(path: Path) -> list[tuple[str, str]]:
    return [(e.history, e.conn_state) for e in ReplaySource(path).events()
            if isinstance(e, ConnectionSummary) and e.proto == "tcp"]  # fmt: skip


@pytest.mark.parametrize(
    ("trace", "history", "state"),
    [
        # Baseline/core.tcp.reassembly-known-ports/conn.log (Traces/http/get.pcap)
        ("zeek__http_get.pcap", "ShADadFf", "SF"),
        # Baseline/scripts.base.protocols.irc.starttls/conn.log (Traces/tls/irc-starttls.pcap)
        ("zeek__tls_irc-starttls.pcap", "ShADadFRf", "SF"),
        # Baseline/scripts.base.protocols.syslog.tcp-framing/conn.log (Traces/tcp-syslog.pcap)
        ("zeek__tcp-syslog.pcap", "ShADFf", "SF"),
    ],
)
def test_zeeks_own_baselines(trace: str, history: str, state: str) -> None:
    assert zeek_fields(TSHARK_DATA / trace) == [(history, state)]


def test_a_refused_connection_is_rej() -> None:
    assert zeek_fields(LAB_DATA / "lab__handshakes.pcap")[2] == ("Sr", "REJ")


def test_a_syn_with_no_answer_is_s0_and_an_aborted_handshake_rsto() -> None:
    fields = zeek_fields(LAB_DATA / "crafted__handshakes.pcap")
    assert fields[5] == ("ShR", "RSTO")  # SYN, SYN-ACK, the client's RST
    assert zeek_fields(LAB_DATA / "crafted__odd-headers.pcap")[0] == ("S", "S0")


def test_keepalives_to_a_dead_peer_end_in_the_originators_rst() -> None:
    assert zeek_fields(LAB_DATA / "lab__keepalive-dead-peer.pcap") == [("ShADaR", "RSTO")]


def test_retransmitted_data_and_zero_windows_are_counted_letters() -> None:
    ((history, state),) = zeek_fields(LAB_DATA / "lab__http-loss.pcap")
    assert "t" in history and state == "SF"  # the server's data sent again
    ((history, _),) = zeek_fields(LAB_DATA / "lab__zero-window.pcap")
    assert "w" in history  # the receiver's zero window


def test_a_capture_from_the_middle_flips_to_the_likely_server() -> None:
    # The first packet comes from port 8000, one of Zeek's likely server ports: '^'.
    ((history, state),) = zeek_fields(LAB_DATA / "lab__mid-transfer.pcap")
    assert history.startswith("^d") and state == "SF"


def test_udp_has_d_for_each_side() -> None:
    udp = [(e.history, e.conn_state) for e in ReplaySource(LAB_DATA / "lab__tunnels.pcap").events()
           if isinstance(e, ConnectionSummary) and e.proto == "udp"]  # fmt: skip
    assert udp == [("Dd", "SF")]  # Geneve both ways


CAPTURES = sorted(LAB_DATA.glob("*.pcap")) + sorted(TSHARK_DATA.glob("zeek__*.pcap*"))


def test_the_shortcuts_write_what_the_long_way_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`zeek.packet` takes shortcuts for the common packets; `_slow` alone gives the same."""
    from handshake_viz.core import tracker, zeek

    def summaries() -> list[tuple[str, str]]:
        out = []
        for capture in CAPTURES:
            if capture.suffix in (".pcap", ".pcapng") and "trunc" not in capture.name:
                out += [(capture.name, *f) for f in zeek_fields(capture)]
        return out

    quick = summaries()
    assert len(quick) > 60

    def long_way(conv, e, p, from_a, flags, seq, ack, length, window):  # type: ignore[no-untyped-def]
        zeek._slow(conv, e, p, from_a == conv.z_orig_a, flags, seq, ack, length, window)

    monkeypatch.setattr(tracker, "zeek_packet", long_way)
    monkeypatch.setattr(tracker, "SHORTCUTS", False)
    assert summaries() == quick
