"""Sockets that report every call they make, so the class sees calls and packets on one line.

`TracedSocket` wraps a standard ``socket.socket``; the demo's server and client read like
ordinary socket code (``s.bind(addr)``, ``s.listen(1)``, ``conn, addr = s.accept()``) and each
call becomes a `SocketEvent` with the time it belongs at:

- calls that make packets while they run (``connect``, ``send``, ``shutdown``, ``close``)
  are stamped when they start, so ``connect()`` stands before its SYN; a ``connect()`` that
  fails is stamped when it returns, so ECONNREFUSED stands beside the RST that caused it;
- calls that wait for the peer (``accept``, ``recv``, ``recvfrom``) are stamped when they
  return, so ``accept()`` comes after the ACK that completed the handshake.

The recorder (the live merger, or a plain list) puts the events in order with the packets.
"""

from __future__ import annotations

import errno as errno_mod
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from handshake_viz.core.events import WAITING, SocketEvent, endpoint

T = TypeVar("T")
"""What a wrapped socket call returns."""

Address = tuple[Any, ...]


class Recorder(Protocol):
    """Where socket events go (`handshake_viz.sources.live.merge.TimelineMerger` is one)."""

    def add_socket(self, event: SocketEvent) -> None: ...

    def begin(self, provisional: SocketEvent) -> int: ...

    def end(self, token: int, build: Callable[[bool], SocketEvent | None]) -> None: ...


class ListRecorder:
    """Keeps events in a list: for runs without capture, and for tests."""

    def __init__(self) -> None:
        self.events: list[SocketEvent] = []
        self._lock = threading.Lock()

    def add_socket(self, event: SocketEvent) -> None:
        with self._lock:
            self.events.append(event)

    def begin(self, provisional: SocketEvent) -> int:
        return 0

    def end(self, token: int, build: Callable[[bool], SocketEvent | None]) -> None:
        event = build(False)
        if event is not None:
            self.add_socket(event)

    def sorted(self) -> list[SocketEvent]:
        return sorted(self.events, key=lambda e: e.time)


Gate = Callable[[str, str], None]
"""Called with (side, call) before each call: the classroom step mode waits there for a key."""


def no_gate(side: str, call: str) -> None:
    """Run every call at once."""


def addr_text(addr: Address | None) -> str | None:
    """ "127.0.0.1:9000", or "[::1]:9000" for IPv6, as the JSONL writes endpoints."""
    if not addr:
        return None
    return endpoint(str(addr[0]), addr[1])


def errno_name(exc: OSError) -> tuple[str, int | None]:
    """A failed call's result word and errno ("ECONNREFUSED", 111).

    The program's own timeout (``settimeout``) ran out: "ETIMEDOUT" with no errno, for no
    system call failed; the kernel gave up by itself (a SYN retried ``tcp_syn_retries``
    times): "ETIMEDOUT" with errno 110. The explanations tell the two apart by that.
    """
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return "ETIMEDOUT", None
    code = exc.errno
    if code is None:
        return type(exc).__name__, None
    return errno_mod.errorcode.get(code, str(code)), code


class TracedSocket:
    """A socket whose calls are reported to a `Recorder`.

    Args:
        recorder: where events go.
        side: "server" or "client".
        family: AF_INET or AF_INET6.
        kind: SOCK_STREAM or SOCK_DGRAM.
        sock: wrap this already open socket (what ``accept()`` returned) instead.
        gate: called before each call (step mode).
    """

    def __init__(
        self,
        recorder: Recorder,
        side: str,
        family: int = socket.AF_INET,
        kind: int = socket.SOCK_STREAM,
        sock: socket.socket | None = None,
        gate: Gate = no_gate,
        remote: Address | None = None,
    ) -> None:
        self.recorder = recorder
        self.side = side
        self.gate = gate
        self.proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
        self.remote: str | None = addr_text(remote)
        self.local: str | None = None
        if sock is None:
            gate(side, "socket")
            t0 = time.time()
            sock = socket.socket(family, kind)
            self._event("socket", t0, "ok")
        else:
            self.local = addr_text(sock.getsockname())
        self.sock = sock

    # -- reporting ---------------------------------------------------------------------------

    def _event(
        self,
        call: str,
        t: float,
        result: str | None,
        errno: int | None = None,
        remote: str | None = None,
    ) -> SocketEvent:
        ev = SocketEvent(
            time=t,
            side=self.side,
            call=call,
            local=self.local,
            remote=remote if remote is not None else self.remote,
            result=result,
            errno=errno,
            proto=self.proto,
        )
        self.recorder.add_socket(ev)
        return ev

    def _learn_local(self) -> None:
        try:
            self.local = addr_text(self.sock.getsockname())
        except OSError:
            pass

    def _instant(self, call: str, fn: Callable[[], Any], ok: Callable[[Any], str]) -> Any:
        """A call that makes no packet: stamped when it starts."""
        self.gate(self.side, call)
        t0 = time.time()
        try:
            value = fn()
        except OSError as exc:
            word, code = errno_name(exc)
            self._event(call, t0, word, code)
            raise
        self._learn_local()
        self._event(call, t0, ok(value))
        return value

    def _causing(
        self, call: str, fn: Callable[[], T], ok: Callable[[T], str], late_failure: bool
    ) -> T:
        """A call that sends packets while it runs: stamped when it starts (see module doc)."""
        self.gate(self.side, call)
        t0 = time.time()
        provisional = SocketEvent(
            t0, self.side, call, self.local, self.remote, WAITING, None, self.proto
        )
        token = self.recorder.begin(provisional)
        outcome: list[Any] = []
        try:
            value = fn()
            outcome.append(value)
            return value
        except OSError as exc:
            outcome.append(exc)
            raise
        finally:
            t1 = time.time()
            self._learn_local()

            def build(announced: bool) -> SocketEvent:
                result = outcome[0] if outcome else None
                failed = isinstance(result, OSError)
                when = t1 if announced or (failed and late_failure) else t0
                if isinstance(result, OSError):
                    word, code = errno_name(result)
                    return SocketEvent(
                        when, self.side, call, self.local, self.remote, word, code, self.proto
                    )
                text = ok(cast(T, result)) if outcome else "interrupted"
                return SocketEvent(
                    when, self.side, call, self.local, self.remote, text, None, self.proto
                )

            self.recorder.end(token, build)

    def _waiting(
        self,
        call: str,
        fn: Callable[[], T],
        ok: Callable[[T], str],
        peer: Callable[[T], Address] | None = None,
    ) -> T:
        """A call that waits for the peer: stamped when it returns. `peer` gives the remote
        end from the call's value (accept(): the new connection's client)."""
        self.gate(self.side, call)
        try:
            value = fn()
        except OSError as exc:
            word, code = errno_name(exc)
            self._event(call, time.time(), word, code)
            raise
        t1 = time.time()
        self._learn_local()
        self._event(call, t1, ok(value), remote=None if peer is None else addr_text(peer(value)))
        return value

    # -- the socket API ---------------------------------------------------------------------

    def setsockopt(self, level: int, name: int, value: int | bytes) -> None:
        """Not reported: options make no packet; the call they change says what they did."""
        self.sock.setsockopt(level, name, value)

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def bind(self, addr: Address) -> None:
        self._instant("bind", lambda: self.sock.bind(addr), lambda _: "ok")

    def listen(self, backlog: int) -> None:
        self._instant("listen", lambda: self.sock.listen(backlog), lambda _: f"backlog {backlog}")

    def accept(self) -> tuple[TracedSocket, Address]:
        def ok(value: tuple[socket.socket, Address]) -> str:
            return f"new socket from {addr_text(value[1])}"

        conn, addr = self._waiting("accept", self.sock.accept, ok, lambda value: value[1])
        return TracedSocket(self.recorder, self.side, sock=conn, gate=self.gate, remote=addr), addr

    def connect(self, addr: Address) -> None:
        self.remote = addr_text(addr)
        self._causing("connect", lambda: self.sock.connect(addr), lambda _: "ok", True)

    def send(self, data: bytes) -> int:
        """``sendall``: the whole message, reported as one send."""
        self._causing("send", lambda: self.sock.sendall(data), lambda _: f"{len(data)} bytes", True)
        return len(data)

    def recv(self, size: int) -> bytes:
        def ok(data: bytes) -> str:
            return f"{len(data)} bytes" if data else "0 bytes (end of stream)"

        return self._waiting("recv", lambda: self.sock.recv(size), ok)

    def sendto(self, data: bytes, addr: Address) -> int:
        self.remote = addr_text(addr)
        return self._causing(
            "sendto", lambda: self.sock.sendto(data, addr), lambda n: f"{n} bytes", True
        )

    def recvfrom(self, size: int) -> tuple[bytes, Address]:
        def ok(value: tuple[bytes, Address]) -> str:
            self.remote = addr_text(value[1])
            return f"{len(value[0])} bytes from {self.remote}"

        return self._waiting("recvfrom", lambda: self.sock.recvfrom(size), ok)

    def shutdown(self, how: int) -> None:
        word = {socket.SHUT_WR: "SHUT_WR", socket.SHUT_RD: "SHUT_RD"}.get(how, "SHUT_RDWR")
        self._causing("shutdown", lambda: self.sock.shutdown(how), lambda _: f"ok ({word})", True)

    def close(self, note: str = "ok") -> None:
        self._causing("close", self.sock.close, lambda _: note, True)

    def fileno(self) -> int:
        return self.sock.fileno()
