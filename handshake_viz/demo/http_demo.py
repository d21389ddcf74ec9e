"""The http scenario: programs written with http.server and urllib, their socket calls
reported from hooks in the standard library's classes (they own their sockets).

The client's calls are the ones urllib makes: socket() and connect() (inside
`socket.create_connection`), send() of the request, the read of the response, and the close()
that sends its FIN once the body is read (urllib hands the socket to the response, which
closes it when the body is complete).
"""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from handshake_viz.core.events import WAITING, SocketEvent, endpoint
from handshake_viz.demo.tracing import Recorder, addr_text

if TYPE_CHECKING:
    from handshake_viz.demo.scenarios import DemoContext


class _Hello(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a short text body; logs nothing."""

    recorder: Recorder

    def do_GET(self) -> None:
        body = b"hello from http.server\n"
        self.recorder.add_socket(
            _event("server", "recv", self.connection, f"request: GET {self.path}")
        )
        ev = _event("server", "send", self.connection, f"response: 200 OK, {len(body)} bytes body")
        token = self.recorder.begin(ev)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        finally:
            self.recorder.end(token, lambda announced: None if announced else ev)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _event(side: str, call: str, sock: socket.socket | None, result: str) -> SocketEvent:
    local = remote = None
    if sock is not None:
        try:
            local = addr_text(sock.getsockname())
            remote = addr_text(sock.getpeername())
        except OSError:
            pass
    return SocketEvent(time.time(), side, call, local, remote, result)


class _TracedHTTPServer(http.server.ThreadingHTTPServer):
    """http.server with its socket calls reported: bind, listen, accept, close."""

    daemon_threads = True
    block_on_close = True

    def __init__(self, ctx: DemoContext) -> None:
        self.recorder = ctx.recorder
        self.address_family = ctx.family
        handler = type("Hello", (_Hello,), {"recorder": ctx.recorder})
        self.recorder.add_socket(SocketEvent(time.time(), "server", "socket", result="ok"))
        super().__init__(ctx.addr, handler)

    def server_bind(self) -> None:
        t0 = time.time()
        super().server_bind()
        self.recorder.add_socket(
            SocketEvent(t0, "server", "bind", addr_text(self.socket.getsockname()), result="ok")
        )

    def server_activate(self) -> None:
        t0 = time.time()
        super().server_activate()
        self.recorder.add_socket(
            SocketEvent(
                t0,
                "server",
                "listen",
                addr_text(self.socket.getsockname()),
                result=f"backlog {self.request_queue_size}",
            )
        )

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        conn, addr = super().get_request()
        self.recorder.add_socket(
            _event("server", "accept", conn, f"new socket from {addr_text(addr)}")
        )
        return conn, addr

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        ev = _event("server", "close", request, "ok")
        token = self.recorder.begin(ev)
        try:
            super().shutdown_request(request)
        finally:
            self.recorder.end(token, lambda announced: None if announced else ev)


def _traced_response(recorder: Recorder) -> type[http.client.HTTPResponse]:
    class TracedHTTPResponse(http.client.HTTPResponse):
        """urllib's response, with the client's read of it and its close() reported."""

        def __init__(self, sock: socket.socket, *args: Any, **kw: Any) -> None:
            super().__init__(sock, *args, **kw)
            self.ends = (addr_text(sock.getsockname()), addr_text(sock.getpeername()))

        def _close_conn(self) -> None:
            """Called once the body is read: the response read, then the socket's last
            reference closed (its FIN)."""
            if self.fp is None:
                return
            raw = len(f"HTTP/1.{self.version % 10} {self.status} {self.reason}\r\n\r\n")
            raw += sum(len(f"{k}: {v}\r\n") for k, v in self.headers.items())
            body = int(self.headers.get("Content-Length") or 0)
            recv = SocketEvent(time.time(), "client", "recv", *self.ends,
                               f"{raw + body} bytes (HTTP {self.status})")  # fmt: skip
            recorder.add_socket(recv)
            close = SocketEvent(time.time(), "client", "close", *self.ends, "ok")
            token = recorder.begin(close)
            try:
                super()._close_conn()  # type: ignore[misc]
            finally:
                recorder.end(token, lambda announced: None if announced else close)

    return TracedHTTPResponse


def _traced_connection(recorder: Recorder) -> type[http.client.HTTPConnection]:
    class TracedHTTPConnection(http.client.HTTPConnection):
        """urllib's connection with socket, connect, send, recv and close reported."""

        response_class = _traced_response(recorder)

        def connect(self) -> None:
            # socket.create_connection makes the socket just before it connects it
            recorder.add_socket(SocketEvent(time.time(), "client", "socket", result="ok"))
            provisional = SocketEvent(
                time.time(), "client", "connect", None, endpoint(self.host, self.port), WAITING
            )
            token = recorder.begin(provisional)
            t0 = provisional.time
            try:
                super().connect()
            finally:
                sock = self.sock

                def build(announced: bool) -> SocketEvent:
                    ev = _event("client", "connect", sock, "ok" if sock else "failed")
                    if not announced and sock is not None:
                        ev.time = t0
                    return ev

                recorder.end(token, build)

        def send(self, data: bytes) -> None:  # type: ignore[override]
            if self.sock is None and self.auto_open:
                self.connect()  # reported as connect(), before the request it carries
            ev = _event("client", "send", self.sock, f"{len(data)} bytes")
            token = recorder.begin(ev)
            try:
                super().send(data)
            finally:
                recorder.end(token, lambda announced: None if announced else ev)

    return TracedHTTPConnection


def http_get(ctx: DemoContext) -> None:
    ctx.release_port()
    server = _TracedHTTPServer(ctx)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        conn_class = _traced_connection(ctx.recorder)

        class Handler(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request):  # type: ignore[no-untyped-def]
                return self.do_open(conn_class, req)

        opener = urllib.request.build_opener(Handler)
        host = f"[{ctx.host}]" if ":" in ctx.host else ctx.host
        with opener.open(f"http://{host}:{ctx.port}/", timeout=5) as resp:
            resp.read()  # its recv() and close() are reported as the body completes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
