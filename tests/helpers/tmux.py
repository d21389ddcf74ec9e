"""A real terminal for the real command: a tmux pane on a private socket, its keys and text."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent / "handshake-viz"


def command(*args: str) -> str:
    exe = str(BIN) if BIN.exists() else f"{sys.executable} -m handshake_viz"
    return " ".join([exe, *args])


class Pane:
    """One tmux session running a plain shell, on its own socket (no user tmux is touched)."""

    def __init__(self, width: int = 140, height: int = 36, cwd: Path | None = None) -> None:
        """`cwd`: the shell's folder (default: the test's)."""
        self.socket = f"hv-test-{uuid.uuid4().hex[:8]}"
        where = ["-c", str(cwd)] if cwd is not None else []
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            *where,
            "env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME=/tmp bash --norc --noprofile",
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def flags(self) -> dict[str, str]:
        out = self._tmux(
            "display-message", "-p", "-t", "t",
            "#{alternate_on} #{mouse_any_flag} #{cursor_flag} #{pane_current_command}",
        )  # fmt: skip
        alt, mouse, cursor, cmd = out.split()
        return {"alternate": alt, "mouse": mouse, "cursor": cursor, "command": cmd}

    def wait_for(self, check: Callable[[str], bool], timeout: float = 10.0) -> float:
        """Seconds until check(pane text) holds; fails the test after timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if check(self.text()):
                return time.monotonic() - t0
            time.sleep(0.02)
        raise AssertionError(f"pane never showed what was expected:\n{self.text()}")

    def wait_for_text(self, check: Callable[[str], bool], timeout: float = 10.0) -> str:
        """The pane's text that made check(text) hold; fails the test after timeout."""
        seen: list[str] = []
        self.wait_for(lambda t: check(t) and not seen.append(t), timeout)
        return seen[-1]

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True)
