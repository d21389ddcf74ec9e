"""The pure parts of live capture: merging socket calls with packets, the pcap writer, the
capture filter. No privilege needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from handshake_viz.core.events import PacketEvent, Phase, SocketEvent
from handshake_viz.core.source import SourceError
from handshake_viz.sources.live.merge import TimelineMerger
from handshake_viz.sources.live.pcapwriter import PcapWriter
from handshake_viz.sources.live.sniffer import SNAPLEN, Sniffer, capture_filter, compile_bpf
from tests.helpers.live import ROOT, pcap_frames

pytestmark = pytest.mark.timeout(30)

BASIC = ROOT / "captures" / "basic.pcap"


def packet(t: float, frame: int = 1) -> PacketEvent:
    return PacketEvent(
        frame,
        t,
        "tcp",
        0,
        "127.0.0.1",
        40000,
        "127.0.0.1",
        9000,
        "c2s",
        2,
        0,
        None,
        0,
        65535,
        {},
        Phase.REQUEST,
        None,
        None,
    )


def call(t: float, name: str = "connect", result: str = "ok") -> SocketEvent:
    return SocketEvent(t, "client", name, result=result)


def test_a_call_reported_late_still_comes_before_the_packets_it_caused():
    m = TimelineMerger(delay=0.02)
    m.add_packet(packet(10.001))
    m.add_socket(call(10.000))  # the thread reported after the sniffer read the packet
    assert m.take(now=10.010) == []  # within the delay: wait for stragglers
    out = m.take(now=10.100)
    assert [e.type for e in out] == ["socket", "packet"]


def test_the_timeline_knows_how_far_behind_the_packets_it_is():
    m = TimelineMerger(paced=True)
    now = time.time()
    m.caught_up(now)
    assert m.lag() < 0.5  # the capture's reader is at the file's end; nothing waits
    m.add_packet(packet(now - 3.0))
    assert 2.5 < m.lag() < 3.5  # a packet three seconds old not taken yet
    m.take(final=True)
    m.caught_up(now - 2.0)
    assert 1.5 < m.lag() < 2.5  # the capture's reader still on a backlog of two seconds


def test_paced_by_the_capture_a_call_waits_for_the_packets_before_it_however_late():
    # The SYN (10.000) reaches the merger 100 ms late: the TUI held the GIL, say. A send()
    # made after it (10.005) must still not go first.
    m = TimelineMerger(delay=0.02, paced=True)
    m.add_socket(call(10.005, "send", "6 bytes"))
    assert m.take(now=10.100) == []  # the capture has not said it caught up
    m.caught_up(9.990)
    assert m.take(now=10.100) == []  # it has, but only with what came before 9.990
    m.add_packet(packet(10.000))
    m.caught_up(10.100)
    assert [e.type for e in m.take(now=10.120)] == ["packet", "socket"]
    m.add_socket(call(11.0, "recv", "6 bytes"))  # and never longer than PACE_CAP
    assert m.take(now=11.0 + m.PACE_CAP - 0.01) == []
    assert len(m.take(now=11.0 + m.PACE_CAP + 0.01)) == 1


def test_without_socket_events_packets_pass_straight_through():
    m = TimelineMerger(delay=0.0)
    m.add_packet(packet(5.0))
    assert len(m.take(now=5.0000001)) == 1


def test_a_call_in_progress_holds_later_packets_until_it_returns():
    m = TimelineMerger(delay=0.0, hold_cap=1.0)
    token = m.begin(call(1.0, result="waiting"))
    m.add_packet(packet(1.0005))  # the SYN the connect() sent
    assert m.take(now=1.01) == []
    m.end(token, lambda announced: call(1.0))
    out = m.take(now=1.02)
    assert [(e.type, e.time) for e in out] == [("socket", 1.0), ("packet", 1.0005)]


def test_a_call_blocked_past_the_hold_cap_is_shown_waiting_then_its_outcome():
    m = TimelineMerger(delay=0.0, hold_cap=0.3)
    token = m.begin(call(1.0, result="waiting"))
    m.add_packet(packet(1.001))
    out = m.take(now=1.5)
    assert [(e.type, getattr(e, "result", None)) for e in out] == [
        ("socket", "waiting"),
        ("packet", None),
    ]
    m.end(token, lambda announced: call(3.5 if announced else 1.0, result="ETIMEDOUT"))
    (outcome,) = m.take(now=3.6)
    assert (outcome.time, outcome.result) == (3.5, "ETIMEDOUT")


def test_packets_keep_capture_order_even_if_timestamps_step_back():
    m = TimelineMerger(delay=0.0)
    m.add_packet(packet(2.0002, frame=1))
    m.add_packet(packet(2.0001, frame=2))
    assert [e.frame for e in m.take(now=3)] == [1, 2]


def test_the_writer_hands_each_packet_to_the_kernel_at_once(tmp_path):
    frames = pcap_frames(BASIC)
    path = tmp_path / "out.pcap"
    w = PcapWriter(path, linktype=1)
    for i, data in enumerate(frames):
        w.write(1_700_000_000 + i, 250, data, len(data))
        assert pcap_frames(path) == frames[: i + 1]  # readable while still open
    w.close()
    with open(path, "rb") as f:
        f.seek(w.offsets[3] + 16)
        assert f.read(w.lengths[3]) == frames[3]


def test_a_batching_writer_flushes_on_close(tmp_path):
    frames = pcap_frames(BASIC)
    with PcapWriter(tmp_path / "b.pcap", 1, flush_every=64) as w:
        for data in frames:
            w.write(1, 0, data, len(data))
        assert pcap_frames(w.path) == []
    assert pcap_frames(tmp_path / "b.pcap") == frames


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
def test_tshark_opens_what_the_writer_writes(tmp_path):
    frames = pcap_frames(BASIC)
    with PcapWriter(tmp_path / "t.pcap", 1) as w:
        for data in frames:
            w.write(1, 0, data, len(data))
    out = subprocess.run(
        ["tshark", "-r", str(w.path), "-T", "fields", "-e", "tcp.flags.str"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 0 and len(out.stdout.splitlines()) == len(frames)


def test_the_filter_keeps_one_copy_and_only_the_chosen_ports():
    assert capture_filter([9000, 80]) == "inbound and (tcp or udp) and (port 80 or port 9000)"
    assert capture_filter([], all_ports=True) == "inbound and (tcp or udp)"
    with pytest.raises(SourceError, match="--port"):
        capture_filter([])


def test_the_kernel_filter_never_cuts_a_frame_short():
    insns = compile_bpf(capture_filter([9000]), linktype=1)
    returns = {k for code, _, _, k in insns if code == 0x06}
    assert returns == {0, SNAPLEN}


def test_an_unknown_interface_is_one_line_naming_the_fix():
    with pytest.raises(SourceError, match="ip link"):
        Sniffer("nosuch0", [9000])


@pytest.mark.skipif(os.geteuid() == 0, reason="root may always capture")
def test_without_privilege_opening_names_sudo_and_a_copy_of_the_interpreter():
    with pytest.raises(SourceError, match="sudo .*a copy of the interpreter"):
        Sniffer("lo", [9000]).open()
