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

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SERVE = """
import argparse, sys
from handshake_viz.cli.serve import run_serve
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
    from handshake_viz.cli.serve import LOOPBACK

    assert "127.0.0.1" in LOOPBACK and "0.0.0.0" not in LOOPBACK


async def _browse(url: str, keys: str, shots: list[bytes]) -> str:
    """Open `url` in headless Chromium (DevTools protocol), wait for the app, take a
    screenshot, type `keys` into the page, take another. Returns the body's classes."""
    import asyncio
    import base64
    import json
    import tempfile

    import aiohttp

    profile = tempfile.mkdtemp(prefix="hv-chromium-")
    port = 9300 + os.getpid() % 500
    chromium = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
         "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=1) as r:
                    tabs = json.load(r)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        ws_url = next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"]
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(ws_url, max_msg_size=0) as ws,
        ):
            ids = iter(range(1, 10_000))

            async def call(method: str, **params: object) -> dict:
                mid = next(ids)
                await ws.send_json({"id": mid, "method": method, "params": params})
                while True:
                    msg = await ws.receive_json()
                    if msg.get("id") == mid:
                        return msg.get("result", {})

            async def shot() -> bytes:
                return base64.b64decode((await call("Page.captureScreenshot"))["data"])

            await call("Page.enable")
            await call("Page.navigate", url=url)
            classes = ""
            deadline = time.monotonic() + 30
            while "-first-byte" not in classes and time.monotonic() < deadline:
                r = await call("Runtime.evaluate", expression="document.body.className")
                classes = r.get("result", {}).get("value", "")
                await asyncio.sleep(0.3)
            await asyncio.sleep(3)  # the app draws its first screen
            shots.append(await shot())
            for kind in ("mousePressed", "mouseReleased"):  # focus the terminal
                await call("Input.dispatchMouseEvent", type=kind, x=300, y=300,
                           button="left", clickCount=1)  # fmt: skip
            for ch in keys:
                code = f"Key{ch.upper()}"
                await call("Input.dispatchKeyEvent", type="keyDown", key=ch, text=ch, code=code)
                await call("Input.dispatchKeyEvent", type="keyUp", key=ch, code=code)
                await asyncio.sleep(2.5)
            shots.append(await shot())
            return classes
    finally:
        chromium.terminate()
        chromium.wait(10)


def _ladder_ink(png: bytes) -> int:
    """Pixels of the ladder area (below its header, above the explanation) that are not the
    background: rows of packets and socket calls draw text and arrows there."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    colours = img.crop((0, 40, w, int(h * 0.5))).getcolors(maxcolors=1 << 20) or []
    return sum(n for n, _ in colours) - max(n for n, _ in colours)  # all but the background


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent "
                    "(scripts/bootstrap.sh installs Debian's chromium)")  # fmt: skip
@pytest.mark.skipif(os.geteuid() != 0, reason="the served classroom captures: needs root")
def test_headless_chromium_shows_the_ladder(served: str, tmp_path: Path) -> None:
    """In a real browser the served app draws; after l (listen) and c (connect), the ladder
    holds the socket calls and the handshake's three arrows."""
    import asyncio

    shots: list[bytes] = []
    classes = asyncio.run(_browse(served, "lc", shots))
    assert "-first-byte" in classes, "the app's output reached the page"
    for i, png in enumerate(shots):
        (tmp_path / f"serve-{i}.png").write_bytes(png)
    before, after = (_ladder_ink(s) for s in shots)
    assert after > before + 8_000, (before, after)
