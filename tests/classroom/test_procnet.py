"""/proc/net/tcp[6]: the pure parser on real text, and the reader against real sockets."""

from __future__ import annotations

import socket
import time

from handshake_viz.classroom.procnet import decode_address, parse, read_sockets
from handshake_viz.core.events import TcpState

# Two lines as this kernel printed them (a listener on 127.0.0.1:9000, a TIME-WAIT).
SAMPLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2328 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1065177 1 0000000000000000 100 0 0 10 0
   1: 0100007F:4A38 0100007F:A780 06 00000000:00000000 03:00001740 00000000     0        0 0 3 0000000000000000
"""
SAMPLE6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123 1 0000000000000000 100 0 0 10 0
"""


def test_parse_sample() -> None:
    listen, tw = parse(SAMPLE)
    assert listen.local == "127.0.0.1:9000" and listen.state == TcpState.LISTEN
    assert listen.accept_queue == 2
    assert tw.kernel_state == "TIME_WAIT" and tw.state == TcpState.TIME_WAIT
    assert tw.remote == "127.0.0.1:42880" and tw.inode == 0 and tw.accept_queue is None
    (six,) = parse(SAMPLE6)
    assert six.local == "[::1]:9000" and six.remote == "[::]:0"


def test_decode_address() -> None:
    assert decode_address("0100007F:2328") == ("127.0.0.1", 9000)


def _find(port: int, state: TcpState, local_port: int | None = None):
    return [
        s for s in read_sockets([port]) if s.state == state
        and (local_port is None or s.local_port == local_port)
    ]  # fmt: skip


def test_accept_queue_of_a_listener_nobody_accepts(port: int, sockets: list[socket.socket]) -> None:
    srv = socket.socket()
    sockets.append(srv)
    # pick_port counts a port in TIME-WAIT as free, as it is for the demo's servers, which
    # set SO_REUSEADDR: so must this one.
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    (ls,) = _find(port, TcpState.LISTEN)
    assert ls.accept_queue == 0
    for _ in range(3):
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        sockets.append(c)
    deadline = time.monotonic() + 2
    while (ls := _find(port, TcpState.LISTEN)[0]).accept_queue != 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ls.accept_queue == 3
    clients = _find(port, TcpState.ESTABLISHED, local_port=None)
    assert len([s for s in clients if s.remote_port == port]) == 3  # the clients' ends
    conn, _ = srv.accept()
    sockets.append(conn)
    assert _find(port, TcpState.LISTEN)[0].accept_queue == 2


def test_time_wait_after_close_and_ipv6(sockets: list[socket.socket], port: int) -> None:
    srv = socket.socket(socket.AF_INET6)
    sockets.append(srv)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as above
    srv.bind(("::1", port))
    srv.listen(1)
    c = socket.create_connection(("::1", port), timeout=2)
    conn, _ = srv.accept()
    sockets.append(conn)
    cport = c.getsockname()[1]
    c.close()  # the client closes first: its end goes through FIN-WAIT to TIME-WAIT
    assert conn.recv(10) == b""
    conn.close()
    deadline = time.monotonic() + 2
    while (
        not (tw := _find(port, TcpState.TIME_WAIT, local_port=cport))
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert tw and tw[0].local == f"[::1]:{cport}" and tw[0].inode == 0
