"""The demo's server: bind, listen, then loop on accept() with a thread per client.

Plain standard-library socket code, as on a whiteboard; `TracedSocket` reports each call.
The loop accepts a known number of clients and stops, so every scenario ends by itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from handshake_viz.demo.tracing import Address, Gate, Recorder, TracedSocket, no_gate

ACCEPT_TIMEOUT = 5.0
"""Seconds accept() waits before the scenario gives up (a client that never came)."""

Handler = Callable[[TracedSocket], None]


def echo(conn: TracedSocket) -> None:
    """Send back whatever arrives until the client closes, then close too."""
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.send(data)
    conn.close()


def reply_after_half_close(conn: TracedSocket) -> None:
    """Read the request until the client shuts down writing, then keep sending: a half-closed
    connection still carries data the other way."""
    while conn.recv(1024):
        pass
    conn.send(b"reply part 1\n")
    conn.send(b"reply part 2\n")
    conn.close()


def until_reset(conn: TracedSocket) -> None:
    """Answer one message, then wait: the client aborts and recv() reports ECONNRESET."""
    data = conn.recv(1024)
    if data:
        conn.send(b"ok\n")
    try:
        conn.recv(1024)
    except ConnectionResetError:
        pass
    conn.close("ok (the connection was already reset)")


@dataclass
class Server:
    """A listening TCP server on loopback.

    Args:
        recorder: where socket events go.
        addr: (host, port) to bind; loopback only.
        family: AF_INET or AF_INET6.
        backlog: listen() backlog: how many finished handshakes the kernel may queue.
        clients: how many connections to accept before closing (0: accept none).
        handler: what to do with each connection, in its own thread.
    """

    recorder: Recorder
    addr: Address
    family: int = socket.AF_INET
    backlog: int = 5
    clients: int = 1
    handler: Handler = echo
    gate: Gate = no_gate
    ready: threading.Event = field(default_factory=threading.Event)
    """Set once listen() returned: clients may connect."""
    done: threading.Event = field(default_factory=threading.Event)
    """Set when the server may close its listening socket (scenarios that never accept)."""
    listener: TracedSocket | None = None

    def open(self) -> None:
        """socket(), bind(), listen(): after this the kernel answers SYNs for us."""
        srv = TracedSocket(self.recorder, "server", self.family, gate=self.gate)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(self.addr)
        srv.listen(self.backlog)
        srv.settimeout(ACCEPT_TIMEOUT)
        self.listener = srv
        self.ready.set()

    def serve(self) -> None:
        """Accept `clients` connections, a thread each, then close the listening socket."""
        if self.listener is None:
            self.open()
        srv = self.listener
        assert srv is not None
        workers = []
        try:
            for _ in range(self.clients):
                conn, _addr = srv.accept()
                conn.settimeout(ACCEPT_TIMEOUT)
                worker = threading.Thread(target=self.handler, args=(conn,), daemon=True)
                worker.start()
                workers.append(worker)
            if not self.clients:
                self.done.wait(ACCEPT_TIMEOUT)
        finally:
            for worker in workers:
                worker.join(ACCEPT_TIMEOUT)
            srv.close()
