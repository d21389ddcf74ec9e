"""What each width keeps, in the real command under tmux at 80x24, 120x35 and 200x50: every
connection's server port in the connections list, server calls on the server's side, FIN
arrows with their ack, stream 20000 whole (the Pilot tests in test_widths.py say why)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.craft import syns_from_ports
from tests.helpers.graphs import LOOPBACK
from tests.helpers.paths import DATA
from tests.helpers.tmux import Pane, command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SIZES = [(80, 24), (120, 35), (200, 50)]
KERNEL_VIEW = DATA / "kernel" / "curl-http-server.pcapng"
"""curl and python3's http.server, with their calls: three connections to port 8000."""


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def pane(request: pytest.FixtureRequest) -> Iterator[Pane]:
    width, height = request.param
    p = Pane(width, height)
    try:
        yield p
    finally:
        p.close()


def ladder_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.count("│") >= 2]


def test_server_calls_keep_their_side_and_fin_arrows_their_ack(pane: Pane) -> None:
    pane.send(command("replay", str(KERNEL_VIEW), "--pause", "30"), "Enter")
    pane.wait_for(lambda t: "69 events" in t)
    pane.send("End")
    pane.wait_for(lambda t: "69/69 events" in t)
    rows: list[str] = []
    for _ in range(8):  # page up from the last row to the first
        rows += ladder_rows(pane.text())
        pane.send("PageUp")
        time.sleep(0.3)
    # The server's calls (this capture, recorded earlier, saved one of python3's shutdown()
    # calls on the client's side: the kernel's view now puts such a call on the server's)
    # (the ladder's column alone: beside it the connections list names python3 too)
    server_calls = [c for c in (r.split("│")[1] for r in rows)
                    if "python3" in c and re.search(r"(accept|recvfrom|sendto)\(", c)]  # fmt: skip
    assert any("accept()" in c for c in server_calls), rows
    for call in server_calls:
        assert call.rstrip().endswith(" ●") and not call.startswith("python3"), call
    fins = [r for r in rows if "FIN" in r]
    assert len({r.split()[0] for r in fins}) == 6, fins  # two of each connection
    assert all("ack=" in r for r in fins), fins
    pane.send("q")


def test_every_connections_server_port_is_in_the_list(pane: Pane) -> None:
    pane.send(command("replay", str(LOOPBACK), "--pause", "30"), "Enter")
    pane.wait_for(lambda t: "4 connections" in t or "streams 4" in t, timeout=20)
    pane.send("1")
    text = pane.wait_for_text(lambda t: "4 connections" in t)
    listed = [line for line in text.splitlines() if re.search(r"tcp \d ", line)]
    assert len(listed) == 4, text
    for line, port in zip(listed, (5001, 5002, 5002, 5003), strict=True):
        assert re.search(rf"→ \S*:{port}\b", line), line
    pane.send("Escape")
    header = pane.wait_for_text(lambda t: "servers" in t)
    assert ":5001 :5002 :5003" in header
    pane.send("q")


def test_stream_20000_is_shown_whole(pane: Pane, tmp_path: Path) -> None:
    capture = tmp_path / "syns.pcap"
    capture.write_bytes(syns_from_ports(20001))
    pane.send(command("replay", str(capture), "--pause", "30"), "Enter")
    pane.wait_for(lambda t: "20,001 events" in t and "reading" not in t, timeout=60)
    pane.send("End")
    text = pane.wait_for_text(lambda t: "20,001/20,001" in t and "SYN-SENT" in t)
    assert re.search(r"[^\d]20000 +SYN-SENT│", text), text
    assert re.search(r"[^\d]19999 +SYN-SENT│", text), text
    pane.send("q")
