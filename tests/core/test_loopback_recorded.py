"""Captures the project records itself, on real loopback sockets, read as tshark reads them.

tcpdump records a set of conversations (handshake, echo, close; refused; half-close; abort;
IPv6; UDP; a reused 4-tuple); tshark -2 reads the file; the engine must agree on every packet.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.oracle import ORACLE_FIELDS, compare

FIELDS = ORACLE_FIELDS


def can_capture() -> bool:
    return os.geteuid() == 0 and shutil.which("tcpdump") is not None


pytestmark = [
    pytest.mark.skipif(
        not can_capture(), reason="capturing on lo needs root (CAP_NET_RAW) and tcpdump"
    ),
    pytest.mark.skipif(
        shutil.which("tshark") is None, reason="tshark (the oracle) is not installed"
    ),
]


def free_port(family: int = socket.AF_INET) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return s.getsockname()[1]


class EchoServer:
    """A tiny threaded echo server on loopback that closes first when asked to."""

    def __init__(self, family: int, host: str) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    while data := conn.recv(4096):
                        if data == b"bye":
                            break  # the server closes first: it ends in TIME-WAIT
                        conn.sendall(data)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def talk(family: int, host: str, port: int) -> None:
    """Each kind of conversation the classroom shows."""
    # Handshake, echo, orderly close.
    with socket.create_connection((host, port), timeout=2) as c:
        c.sendall(b"hello\n")
        c.recv(100)
    # Half-close: the client stops writing, still reads.
    with socket.create_connection((host, port), timeout=2) as c:
        c.sendall(b"half\n")
        c.shutdown(socket.SHUT_WR)
        while c.recv(100):
            pass
    # Abort: SO_LINGER 0 sends RST instead of FIN.
    c = socket.create_connection((host, port), timeout=2)
    c.sendall(b"abort\n")
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    # The same 4-tuple twice: the server closes first, the client binds its old port again.
    c = socket.socket(family, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((host, 0))
    cport = c.getsockname()[1]
    c.connect((host, port))
    c.sendall(b"bye")
    c.recv(100)
    c.close()
    time.sleep(0.05)
    c = socket.socket(family, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((host, cport))
    c.settimeout(2)
    c.connect((host, port))
    c.sendall(b"again\n")
    c.recv(100)
    c.close()


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A capture of every conversation kind; recorded again (at most 3 times) on the rare run
    where tcpdump misses packets on this busy 2-core machine (11 TCP streams are expected)."""
    for attempt in range(3):
        pcap = record(tmp_path / f"loopback-{attempt}.pcap")
        packets = [e for e in ReplaySource(pcap).events() if isinstance(e, PacketEvent)]
        if len({e.stream for e in packets if e.proto == "tcp"}) == 11:
            break
    return pcap


def record(pcap: Path) -> Path:
    srv4 = EchoServer(socket.AF_INET, "127.0.0.1")
    srv6 = EchoServer(socket.AF_INET6, "::1")
    closed = free_port()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    uport = udp.getsockname()[1]
    bpf = f"port {srv4.port} or port {srv6.port} or port {closed} or port {uport}"
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-w", str(pcap), bpf],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert dump.stderr
        ready = dump.stderr.readline().decode()
        assert "listening on" in ready, ready
        talk(socket.AF_INET, "127.0.0.1", srv4.port)
        talk(socket.AF_INET6, "::1", srv6.port)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", closed), timeout=2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            for i in range(3):
                u.sendto(b"datagram %d" % i, ("127.0.0.1", uport))
                udp.recvfrom(100)
        time.sleep(0.3)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
        srv4.close()
        srv6.close()
        udp.close()
    return pcap


def tshark_rows(pcap: Path) -> list[dict[str, str]]:
    args = ["tshark", "-2", "-r", str(pcap), "-T", "fields", "-E", "separator=/t"]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [dict(zip(FIELDS, line.split("\t"), strict=False)) for line in out.splitlines()]


def test_recorded_loopback_traffic_agrees_with_tshark(recorded: Path) -> None:
    rows = tshark_rows(recorded)
    events = list(ReplaySource(recorded).events())
    checked, bad = compare(rows, events)
    assert not bad, "\n".join(bad)
    packets = [e for e in events if isinstance(e, PacketEvent)]
    streams = {e.stream for e in packets if e.proto == "tcp"}
    # 5 conversations on each family (two of them on one reused 4-tuple), one refused.
    assert len(streams) == 11 and checked == len(packets) >= 80
    assert any("port_reused" in e.analysis for e in packets)
    phases = {str(e.phase) for e in packets}
    assert phases == {"request", "confirm", "data", "teardown", "reset", "datagram"}


def test_states_of_a_recorded_refusal(recorded: Path) -> None:
    packets = [e for e in ReplaySource(recorded).events() if isinstance(e, PacketEvent)]
    refused = [
        e
        for e in packets
        if e.proto == "tcp"
        and e.flags & 0x04
        and e.flags & 0x10
        and e.seq == 1
        and e.len == 0
        and e.phase == "reset"
    ]
    assert refused, "the refused SYN is answered by RST-ACK"
    rst = refused[-1]
    assert rst.dir == "s2c" and rst.client_state == "CLOSED"
