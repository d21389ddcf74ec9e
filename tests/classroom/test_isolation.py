"""Every lesson and every demo in a network of its own: nothing else on the machine shows.

The machine here is the suite's own network namespace, made busy on purpose: a foreign
server on 127.0.0.1:9000 answering a client in a loop, and foreign TIME-WAIT connections on
ports 9001-9010. A lesson started as the CLI starts it (`tests.helpers.lesson_probe`) still
uses 9000, and its ladder and kernel panel show its own packets and sockets only; without a
namespace (HANDSHAKE_VIZ_SHARED_NET) it holds a port nobody uses and says that other
programs' traffic may show. Two demos started together each see exactly their own
connection.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from handshake_viz.classroom.procnet import read_sockets
from handshake_viz.core.events import TcpState
from tests.helpers.live import cli_env, needs_capture
from tests.helpers.paths import ROOT

pytestmark = [needs_capture, pytest.mark.capture, pytest.mark.e2e, pytest.mark.timeout(120)]

FOREIGN_PORT = 9000
TIME_WAIT_PORTS = range(9001, 9011)
DEMO_ROUNDS = 5


class ForeignTraffic:
    """A server on 127.0.0.1:9000 answering a client in a loop (bounded: until `stop`)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", FOREIGN_PORT), reuse_port=False)
        self.listener.settimeout(0.5)
        self.connections = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._serve, self._ask)]
        for t in self._threads:
            t.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.sendall(conn.recv(64))
                except OSError:
                    pass

    def _ask(self) -> None:
        while not self._stop.wait(0.05):
            try:
                with socket.create_connection(("127.0.0.1", FOREIGN_PORT), timeout=1) as c:
                    c.sendall(b"foreign\n")
                    c.recv(64)
                self.connections += 1
            except OSError:
                pass

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self.listener.close()


def time_wait_on(ports: range) -> None:
    """A connection on each port whose server closes first: TIME-WAIT on 127.0.0.1:port."""
    for port in ports:
        with socket.create_server(("127.0.0.1", port)) as ls:
            c = socket.create_connection(("127.0.0.1", port))
            conn, _ = ls.accept()
            conn.close()
            c.recv(1)
            c.close()


@pytest.fixture
def busy_machine() -> Iterator[ForeignTraffic]:
    time_wait_on(TIME_WAIT_PORTS)
    traffic = ForeignTraffic()
    try:
        yield traffic
    finally:
        traffic.stop()


def probe(*args: str, shared: bool = False) -> dict[str, Any]:
    env = cli_env()
    if shared:
        env["HANDSHAKE_VIZ_SHARED_NET"] = "1"
    command = [sys.executable, "-m", "tests.helpers.lesson_probe", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def own_packets_only(out: dict[str, Any]) -> None:
    """One connection, the lesson's: SYN, SYN-ACK, ACK between its port and one client."""
    ps = [r for r in out["rows"] if r["type"] == "packet"]
    assert [p["flags"] for p in ps] == [["SYN"], ["SYN", "ACK"], ["ACK"]], ps
    client = ps[0]["sport"]
    assert {(p["sport"], p["dport"]) for p in ps} == {(client, out["port"]), (out["port"], client)}
    port = out["port"]
    sockets = out["kernel"].splitlines()[-4:]
    assert sorted(sockets) == sorted([
        f"127.0.0.1:{port} LISTEN",
        "accept queue 1, backlog 5",
        f":{port} → :{client} ESTABLISHED",
        f":{client} → :{port} ESTABLISHED",
    ]), out["kernel"]  # fmt: skip
    assert sockets[:2] == [f"127.0.0.1:{port} LISTEN", "accept queue 1, backlog 5"]
    assert "TIME-WAIT" not in out["kernel"]
    for port in TIME_WAIT_PORTS:
        assert f":{port}" not in out["kernel"] or port == out["port"]


def test_a_lesson_beside_foreign_traffic_shows_only_its_own(busy_machine: ForeignTraffic) -> None:
    before = busy_machine.connections
    tw = [ks for ks in read_sockets(TIME_WAIT_PORTS) if ks.state == TcpState.TIME_WAIT]
    assert len(tw) >= len(TIME_WAIT_PORTS), "the foreign TIME-WAIT sockets are there"
    out = probe("basic", "--steps", "2")  # listen, connect
    assert busy_machine.connections > before, "the foreign client kept going meanwhile"
    assert out["private"] and out["port"] == FOREIGN_PORT  # its own 9000, beside the foreign
    own_packets_only(out)


def test_without_a_namespace_a_lesson_holds_a_free_port_and_says_so(
    busy_machine: ForeignTraffic,
) -> None:
    out = probe("basic", "--steps", "2", shared=True)
    assert not out["private"]
    assert out["port"] != FOREIGN_PORT and out["port"] not in TIME_WAIT_PORTS
    own_packets_only(out)
    assert "other programs' traffic may show" in out["kernel"]


def _demo(shared: bool) -> subprocess.Popen[str]:
    env = cli_env()
    if shared:
        env["HANDSHAKE_VIZ_SHARED_NET"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "demo", "basic", "--print", "--format", "jsonl",
         "--no-save"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip


@pytest.mark.parametrize("shared", [False, True], ids=["own-network", "shared-network"])
def test_two_demos_started_together_each_show_exactly_their_own_connection(
    busy_machine: ForeignTraffic, shared: bool
) -> None:
    for _ in range(DEMO_ROUNDS):
        runs = [_demo(shared), _demo(shared)]
        outs = [p.communicate(timeout=60) for p in runs]
        ports = []
        for (stdout, stderr), p in zip(outs, runs, strict=True):
            assert p.returncode == 0, stderr
            records = [json.loads(line) for line in stdout.splitlines()]
            conns = [r for r in records if r["type"] == "connection"]
            packets = [r for r in records if r["type"] == "packet"]
            assert len(conns) == 1 and conns[0]["packets"] == len(packets) == 10, conns
            server_ports = {r["dport"] if r["dir"] == "c2s" else r["sport"] for r in packets}
            assert len(server_ports) == 1
            ports.append(server_ports.pop())
            assert ("may show" in stderr) is shared
        if shared:
            assert ports[0] != ports[1] and not set(ports) & {9000, *TIME_WAIT_PORTS}
        else:
            assert ports == [9000, 9000]
