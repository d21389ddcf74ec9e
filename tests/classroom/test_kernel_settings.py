"""What the kernel's settings and its own lists say: sysctls, backlogs, TIME-WAIT's timer."""

from __future__ import annotations

import socket
from pathlib import Path

from handshake_viz.classroom.procnet import TIMER_TIME_WAIT, parse
from handshake_viz.classroom.sockdiag import listen_backlogs
from handshake_viz.classroom.sysctls import SynTimers, read_syn_timers


def test_syn_waits_with_linear_timeouts_as_measured_on_this_kernel() -> None:
    """tcp_syn_retries 6 and tcp_syn_linear_timeouts 4: SYNs were measured at 0, 1.03, 2.06,
    3.08, 4.10, 5.13, 7.14, 11.3, 19.5, 35.7 and 69.5 s, and ETIMEDOUT at 135 s."""
    timers = SynTimers(syn_retries=6, linear_timeouts=4)
    assert timers.syn_waits() == [1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64]
    assert timers.syn_retransmissions() == 10 and timers.syn_give_up() == 131


def test_syn_waits_without_linear_timeouts_double_from_one_second() -> None:
    timers = SynTimers(syn_retries=6, linear_timeouts=None)
    assert timers.syn_waits() == [1, 2, 4, 8, 16, 32, 64] and timers.syn_give_up() == 127


def test_synack_waits_double() -> None:
    assert SynTimers(synack_retries=5).synack_waits() == [1, 2, 4, 8, 16, 32]


def test_sysctls_are_read_from_the_files(tmp_path: Path) -> None:
    (tmp_path / "tcp_syn_retries").write_text("3\n")
    (tmp_path / "tcp_synack_retries").write_text("2\n")
    assert read_syn_timers(tmp_path) == SynTimers(3, 2, None)
    (tmp_path / "tcp_syn_linear_timeouts").write_text("1\n")
    assert read_syn_timers(tmp_path).linear_timeouts == 1
    assert read_syn_timers(tmp_path / "missing") == SynTimers()


def test_time_wait_timer_from_proc_net_tcp() -> None:
    line = (
        "   1: 0100007F:4A38 0100007F:A780 06 00000000:00000000 03:00001740 00000000     0  "
        "      0 0 3 0000000000000000"
    )
    (tw,) = parse(line)
    assert tw.timer == TIMER_TIME_WAIT and 59 <= tw.timer_left <= 60


def test_the_real_backlog_of_a_listener(port: int) -> None:
    with socket.create_server(("127.0.0.1", port), backlog=1) as ls:
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        try:
            assert listen_backlogs()[f"127.0.0.1:{port}"] == (2, 1)  # backlog + 1 queued
        finally:
            for c in clients:
                c.close()
        assert ls.getsockname()[1] == port


def test_netlink_lists_the_same_sockets_as_proc_net_tcp_and_the_backlog_too(port: int) -> None:
    from handshake_viz.classroom.procnet import read_sockets
    from handshake_viz.classroom.sockdiag import tcp_sockets

    with socket.create_server(("127.0.0.1", port), backlog=1) as ls:
        first = socket.create_connection(("127.0.0.1", port))
        conn, _ = ls.accept()
        conn.close()  # the server closes first: TIME-WAIT on the server's port
        first.recv(1)
        first.close()
        waiting = socket.create_connection(("127.0.0.1", port))
        try:
            ours = [ks for ks in tcp_sockets() or [] if port in (ks.local_port, ks.remote_port)]
            proc = read_sockets([port])
            key = lambda ks: (ks.local, ks.remote, ks.kernel_state)  # noqa: E731
            assert sorted(map(key, ours)) == sorted(map(key, proc))
            (listener,) = [ks for ks in ours if ks.kernel_state == "LISTEN"]
            assert (listener.accept_queue, listener.backlog) == (1, 1)
            (tw,) = [ks for ks in ours if ks.kernel_state == "TIME_WAIT"]
            assert tw.timer == TIMER_TIME_WAIT and 55 < tw.timer_left <= 60
        finally:
            waiting.close()
