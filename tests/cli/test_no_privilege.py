"""Bare `handshake-viz` without the capture privilege: the bundled capture, replayed, and the
screen says so from the start (a notice and the status bar), not only after `q`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.helpers.tmux import Pane, command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                       reason="dropping CAP_NET_RAW for the command needs root and setpriv"),
]  # fmt: skip

NO_NET_RAW = "setpriv --bounding-set=-net_raw --inh-caps=-net_raw -- "


@pytest.fixture
def pane() -> Iterator[Pane]:
    p = Pane()
    try:
        yield p
    finally:
        p.close()


@pytest.mark.parametrize(
    "lang,notice,status",
    [("en", ("no capture privilege", "bundled capture basic.pcap, not live"),
      "(bundled capture, replayed"),
     ("zh", ("没有抓包权限", "正在回放自带的抓包文件"), "自带抓包文件的回放")],
)  # fmt: skip
def test_the_bundled_replay_says_so_on_screen_from_the_start(
    pane: Pane, lang: str, notice: tuple[str, ...], status: str
) -> None:
    pane.send(NO_NET_RAW + command("--lang", lang) + "; echo EXIT=$?", "Enter")
    # the toast, and the status bar: on screen while the first packets are
    pane.wait_for(lambda t: all(n in t for n in notice) and status in t and "SYN" in t,
                  timeout=20)  # fmt: skip
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=5)
