"""Which endpoints a traced server listened on, and when: what a SYN alone cannot tell.

Packets alone cannot say whether anything listens where a SYN goes until the answer comes
(a SYN-ACK, or a RST: refused), and the tracker is one pass, so from packets alone it assumes
the server end is in LISTEN. Where the demo's or the classroom's own sockets are traced, their
listen() and the close() of the listening socket say it exactly, with timestamps on the same
clock as the packets' (CLOCK_REALTIME): the tracker asks `ListenerLog.listening` at each SYN.

Pure code: socket events in, answers out.
"""

from __future__ import annotations

import threading

from handshake_viz.core.events import WAITING, SocketEvent, split_endpoint

_ANY = {"0.0.0.0", "::"}


class ListenerLog:
    """listen() and close() calls of traced TCP sockets, as intervals per endpoint.

    Thread-safe: the traced sockets report from their threads, the tracker asks from its own.
    """

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], float] = {}
        """Endpoints listening now, and since when."""
        self._closed: list[tuple[str, int, float, float]] = []
        """Endpoints that listened: (addr, port, from, until)."""
        self._lock = threading.Lock()

    def add(self, event: SocketEvent) -> None:
        """Take in one socket event (any call; only a TCP listen() and close() count)."""
        if event.proto != "tcp" or event.local is None or event.errno is not None:
            return
        if event.call not in ("listen", "close") or event.result == WAITING:
            return
        endpoint = split_endpoint(event.local)
        if endpoint is None:
            return
        with self._lock:
            if event.call == "listen":
                self._open.setdefault(endpoint, event.time)
            elif event.remote is None and endpoint in self._open:  # the listener itself
                since = self._open.pop(endpoint)
                self._closed.append((*endpoint, since, event.time))

    def listening(self, addr: str, port: int, at: float) -> bool:
        """Did a traced socket listen on `addr`:`port` at time `at`?"""
        with self._lock:
            spans = [(a, p, since, float("inf")) for (a, p), since in self._open.items()]
            return any(
                p == port and (a == addr or a in _ANY) and since <= at <= until
                for a, p, since, until in spans + self._closed
            )
