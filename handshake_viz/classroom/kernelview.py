"""Which of the kernel's sockets are the lesson's, and what the kernel panel says of them.

In a network of its own (`sources.netns`), every socket the kernel lists is the lesson's.
On the machine's shared network, other programs may have sockets on the same port (TIME-WAIT
of an earlier program, for one): `OwnSockets` learns the lesson's own from its socket calls,
so the panel never shows another program's connection as the lesson's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.text import Text

from handshake_viz.classroom.procnet import TIMER_TIME_WAIT, KernelSocket, read_sockets
from handshake_viz.classroom.sockdiag import listen_backlogs, tcp_sockets
from handshake_viz.classroom.sysctls import TIME_WAIT_SECONDS
from handshake_viz.classroom.wrap import wrap
from handshake_viz.core.events import SocketEvent, TcpState
from handshake_viz.demo.tracing import Recorder
from handshake_viz.words.catalog import Catalog

UNSPECIFIED = {"0.0.0.0:0", "[::]:0"}
"""The remote end /proc/net/tcp gives a listening socket."""


class OwnSockets:
    """A `Recorder` that passes every socket call on and remembers the lesson's endpoints.

    Args:
        inner: where the events go (the lesson's merger).
    """

    def __init__(self, inner: Recorder) -> None:
        self.inner = inner
        self.pairs: set[tuple[str, str]] = set()
        """(local, remote) of every connection a lesson's socket made or accepted."""
        self.listening: set[str] = set()
        self._lock = threading.Lock()

    def _note(self, ev: SocketEvent | None) -> SocketEvent | None:
        if ev is not None and ev.proto == "tcp" and ev.local:
            with self._lock:
                if ev.remote:
                    self.pairs.add((ev.local, ev.remote))
                elif ev.call == "listen":
                    self.listening.add(ev.local)
        return ev

    def add_socket(self, event: SocketEvent) -> None:
        self._note(event)
        self.inner.add_socket(event)

    def begin(self, provisional: SocketEvent) -> int:
        return self.inner.begin(provisional)

    def end(self, token: int, build: Callable[[bool], SocketEvent | None]) -> None:
        self.inner.end(token, lambda announced: self._note(build(announced)))

    def owns(self, ks: KernelSocket) -> bool:
        with self._lock:
            if ks.remote in UNSPECIFIED:
                return ks.local in self.listening
            return (ks.local, ks.remote) in self.pairs or (ks.remote, ks.local) in self.pairs


def lesson_sockets(port: int, own: OwnSockets | None) -> list[KernelSocket]:
    """The kernel's sockets of the lesson: on its port, and (shared network) its own.

    Asked over netlink (`sockdiag`: the backlogs too, and far cheaper), else read from
    ``/proc/net/tcp``.
    """
    every = tcp_sockets()
    if every is None:
        socks = read_sockets([port])
    else:
        socks = [ks for ks in every if port in (ks.local_port, ks.remote_port)]
    if own is None:
        return socks
    return [ks for ks in socks if own.owns(ks)]


def kernel_text(
    socks: list[KernelSocket],
    cat: Catalog,
    width: int,
    requested_backlog: int,
    shared_note: str = "",
) -> Text:
    """The kernel panel: each socket on a line or two, the listener's real queue and backlog,
    a SYN queue entry named as such, and TIME-WAIT's countdown."""
    text = Text(cat.text("ui.kernel"), style="bold")
    if shared_note:
        text.append("\n")
        text.append(shared_note, style="italic yellow")
    if not socks:
        text.append("\n")
        text.append(cat.text("ui.kernel_none"), style="dim")
        return Text("\n").join(wrap(text, width))
    needs = any(ks.state == TcpState.LISTEN and ks.backlog is None for ks in socks)
    backlogs = listen_backlogs() if needs else {}
    for ks in socks:
        state = cat.text(f"state.{ks.state.value}")
        line = Text("\n")
        if ks.state == TcpState.LISTEN:
            line.append(f"{ks.local} {state}")
            known = (ks.rx_queue, ks.backlog) if ks.backlog is not None else None
            queued, backlog = known or backlogs.get(ks.local, (ks.rx_queue, requested_backlog))
            line.append("\n  " + cat.text("ui.accept_queue", queue=queued, backlog=backlog))
            if queued > backlog:
                line.append("\n  " + cat.text("ui.accept_queue_full", backlog=backlog,
                                              admitted=backlog + 1), style="yellow")  # fmt: skip
        else:
            line.append(f"{_short(ks.local)} → {_short(ks.remote)} ")
            line.append(state, style="bold")
            if ks.state == TcpState.SYN_RECEIVED:
                line.append(" · " + cat.text("ui.syn_queue"))
            if ks.state == TcpState.TIME_WAIT and ks.timer == TIMER_TIME_WAIT:
                line.append(" " + cat.text("ui.time_wait_left", left=round(ks.timer_left),
                                           total=TIME_WAIT_SECONDS), style="cyan")  # fmt: skip
        text.append_text(line)
    return Text("\n").join(wrap(text, width))


def _short(endpoint: str) -> str:
    """``:9000`` for a loopback endpoint (every lesson's address is loopback)."""
    for loopback in ("127.0.0.1:", "[::1]:"):
        if endpoint.startswith(loopback):
            return ":" + endpoint[len(loopback) :]
    return endpoint
