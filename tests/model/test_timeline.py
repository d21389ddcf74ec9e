"""The TUI's model, without a terminal: columns, streams, filters, playback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handshake_viz.core.events import Event, PacketEvent, Phase, SocketEvent, TcpState
from handshake_viz.model.playback import SPEEDS, TimelineView
from handshake_viz.model.query import Filter, FilterError, matching_rows, parse_filter
from handshake_viz.model.rows import CLIENT_CHANGED, KIND_SOCKET, SERVER_CHANGED
from handshake_viz.model.timeline import Timeline
from tests.helpers.fakes import read_events
from tests.helpers.paths import DATA, HANDSHAKE_NANO


def test_columns_hold_the_events(http_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(http_events)
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    assert tl.count == len(packets) == 14
    for i, ev in enumerate(packets):
        row = tl.row(i)
        assert (row.frame, row.flags, row.seq, row.ack, row.length) == (
            ev.frame, ev.flags, ev.seq, ev.ack, ev.len,
        )  # fmt: skip
        assert row.phase == ev.phase
        assert row.client_state == ev.client_state
    s = tl.streams[0]
    assert (s.client, s.cport, s.server, s.sport) == ("141.142.228.5", 59856, "192.150.187.43", 80)
    assert s.handshake == "complete" and s.ended == "fin"
    assert s.summary is not None  # the engine's summary arrived after the packets
    assert s.bytes_c2s == 136 and s.bytes_s2c == 5007
    assert tl.row(0).options  # SYN options kept for the detail view


def test_states_marked_only_where_they_change(http_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(http_events)
    assert tl.changed[0] & CLIENT_CHANGED  # SYN: client SYN-SENT
    assert tl.changed[1] & CLIENT_CHANGED  # SYN-ACK: client ESTABLISHED
    assert tl.changed[2] & SERVER_CHANGED  # ACK: server ESTABLISHED
    assert tl.row(2).server_state == TcpState.ESTABLISHED
    assert tl.changed[4] == 0  # plain data: nobody changes


def test_socket_rows(demo_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(demo_events)
    assert tl.kind[0] == KIND_SOCKET and tl.row(2).socket.call == "listen"  # type: ignore[union-attr]
    assert tl.row(2).phase == Phase.LISTEN
    assert tl.row(3).phase == Phase.REQUEST  # connect()


def test_parse_filter() -> None:
    f = parse_filter("80 syn+ack confirm stream:3 #4 tcp")
    assert f.ports == {80} and f.streams == {3, 4} and f.proto == "tcp"
    assert f.phases == {Phase.CONFIRM} and f.flags == 0x12
    assert parse_filter("").empty
    with pytest.raises(FilterError, match="banana") as info:
        parse_filter("banana")
    # no language here: the interface says the catalog's message
    assert info.value.key == "filter.not_understood" and info.value.values == {"word": "banana"}


def test_matching_rows(demo_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(demo_events)

    def rows(text: str) -> list[int]:
        return list(matching_rows(tl, parse_filter(text), 0, tl.count))

    assert rows("syn") == [4, 5]
    assert rows("fin") == [15, 16]
    assert rows("confirm") == [5, 6]  # packets only: accept() is not in this capture
    assert rows("listen") == [0, 1, 2]  # socket calls of the listen phase
    assert rows("80")[:3] == [1, 2, 3]  # socket calls naming port 80, then the stream
    assert len(rows("80")) == 3 + 14
    assert rows("stream:0") == list(range(4, 18))
    assert rows("udp") == []
    assert list(matching_rows(tl, Filter(sids=frozenset({0})), 10, 12)) == [10, 11]


def test_playback_steps_and_speed(http_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(http_events)
    tl.done = True
    v = TimelineView(tl, pause=0.5, speed=1.0, playing=True)
    v.sync()
    assert v.visible_count == 1  # a replay opens on its first event
    assert not v.tick(0.4) and v.tick(0.2)  # one event per 0.5 s at 1x
    assert v.visible_count == 2
    v.faster()
    assert v.speed == 2.0 and v.interval == 0.25
    assert v.tick(1.0) and v.visible_count == 6
    v.step(-2)
    assert v.visible_count == 4
    v.end()
    assert v.visible_count == 14 and v.at_end
    v.tick(1.0)
    assert not v.playing  # stops at the end of a finished source
    v.home()
    assert v.visible_count == 1
    v.step(-5)
    assert v.visible_count == 1  # never hides the first row
    for _ in range(20):
        v.slower()
    assert v.speed is None and v.mode == "step" and not v.tick(100.0)
    v.faster()
    assert v.speed == SPEEDS[0]
    for _ in range(30):
        v.faster()
    assert v.speed == SPEEDS[-1] == 100.0


def test_playback_with_a_filter_keeps_its_place(http_events: list[Event]) -> None:
    tl = Timeline()
    tl.extend(http_events)
    v = TimelineView(tl, playing=False)
    v.sync()
    v.step(5)  # rows 0..5 revealed
    v.set_filter(Filter(flags=0x10))  # ACK set
    assert [v.row_at(i) for i in range(v.visible_count)] == [1, 2, 3, 4, 5]
    v.step(1)
    assert v.row_at(v.visible_count - 1) == 6
    v.set_filter(Filter())
    assert v.visible_count == 7


def test_live_view_reveals_everything(http_events: list[Event]) -> None:
    tl = Timeline()
    v = TimelineView(tl, live=True)
    tl.extend(http_events[:3])
    assert v.sync() and v.visible_count == 3
    v.step(-1)
    v.toggle_play()
    assert v.visible_count == 3 and v.mode == "live"


def test_other_capture_and_memory_is_compact() -> None:
    tl = Timeline()
    tl.extend(read_events(HANDSHAKE_NANO))
    assert tl.count > 0
    assert tl.memory_bytes() < 200 * max(tl.count, 1) + 4096


def test_timeline_does_not_import_textual() -> None:
    code = "import sys, handshake_viz.model.timeline; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_narrow_arrow_shortens_its_marks_and_keeps_its_flags_and_ack_longest() -> None:
    from handshake_viz.render.ladder_text import arrow_label

    tl = Timeline()
    tl.extend(read_events(DATA / "tshark" / "zeek__tcp_retransmit-fast009.pcap"))
    view = TimelineView(tl, live=True)
    view.sync()
    dup, psh = 28, 25  # a duplicate ACK, and a PSH,ACK with 903 bytes
    assert arrow_label(view, dup) == "ACK seq=475 ack=12871 len=0 [duplicate ack]"
    assert arrow_label(view, dup, 43) == "ACK seq=475 ack=12871 len=0 [duplicate ack]"
    assert arrow_label(view, dup, 42) == "ACK seq=475 ack=12871 len=0 [dup ack]"
    assert arrow_label(view, dup, 36) == "ACK seq=475 ack=12871 [dup ack]"
    assert arrow_label(view, dup, 30) == "ACK ack=12871 [dup ack] …"  # a pure ACK's seq first
    assert arrow_label(view, dup, 20) == "ACK ack=12871 …"  # the marks whole or not at all
    assert arrow_label(view, psh, 33) == "PSH,ACK seq=22881 ack=475 len=903"
    assert arrow_label(view, psh, 32) == "PSH,ACK seq=22881 ack=475 …"  # never "len=9…"
    assert arrow_label(view, psh, 20) == "PSH,ACK ack=475 …"  # the ack outlasts the seq
    fast = 31  # tshark marks it both retransmission and fast retransmission
    assert arrow_label(view, fast) == (
        "ACK seq=12871 ack=475 len=1430 [retransmission,fast retransmission]"
    )
    assert arrow_label(view, fast, 45) == "ACK seq=12871 ack=475 len=1430 [fast retrans]"
    assert arrow_label(view, fast, 40) == "ACK seq=12871 ack=475 len=1430 …"  # which bytes


def test_the_header_keeps_the_server_whole_and_the_clients_port() -> None:
    from handshake_viz.render.ladder_text import Columns, header_text

    tl = Timeline()
    tl.extend(read_events(DATA / "tshark" / "zeek__communityid_ipv6.pcap"))
    view = TimelineView(tl, live=True)
    view.sync()
    wide = header_text(view, Columns.fit(160))
    assert "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943" in wide  # IPv6 in brackets
    assert "[2607:f8b0:400c:c03::1a]:25" in wide
    narrow = header_text(view, Columns.fit(80))
    # the server's end whole, the client's address given up for its port
    assert "│…:63943 " in narrow and " [2607:f8b0:400c:c03::1a]:25│" in narrow
    assert "4887]" not in narrow  # never an address cut in its middle


def test_a_socket_calls_row_knows_its_connection_by_the_clients_end(
    http_events: list[Event],
) -> None:
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    t0, client, server = packets[0].time, "141.142.228.5:59856", "192.150.187.43:80"
    calls = [
        SocketEvent(t0 - 0.002, "server", "listen", local=server, result="backlog 5"),
        SocketEvent(t0 - 0.001, "client", "socket", result="ok"),  # no address yet
        SocketEvent(t0 - 0.0001, "client", "connect", local=client, remote=server, result="ok"),
    ]
    accept = SocketEvent(packets[2].time + 0.0001, "server", "accept", local=server,
                         remote=client, result=f"new socket from {client}")  # fmt: skip
    tl = Timeline()
    tl.extend([*calls, *packets[:3], accept, *packets[3:]])
    rows = {tl.sockets[r].call: r for r in tl.sockets}
    assert tl.socket_sid(rows["listen"]) is None  # the listening socket: every connection's
    assert tl.socket_sid(rows["socket"]) is None
    assert tl.socket_sid(rows["connect"]) == 0  # before its SYN: the stream that follows
    assert tl.socket_sid(rows["accept"]) == 0  # the server side: by its peer's end
    assert tl.socket_sid(rows["accept"] + 1) is None  # a packet's row is not a call's
    from handshake_viz.render.ladder_text import ladder_text

    view = TimelineView(tl, live=True)
    view.sync()
    lines = ladder_text(view, 160)
    assert "●0" in lines[1 + rows["connect"]] and "connect()" in lines[1 + rows["connect"]]
    assert "●0" not in lines[1 + rows["listen"]]
    # Choosing the connection keeps its calls with its packets; the listener's stay out.
    flt = parse_filter("stream:0")
    kept = list(matching_rows(tl, flt, 0, tl.count))
    assert rows["connect"] in kept and rows["accept"] in kept
    assert rows["listen"] not in kept and rows["socket"] not in kept
    assert kept == sorted(kept) and len(kept) == len(packets) + 2
