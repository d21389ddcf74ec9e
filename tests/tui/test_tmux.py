"""The real command in a real terminal: `handshake-viz replay FILE` under tmux.

Sends keys, reads the pane with capture-pane, and checks that `q` quits within a second and
leaves the terminal as it found it (main screen, mouse reporting off, cursor shown).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handshake_viz.demo.scenarios import free_port
from tests.helpers.kernel import needs_tracer
from tests.helpers.paths import HTTP_GET
from tests.helpers.tmux import Pane, command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def pane() -> Iterator[Pane]:
    p = Pane()
    try:
        yield p
    finally:
        p.close()


def test_replay_in_tmux_keys_and_clean_quit(pane: Pane) -> None:
    pane.send(command("replay", str(HTTP_GET), "--pause", "30") + "; echo EXIT=$?", "Enter")
    pane.wait_for(lambda t: "SYN seq=0 len=0" in t and "⏸" not in t)
    assert pane.flags()["alternate"] == "1"
    pane.send("space")  # pause
    pane.wait_for(lambda t: "⏸ 1x" in t)
    pane.send("Right")
    pane.wait_for(lambda t: "SYN,ACK seq=0 ack=1 len=0" in t and "2/14 events" in t)
    pane.send("End")
    pane.wait_for(lambda t: "14/14 events" in t and "ACK seq=138 ack=5009" in t)
    pane.send("?")
    pane.wait_for(lambda t: "handshake-viz keys" in t)
    pane.send("Escape")
    pane.wait_for(lambda t: "handshake-viz keys" not in t)
    t0 = time.monotonic()
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=3)
    assert time.monotonic() - t0 < 1.0
    text = pane.text()
    assert "SYN" not in text and "│" not in text  # the TUI left nothing behind
    assert pane.flags() | {"command": ""} == {
        "alternate": "0", "mouse": "0", "cursor": "1", "command": "",
    }  # fmt: skip


def test_the_packet_detail_scrolls_from_the_keyboard_to_its_payload(pane: Pane) -> None:
    pane.send(command("replay", str(HTTP_GET), "--pause", "30"), "Enter")
    pane.wait_for(lambda t: "SYN seq=0 len=0" in t)
    pane.send("End")
    pane.wait_for(lambda t: "14/14 events" in t)
    pane.send(*["Up"] * 10, "Enter")  # the HTTP request, its detail longer than the screen
    pane.wait_for(lambda t: "###[ Ethernet ]###" in t, timeout=15)
    assert "0080 " not in pane.text()
    pane.send("End")  # the payload's last line of hex
    pane.wait_for(lambda t: "0080 " in t and "###[ Ethernet ]###" not in t)
    pane.send("Home")
    pane.wait_for(lambda t: "###[ Ethernet ]###" in t and "0080 " not in t)
    pane.send("PageDown")
    pane.wait_for(lambda t: "###[ Ethernet ]###" not in t)
    pane.send("Escape")
    time.sleep(0.3)  # an Escape right before ↑'s own escape sequence would read as alt+↑
    pane.send("Up")  # the ladder has the keys again
    pane.wait_for(lambda t: "ACK seq=1 ack=1 len=0" in t and "frame 3" in t)
    pane.send("q")


def test_replay_of_a_piped_capture_takes_its_keys_from_the_terminal(pane: Pane) -> None:
    # tcpdump -w - | handshake-viz replay -: the capture on stdin, the keys from the terminal
    pane.send(f"cat {HTTP_GET} | " + command("replay", "-", "--pause", "30") + "; echo EXIT=$?",
              "Enter")  # fmt: skip
    pane.wait_for(lambda t: "SYN seq=0 len=0" in t and "stdin" in t)
    pane.send("End")
    pane.wait_for(lambda t: "14/14 events" in t and "ACK seq=138 ack=5009" in t)
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=3)
    assert "Traceback" not in pane.text()


@pytest.mark.capture
@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("tcpdump") is None or shutil.which("curl") is None,
                    reason="needs tcpdump and curl")  # fmt: skip
def test_tcpdump_piped_into_replay_shows_the_syn_while_tcpdump_still_runs(
    pane: Pane, tmp_path: Path
) -> None:
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18700)
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    tcpdump = f"tcpdump -i lo -U -w - port {port}"
    try:
        assert server.stdout is not None and "Serving HTTP" in server.stdout.readline()
        pane.send(f"{tcpdump} 2>/dev/null | " + command("replay", "-") + "; echo EXIT=$?",
                  "Enter")  # fmt: skip
        pane.wait_for(lambda t: "streaming" in t, timeout=15)
        time.sleep(0.5)  # tcpdump opens its socket after the pipe is there
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                       timeout=10, check=True)  # fmt: skip
        text = pane.wait_for_text(lambda t: "SYN seq=0 len=0" in t and "SYN,ACK" in t)
        running = subprocess.run(["pgrep", "-f", tcpdump], capture_output=True)
        assert running.returncode == 0, "tcpdump ended before the rows were on screen"
        assert "streaming" in text and "reading" not in text
        pane.wait_for(lambda t: "streams 1" in t)  # counted as it arrives, too
        pane.send("q")
        # tcpdump ends at its next write into the closed pipe
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                       timeout=10, check=True)  # fmt: skip
        pane.wait_for(lambda t: "EXIT=0" in t, timeout=10)
        assert "Traceback" not in pane.text()
    finally:
        server.kill()
        server.wait()


@pytest.mark.e2e
@pytest.mark.capture
@pytest.mark.timeout(120)
@needs_tracer
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_live_ladder_shows_curls_and_pythons_calls_and_the_kernels_states(
    pane: Pane, tmp_path: Path
) -> None:
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18900)
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and "Serving HTTP" in server.stdout.readline()
        pane.send(command("live", "--port", str(port), "--no-save") + "; echo EXIT=$?", "Enter")
        pane.wait_for(lambda t: "0 connections" in t, timeout=40)  # after bpftrace compiled
        for _ in range(3):
            subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                           timeout=10, check=True)  # fmt: skip
        # the kernel's states, in the short forms a narrow ladder uses
        pane.wait_for(lambda t: "3 connections" in t and "TIME-WT" in t, timeout=15)
        text = pane.text()
        assert "curl" in text and "connect() → EINPROGRESS" in text  # curl's own calls
        assert f" {server.pid}: accept()" in text  # and the server's, with its pid
        assert "SYN-SENT" in text and "ESTAB" in text
        pane.send("q")
        pane.wait_for(lambda t: "EXIT=0" in t, timeout=10)
    finally:
        server.kill()
        server.wait()
