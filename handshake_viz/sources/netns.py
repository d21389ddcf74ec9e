"""A private network of the process's own: a new network namespace with its loopback up.

Linux gives each network namespace its own loopback interface, its own ports and its own
``/proc/net/tcp``: a demo, a lesson or a test that moves into one sees only its own traffic
and sockets, never collides with a port another program holds, and cannot disturb anything
else on the machine. Moving needs CAP_SYS_ADMIN (root); where it is missing, callers fall
back to the machine's loopback and say so (`isolate` returns which of the two happened).

The move is for the whole process, done before any thread starts: a network namespace is a
property of each thread, and threads started afterwards inherit the mover's.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct
import threading
from dataclasses import dataclass

from handshake_viz.words.catalog import load

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


class NamespaceError(OSError):
    """The process could not move into a network namespace of its own."""


def _loopback_up() -> None:
    """Bring ``lo`` up in the current namespace (a new one starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def enter_private_network() -> None:
    """Move this process into a new network namespace with ``lo`` up (127.0.0.1 and ::1).

    Raises:
        NamespaceError: not permitted (no CAP_SYS_ADMIN), or other threads already run.
    """
    if threading.active_count() > 1:
        raise NamespaceError("a process must enter its own network before starting threads")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NamespaceError(err, f"cannot make a private network: {os.strerror(err)}")
    _loopback_up()


def namespace_id() -> int:
    """The inode of this process's network namespace: equal for processes that share one."""
    return os.stat("/proc/self/ns/net").st_ino


SHARED_NETWORK_ENV = "HANDSHAKE_VIZ_SHARED_NET"
"""Set (to anything) to keep demos and lessons on the machine's own network, as they run
without the privilege: the tests use it to check that fallback."""


@dataclass(frozen=True, slots=True)
class Network:
    """Where a demo or a lesson runs its sockets, its capture and its kernel view."""

    private: bool
    """True: a network namespace of its own (nothing else can appear, ports never collide)."""
    why_shared: str = ""
    """Why not private, as a catalog key under ``net.why_`` ("env", "root" or "error")."""
    error: str = ""
    """The system's words for the "error" case."""

    def reason(self, lang: str = "en") -> str:
        """Why the network is shared, in `lang` (one clause)."""
        return load(lang).text(
            f"net.why_{self.why_shared}", error=self.error, env=SHARED_NETWORK_ENV
        )


def isolate() -> Network:
    """Move into a private network if we may; else say why and stay on the machine's.

    Call it first thing in a process that will run a demo or a lesson, before any thread.
    """
    if os.environ.get(SHARED_NETWORK_ENV):
        return Network(False, "env")
    try:
        enter_private_network()
    except NamespaceError as exc:
        if exc.errno == errno.EPERM:
            return Network(False, "root")
        return Network(False, "error", exc.strerror or str(exc))
    return Network(True)
