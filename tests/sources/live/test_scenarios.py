"""Every demo scenario, captured for real: the packets we report are the packets tcpdump saw,
once each, and the socket calls stand where the kernel's behaviour puts them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from handshake_viz.core.events import ACK, FIN, RST, SYN, PacketEvent, SocketEvent
from handshake_viz.core.pcapfile import read_records
from handshake_viz.demo.scenarios import SCENARIOS
from handshake_viz.sources.live.scenario import ScenarioSource
from tests.helpers.kernel import agreement, needs_tracer, states
from tests.helpers.live import (
    event_packets,
    needs_capture,
    needs_tcpdump,
    pcap_frames,
    tshark_packets,
)

pytestmark = [needs_capture, needs_tcpdump, pytest.mark.timeout(60)]


def run(name: str, tmp_path: Path, tcpdump) -> tuple[list, Path, Path]:
    """Run scenario `name` under our sniffer and tcpdump at once; (events, ours, theirs)."""
    ours = tmp_path / f"{name}.pcap"
    source = ScenarioSource(name, ours)
    source.open()
    dump = tcpdump([source.port])
    events = list(source.events())
    theirs = dump.stop()
    LOST[name] = source.stats.kernel_lost
    return events, ours, theirs


LOST: dict[str, int | None] = {}
"""Records of the kernel's view lost in each scenario's run (None: the view was off)."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request) -> dict:
    """Each scenario run once for the whole module (the backlog one takes ~3 s)."""
    return {}


def scenario_run(name, runs, tmp_path, tcpdump):
    if name not in runs:
        runs[name] = run(name, tmp_path, tcpdump)
    return runs[name]


def packets(events):
    return [e for e in events if isinstance(e, PacketEvent)]


def sockets(events, call=None, side=None):
    return [
        e
        for e in events
        if isinstance(e, SocketEvent)
        and (call is None or e.call == call)
        and (side is None or e.side == side)
    ]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_packets_reported_are_tcpdumps_packets_once_each(name, runs, tmp_path, tcpdump):
    events, ours, theirs = scenario_run(name, runs, tmp_path, tcpdump)
    reported = event_packets(events)
    oracle = tshark_packets(theirs)
    assert reported, "the scenario made no packet"
    assert Counter(reported) == Counter(oracle)
    # the saved file holds the very bytes tcpdump saved: nothing lost, nothing twice
    assert Counter(pcap_frames(ours)) == Counter(pcap_frames(theirs))
    # frame numbers are tshark's in the saved file (its socket calls and states take frames)
    with open(ours, "rb") as f:
        assert [p.frame for p in packets(events)] == [r[0] for r in read_records(f)]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_events_come_in_time_order(name, runs, tmp_path, tcpdump):
    events, _, _ = scenario_run(name, runs, tmp_path, tcpdump)
    timed = [e for e in events if isinstance(e, (PacketEvent, SocketEvent))]
    times = [e.time for e in timed]
    assert times == sorted(times)
    stats = events[-1]
    assert stats.type == "stats" and stats.drops == 0


@pytest.mark.parametrize(
    "name", [n for n, s in SCENARIOS.items() if s.listens and s.proto == "tcp"]
)
def test_listen_comes_before_the_first_syn_and_accept_after_the_handshake(
    name, runs, tmp_path, tcpdump
):
    events, _, _ = scenario_run(name, runs, tmp_path, tcpdump)
    index = {id(e): i for i, e in enumerate(events)}
    listen = sockets(events, "listen", "server")[0]
    first_syn = next(p for p in packets(events) if p.flags & SYN)
    assert index[id(listen)] < index[id(first_syn)]
    for accept in sockets(events, "accept", "server"):
        if accept.errno is not None:
            continue
        _host, port = accept.result.rsplit(" ", 1)[-1].rsplit(":", 1)
        assert accept.remote == accept.result.rsplit(" ", 1)[-1]  # the new connection's client
        last_ack = next(
            p
            for p in packets(events)
            if p.sport == int(port) and p.dir == "c2s" and p.flags == ACK and p.phase == "confirm"
        )
        assert index[id(last_ack)] < index[id(accept)]


@pytest.mark.parametrize("name", ["basic", "concurrent", "ipv6", "half-close", "abort"])
def test_connect_comes_before_its_syn(name, runs, tmp_path, tcpdump):
    events, _, _ = scenario_run(name, runs, tmp_path, tcpdump)
    index = {id(e): i for i, e in enumerate(events)}
    for connect in sockets(events, "connect", "client"):
        assert connect.result == "ok"
        cport = int(connect.local.rsplit(":", 1)[1])
        syn = next(p for p in packets(events) if p.sport == cport and p.flags == SYN)
        assert index[id(connect)] < index[id(syn)]


def test_refused_connect_reports_econnrefused_beside_the_rst(runs, tmp_path, tcpdump):
    events, _, _ = scenario_run("refused", runs, tmp_path, tcpdump)
    timed = [e for e in events if isinstance(e, (PacketEvent, SocketEvent))]
    (connect,) = sockets(timed, "connect")
    assert connect.result == "ECONNREFUSED" and connect.errno == 111
    syn, rst = packets(timed)
    assert syn.flags == SYN and rst.flags == RST | ACK and rst.phase == "reset"
    assert timed.index(connect) == timed.index(rst) + 1
    # The demo's sockets are traced, so the SYN already knows nothing listens there.
    assert (syn.client_state, syn.server_state) == ("SYN-SENT", "CLOSED")
    assert (rst.client_state, rst.server_state) == ("CLOSED", "CLOSED")


def test_a_syn_to_the_traced_listener_finds_it_listening(runs, tmp_path, tcpdump):
    events, _, _ = scenario_run("basic", runs, tmp_path, tcpdump)
    syn = next(p for p in packets(events) if p.flags == SYN)
    assert (syn.client_state, syn.server_state) == ("SYN-SENT", "LISTEN")


def test_backlog_completes_two_handshakes_then_syns_are_retransmitted(runs, tmp_path, tcpdump):
    events, _, _ = scenario_run("backlog", runs, tmp_path, tcpdump)
    assert not sockets(events, "accept")
    summaries = [e for e in events if e.type == "connection"]
    assert [s.handshake for s in summaries].count("complete") == 2
    retransmitted = [p for p in packets(events) if "retransmission" in p.analysis]
    assert retransmitted and all(p.flags == SYN for p in retransmitted)
    timed_out = [c for c in sockets(events, "connect") if c.result == "ETIMEDOUT"]
    assert len(timed_out) == 2
    waiting = [c for c in sockets(events, "connect") if c.result == "waiting"]
    assert len(waiting) == 2  # shown while blocked, so the timeline never froze


def test_abort_sends_rst_and_the_server_sees_econnreset(runs, tmp_path, tcpdump):
    events, _, _ = scenario_run("abort", runs, tmp_path, tcpdump)
    assert not [p for p in packets(events) if p.flags & 0x01]  # no FIN at all
    assert [p.dir for p in packets(events) if p.flags & RST] == ["c2s"]
    assert any(e.result == "ECONNRESET" for e in sockets(events, "recv", "server"))


def test_udp_has_no_handshake(runs, tmp_path, tcpdump):
    events, _, _ = scenario_run("udp", runs, tmp_path, tcpdump)
    assert [(p.proto, p.phase) for p in packets(events)] == [("udp", "datagram")] * 2
    assert [e.call for e in sockets(events, side="client")][:2] == ["socket", "sendto"]


TCP_SCENARIOS = [name for name, s in SCENARIOS.items() if s.proto == "tcp"]


@needs_tracer
@pytest.mark.parametrize("name", TCP_SCENARIOS)
def test_the_trackers_states_are_the_kernels_after_every_packet(name, runs, tmp_path, tcpdump):
    """Where the kernel said each end's state after a packet (its own tracepoints, anchored to
    the packets that caused them), the tracker inferred the same from the packets alone; but
    at a packet the capture itself shows its receiver had not received yet (crossing FINs)."""
    events, _, _ = scenario_run(name, runs, tmp_path, tcpdump)
    # A demo's reader never sheds, and its few dozen records fit bpftrace's buffers many
    # times over: every state change is there, so any difference below is a real one.
    assert LOST[name] == 0, f"{LOST[name]} records of the kernel's view lost"
    found = agreement(events)
    print(f"{name}: {found}")  # the figures of the note (pytest -s)
    assert found.compared >= 4, found
    assert not found.differ, found
    assert {"SYN-SENT", "ESTABLISHED"} <= found.kernel_states or name == "refused"


@needs_tracer
@pytest.mark.parametrize("name", TCP_SCENARIOS)
def test_each_state_change_of_the_demos_sockets_is_the_kernels_own(name, runs, tmp_path, tcpdump):
    events, _, _ = scenario_run(name, runs, tmp_path, tcpdump)
    changes = [e for e in states(events) if e.old is not None]
    assert changes, "no state change seen"
    assert all(e.comm and e.pid for e in changes)  # the demo's process, by name and pid
    kinds = {(str(e.old), str(e.new)) for e in changes}
    assert ("CLOSED", "SYN-SENT") in kinds


def test_http_client_calls_stand_where_urllib_makes_them(runs, tmp_path, tcpdump):
    """socket() then connect() before the SYN; the response read, then close() before the
    client's FIN; every call after connect() on the connection (its own address)."""
    events, _, _ = scenario_run("http", runs, tmp_path, tcpdump)
    timed = [e for e in events if isinstance(e, (PacketEvent, SocketEvent))]
    client = sockets(timed, side="client")
    assert [c.call for c in client] == ["socket", "connect", "send", "recv", "close"]
    cport = int(client[1].local.rsplit(":", 1)[1])
    fin = next(p for p in packets(timed) if p.sport == cport and p.flags & FIN)
    assert timed.index(client[-1]) < timed.index(fin)
    assert all(c.local == client[1].local for c in client[1:])
    served = sum(p.len for p in packets(timed) if p.dport == cport)
    assert client[3].result == f"{served} bytes (HTTP 200)"
