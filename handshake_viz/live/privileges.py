"""Capture privileges: check for CAP_NET_RAW, give up root once the socket is open, and hand
the files we write to the user who ran sudo.

Like tcpdump's ``-Z``: the only privileged act is opening the packet socket. Under ``sudo`` we
then become ``SUDO_UID``/``SUDO_GID`` again, so the scenario's sockets, the TUI and every file
run and are owned as the user; run as plain root (CI), nothing changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CAP_NET_RAW = 13

NO_PRIVILEGE_MESSAGE = (
    "capturing packets needs root or CAP_NET_RAW: run with sudo, or grant it once with "
    f"`sudo setcap cap_net_raw+ep {os.path.realpath(sys.executable)}`"
)


def effective_capabilities() -> int:
    """The effective capability mask of this process (0 if /proc is unreadable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def can_capture() -> bool:
    """True if this process may open a packet socket (CAP_NET_RAW in its effective set)."""
    return bool(effective_capabilities() >> CAP_NET_RAW & 1)


def invoking_user() -> tuple[int, int] | None:
    """(uid, gid) of the user who ran sudo, when we are root because of sudo."""
    if os.geteuid() != 0:
        return None
    try:
        uid = int(os.environ["SUDO_UID"])
        gid = int(os.environ.get("SUDO_GID", uid))
    except (KeyError, ValueError):
        return None
    if uid == 0:
        return None
    return uid, gid


def give_to_user(path: Path) -> None:
    """Make `path` owned by the user who ran sudo (no-op otherwise)."""
    user = invoking_user()
    if user is not None:
        try:
            os.chown(path, *user)
        except OSError:
            pass


def drop_root() -> bool:
    """Become the user who ran sudo; True if privileges were dropped.

    Called right after the capture socket is open and the capture file created, before any
    other thread starts (setuid in a threaded process is racy to reason about).
    """
    user = invoking_user()
    if user is None:
        return False
    uid, gid = user
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    return True
