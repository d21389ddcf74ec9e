"""Every example of the README, run as written after the Quick start's two commands.

Each line of each ```sh block is one example, run verbatim by bash in a folder as `make demo`
leaves the checkout (`tests/helpers/readme.py`; the Makefile's own targets in the checkout).
How each one is judged depends on what it is:

- a command that ends by itself: exit 0, no traceback;
- one that opens the TUI: in tmux, until its screen shows, then `q`, exit 0;
- one that runs until stopped (a server, `tcpdump |`): its output checked while it runs,
  with traffic made for it on loopback, then stopped;
- a long one (the benches, the fuzzer, the test suites): still running, or done with exit 0,
  after a bounded time; `make test` itself is skipped, since this test is part of it.

An example that fits none of these fails: a new example needs a way to be run here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.live import needs_capture
from tests.helpers.paths import ROOT
from tests.helpers.readme import Example, end, examples, get, quickstart_folder, shell, wait_port
from tests.helpers.tmux import Pane

pytestmark = [
    pytest.mark.e2e,
    needs_capture,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("sudo") is None, reason="scripts/bootstrap.sh installs sudo"),
]

EXAMPLES = examples()
HTTP_PORT = 8000
BOUNDED = 20.0
"""Seconds a long example runs here (it must not fail within them)."""
IN_CHECKOUT = ("make ", ".venv/bin/pytest ")
"""Examples of the Makefile and the test suite run in the checkout itself."""
TUI_SCREEN = ("events", "事件")
"""Words of the status bar: the TUI is on screen."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quickstart_folder(tmp_path_factory.mktemp("quickstart"))


@pytest.fixture(scope="module")
def web(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """The README's `python3 -m http.server 8000` (its own example starts it the same way)."""
    proc = shell(f"exec python3 -m http.server {HTTP_PORT} --bind 127.0.0.1", folder)
    wait_port(HTTP_PORT)
    yield proc
    end(proc)


@pytest.fixture
def pane(folder: Path) -> Iterator[Pane]:
    p = Pane(cwd=folder)
    try:
        yield p
    finally:
        p.close()


def opens_tui(cmd: str) -> bool:
    if cmd == "make demo":
        return True
    if "handshake-viz" not in cmd and "handshake_viz" not in cmd:
        return False
    words = cmd.split()
    if any(w in words for w in ("--print", "--list", "--handout", "--mermaid", "serve", "graph")):
        return False
    return not cmd.endswith("&")


def traffic(seconds: float) -> None:
    """GET requests to the README's http.server for `seconds`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        get(HTTP_PORT)
        time.sleep(0.2)


def run_tui(example: Example, pane: Pane, cwd: Path) -> None:
    cmd = example.command
    where = f"cd {ROOT} && " if cmd.startswith(IN_CHECKOUT) else ""
    pane.send(f"{where}{cmd}; echo EXIT=$?", "Enter")
    if "port 8000" in cmd or "--port 8000" in cmd:
        for _ in range(20):  # packets to show (a capture shows nothing without them)
            time.sleep(0.5)
            get(HTTP_PORT)
            if any(w in pane.text() for w in TUI_SCREEN):
                break
    pane.wait_for(lambda t: any(w in t for w in TUI_SCREEN), timeout=60)
    if "port 8000" in cmd:
        pane.wait_for(lambda t: "SYN" in t, timeout=10)
    pane.send("q")
    if "tcpdump" in cmd:
        time.sleep(0.5)
        get(HTTP_PORT)  # tcpdump writes once more into the closed pipe, and ends
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=20)
    text = pane.text()
    assert "Traceback" not in text and "internal error" not in text, text


def run_to_end(example: Example, cwd: Path, timeout: float = 180) -> str:
    proc = shell(example.command, cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = end(proc)
        raise AssertionError(f"{example} did not end in {timeout} s:\n{err[-2000:]}") from None
    assert proc.returncode == 0, f"{example}: exit {proc.returncode}\n{err[-2000:]}"
    assert "Traceback" not in err and "internal error" not in err, err
    return out


def run_bounded(example: Example) -> None:
    proc = shell(example.command, ROOT)
    try:
        out, err = proc.communicate(timeout=BOUNDED)
    except subprocess.TimeoutExpired:
        end(proc, signal.SIGINT)  # still going after BOUNDED seconds, as a long one does
        return
    assert proc.returncode == 0, f"{example}: exit {proc.returncode}\n{(out + err)[-3000:]}"


def run_streaming(example: Example, cwd: Path) -> None:
    """`tcpdump ... | handshake-viz replay - --print`: rows as the packets come."""
    proc = shell(example.command, cwd)
    time.sleep(1.5)  # tcpdump opens its socket
    traffic(2.0)
    out, err = end(proc)
    assert "SYN seq=0" in out and "127.0.0.1:8000" in out, err
    assert "Traceback" not in err, err


def run_count(example: Example, cwd: Path) -> None:
    """`live --print --count 20`: ends by itself after 20 packets of the traffic made here."""
    proc = shell(example.command, cwd)
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 60:
        time.sleep(0.3)
        get(HTTP_PORT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert sum(1 for x in lines if x["type"] == "packet") == 20
    assert "Traceback" not in err


def run_serve(example: Example, cwd: Path) -> None:
    proc = shell(example.command, cwd)
    wait_port(8008, timeout=30)
    page = get(8008)
    out, err = end(proc, signal.SIGINT)
    assert b" 200 " in page.split(b"\r\n")[0], page[:200]
    assert "127.0.0.1:8008" in out + err and "Traceback" not in err, err


@pytest.mark.timeout(360)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"L{e.line} {e.command}")
def test_readme_example_runs_as_written(
    example: Example, folder: Path, web: subprocess.Popen[str], pane: Pane
) -> None:
    cmd = example.command
    if cmd == "make test":
        pytest.skip("this test is part of make test")
    if cmd.endswith("&"):  # the server the live examples watch: the `web` fixture, the same
        assert web.poll() is None and b"Directory listing" in get(HTTP_PORT)
        return
    if cmd.startswith(("make bench", "make fuzz", ".venv/bin/pytest")):
        if cmd == "make bench-tui" and shutil.which("termshark") is None:
            pytest.skip("make bench-tui installs termshark from the network first, which the "
                        "suite's own network namespace does not reach")  # fmt: skip
        run_bounded(example)
        return
    if cmd == "make lint":
        run_to_end(example, ROOT, timeout=280)
        return
    if "serve" in cmd.split():
        run_serve(example, folder)
        return
    if "tcpdump" in cmd and "--print" in cmd:
        run_streaming(example, folder)
        return
    if "--count" in cmd:
        run_count(example, folder)
        return
    if opens_tui(cmd):
        before = set((ROOT / "captures").iterdir())
        try:
            run_tui(example, pane, folder)
        finally:  # `make demo` saves its capture in the checkout: not this test's to keep
            for new in set((ROOT / "captures").iterdir()) - before:
                new.unlink()
        return
    out = run_to_end(example, folder)
    if "--handout" in cmd:
        assert list((folder / "out").glob("handout-basic-zh.html"))
    if "--output" in cmd:
        assert (folder / cmd.split("--output ")[1].split()[0]).stat().st_size > 0
    if "--mermaid" in cmd:
        assert (folder / cmd.split("> ")[1].split()[0]).read_text().startswith("sequenceDiagram")
    if "jq" in cmd:
        assert out and all(json.loads(x)["phase"] == "request" for x in out.splitlines())


def test_every_example_is_found() -> None:
    """The extraction itself: the Quick start first, every block's lines, no comment left."""
    assert [e.command for e in EXAMPLES[:2]] == ["make demo", "make test"]
    assert len(EXAMPLES) >= 30 and not any("#" in e.command.split("'")[0] for e in EXAMPLES)
    assert os.path.basename(__file__) in (ROOT / "README.md").read_text()
