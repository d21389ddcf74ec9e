"""The demo scenarios: each pairs the server and client to show one thing about TCP or UDP.

Every scenario is bounded in time (a few seconds at most: `backlog`, which waits for SYN
retransmissions, is the longest) and in traffic (a handful of connections), binds loopback
only, and uses a port below 32768 (the ephemeral range 32768-60999 is where clients' ports
come from): `DEFAULT_PORT` in a private network, else a free one held until the scenario's
server binds it (`demo.ports`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handshake_viz.demo import client as cl
from handshake_viz.demo.http_demo import http_get
from handshake_viz.demo.ports import DEFAULT_PORT, PORT_TRIES, PortHold
from handshake_viz.demo.server import Server, reply_after_half_close, until_reset
from handshake_viz.demo.tracing import Gate, Recorder, TracedSocket, no_gate


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
