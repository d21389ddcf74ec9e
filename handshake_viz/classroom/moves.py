"""Steps of a lesson that the seven keys cannot make: several clients, UDP, a burst of data.

A guided step names one of `MOVES` (``"crowd.connect"``) where a free-mode step names a key.
Every move is real socket code through the demo's `TracedSocket`, so each call joins the
packets on the ladder; every socket stays open until a later step closes it, so what a step
asks the class to look at (a full accept queue, three connections beside one listening
socket) is still in the kernel panel while the step's words are on screen. Every wait is
bounded: a connect by the kernel's own SYN retries (it runs in a thread of its own), a read
by `stepper.READ_TIMEOUT`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from handshake_viz.classroom.stepper import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Stepper,
    readable,
)
from handshake_viz.demo.tracing import TracedSocket

BURST_BYTES = 1600
"""One send() of this many bytes: with the client's MSS of 200 (`Script.client_mss`), nine
segments, enough for three duplicate ACKs after one of the first is lost."""
BACKGROUND_WAIT = 3.0
"""Longest a step waits for a connect running in the background (a SYN retried each second
is answered within one second once the accept queue has room)."""


class Bench:
    """What a lesson has beyond the stepper's server and client: more clients (`clients`,
    with the server's sockets for them in `conns`) and a pair of UDP sockets."""

    def __init__(self, stepper: Stepper) -> None:
        self.stepper = stepper
        self.clients: list[TracedSocket] = []
        self.conns: list[TracedSocket] = []
        self.background: list[threading.Thread] = []
        self.udp_server: TracedSocket | None = None
        self.udp_client: TracedSocket | None = None
        self.udp_peer: tuple[str, int] | None = None
        """Where the client's datagram came from: where the server's reply goes."""
        self._lock = threading.Lock()

    # -- more clients ----------------------------------------------------------------------

    def connect(self) -> None:
        """One more client connects (the kernel finishes the handshake before it returns)."""
        st = self.stepper
        c = TracedSocket(st.recorder, "client", st.family)
        c.settimeout(CONNECT_TIMEOUT)
        try:
            c.connect(st.addr)
        except OSError:
            c.close()
            return
        self.clients.append(c)

    def connect_in_background(self) -> None:
        """One more client connects with no timeout of its own, in a thread: while its SYN
        goes unanswered the kernel retries on its own timer and connect() waits."""
        st = self.stepper
        c = TracedSocket(st.recorder, "client", st.family)
        with self._lock:
            self.clients.append(c)

        def run() -> None:
            with contextlib.suppress(OSError):  # reported by TracedSocket
                c.connect(st.addr)

        t = threading.Thread(target=run, name="lesson-connect", daemon=True)
        self.background.append(t)
        t.start()

    def wait_background(self, timeout: float = BACKGROUND_WAIT) -> None:
        for t in self.background:
            t.join(timeout)
        self.background = [t for t in self.background if t.is_alive()]

    def accept_all(self) -> None:
        """The server accepts every connection waiting in the accept queue."""
        ls = self.stepper.listener
        while ls is not None and readable(ls, 0.05):
            conn, _ = ls.accept()
            conn.settimeout(READ_TIMEOUT)
            self.conns.append(conn)

    def send_all(self) -> None:
        """Each client sends a line; the server echoes it on that client's connection."""
        for i, (c, conn) in enumerate(zip(self.clients, self.conns, strict=False), 1):
            c.send(f"hello from client {i}\n".encode())
            if readable(conn, READ_TIMEOUT):
                conn.send(conn.recv(4096))
            if readable(c, READ_TIMEOUT):
                c.recv(4096)

    def close_clients(self) -> None:
        """Each client closes; the server reads the end of stream and closes its side."""
        for c in self.clients:
            c.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                if readable(conn, READ_TIMEOUT):
                    conn.recv(4096)
            conn.close()
        self.clients, self.conns = [], []

    def close_listener(self) -> None:
        """The server closes its listening socket: what is still queued is reset."""
        st = self.stepper
        if st.listener is not None:
            st.listener.close()
            st.listener = None

    def accept_and_wait(self) -> None:
        """``a`` (accept), then wait for a connect the free room lets through."""
        ok, reason = self.stepper.do("a")
        if not ok:
            raise RuntimeError(reason)
        self.wait_background()

    # -- UDP -------------------------------------------------------------------------------

    def udp_bind(self) -> None:
        st = self.stepper
        if st.hold is not None:
            st.hold.release()
        self.udp_server = TracedSocket(st.recorder, "server", st.family, socket.SOCK_DGRAM)
        self.udp_server.settimeout(READ_TIMEOUT)
        self.udp_server.bind(st.addr)

    def udp_send(self) -> None:
        st = self.stepper
        self.udp_client = TracedSocket(st.recorder, "client", st.family, socket.SOCK_DGRAM)
        self.udp_client.settimeout(READ_TIMEOUT)
        self.udp_client.sendto(b"ping\n", st.addr)
        if self.udp_server is not None:
            _data, peer = self.udp_server.recvfrom(1024)
            self.udp_peer = (str(peer[0]), int(peer[1]))

    def udp_reply(self) -> None:
        server, client, peer = self.udp_server, self.udp_client, self.udp_peer
        if server is None or client is None or peer is None:
            raise RuntimeError("the client has not sent a datagram yet")
        server.sendto(b"pong\n", peer)
        client.recvfrom(1024)

    def udp_close(self) -> None:
        for s in (self.udp_client, self.udp_server):
            if s is not None:
                s.close()
        self.udp_client = self.udp_server = None

    # -- a burst of data -------------------------------------------------------------------

    def burst(self) -> None:
        """The client sends `BURST_BYTES` in one call (several segments when its MSS is
        small); the server reads them all."""
        st = self.stepper
        client, conn = st.client, st.conn
        if client is None or conn is None:
            raise RuntimeError("connect and accept first")
        client.send(b"".join(f"line {i:>3} ".encode() + b"." * 90 + b"\n"
                             for i in range(BURST_BYTES // 100)))  # fmt: skip
        got = 0
        while got < BURST_BYTES and readable(conn, READ_TIMEOUT):
            data = conn.recv(65536)
            if not data:
                break
            got += len(data)

    # -- end -------------------------------------------------------------------------------

    def close_all(self) -> None:
        """Close everything this bench opened; a connect still waiting is aborted (shutdown
        wakes a connect() blocked in another thread, close() alone would not)."""
        for c in self.clients:
            with contextlib.suppress(OSError):
                c.sock.shutdown(socket.SHUT_RDWR)
        self.wait_background(1.0)
        for s in [*self.clients, *self.conns, self.udp_client, self.udp_server]:
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()
        self.clients, self.conns = [], []
        self.udp_client = self.udp_server = None


MOVES: dict[str, Callable[[Bench], None]] = {
    "crowd.connect": Bench.connect,
    "crowd.connect_background": Bench.connect_in_background,
    "crowd.accept_and_wait": Bench.accept_and_wait,
    "crowd.accept_all": Bench.accept_all,
    "crowd.send_all": Bench.send_all,
    "crowd.close_clients": Bench.close_clients,
    "crowd.close_listener": Bench.close_listener,
    "udp.bind": Bench.udp_bind,
    "udp.send": Bench.udp_send,
    "udp.reply": Bench.udp_reply,
    "udp.close": Bench.udp_close,
    "burst": Bench.burst,
}
"""Every move a guided step may name, by name."""
