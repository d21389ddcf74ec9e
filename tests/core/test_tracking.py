"""Phases, TCP states, roles and summaries, on real captures."""

from __future__ import annotations

from handshake_viz.core.decode import FrameDecoder, Packet
from handshake_viz.core.events import ConnectionSummary, PacketEvent
from handshake_viz.core.pcapfile import read_records
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import TSHARK_DATA


def replay(name: str) -> tuple[list[PacketEvent], list[ConnectionSummary]]:
    evs = list(ReplaySource(TSHARK_DATA / name).events())
    return (
        [e for e in evs if isinstance(e, PacketEvent)],
        [e for e in evs if isinstance(e, ConnectionSummary)],
    )


def decoded(name: str) -> list[Packet]:
    """The TCP/UDP packets of a capture, decoded but not tracked."""
    decode = FrameDecoder().decode
    with open(TSHARK_DATA / name, "rb") as f:
        return [p for r in read_records(f) if type(p := decode(*r[:4])) is Packet]


def test_a_whole_connection_walks_through_rfc_9293_states():
    packets, _ = replay("zeek__http_get.pcap")
    states = [(e.phase, e.client_state, e.server_state) for e in packets]
    assert states[0] == ("request", "SYN-SENT", "LISTEN")
    assert states[1] == ("confirm", "ESTABLISHED", "SYN-RECEIVED")
    assert states[2] == ("confirm", "ESTABLISHED", "ESTABLISHED")
    assert {p for p, _, _ in states[3:11]} == {"data"}
    assert states[11] == ("teardown", "FIN-WAIT-1", "CLOSE-WAIT")
    assert states[12] == ("teardown", "TIME-WAIT", "LAST-ACK")
    assert states[13] == ("teardown", "TIME-WAIT", "CLOSED")


def test_the_summary_tells_the_handshake_and_how_it_ended():
    _, (summary,) = replay("zeek__http_get.pcap")
    assert summary.handshake == "complete" and summary.ended == "fin"
    assert summary.client == "141.142.228.5" and summary.sport == 80
    assert (summary.bytes_c2s, summary.bytes_s2c) == (136, 5007)
    assert summary.completeness == 31  # tshark's tcp.completeness
    assert summary.syn_options == {"mss": 1460, "wscale": 4, "ts": True, "sack_perm": True}
    assert 0.069 < summary.rtt_syn_synack < 0.070
    assert summary.listen_inferred


def test_client_is_the_end_that_sent_the_syn_even_when_the_syn_ack_comes_first():
    packets, (summary,) = replay("zeek__tcp_handshake-reorder.pcap")
    assert packets[0].dir == "s2c" and packets[1].dir == "c2s"
    assert summary.client == "141.142.228.5"


def test_refused_connection_is_a_reset():
    packets, summaries = replay("zeek__irc-353.pcap")
    assert [str(e.phase) for e in packets[:2]] == ["request", "reset"]
    assert packets[1].client_state == "CLOSED"
    assert summaries[0].ended == "rst" and summaries[0].handshake == "partial"


def test_retransmitted_syns_stay_requests_and_are_marked():
    packets, _ = replay("zeek__tcp_option-sack.pcap")
    assert [str(e.phase) for e in packets] == ["request"] * 4
    assert [("retransmission" in e.analysis) for e in packets] == [False, True, True, True]


def test_fast_retransmissions_and_duplicate_acks_as_tshark_marks_them():
    packets, _ = replay("zeek__tcp_retransmit-fast009.pcap")
    marks = [m for e in packets for m in e.analysis]
    assert marks.count("duplicate_ack") >= 3
    assert "fast_retransmission" in marks


def test_udp_has_no_handshake():
    packets, summaries = replay("zeek__pcapng-multi-interface.pcapng")
    assert {str(e.phase) for e in packets} == {"datagram"}
    assert all(e.client_state is None and e.seq is None for e in packets)
    assert summaries and summaries[0].proto == "udp"


def test_a_syn_where_nothing_listens_leaves_the_server_closed_when_that_is_known():
    # Packets alone cannot tell (one pass: the server is taken to listen until a RST says
    # otherwise); a `listening` oracle (the demo's traced sockets) can.
    from handshake_viz.core.tracker import ConnectionTracker

    syn, rst = decoded("zeek__irc-353.pcap")[:2]
    asked: list[tuple[str, int, float]] = []

    def nobody(addr: str, port: int, at: float) -> bool:
        asked.append((addr, port, at))
        return False

    for listening, expected in ((None, "LISTEN"), (nobody, "CLOSED"), (lambda *a: True, "LISTEN")):
        tracker = ConnectionTracker(listening)
        first, second = tracker.feed(syn), tracker.feed(rst)
        assert (first.client_state, first.server_state) == ("SYN-SENT", expected)
        assert (second.client_state, second.server_state) == ("CLOSED", "CLOSED")
    assert asked == [(syn.dst, syn.dport, syn.time)]  # asked once, at the SYN only
