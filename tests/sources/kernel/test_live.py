"""The kernel's view in the real command: curl against ``python3 -m http.server``, the tracer
ending with the command however it ends, ``--no-trace``, and a demo's capture replayed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent, TcpState
from handshake_viz.demo.scenarios import free_port
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.kernel import agreement, needs_tracer
from tests.helpers.live import ROOT, cli, cli_env, needs_capture

pytestmark = [pytest.mark.capture, pytest.mark.e2e, needs_capture, pytest.mark.timeout(90)]


def live(*args: str) -> subprocess.Popen[str]:
    """``handshake-viz live ARGS --print --format jsonl``, returned once it captures."""
    p = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "live", *args, "--print", "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(),
    )  # fmt: skip
    assert p.stderr is not None
    while True:
        line = p.stderr.readline()
        assert line, "live ended before capturing"
        if "capturing on" in line:
            return p


def _state(name: str | None) -> TcpState | None:
    return None if name is None else TcpState(name)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@pytest.fixture
def http_server(tmp_path, reap):
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18600)
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    reap.append(server)
    assert server.stdout is not None and "Serving HTTP" in server.stdout.readline()
    return port, server.pid


@needs_tracer
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_and_http_server_calls_and_states_come_with_their_programs(
    http_server, reap, tmp_path
):
    port, server_pid = http_server
    saved = tmp_path / "curl.pcapng"
    proc = live("--port", str(port), "--save", str(saved), "--duration", "30")
    reap.append(proc)
    curls = []
    for _ in range(3):
        c = subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                           timeout=10, check=True)  # fmt: skip
        curls.append(c)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    events = [json.loads(line) for line in stdout.splitlines()]
    connects = [e for e in events if e["type"] == "socket" and e["call"] == "connect"]
    accepts = [e for e in events if e["type"] == "socket" and e["call"] == "accept"]
    assert len(connects) == len(accepts) == 3
    assert {e["comm"] for e in connects} == {"curl"} and len({e["pid"] for e in connects}) == 3
    assert {e["pid"] for e in accepts} == {server_pid}
    assert {e["comm"] for e in accepts} <= {"python3", "python"}
    new = {e["new"] for e in events if e["type"] == "state"}
    assert {"SYN-SENT", "ESTABLISHED", "TIME-WAIT"} <= new
    state = next(e for e in events if e["type"] == "state" and e["new"] == "SYN-SENT")
    assert set(state) >= {"time", "local", "remote", "old", "new", "pid", "comm"}
    packets = [e for e in events if e["type"] == "packet"]
    assert all("kernel_client_state" in p for p in packets)
    # the saved capture gives the same again, and the tracker's states are the kernel's
    replayed = list(ReplaySource(saved).events())
    again = [p for p in replayed if isinstance(p, PacketEvent)]
    assert [(p.frame, p.kernel.client, p.kernel.server) for p in again if p.kernel] == [
        (p["frame"], _state(p["kernel_client_state"]), _state(p["kernel_server_state"]))
        for p in packets
    ]
    found = agreement(replayed)
    assert found.compared > 40 and not found.differ, found


@needs_tracer
def test_the_tracer_ends_with_the_command_even_killed(tmp_path, reap):
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18700)
    proc = live("--port", str(port), "--no-save", "--duration", "60")
    reap.append(proc)
    tracers = [pid for pid in children(proc.pid) if comm(pid) == "bpftrace"]
    assert len(tracers) == 1
    assert os.getpgid(tracers[0]) == tracers[0]  # a process group of its own
    proc.kill()
    proc.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and comm(tracers[0]) == "bpftrace":
        time.sleep(0.05)
    assert comm(tracers[0]) != "bpftrace", "the tracer outlived the command"


def test_no_trace_keeps_the_kernels_view_off(reap):
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=18800)
    proc = live("--port", str(port), "--no-save", "--no-trace", "--duration", "30")
    reap.append(proc)
    assert not [pid for pid in children(proc.pid) if comm(pid) == "bpftrace"]
    with socket.create_server(("127.0.0.1", port)) as srv:
        with socket.create_connection(("127.0.0.1", port)):
            srv.accept()[0].close()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=20)
    types = {json.loads(line)["type"] for line in stdout.splitlines()}
    assert "packet" in types and not types & {"state", "kernel"}


@needs_tracer
def test_a_saved_demo_replays_with_its_calls_and_kernel_states(tmp_path):
    saved = tmp_path / "refused.pcapng"
    r = cli("demo", "refused", "--print", "--save", str(saved))
    assert r.returncode == 0, r.stderr
    out = cli("replay", str(saved), "--print", "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    calls = [e["call"] for e in events if e["type"] == "socket"]
    assert "connect" in calls and "close" in calls
    assert all(e["pid"] for e in events if e["type"] == "socket")
    syn = next(e for e in events if e["type"] == "packet" and e["flags"] == ["SYN"])
    # nothing listened: the replay says so, as the live demo did (it showed LISTEN before)
    assert syn["server_state"] == "CLOSED" and syn["kernel_server_state"] == "CLOSED"
    assert any(e["type"] == "kernel" and e["event"] == "send_reset" for e in events)
    if shutil.which("tshark"):
        shown = subprocess.run(["tshark", "-r", str(saved), "-V"], capture_output=True,
                               text=True, timeout=60, check=True)  # fmt: skip
        assert "connect() 127.0.0.1:" in shown.stdout and "ECONNREFUSED" in shown.stdout
