"""Step mode: one key, one real socket call on loopback, and the reason a key makes no sense.

The teacher plays both programs. The server's keys are l (socket, bind, listen) and a
(accept); the client's are c (connect), s (send a line), w (shutdown writing), x (close) and r
(abort with RST). The server otherwise behaves as the classic echo server would: it echoes what
it reads, answers a half-close with a last line, and closes when the client has gone.

Two layers:
- `StepState` and `availability` are pure: given what exists now, may a key be pressed, and
  if not, why (a catalog key such as ``reason.nothing_waiting``);
- `Stepper` makes the calls through the demo's `TracedSocket`, so every call becomes a
  `SocketEvent` with the same fields and timing rules as the demo's, in the given recorder.
  Every call is bounded: connect and each read wait at most a second or two, accept is only
  offered when select() says a connection is waiting, so a key never hangs the lesson.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handshake_viz.demo.ports import PortHold
from handshake_viz.demo.tracing import Recorder, TracedSocket
from handshake_viz.words.catalog import load

LINE = b"hello, server\n"
BYE = b"bye from the server\n"
CONNECT_TIMEOUT = 3.0
"""Longest connect() waits: loopback answers in well under a millisecond, or refuses; a
lesson that loses the SYN or the SYN-ACK waits for the kernel's retry, one second later."""
READ_TIMEOUT = 1.0
"""Longest a side waits for what the other just sent."""
ABORT_NOTE = "ok (SO_LINGER 0: RST instead of FIN)"


class Action(StrEnum):
    """The keys of step mode; the value is the key."""

    LISTEN = "l"
    ACCEPT = "a"
    CONNECT = "c"
    SEND = "s"
    SHUTDOWN = "w"
    CLOSE = "x"
    ABORT = "r"


SERVER_ACTIONS = (Action.LISTEN, Action.ACCEPT)
CLIENT_ACTIONS = (Action.CONNECT, Action.SEND, Action.SHUTDOWN, Action.CLOSE, Action.ABORT)


class Client(StrEnum):
    """Where the client's socket is."""

    NONE = "none"
    CONNECTED = "connected"
    WRITE_SHUT = "write-shut"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StepState:
    """What exists now: all `availability` needs to decide."""

    listening: bool = False
    waiting: bool = False
    """A finished connection is in the accept queue (select() on the listener says so)."""
    accepted: bool = False
    """The server holds a connection socket for the current client."""
    client: Client = Client.NONE
    port: int = 0


def availability(state: StepState, action: Action) -> tuple[str, dict[str, Any]]:
    """("ok", {}) if `action` makes sense now, else the ``reason.*`` key and its values."""
    if action is Action.LISTEN:
        return ("listening", {"port": state.port}) if state.listening else ("ok", {})
    if action is Action.ACCEPT:
        if not state.listening:
            return "not_listening", {}
        if state.accepted:
            return "accepted", {}
        if not state.waiting:
            return "nothing_waiting", {}
        return "ok", {}
    if action is Action.CONNECT:
        if state.client in (Client.CONNECTED, Client.WRITE_SHUT):
            return "client_open", {}
        return "ok", {}
    open_ = state.client in (Client.CONNECTED, Client.WRITE_SHUT)
    if action is Action.CLOSE:
        return ("ok", {}) if open_ else ("no_client", {})
    if not open_:
        return "not_connected", {}
    if action in (Action.SEND, Action.SHUTDOWN) and state.client is Client.WRITE_SHUT:
        return "write_shut", {}
    return "ok", {}


def reason_text(action: Action, key: str, values: dict[str, Any], lang: str) -> str:
    """The sentence for a reason key, with the action's name in `lang`."""
    cat = load(lang)
    return cat.text(f"reason.{key}", action=cat.text(f"action.{action.value}"), **values)


class Stepper:
    """Real sockets on loopback, one call (or a short sequence) per action.

    Args:
        recorder: where SocketEvents go (a `TimelineMerger`, or a `ListRecorder`).
        port: the server's port (below 32768; see `demo.scenarios.free_port`).
        family: AF_INET (127.0.0.1) or AF_INET6 (::1).
        lang: language of the reasons.
        backlog: what listen() asks for.
        hold: the port, held from other programs until the server binds it (shared network).
        client_mss: the largest segment the client asks for (TCP_MAXSEG, in its SYN), or None
            for loopback's own (64 KiB): a small one makes a burst of data several segments.
    """

    def __init__(
        self,
        recorder: Recorder,
        port: int,
        family: int = socket.AF_INET,
        lang: str = "en",
        backlog: int = 5,
        hold: PortHold | None = None,
        client_mss: int | None = None,
    ) -> None:
        self.recorder = recorder
        self.hold = hold
        self.client_mss = client_mss
        self.port = port
        self.family = family
        self.host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        self.lang = lang
        self.backlog = backlog
        self.listener: TracedSocket | None = None
        self.conn: TracedSocket | None = None
        self.client: TracedSocket | None = None
        self.client_state = Client.NONE
        self.server_saw_eof = False
        self._lock = threading.RLock()

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)

    # -- state -----------------------------------------------------------------------------

    def state(self) -> StepState:
        """What exists now; asks select() whether a connection waits to be accepted."""
        with self._lock:
            waiting = self.listener is not None and readable(self.listener, 0.0)
            return StepState(
                listening=self.listener is not None,
                waiting=waiting,
                accepted=self.conn is not None,
                client=self.client_state,
                port=self.port,
            )

    def available(self, action: Action | str) -> tuple[bool, str]:
        """(True, "") or (False, the reason in the stepper's language)."""
        action = Action(action)
        key, values = availability(self.state(), action)
        if key == "ok":
            return True, ""
        return False, reason_text(action, key, values, self.lang)

    # -- actions ---------------------------------------------------------------------------

    def do(self, action: Action | str) -> tuple[bool, str]:
        """Perform `action` if it makes sense now; (False, reason) if not.

        Failed socket calls are not errors here: they are reported as events (that is what
        the lesson shows, ECONNREFUSED for one) and the state follows them.
        """
        action = Action(action)
        with self._lock:
            ok, reason = self.available(action)
            if not ok:
                return False, reason
            {
                Action.LISTEN: self._listen,
                Action.ACCEPT: self._accept,
                Action.CONNECT: self._connect,
                Action.SEND: self._send,
                Action.SHUTDOWN: self._shutdown,
                Action.CLOSE: self._close,
                Action.ABORT: self._abort,
            }[action]()
            return True, ""

    def _listen(self) -> None:
        ls = TracedSocket(self.recorder, "server", self.family)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.hold is not None:
            self.hold.release()
        try:
            ls.bind(self.addr)
            ls.listen(self.backlog)
        except OSError:  # reported as the failed bind()/listen(); the key stays available
            ls.close()
            return
        self.listener = ls

    def _accept(self) -> None:
        assert self.listener is not None
        conn, _ = self.listener.accept()
        self.conn = conn
        self.server_saw_eof = False
        # Whatever the client already did before the server got here, the server now reads.
        self._server_reacts(wait=0.05)

    def _connect(self) -> None:
        c = TracedSocket(self.recorder, "client", self.family)
        c.settimeout(CONNECT_TIMEOUT)
        if self.client_mss is not None:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, self.client_mss)
        try:
            c.connect(self.addr)
        except OSError:
            c.close()
            self.client, self.client_state = None, Client.CLOSED
            return
        self.client, self.client_state = c, Client.CONNECTED

    def _send(self) -> None:
        assert self.client is not None
        self.client.send(LINE)
        self._server_reacts(wait=READ_TIMEOUT)

    def _shutdown(self) -> None:
        assert self.client is not None
        self.client.shutdown(socket.SHUT_WR)
        self.client_state = Client.WRITE_SHUT
        self._server_reacts(wait=READ_TIMEOUT)

    def _close(self) -> None:
        assert self.client is not None
        self._client_drains()
        self.client.close()
        self.client, self.client_state = None, Client.CLOSED
        if self.conn is not None:
            if not self.server_saw_eof:
                self._server_reacts(wait=READ_TIMEOUT)
            if self.conn is not None:  # it read the end of stream already: it closes too
                self.conn.close()
                self.conn = None

    def _abort(self) -> None:
        assert self.client is not None
        self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client.close(ABORT_NOTE)
        self.client, self.client_state = None, Client.CLOSED
        if self.conn is not None:
            # Even a server that already read the end of stream (after w) learns of the
            # reset: its next read fails with ECONNRESET, and it closes its socket.
            self.server_saw_eof = False
            self._server_reacts(wait=READ_TIMEOUT)

    # -- the server program's reactions ------------------------------------------------------

    def _server_reacts(self, wait: float) -> None:
        """The echo server's loop, bounded: read what is there, echo data; on end of stream
        say bye if the client still reads (half-close), else close; on a reset, close."""
        conn = self.conn
        timeout = wait
        for _ in range(8):
            if conn is None or self.server_saw_eof or not readable(conn, timeout):
                return
            timeout = 0.05
            try:
                data = conn.recv(4096)
            except OSError:  # ECONNRESET after an abort: reported by TracedSocket
                conn.close("ok (the connection was already reset)")
                self.conn = None
                return
            if data:
                conn.send(data)
                self._client_reads()
                continue
            self.server_saw_eof = True
            if self.client_state is Client.WRITE_SHUT:
                conn.send(BYE)  # the client shut down writing only: it still reads
                self._client_reads()
            else:
                conn.close()
                self.conn = None
            return

    def _client_reads(self) -> None:
        if self.client is not None and readable(self.client, READ_TIMEOUT):
            try:
                self.client.recv(4096)
            except OSError:
                pass

    def _client_drains(self) -> None:
        """Read anything unread before close(): closing with unread data sends RST, not FIN."""
        c = self.client
        for _ in range(8):
            if c is None or not readable(c, 0.0):
                return
            try:
                if not c.recv(4096):
                    return
            except OSError:
                return

    # -- end ---------------------------------------------------------------------------------

    def close_all(self) -> None:
        """Close every socket still open (end of the lesson, or of a test); never raises."""
        with self._lock:
            for attr in ("client", "conn", "listener"):
                s: TracedSocket | None = getattr(self, attr)
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
                    setattr(self, attr, None)
            if self.client_state is not Client.NONE:
                self.client_state = Client.CLOSED


def readable(ts: TracedSocket, timeout: float) -> bool:
    """Has `ts` something to read (data, end of stream, an error) within `timeout` s?"""
    try:
        r, _, _ = select.select([ts.sock], [], [], timeout)
    except (OSError, ValueError):
        return False
    return bool(r)


__all__ = [
    "CLIENT_ACTIONS",
    "SERVER_ACTIONS",
    "Action",
    "Client",
    "StepState",
    "Stepper",
    "availability",
    "readable",
    "reason_text",
]  # fmt: skip
