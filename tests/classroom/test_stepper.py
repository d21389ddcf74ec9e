"""Step mode: which keys make sense when (pure), and each key's real call and packets."""

from __future__ import annotations

import socket

import pytest

from handshake_viz.classroom.guided import missing
from handshake_viz.classroom.lesson import Collector, LessonSource
from handshake_viz.classroom.procnet import read_sockets
from handshake_viz.classroom.stepper import (
    Action,
    Client,
    Stepper,
    StepState,
    availability,
    reason_text,
)
from handshake_viz.core.events import TcpState
from handshake_viz.demo.tracing import ListRecorder
from handshake_viz.words.explain import packet_kind


def test_nothing_exists_yet() -> None:
    s = StepState(port=9000)
    assert availability(s, Action.LISTEN)[0] == "ok"
    assert availability(s, Action.CONNECT)[0] == "ok"  # allowed: that is the refused lesson
    assert availability(s, Action.ACCEPT)[0] == "not_listening"
    for a in (Action.SEND, Action.SHUTDOWN, Action.ABORT):
        assert availability(s, a)[0] == "not_connected"
    assert availability(s, Action.CLOSE)[0] == "no_client"


def test_reasons() -> None:
    s = StepState(listening=True, port=9000)
    assert availability(s, Action.LISTEN) == ("listening", {"port": 9000})
    key, values = availability(s, Action.ACCEPT)
    assert reason_text(Action.ACCEPT, key, values, "en") == "accept: no connection is waiting yet"
    assert reason_text(Action.ACCEPT, key, values, "zh") == "接受连接：还没有等待中的连接"
    s = StepState(listening=True, waiting=True, client=Client.WRITE_SHUT)
    assert availability(s, Action.ACCEPT)[0] == "ok"
    key, values = availability(s, Action.SEND)
    assert reason_text(Action.SEND, key, values, "en") == (
        "send a line: the client already shut down writing"
    )
    assert availability(s, Action.CONNECT)[0] == "client_open"
    assert availability(StepState(accepted=True, listening=True), Action.ACCEPT)[0] == "accepted"


def test_l_c_a_s_w_x_on_real_sockets(port: int) -> None:
    rec = ListRecorder()
    st = Stepper(rec, port)
    try:
        assert st.available("a") == (False, "accept: the server is not listening yet (press l)")
        for key in "lcaswx":
            assert st.do(key) == (True, ""), key
            if key == "l":
                assert st.available("a") == (False, "accept: no connection is waiting yet")
            if key == "c":
                assert st.available("a") == (True, "")
                assert st.available("c")[0] is False
        assert st.client_state is Client.CLOSED and st.conn is None
        tw = [k for k in read_sockets([port]) if k.state == TcpState.TIME_WAIT]
        assert tw, "the client's end waits in TIME-WAIT after the close"
    finally:
        st.close_all()
    calls = [(e.side, e.call) for e in rec.events]
    assert calls[:6] == [
        ("server", "socket"), ("server", "bind"), ("server", "listen"),
        ("client", "socket"), ("client", "connect"), ("server", "accept"),
    ]  # fmt: skip
    assert ("client", "shutdown") in calls and ("server", "close") in calls
    results = {(e.side, e.call, e.result) for e in rec.events}
    assert ("server", "recv", "0 bytes (end of stream)") in results
    assert all(e.errno is None for e in rec.events)


def test_refused_without_a_listener(port: int) -> None:
    rec = ListRecorder()
    st = Stepper(rec, port)
    try:
        assert st.do("c") == (True, "")
    finally:
        st.close_all()
    (connect,) = [e for e in rec.events if e.call == "connect"]
    assert connect.result == "ECONNREFUSED" and connect.errno == 111
    assert st.available("s")[0] is False


def test_disabled_key_does_nothing(port: int) -> None:
    rec = ListRecorder()
    st = Stepper(rec, port)
    assert st.do("x") == (False, "close: the client has no socket open")
    assert rec.events == []


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def test_packets_after_each_key(lesson: tuple[LessonSource, Collector], port: int,
                                family: int) -> None:  # fmt: skip
    source, col = lesson
    st = Stepper(source.recorder, port, family)
    expected = {
        "l": ["none"],
        "c": ["c2s SYN", "s2c SYN-ACK", "c2s ACK"],
        "a": ["none"],
        "s": ["c2s data", "s2c data"],
        "r": ["c2s RST"],
    }
    seen = 0
    try:
        for key, expect in expected.items():
            assert st.do(key)[0], key
            packets = col.settle()
            new = packets[seen:]
            seen = len(packets)
            assert missing(expect, new) == [], (key, [(p.dir, p.flag_list) for p in new])
            if key == "r":
                assert packet_kind(new[-1]) == "rst_abort"
    finally:
        st.close_all()


def test_abort_after_shutdown_leaves_the_server_aware_of_the_reset(port: int) -> None:
    """c a w r: the server read the end of stream after w, and still learns of the RST: it
    closes its socket, so the next c then a is a new connection, not "already accepted"."""
    rec = ListRecorder()
    st = Stepper(rec, port)
    try:
        for key in "lcawr":
            assert st.do(key) == (True, ""), key
        assert st.conn is None, "the server closed its side of the reset connection"
        assert st.do("c") == (True, "")
        assert st.available("a") == (True, ""), st.available("a")
        assert st.do("a") == (True, "")
    finally:
        st.close_all()
    calls = [(e.side, e.call) for e in rec.events]
    after_abort = calls[calls.index(("client", "close")) :]
    assert ("server", "close") in after_abort, "the server read the reset and closed"
    assert calls.count(("server", "accept")) == 2


def test_port_held_until_the_server_binds_it() -> None:
    """Without a network of its own a lesson holds its port from the start: nobody else can
    bind it before the lesson's listen(); the lesson's own bind then succeeds."""
    from handshake_viz.demo.ports import hold_free_port

    hold = hold_free_port("127.0.0.1", socket.AF_INET, start=21000)
    st = Stepper(ListRecorder(), hold.port, hold=hold)
    try:
        with socket.socket() as other, pytest.raises(OSError):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.bind(("127.0.0.1", hold.port))
        assert st.do("l") == (True, "") and st.listener is not None and not hold.held
    finally:
        st.close_all()
        hold.release()
