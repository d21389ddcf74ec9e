"""``live`` on programs the project did not write (curl against ``python -m http.server``),
and what a capture killed with SIGKILL leaves behind."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from handshake_viz.core.pcapfile import read_records
from handshake_viz.demo.scenarios import free_port
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.live import (
    ROOT,
    cli_env,
    event_packets,
    needs_capture,
    needs_tcpdump,
    pcap_frames,
    tshark_packets,
)

pytestmark = [needs_capture, pytest.mark.timeout(60)]


def parse_line(line: str) -> dict | None:
    """A JSONL event, or None for the last line a SIGKILL cut in the middle of its write."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def start_live(reap, *args: str):
    """``handshake-viz live ARGS --print --format jsonl``, returned once it is capturing."""
    p = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "live", *args, "--print", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=cli_env(),
    )
    reap.append(p)
    line = p.stderr.readline()
    if "kernel's view" in line:  # it starts first (the kernel's view section of the README)
        line = p.stderr.readline()
    assert "capturing on lo" in line, line
    return p


@needs_tcpdump
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_curl_against_http_server_matches_tcpdump(host, tmp_path, tcpdump, reap):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = free_port(host, family, "tcp", start=18000)
    (tmp_path / "hello.txt").write_text("hello\n")
    server = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            str(port),
            "--bind",
            host,
            "--directory",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reap.append(server)
    assert "Serving HTTP" in server.stdout.readline()
    ours = tmp_path / "live.pcap"
    live = start_live(reap, "--port", str(port), "--save", str(ours), "--duration", "20")
    dump = tcpdump([port])
    url = f"http://[{host}]:{port}/hello.txt" if ":" in host else f"http://{host}:{port}/hello.txt"
    for _ in range(2):
        out = subprocess.run(
            ["curl", "-sg", url], capture_output=True, text=True, timeout=10, check=False
        )
        assert out.stdout == "hello\n"
    time.sleep(0.3)
    live.send_signal(signal.SIGINT)  # Ctrl-C: a clean end, exit 0
    stdout, stderr = live.communicate(timeout=10)
    assert live.returncode == 0, stderr
    theirs = dump.stop()
    events = [json.loads(line) for line in stdout.splitlines()]
    reported = event_packets(events)
    assert len(reported) >= 20  # two connections: handshake, request, response, teardown
    assert Counter(reported) == Counter(tshark_packets(theirs))
    assert Counter(pcap_frames(ours)) == Counter(pcap_frames(theirs))
    streams = {e["stream"] for e in events if e["type"] == "packet"}
    assert streams == {0, 1}
    assert all(e["src"] == host for e in events if e["type"] == "packet")


@contextmanager
def echo_traffic(port: int) -> Iterator[None]:
    """Connections to a local echo server while the block runs (threads of the test process)."""
    stop = threading.Event()
    srv = socket.create_server(("127.0.0.1", port), reuse_port=False)
    srv.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                while data := conn.recv(100):
                    conn.sendall(data)
        srv.close()

    def connect() -> None:
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(b"x")
                c.recv(10)
            time.sleep(0.005)

    threading.Thread(target=serve, daemon=True).start()
    traffic = threading.Thread(target=connect, daemon=True)
    traffic.start()
    try:
        yield
    finally:
        stop.set()
        traffic.join(5)


def test_a_capture_killed_with_sigkill_replays_every_packet_shown(tmp_path, reap):
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18100)
    ours = tmp_path / "killed.pcap"
    live = start_live(reap, "--port", str(port), "--save", str(ours), "--duration", "20")
    shown = []
    with echo_traffic(port):
        while sum(e["type"] == "packet" for e in shown) < 60:  # calls and states come too
            line = live.stdout.readline()
            assert line, "live ended early"
            shown.append(json.loads(line))
        live.send_signal(signal.SIGKILL)
        rest, _ = live.communicate(timeout=10)
    shown += [e for e in map(parse_line, rest.splitlines()) if e is not None]
    shown = [e for e in shown if e["type"] == "packet"]
    replayed = {e.frame: e.to_dict() for e in ReplaySource(ours).events() if e.type == "packet"}
    assert len(replayed) >= len(shown) >= 60
    key = ("frame", "time", "sport", "dport", "flags", "seq", "ack", "len", "phase")
    for e in shown:
        assert {k: e[k] for k in key} == {k: replayed[e["frame"]][k] for k in key}


def test_live_stops_after_count_packets_and_saves_exactly_those(tmp_path, reap):
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18200)
    ours = tmp_path / "count.pcap"
    live = start_live(reap, "--port", str(port), "--save", str(ours), "--count", "7")
    with echo_traffic(port):
        stdout, stderr = live.communicate(timeout=20)
    assert live.returncode == 0, stderr
    packets = [json.loads(x) for x in stdout.splitlines() if '"packet"' in x]
    assert len(packets) == 7 and len(pcap_frames(ours)) == 7
    # Frame numbers are tshark's in the saved file, whose socket calls and kernel states
    # (the kernel's view) take frames of their own.
    with open(ours, "rb") as f:
        assert [p["frame"] for p in packets] == [r[0] for r in read_records(f)]
