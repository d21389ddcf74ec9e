"""Small real socket programs the lab runs in its namespaces (the standard library only).

    python -m tests.lab.programs NAME [ARG=VALUE ...]

Each is bounded in time (it gives up after ``limit`` seconds) and in bytes. They exist for
what curl and http.server do not do on their own: a receiver that stops reading, keep-alives
to a peer that went away, a simultaneous open, TCP Fast Open, a 4-tuple used twice.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable

MSG_FASTOPEN = 0x20000000
TCP_FASTOPEN = 23


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


IPPROTO_MPTCP = 262


def _socket(host: str, proto: str = "tcp") -> socket.socket:
    """A stream socket; ``proto=mptcp`` asks for Multipath TCP."""
    return socket.socket(
        _family(host), socket.SOCK_STREAM, IPPROTO_MPTCP if proto == "mptcp" else 0
    )


def _listener(host: str, port: int, backlog: int = 16, proto: str = "tcp", **opts: int
              ) -> socket.socket:  # fmt: skip
    s = _socket(host, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for name, value in opts.items():
        level = socket.SOL_SOCKET if name.startswith("SO_") else socket.IPPROTO_TCP
        s.setsockopt(level, getattr(socket, name, TCP_FASTOPEN), value)
    s.bind((host, port))
    s.listen(backlog)
    return s


def sink(host: str, port: str, rcvbuf: str = "0", pause: str = "0", limit: str = "20",
         proto: str = "tcp") -> None:  # fmt: skip
    """Accept connections and read them to the end; with `pause`, read nothing for that long
    first (with a small `rcvbuf`, the window closes)."""
    opts = {"SO_RCVBUF": int(rcvbuf)} if int(rcvbuf) else {}
    srv = _listener(host, int(port), proto=proto, **opts)
    srv.settimeout(float(limit))
    end = time.monotonic() + float(limit)
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            return
        with conn:
            time.sleep(float(pause))
            conn.settimeout(max(end - time.monotonic(), 0.1))
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass


def send(host: str, port: str, size: str = "100000", lport: str = "0", times: str = "1",
         gap: str = "0", limit: str = "20", proto: str = "tcp") -> None:  # fmt: skip
    """Connect (from `lport` if given, `times` times, `gap` seconds apart), send `size`
    bytes, close."""
    for _ in range(int(times)):
        s = _socket(host, proto)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(float(limit))
        if int(lport):
            s.bind(("::" if ":" in host else "0.0.0.0", int(lport)))
        try:
            s.connect((host, int(port)))
            s.sendall(b"x" * int(size))
        except OSError as e:
            print(f"send: {e}", file=sys.stderr)
        finally:
            s.close()
        time.sleep(float(gap))


def closer(host: str, port: str, limit: str = "20") -> None:
    """Accept connections, read what comes, then close first (this end goes to TIME-WAIT)."""
    srv = _listener(host, int(port))
    srv.settimeout(float(limit))
    end = time.monotonic() + float(limit)
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            return
        conn.settimeout(2)
        try:
            conn.recv(65536)
        except OSError:
            pass
        conn.close()


def keepalive(host: str, port: str, idle: str = "1", interval: str = "1", count: str = "3",
              limit: str = "15") -> None:  # fmt: skip
    """Connect with keep-alives every second, send a line, then wait: when the peer stops
    answering, the kernel probes `count` times and gives up with a RST."""
    s = socket.socket(_family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(idle))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, int(interval))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, int(count))
    s.settimeout(float(limit))
    s.connect((host, int(port)))
    s.sendall(b"hello\n")
    try:
        s.recv(100)
    except OSError as e:
        print(f"keepalive: {e}", file=sys.stderr)
    s.close()


def simultaneous(host: str, port: str, peer: str, peer_port: str, at: str, close_at: str = "0",
                 limit: str = "10") -> None:  # fmt: skip
    """Bind `port` and connect to `peer`:`peer_port` at wall-clock time `at` (the other end
    does the same, so the SYNs cross); with `close_at`, both close then (the FINs cross)."""
    s = socket.socket(_family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.settimeout(float(limit))
    time.sleep(max(float(at) - time.time(), 0))
    for _ in range(20):
        try:
            s.connect((peer, int(peer_port)))
            break
        except ConnectionRefusedError:
            return  # the other end was late: no simultaneous open this time
    s.sendall(b"hi")
    s.recv(10)
    if float(close_at):
        time.sleep(max(float(close_at) - time.time(), 0))
    s.shutdown(socket.SHUT_WR)
    try:
        s.recv(10)
    except OSError:
        pass
    s.close()


def fastopen_server(host: str, port: str, limit: str = "10") -> None:
    """Accept TCP Fast Open connections, answer each request with a line."""
    srv = _listener(host, int(port), TCP_FASTOPEN=16)
    srv.settimeout(float(limit))
    end = time.monotonic() + float(limit)
    while time.monotonic() < end:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            return
        with conn:
            conn.settimeout(2)
            try:
                conn.recv(1000)
                conn.sendall(b"answer\n")
                conn.recv(10)
            except OSError:
                pass


def fastopen_client(host: str, port: str, times: str = "2", limit: str = "10") -> None:
    """Send a request in the SYN (MSG_FASTOPEN): the first connection asks for a cookie,
    the next ones carry it and their data."""
    for _ in range(int(times)):
        s = socket.socket(_family(host), socket.SOCK_STREAM)
        s.sendto(b"GET /fast\r\n", MSG_FASTOPEN, (host, int(port)))  # blocking: connects
        s.settimeout(float(limit))
        s.recv(100)
        s.close()
        time.sleep(0.2)


def udp_echo(host: str, port: str, limit: str = "10") -> None:
    """Answer UDP datagrams with the same bytes."""
    s = socket.socket(_family(host), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    s.settimeout(float(limit))
    try:
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
    except TimeoutError:
        pass


def udp_ping(host: str, port: str, count: str = "3") -> None:
    s = socket.socket(_family(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    for i in range(int(count)):
        s.sendto(b"ping %d" % i, (host, int(port)))
        try:
            s.recvfrom(2048)
        except TimeoutError:
            pass


PROGRAMS: dict[str, Callable[..., None]] = {
    "sink": sink,
    "send": send,
    "closer": closer,
    "keepalive": keepalive,
    "simultaneous": simultaneous,
    "fastopen-server": fastopen_server,
    "fastopen-client": fastopen_client,
    "udp-echo": udp_echo,
    "udp-ping": udp_ping,
}


def main(argv: list[str]) -> int:
    name, *pairs = argv
    kwargs = dict(p.split("=", 1) for p in pairs)
    PROGRAMS[name](**kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
