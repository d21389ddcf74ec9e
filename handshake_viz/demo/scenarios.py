"""The demo scenarios: each pairs the server and client to show one thing about TCP or UDP.

Every scenario is bounded in time (a few seconds at most: `backlog`, which waits for SYN
retransmissions, is the longest) and in traffic (a handful of connections), binds loopback
only, and uses a port below 32768 (the ephemeral range 32768-60999 is where clients' ports
come from): `DEFAULT_PORT` in a private network, else a free one held until the scenario's
server binds it (`demo.ports`).
"""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handshake_viz.core.events import WAITING, SocketEvent, endpoint
from handshake_viz.demo import client as cl
from handshake_viz.demo.ports import DEFAULT_PORT, PORT_TRIES, PortHold
from handshake_viz.demo.server import Server, reply_after_half_close, until_reset
from handshake_viz.demo.tracing import Gate, Recorder, TracedSocket, addr_text, no_gate


@dataclass
class DemoContext:
    """What a scenario run needs: where to report, and where to listen."""

    recorder: Recorder
    host: str
    port: int
    family: int = socket.AF_INET
    gate: Gate = no_gate
    hold: PortHold | None = None
    """Keeps the port from other programs (shared network) until `release_port`."""

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)

    def release_port(self) -> None:
        """Our server is about to bind the port: stop holding it."""
        if self.hold is not None:
            self.hold.release()


@dataclass(frozen=True)
class Scenario:
    """One demo: its name and how to run it (what it teaches, in a line, is the catalogs'
    ``scenario.<name>``, in each language)."""

    name: str
    run: Callable[[DemoContext], None]
    family: int = socket.AF_INET
    proto: str = "tcp"
    listens: bool = True
    """False when nothing may listen on the port (refused)."""

    @property
    def host(self) -> str:
        return "::1" if self.family == socket.AF_INET6 else "127.0.0.1"

    def context(
        self,
        recorder: Recorder,
        port: int | None = None,
        gate: Gate = no_gate,
        hold: PortHold | None = None,
    ) -> DemoContext:
        """A context on the held port, on `port`, or on the first free port from
        `DEFAULT_PORT`."""
        if hold is not None:
            port = hold.port
        elif port is None:
            port = free_port(self.host, self.family, self.proto)
        return DemoContext(recorder, self.host, port, self.family, gate, hold)


def free_port(host: str, family: int, proto: str, start: int = DEFAULT_PORT) -> int:
    """The first port from `start` that nothing is bound to (below 32768).

    A port left in TIME-WAIT counts as free, as it is for a server using SO_REUSEADDR.
    """
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    for port in range(start, min(start + PORT_TRIES, 32768)):
        probes = [(kind, family)]
        if proto == "tcp":  # keep UDP free too: the filter is "port P"
            probes.append((socket.SOCK_DGRAM, family))
        try:
            for k, fam in probes:
                with socket.socket(fam, k) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise OSError(f"no free port in {start}-{start + PORT_TRIES - 1} on {host}")


# -- the scenarios --------------------------------------------------------------------------


def _serve_and(
    ctx: DemoContext, clients: int, run_clients: Callable[[], object], **kw: Any
) -> None:
    """Start a server thread, wait until it listens, run the clients, wait for the server."""
    server = Server(ctx.recorder, ctx.addr, ctx.family, clients=clients, gate=ctx.gate, **kw)
    ctx.release_port()
    server.open()  # listen() happens-before any SYN: in this thread, before the clients run
    thread = threading.Thread(target=server.serve, name="demo-server", daemon=True)
    thread.start()
    try:
        run_clients()
    finally:
        server.done.set()
        thread.join(10)


def basic(ctx: DemoContext) -> None:
    _serve_and(ctx, 1, lambda: cl.echo_client(ctx.recorder, ctx.addr, gate=ctx.gate))


def ipv6(ctx: DemoContext) -> None:
    _serve_and(
        ctx,
        1,
        lambda: cl.echo_client(ctx.recorder, ctx.addr, family=socket.AF_INET6, gate=ctx.gate),
    )


def refused(ctx: DemoContext) -> None:
    # A held port has a bound socket that does not listen: the kernel refuses the SYN as it
    # would on a port where nothing is bound.
    try:
        cl.refused_client(ctx.recorder, ctx.addr, gate=ctx.gate)
    finally:
        ctx.release_port()


CONCURRENT_CLIENTS = 3


def concurrent(ctx: DemoContext) -> None:
    def clients() -> None:
        threads = [
            threading.Thread(
                target=cl.echo_client,
                args=(ctx.recorder, ctx.addr, f"hello from client {i}\n".encode()),
                daemon=True,
            )
            for i in range(1, CONCURRENT_CLIENTS + 1)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)

    _serve_and(ctx, CONCURRENT_CLIENTS, clients)


BACKLOG = 1
BACKLOG_CLIENTS = 4
BACKLOG_WAIT = 2.5
"""Seconds a client whose SYN is dropped keeps trying: Linux retransmits after 1 s, then 2 s."""


def backlog(ctx: DemoContext) -> None:
    def clients() -> None:
        socks: list[TracedSocket] = []

        def one() -> None:
            socks.append(cl.waiting_client(ctx.recorder, ctx.addr, BACKLOG_WAIT, ctx.gate))

        threads = []
        for _ in range(BACKLOG_CLIENTS):
            t = threading.Thread(target=one, daemon=True)
            t.start()
            threads.append(t)
            time.sleep(0.05)  # one at a time, so the queue fills in a readable order
        for t in threads:
            t.join(BACKLOG_WAIT + 5)
        for s in socks:
            s.close()

    _serve_and(ctx, 0, clients, backlog=BACKLOG)


def half_close(ctx: DemoContext) -> None:
    _serve_and(
        ctx,
        1,
        lambda: cl.half_close_client(ctx.recorder, ctx.addr, ctx.gate),
        handler=reply_after_half_close,
    )


def abort(ctx: DemoContext) -> None:
    _serve_and(
        ctx, 1, lambda: cl.abort_client(ctx.recorder, ctx.addr, ctx.gate), handler=until_reset
    )


def udp(ctx: DemoContext) -> None:
    ctx.release_port()
    cl.udp_exchange(ctx.recorder, ctx.addr, ctx.gate)


# -- http: programs written with http.server and urllib, their calls reported from hooks ----


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


def _traced_connection(recorder: Recorder) -> type[http.client.HTTPConnection]:
    class TracedHTTPConnection(http.client.HTTPConnection):
        """urllib's connection with connect, send, recv and close reported."""

        def connect(self) -> None:
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
            body = resp.read()
            # urllib closes the socket itself once the body has been read (the FIN goes out
            # inside read()): one event says both.
            ctx.recorder.add_socket(
                SocketEvent(
                    time.time(),
                    "client",
                    "recv",
                    None,
                    f"{host}:{ctx.port}",
                    f"{len(body)} bytes (HTTP {resp.status}); urllib then closed the socket",
                )
            )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("basic", basic),
        Scenario("refused", refused, listens=False),
        Scenario("concurrent", concurrent),
        Scenario("backlog", backlog),
        Scenario("half-close", half_close),
        Scenario("abort", abort),
        Scenario("udp", udp, proto="udp"),
        Scenario("ipv6", ipv6, family=socket.AF_INET6),
        Scenario("http", http_get),
    )
}
"""Every scenario, in the order ``demo --list`` shows them."""


def get_scenario(name: str) -> Scenario:
    """The scenario called `name`; KeyError names the choices."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(
            f"no scenario {name!r}: choose one of {', '.join(SCENARIOS)} (see demo --list)"
        ) from None
