"""What the kernel already holds when its view begins: the watched ports' sockets and states
(``/proc/net/tcp``, ``tcp6``), and the processes that own them (``/proc/PID/fd``).

A server started before ``live`` listened before any tracepoint could see it: without this,
its accept() would not be watched (its process is not yet known to use the port) and a SYN
to it would look refused.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from handshake_viz.core.events import StateEvent, TcpState, endpoint, split_endpoint
from handshake_viz.sources.kernel.view import KERNEL_STATES, S


@dataclass(frozen=True, slots=True)
class KernelSocket:
    """One row of /proc/net/tcp on a watched port."""

    local: str
    remote: str
    state: TcpState
    inode: int
    """0 for a socket no process holds (TIME-WAIT, an orphan)."""


def _addr(hex_addr: str, v6: bool) -> str:
    raw = bytes.fromhex(hex_addr)
    if not v6:
        return ".".join(str(b) for b in raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def _rows(path: Path, v6: bool) -> Iterable[KernelSocket]:
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        parts = line.split()
        if len(parts) < 10:
            continue
        (la, lp), (ra, rp) = (p.split(":") for p in parts[1:3])
        state = KERNEL_STATES.get(int(parts[3], 16))
        if state is None:
            continue
        yield KernelSocket(
            endpoint(_addr(la, v6), int(lp, 16)),
            endpoint(_addr(ra, v6), int(rp, 16)),
            state,
            int(parts[9]),
        )


def watched_sockets(ports: Iterable[int], proc: Path = Path("/proc")) -> list[KernelSocket]:
    """The TCP sockets of this network namespace with a watched port at either end."""
    watched = {str(p) for p in ports}
    out = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        for s in _rows(proc / "net" / name, v6):
            if s.local.rsplit(":", 1)[1] in watched or s.remote.rsplit(":", 1)[1] in watched:
                out.append(s)
    return out


def owners(inodes: Iterable[int], proc: Path = Path("/proc")) -> dict[int, tuple[int, str]]:
    """The process (pid, name) holding each socket inode, where one does."""
    wanted = {f"socket:[{i}]": i for i in inodes if i}
    found: dict[int, tuple[int, str]] = {}
    if not wanted:
        return found
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        fd_dir = Path(entry.path) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            inode = wanted.get(target)
            if inode is not None and inode not in found:
                try:
                    comm = (Path(entry.path) / "comm").read_text().strip()
                except OSError:
                    comm = "?"
                found[inode] = (int(entry.name), comm)
    return found


def seed_states(
    sockets: Iterable[tuple[str, str, TcpState]], at: float, ports: Iterable[int]
) -> list[StateEvent]:
    """State events for the sockets that were there when the view began (``old`` None)."""
    watched = frozenset(ports)
    out = []
    for local, remote, state in sockets:
        end = split_endpoint(remote)
        lport = (split_endpoint(local) or ("", 0))[1]
        if state is S.LISTEN or end is None or end[1] == 0:
            out.append(StateEvent(at, local, None, None, state, side="server"))
            continue
        side = "server" if lport in watched and end[1] not in watched else "client"
        out.append(StateEvent(at, local, remote, None, state, side=side))
    return out
