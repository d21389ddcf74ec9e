"""The port a demo or a lesson uses, and keeping it from other programs until it is used.

In a private network (`sources.netns`) nothing else can take a port, so every run uses
`DEFAULT_PORT`: the class sees 9000 every time. On the machine's shared loopback another
program may use 9000, or may take the port between the moment we choose it and the moment
our server binds it. There `hold_free_port` picks a port that no socket uses at all (a port
with other programs' TIME-WAIT sockets is not free: the kernel panel would show them) and
holds it with a bound socket until `PortHold.release`, just before our own ``bind()``.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

DEFAULT_PORT = 9000
PORT_TRIES = 200
PROC_NET = tuple(Path("/proc/net") / name for name in ("tcp", "tcp6", "udp", "udp6"))


class PortHold:
    """A port kept from other programs by bound sockets (TCP and UDP, not listening).

    Nobody else can bind the port while it is held; a SYN to it is answered with RST, as
    for a port where nothing listens (which is what the ``refused`` lesson needs).

    Raises:
        OSError: the port is in use (by a socket, or by TIME-WAIT connections).
    """

    def __init__(self, host: str, family: int, port: int) -> None:
        self.host = host
        self.family = family
        self.port = port
        self._socks: list[socket.socket] = []
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(family, kind)
                self._socks.append(s)
                s.bind((host, port))  # no SO_REUSEADDR: TIME-WAIT on the port makes it fail
        except OSError:
            self.release()
            raise

    @property
    def held(self) -> bool:
        return bool(self._socks)

    def release(self) -> None:
        """Free the port for our own server's ``bind()``; idempotent."""
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.close()
        self._socks.clear()


def ports_in_use(files: tuple[Path, ...] = PROC_NET) -> set[int]:
    """Every port at either end of a TCP or UDP socket the kernel lists, TIME-WAIT included."""
    used: set[int] = set()
    for path in files:
        try:
            lines = path.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            with contextlib.suppress(IndexError, ValueError):
                used.add(int(fields[1].rpartition(":")[2], 16))
                used.add(int(fields[2].rpartition(":")[2], 16))
    return used


def hold_free_port(host: str, family: int, start: int = DEFAULT_PORT) -> PortHold:
    """Hold the first port from `start` (below 32768) that no socket of any state uses, at
    either end: a lesson's kernel panel must not open on other programs' connections.

    Raises:
        OSError: none free in `PORT_TRIES` ports.
    """
    used = ports_in_use()
    for port in range(start, min(start + PORT_TRIES, 32768)):
        if port in used:
            continue
        try:
            return PortHold(host, family, port)
        except OSError:
            continue
    raise OSError(f"no free port in {start}-{start + PORT_TRIES - 1} on {host}")
