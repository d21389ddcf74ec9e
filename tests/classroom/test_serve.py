"""`serve`: the classroom page answers on 127.0.0.1; headless Chromium renders it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SERVE = """
import argparse, sys
from handshake_viz.classroom.serve import run_serve
sys.exit(run_serve(argparse.Namespace(host=sys.argv[2], port=int(sys.argv[1]),
                                      scenario="basic", lang="en")))
"""


@pytest.fixture
def served(port: int) -> Iterator[str]:
    """``serve`` on 127.0.0.1:`port` in a subprocess, killed at the end."""
    # A session of its own: the app processes textual-serve starts per page die with it.
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port), "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {proc.stderr.read()!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_serve_answers_on_loopback(served: str) -> None:
    with urllib.request.urlopen(served, timeout=5) as resp:
        body = resp.read().decode()
    assert resp.status == 200
    assert "handshake-viz classroom" in body and "textual.js" in body


def test_no_warning_on_loopback_and_a_warning_elsewhere() -> None:
    from handshake_viz.classroom.serve import LOOPBACK

    assert "127.0.0.1" in LOOPBACK and "0.0.0.0" not in LOOPBACK


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent "
                    "(apt-get install -y chromium; scripts/bootstrap.sh should install it)")
def test_headless_chromium_renders_the_page(served: str, tmp_path: Path) -> None:
    shot = tmp_path / "serve.png"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
         "--virtual-time-budget=5000", f"--screenshot={shot}", served],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 5000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
