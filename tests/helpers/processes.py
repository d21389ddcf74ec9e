"""The processes a command leaves: everything in its session, found in /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def session_members(sid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in session `sid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if stat[0] != "Z" and int(stat[3]) == sid:
            found.append((int(entry.name), cmdline.strip()))
    return found


def child_running(parent: int, needle: str) -> int | None:
    """The pid of a live child of `parent` whose command line holds `needle`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if int(stat[1]) == parent and needle in cmdline and stat[0] != "Z":
            return int(entry.name)
    return None


def wait_for_child(proc: subprocess.Popen, needle: str, timeout: float = 30) -> int:
    """Wait until `proc` has a child whose command line holds `needle`; its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = child_running(proc.pid, needle)
        if pid is not None:
            return pid
        if proc.poll() is not None:
            raise AssertionError(f"the command ended (status {proc.returncode}) before {needle}")
        time.sleep(0.002)
    raise AssertionError(f"no child process {needle} within {timeout} s")


def left_after_kill(proc: subprocess.Popen, within: float = 5.0) -> list[tuple[int, str]]:
    """SIGKILL `proc` (started with start_new_session); what of its session is still running
    `within` seconds later (then killed, so a failing test leaves nothing behind)."""
    sid = proc.pid
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + within
    left = session_members(sid)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = session_members(sid)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left
