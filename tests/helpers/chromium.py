"""Headless Chromium driven over the DevTools protocol, with tabs of their own.

Each tab records what its page's websockets receive (a script added before the page loads
wraps ``WebSocket``): for a textual-serve page that is the app's screen output, so a test can
look for the text the app drew without reading pixels. Chromium runs with a fresh profile
and no network of its own besides loopback; it is stopped (and its profile removed) by
`close`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
    "--window-size=1400,900",
)  # fmt: skip
RECORD_SOCKETS = """
window.__hv = [];
(() => {
  const Real = window.WebSocket;
  const decoder = new TextDecoder();
  function Recorded(url, protocols) {
    const ws = protocols === undefined ? new Real(url) : new Real(url, protocols);
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") window.__hv.push(ev.data);
      else if (ev.data instanceof ArrayBuffer) window.__hv.push(decoder.decode(ev.data));
      else if (ev.data && ev.data.text) ev.data.text().then((t) => window.__hv.push(t));
    });
    return ws;
  }
  Recorded.prototype = Real.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[k] = Real[k];
  window.WebSocket = Recorded;
})();
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


class Tab:
    """One page, over its own DevTools websocket."""

    def __init__(self, browser: Chromium, target: dict[str, Any]) -> None:
        self.browser = browser
        self.target = target
        self._ws: Any = None
        self._ids = iter(range(1, 1_000_000))

    async def connect(self) -> None:
        self._ws = await self.browser.session.ws_connect(
            self.target["webSocketDebuggerUrl"], max_msg_size=0
        )
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_SOCKETS)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        mid = next(self._ids)
        await self._ws.send_json({"id": mid, "method": method, "params": params})
        while True:
            msg = await self._ws.receive_json()
            if msg.get("id") == mid:
                return msg.get("result", {})

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")

    async def wait_for_app(self, timeout: float = 30.0) -> None:
        """Until the app's first screen reached the page."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "-first-byte" in (await self.evaluate("document.body.className") or ""):
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"the app never drew in {self.target.get('url')}")

    async def text(self) -> str:
        """Everything the app sent this page, escape sequences removed."""
        raw = await self.evaluate("window.__hv ? window.__hv.join('') : ''") or ""
        return ESCAPES.sub("", raw)

    async def focus(self) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=300, y=200,
                            button="left", clickCount=1)  # fmt: skip

    async def press(self, key: str) -> None:
        """One key: a letter, or "Space"."""
        text = " " if key == "Space" else key
        code = key if key == "Space" else f"Key{key.upper()}"
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=text, text=text, code=code)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=text, code=code)

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.call("Page.captureScreenshot"))["data"])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.browser.http(f"/json/close/{self.target['id']}")
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()


class Chromium:
    """A headless Chromium with a fresh profile; `tab` opens pages."""

    def __init__(self) -> None:
        import aiohttp

        self.profile = Path(tempfile.mkdtemp(prefix="hv-chromium-"))
        self.proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close_now()
                raise AssertionError("chromium did not start")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])
        self.session = aiohttp.ClientSession()
        self.tabs: list[Tab] = []

    def http(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body.strip().startswith((b"{", b"[")) else body

    async def tab(self, url: str) -> Tab:
        """A new page at `url`, its websockets recorded from the start."""
        target = self.http("/json/new?about:blank", method="PUT")
        tab = Tab(self, target)
        await tab.connect()
        await tab.open(url)
        self.tabs.append(tab)
        return tab

    async def close(self) -> None:
        for tab in self.tabs:
            await tab.close()
        await self.session.close()
        self.close_now()

    def close_now(self) -> None:
        """End Chromium and every process it started (its own group), then its profile."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # its helpers may write a moment longer
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(self.profile, ignore_errors=True)


def screenshot(page: Path, png: Path, size: tuple[int, int] = (900, 1400),
               env: dict[str, str] | None = None, timeout: float = 90) -> None:  # fmt: skip
    """A PNG of a local page as headless Chromium draws it (`env`: the browser's environment,
    a fontconfig of the test's own for instance). Chromium runs in a process group of its
    own with a fresh profile; both are gone when this returns."""
    profile = Path(tempfile.mkdtemp(prefix="hv-shot-"))
    argv = [str(CHROMIUM), *FLAGS[:-1], f"--user-data-dir={profile}",
            f"--window-size={size[0]},{size[1]}", f"--screenshot={png}",
            page.resolve().as_uri()]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})}, start_new_session=True)  # fmt: skip
    try:
        proc.wait(timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    if not png.exists():
        raise RuntimeError(f"chromium drew no {png.name} (exit {proc.returncode})")
