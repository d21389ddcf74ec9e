"""Capture privileges: check for CAP_NET_RAW, and give up what is not needed once the
packet socket is open.

Like tcpdump's ``-Z``: the only privileged act is opening the packet socket (and, for a
lesson, making its network namespace). Under ``sudo`` we then become ``SUDO_UID``/``SUDO_GID``
again, so the scenario's sockets, the TUI and every file run as the user. As plain root (no
sudo user to become) the process keeps uid 0, so it can still write root's files, but drops
every capability from its effective, permitted and bounding sets and sets no-new-privileges:
it can no longer open packet sockets, override file permissions, or regain either by running
a program.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

CAP_NET_RAW = 13

NO_PRIVILEGE = "source.error.no_privilege"
"""The catalog message saying capturing needs root or CAP_NET_RAW, and how to get it."""


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


_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> bool:
    """As plain root: keep uid 0 but give up every capability, for good; True if done.

    The bounding set is emptied first (so no program this process runs regains them), then
    the effective, permitted and inheritable sets; no-new-privileges stops set-uid programs.
    """
    if os.geteuid() != 0 or effective_capabilities() == 0:
        return False
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = 40
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(last + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        return False
    return effective_capabilities() == 0


def drop_privileges() -> str:
    """Give up what capturing no longer needs: become the sudo user, or as plain root drop
    every capability. Returns what was done ("user", "capabilities" or "" for nothing)."""
    if drop_root():
        return "user"
    if drop_capabilities():
        return "capabilities"
    return ""
