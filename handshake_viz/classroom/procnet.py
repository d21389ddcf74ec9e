"""The kernel's own view of TCP sockets, from ``/proc/net/tcp`` and ``/proc/net/tcp6``.

The tracker infers each end's state from the packets; the kernel *knows* it. Showing both
side by side lets a class see, for instance, a listening socket whose accept queue fills up
although nobody called accept(), or a client socket sitting in TIME-WAIT after close().

`parse` is a pure function of the file's text; `read_sockets` reads the files. On Linux the
``rx_queue`` of a LISTEN socket is the length of its accept queue (connections the kernel
finished and accept() has not taken yet). The backlog limit itself is not in these files
(``ss -lnt`` gets it over netlink); the stepper knows the one it asked listen() for.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from handshake_viz.core.events import TcpState, endpoint

PROC_FILES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
"""Units of ``tm->when`` per second (USER_HZ)."""
TIMER_TIME_WAIT = 3

KERNEL_STATES: dict[int, str] = {
    0x01: "ESTABLISHED",
    0x02: "SYN_SENT",
    0x03: "SYN_RECV",
    0x04: "FIN_WAIT1",
    0x05: "FIN_WAIT2",
    0x06: "TIME_WAIT",
    0x07: "CLOSE",
    0x08: "CLOSE_WAIT",
    0x09: "LAST_ACK",
    0x0A: "LISTEN",
    0x0B: "CLOSING",
    0x0C: "NEW_SYN_RECV",
}
"""The kernel's names (include/net/tcp_states.h), by the hex code in the ``st`` column."""

RFC_STATES: dict[str, TcpState] = {
    "ESTABLISHED": TcpState.ESTABLISHED,
    "SYN_SENT": TcpState.SYN_SENT,
    "SYN_RECV": TcpState.SYN_RECEIVED,
    "NEW_SYN_RECV": TcpState.SYN_RECEIVED,  # a request socket: the handshake's middle
    "FIN_WAIT1": TcpState.FIN_WAIT_1,
    "FIN_WAIT2": TcpState.FIN_WAIT_2,
    "TIME_WAIT": TcpState.TIME_WAIT,
    "CLOSE": TcpState.CLOSED,
    "CLOSE_WAIT": TcpState.CLOSE_WAIT,
    "LAST_ACK": TcpState.LAST_ACK,
    "LISTEN": TcpState.LISTEN,
    "CLOSING": TcpState.CLOSING,
}
"""Kernel state name -> the RFC 9293 name the tracker and the ladder use."""


class ProcNetError(ValueError):
    """A line of /proc/net/tcp that does not read as one."""


@dataclass(frozen=True, slots=True)
class KernelSocket:
    """One row of /proc/net/tcp[6]: a socket as the kernel sees it."""

    local: str
    """"addr:port", IPv6 as "[addr]:port" (as the JSONL writes endpoints)."""
    remote: str
    """The peer, or "0.0.0.0:0" / "[::]:0" for a listening socket."""
    local_port: int
    remote_port: int
    kernel_state: str
    """The kernel's name (LISTEN, SYN_RECV, TIME_WAIT, ...)."""
    state: TcpState
    """The same state with its RFC name."""
    tx_queue: int
    """Bytes sent and not yet acknowledged (0 for LISTEN)."""
    rx_queue: int
    """Bytes received and not yet read; for LISTEN, the accept queue's length."""
    inode: int
    """0 for sockets no process owns any more (TIME-WAIT, orphans)."""
    timer: int = 0
    """Which timer runs (``tr``): 0 none, 1 retransmission, 2 keepalive, 3 TIME-WAIT,
    4 zero-window probe."""
    timer_left: float = 0.0
    """Seconds until that timer fires (``tm->when``, in clock ticks): for TIME-WAIT, how
    long the connection still has."""
    backlog: int | None = None
    """A listening socket's backlog, where it was asked over netlink (`sockdiag`)."""

    @property
    def accept_queue(self) -> int | None:
        """Connections waiting for accept() (LISTEN sockets only)."""
        return self.rx_queue if self.state == TcpState.LISTEN else None

    @property
    def key(self) -> tuple[str, str]:
        return (self.local, self.remote)


def decode_address(text: str) -> tuple[str, int]:
    """``0100007F:2328`` -> ("127.0.0.1", 9000); IPv6 as 32 hex digits, four host-order words.

    The kernel prints each 32-bit word of the address in host byte order.
    """
    addr_hex, _, port_hex = text.partition(":")
    raw = bytes.fromhex(addr_hex)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, struct.pack("=I", *struct.unpack(">I", raw)))
    elif len(raw) == 16:
        words = struct.unpack(">4I", raw)
        host = socket.inet_ntop(socket.AF_INET6, struct.pack("=4I", *words))
    else:
        raise ProcNetError(f"bad address {text!r}")
    return host, int(port_hex, 16)


def parse(text: str) -> list[KernelSocket]:
    """The sockets listed in the text of /proc/net/tcp or /proc/net/tcp6 (header skipped)."""
    out: list[KernelSocket] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[0] == "sl":
            continue
        try:
            lhost, lport = decode_address(fields[1])
            rhost, rport = decode_address(fields[2])
            code = int(fields[3], 16)
            tx_hex, _, rx_hex = fields[4].partition(":")
            tr_hex, _, when_hex = fields[5].partition(":")
            kernel = KERNEL_STATES.get(code, f"0x{code:02X}")
            out.append(
                KernelSocket(
                    local=endpoint(lhost, lport),
                    remote=endpoint(rhost, rport),
                    local_port=lport,
                    remote_port=rport,
                    kernel_state=kernel,
                    state=RFC_STATES.get(kernel, TcpState.CLOSED),
                    tx_queue=int(tx_hex, 16),
                    rx_queue=int(rx_hex, 16),
                    inode=int(fields[9]),
                    timer=int(tr_hex, 16),
                    timer_left=int(when_hex, 16) / CLOCK_TICKS,
                )
            )
        except (ValueError, struct.error, OSError) as exc:
            raise ProcNetError(f"cannot read /proc/net/tcp line {line.strip()!r}: {exc}") from None
    return out


def read_sockets(
    ports: Iterable[int] | None = None, files: Iterable[Path] = PROC_FILES
) -> list[KernelSocket]:
    """The kernel's TCP sockets (IPv4 and IPv6) with an end on one of `ports` (None: all).

    A missing file (no IPv6 in this kernel, no /proc) gives no sockets rather than an error.
    """
    wanted = None if ports is None else set(ports)
    out: list[KernelSocket] = []
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for ks in parse(text):
            if wanted is None or ks.local_port in wanted or ks.remote_port in wanted:
                out.append(ks)
    return out
