"""The phase of each socket call's row, on the demos as recorded (their calls are in the
captures): the phase of its connection at the moment the call is made (README, "What you see")."""

from __future__ import annotations

import pytest

from handshake_viz.core.events import SocketEvent
from handshake_viz.model.call_phases import call_phase
from handshake_viz.model.rows import KIND_SOCKET, PHASES
from handshake_viz.model.timeline import Timeline
from tests.helpers.fakes import read_events
from tests.helpers.paths import DATA


def calls(name: str) -> list[tuple[str, str, str, str]]:
    """(side, call, result, phase) of each call's row of the demo `name`."""
    tl = Timeline()
    tl.extend(read_events(DATA / "demo" / f"{name}.pcapng"))
    rows = [r for r in range(tl.count) if tl.kind[r] == KIND_SOCKET]
    return [(tl.sockets[r].side, tl.sockets[r].call, tl.sockets[r].result or "",
             PHASES[tl.phase[r]].value) for r in rows]  # fmt: skip


def phase_of(rows: list[tuple[str, str, str, str]], side: str, call: str) -> list[str]:
    return [p for s, c, _, p in rows if (s, c) == (side, call)]


def test_the_server_prepares_in_listen_and_the_client_in_request():
    rows = calls("half-close")
    for call in ("socket", "bind", "listen"):
        assert phase_of(rows, "server", call) == ["listen"]
    assert phase_of(rows, "client", "socket") == ["request"]
    assert phase_of(rows, "client", "connect") == ["request"]
    assert phase_of(rows, "server", "accept") == ["confirm"]


def test_half_close_stays_in_teardown_from_the_first_fin():
    rows = calls("half-close")
    phases = [p for _, _, _, p in rows]
    first = phases.index("teardown")
    assert rows[first][1] == "shutdown"  # shutdown(SHUT_WR) sends the first FIN
    assert set(phases[first:]) == {"teardown"}  # never back to data
    assert ("server", "recv", "0 bytes (end of stream)", "teardown") in rows
    assert ("client", "recv", "0 bytes (end of stream)", "teardown") in rows


def test_calls_after_a_reset_are_in_reset():
    rows = calls("abort")
    assert ("server", "recv", "ECONNRESET", "reset") in rows
    assert phase_of(rows, "server", "close")[0] == "reset"  # the reset connection's socket
    assert phase_of(rows, "server", "close")[-1] == "teardown"  # the listener
    refused = calls("refused")
    assert ("client", "connect", "ECONNREFUSED", "reset") in refused
    assert phase_of(refused, "client", "close") == ["reset"]


def test_every_udp_call_is_a_datagram():
    assert {p for _, _, _, p in calls("udp")} == {"datagram"}


def test_data_calls_before_any_fin_are_data():
    rows = calls("abort")
    assert phase_of(rows, "client", "send") == ["data"]
    assert phase_of(rows, "server", "send") == ["data"]


@pytest.mark.parametrize(
    "call,result,seen,phase",
    [("read", "0 bytes (end of stream)", 8, "teardown"), ("write", "3 bytes", 8, "data"),
     ("sendto", "3 bytes", 16, "teardown"), ("recvfrom", "EPIPE", 8, "reset"),
     ("accept4", "new socket from 127.0.0.1:5", 0, "confirm"), ("close", "ok", 32, "reset")],
)  # fmt: skip
def test_the_kernels_system_calls_follow_the_same_rule(call, result, seen, phase):
    """The kernel's view names system calls (read, write, sendto, accept4...)."""
    ev = SocketEvent(0.0, "client", call, "127.0.0.1:5", "127.0.0.1:9000", result)
    assert call_phase(ev, seen).value == phase
