"""The README's examples: each line of its ```sh blocks, and a folder as the Quick start
leaves it (`.venv`, `captures/basic.pcap`) to run them in without touching the checkout."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.paths import ROOT

README = ROOT / "README.md"


@dataclass(frozen=True)
class Example:
    """One command of the README, as written (its trailing comment apart)."""

    command: str
    line: int
    """Its line in README.md."""

    def __str__(self) -> str:
        return self.command


def examples(readme: Path = README) -> list[Example]:
    """Every command line of every ```sh block, in order."""
    text = readme.read_text(encoding="utf-8")
    found: list[Example] = []
    for block in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M):
        first = text[: block.start(1)].count("\n") + 1
        for i, line in enumerate(block.group(1).splitlines()):
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                found.append(Example(command, first + i))
    return found


def quickstart_folder(where: Path) -> Path:
    """A folder as `make demo` leaves the checkout, for the examples that write files: the
    venv (its bin/ a folder of its own, so a file an example adds there stays here) and the
    bundled capture."""
    venv = where / ".venv"
    (venv / "bin").mkdir(parents=True)
    for entry in (ROOT / ".venv").iterdir():
        if entry.name == "bin":
            continue
        if entry.name == "pyvenv.cfg":
            shutil.copy(entry, venv / entry.name)
        else:
            (venv / entry.name).symlink_to(entry)
    for entry in (ROOT / ".venv" / "bin").iterdir():
        (venv / "bin" / entry.name).symlink_to(entry)
    (where / "captures").mkdir()
    shutil.copy(ROOT / "captures" / "basic.pcap", where / "captures" / "basic.pcap")
    return where


def shell(command: str, cwd: Path) -> subprocess.Popen[str]:
    """`command` in bash, in a process group of its own (ended with `end`)."""
    return subprocess.Popen(["bash", "-c", command], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=environment())  # fmt: skip


def environment() -> dict[str, str]:
    """A user's environment: no PYTHONPATH (the venv's own package runs), sbin for setcap."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON"))}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return env


def end(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[str, str]:
    """Signal `proc`'s process group (its own, from `shell`), then its output."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()


def get(port: int, path: str = "/") -> bytes:
    """One HTTP GET on loopback (its packets are what the live examples show)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def wait_port(port: int, timeout: float = 10) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")
