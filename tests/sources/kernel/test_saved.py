"""Captures saved with the kernel's view (tests/data/kernel), replayed: the socket calls and
kernel states come back among the packets, and the tracker's states agree with the kernel's,
on loopback and between two network namespaces where packets crossed."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict

import pytest

from handshake_viz.core.events import (
    Event,
    KernelEvent,
    PacketEvent,
    SocketEvent,
    StateEvent,
    TcpState,
)
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.ladder_text import ladder_text
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.connections import connection_text
from tests.helpers.kernel import agreement, states
from tests.helpers.paths import DATA

KERNEL = DATA / "kernel"
CURL = KERNEL / "curl-http-server.pcapng"
"""`live --port 8000` of python3 -m http.server and three curl."""
CLOSE = KERNEL / "simultaneous-close.pcapng"
OPEN = KERNEL / "simultaneous-open.pcapng"
"""Made by tests/helpers/twonets.py: FINs, then SYNs, crossing between two namespaces."""

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")


def replayed(path) -> list[Event]:
    return list(ReplaySource(path).events())


def packets(events: list[Event]) -> list[PacketEvent]:
    return [e for e in events if isinstance(e, PacketEvent)]


def ends(events: list[Event]) -> dict[str, list[str]]:
    """Each socket's states, in order, by its endpoint."""
    out: dict[str, list[str]] = defaultdict(list)
    for e in states(events):
        if e.local and e.remote:
            out[e.local].append(str(e.new))
    return out


def test_a_replayed_live_capture_shows_each_programs_calls_and_its_kernels_states():
    events = replayed(CURL)
    socket_calls = [e for e in events if isinstance(e, SocketEvent)]
    connects = [e for e in socket_calls if e.call == "connect"]
    accepts = [e for e in socket_calls if e.call == "accept"]
    assert len(connects) == len(accepts) == 3
    assert {e.comm for e in connects} == {"curl"} and {e.comm for e in accepts} == {"python3"}
    assert len({e.pid for e in connects}) == 3 and len({e.pid for e in accepts}) == 1
    new = {str(e.new) for e in states(events)}
    assert {"SYN-SENT", "ESTABLISHED", "TIME-WAIT"} <= new
    found = agreement(events)
    assert found.compared > 50 and not found.differ, found


def test_calls_states_and_packets_come_in_time_order_connect_before_its_syn():
    events = replayed(CURL)
    timed = [e for e in events if isinstance(e, (PacketEvent, SocketEvent, StateEvent))]
    assert [e.time for e in timed] == sorted(e.time for e in timed)
    for connect in (e for e in timed if isinstance(e, SocketEvent) and e.call == "connect"):
        port = int(connect.local.rsplit(":", 1)[1])
        syn = next(p for p in packets(events) if p.sport == port and p.flags == 0x02)
        accept = next(e for e in timed if isinstance(e, SocketEvent) and e.call == "accept"
                      and e.remote == connect.local)  # fmt: skip
        ack = next(p for p in packets(events) if p.sport == port and p.flags == 0x10)
        assert connect.time < syn.time < ack.time < accept.time


def test_packets_keep_tsharks_frame_numbers_the_journal_entries_take_theirs():
    events = replayed(CURL)
    frames = [p.frame for p in packets(events)]
    assert frames == sorted(frames) and frames[0] > 1  # frame 1: the capture's first entry
    if shutil.which("tshark"):
        out = subprocess.run(
            ["tshark", "-r", str(CURL), "-T", "fields", "-e", "frame.number", "-Y", "tcp"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        assert [int(x) for x in out.stdout.split()] == frames


@needs_tshark
def test_wireshark_users_see_the_calls_and_states_as_journal_entries():
    out = subprocess.run(["tshark", "-r", str(CURL), "-V", "-Y", "systemd_journal"],
                         capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    assert "curl" in out.stdout and "connect() 127.0.0.1:8000" in out.stdout
    assert "FIN-WAIT-2 → TIME-WAIT" in out.stdout


def test_a_simultaneous_close_between_two_namespaces_ends_in_time_wait_at_both_ends():
    events = replayed(CLOSE)
    (client,) = [e for e in events if getattr(e, "type", "") == "connection"]
    kernel = ends(events)
    for end in kernel.values():  # what both kernels did
        assert end[-3:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"]
    last = packets(events)[-1]
    assert (last.client_state, last.server_state) == ("TIME-WAIT", "TIME-WAIT")
    seen = [(p.client_state, p.server_state) for p in packets(events)]
    assert ("CLOSING", "CLOSING") in seen and not any("LAST-ACK" in s for s in seen)
    found = agreement(events)
    # at the first FIN, the other end's FIN was already on the wire: no capture can know
    assert not found.differ and len(found.in_flight) == 1, found


def test_a_simultaneous_open_keeps_each_senders_direction_and_agrees_with_both_kernels():
    events = replayed(OPEN)
    dirs: dict[tuple[str, int], set[str]] = defaultdict(set)
    for p in packets(events):
        dirs[(p.src, p.sport)].add(p.dir)
    assert all(len(d) == 1 for d in dirs.values()), dirs
    kernel = ends(events)
    for end in kernel.values():
        assert end[:3] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
    handshake = [(p.client_state, p.server_state) for p in packets(events)[:2]]
    assert handshake[1] == (TcpState.SYN_RECEIVED, TcpState.SYN_RECEIVED)
    found = agreement(events)
    assert found.compared >= 12 and not found.differ, found


def test_kernel_events_come_back_too():
    events = replayed(CURL)
    assert not [e for e in events if isinstance(e, KernelEvent)]  # nothing was retransmitted
    assert all(p.kernel is not None for p in packets(events))


def test_the_ladder_shows_the_kernels_states_and_marks_where_the_tracker_differs():
    tl = Timeline()
    tl.extend(replayed(CLOSE))
    view = TimelineView(tl, live=True)
    view.sync()
    lines = ladder_text(view, width=160)
    first_fin = next(line for line in lines if "FIN,ACK" in line)
    # the server's kernel had not taken the client's FIN (its own was on the wire): the
    # kernel's ESTABLISHED, marked, where the packets alone suggest CLOSE-WAIT
    assert "│ESTABLISHED* " in first_fin
    stream = tl.streams[0]
    assert stream.client_program and stream.client_program.startswith("python")
    assert connection_text(stream).count("python") == 2  # both ends named
