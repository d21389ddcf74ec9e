"""Where the traced sockets listened, and when: `ListenerLog`."""

from __future__ import annotations

from handshake_viz.core.events import SocketEvent, endpoint, split_endpoint
from handshake_viz.core.listeners import ListenerLog


def call(
    t: float,
    call: str,
    local: str | None,
    remote: str | None = None,
    result: str = "ok",
    errno: int | None = None,
    proto: str = "tcp",
) -> SocketEvent:
    return SocketEvent(t, "server", call, local, remote, result, errno, proto)


def test_a_listener_listens_from_listen_until_its_close() -> None:
    log = ListenerLog()
    assert not log.listening("127.0.0.1", 9000, 1.0)  # nothing traced: nothing listens
    log.add(call(1.0, "listen", "127.0.0.1:9000", result="backlog 5"))
    assert log.listening("127.0.0.1", 9000, 1.5)
    assert not log.listening("127.0.0.1", 9000, 0.5)  # before listen()
    assert not log.listening("127.0.0.1", 9001, 1.5)
    assert not log.listening("127.0.0.2", 9000, 1.5)
    # An accepted connection's socket has the same local endpoint; its close is not the end.
    log.add(call(2.0, "close", "127.0.0.1:9000", remote="127.0.0.1:40000"))
    assert log.listening("127.0.0.1", 9000, 2.5)
    log.add(call(3.0, "close", "127.0.0.1:9000"))
    assert log.listening("127.0.0.1", 9000, 2.9) and not log.listening("127.0.0.1", 9000, 3.1)


def test_failed_calls_udp_and_wildcards() -> None:
    log = ListenerLog()
    log.add(call(1.0, "listen", "127.0.0.1:9000", result="EINVAL", errno=22))
    log.add(call(1.0, "listen", "127.0.0.1:9001", proto="udp"))
    assert not log.listening("127.0.0.1", 9000, 2.0)
    assert not log.listening("127.0.0.1", 9001, 2.0)
    log.add(call(1.0, "listen", "[::]:9002"))
    assert log.listening("::1", 9002, 2.0) and log.listening("127.0.0.1", 9002, 2.0)
    log.add(call(1.0, "listen", "[::1]:9003"))
    assert log.listening("::1", 9003, 2.0) and not log.listening("127.0.0.1", 9003, 2.0)


def test_endpoints_written_and_read_back() -> None:
    assert endpoint("127.0.0.1", 80) == "127.0.0.1:80" and endpoint("::1", 443) == "[::1]:443"
    assert split_endpoint("127.0.0.1:80") == ("127.0.0.1", 80)
    assert split_endpoint("[::1]:443") == ("::1", 443)
    assert split_endpoint("nonsense") is None
