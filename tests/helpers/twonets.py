"""Two network namespaces joined by a veth pair, where packets can cross on the wire: a
simultaneous close and a simultaneous open, recorded with tcpdump and the kernel's view.

There is no netem on this kind of kernel, so the crossing is made with a token bucket (tbf)
on each side's veth: each end first sends a burst of UDP filler that the bucket holds for
about 135 ms, so the FIN (or SYN) it sends next leaves only after the other end's has left
too. The capture is taken in namespace A, on its veth (as tcpdump on one of two hosts
would); the kernel's view watches both namespaces.

``python -m tests.helpers.twonets DIR`` (as root) writes ``simultaneous-close.pcapng`` and
``simultaneous-open.pcapng`` (packets and the kernel's events, as ``live`` saves them) into
DIR: the committed copies under tests/data/kernel/ were made so.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from handshake_viz.core.events import SideEvent, SocketEvent
from handshake_viz.core.pcapfile import read_records
from handshake_viz.render.output import side_text
from handshake_viz.sources.kernel.journal import event_block, view_entry
from handshake_viz.sources.kernel.tracer import KernelTracer
from handshake_viz.sources.live.pcapwriter import epb_bytes, pcapng_header

CLONE_NEWNET = 0x40000000
A_ADDR, B_ADDR = "10.77.0.1", "10.77.0.2"
CLOSE_PORT = 9400
OPEN_PORTS = (9401, 9402)
FILLER = 12
"""UDP datagrams of 1,400 bytes before the FIN or SYN: about 135 ms at 1 Mbit/s."""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextmanager
def two_namespaces() -> Iterator[tuple[str, str]]:
    """Namespaces A and B (names unique to this process), a veth pair between them with a
    token bucket on each end; removed afterwards."""
    a, b = f"hvk-a-{os.getpid()}", f"hvk-b-{os.getpid()}"
    _ip("netns", "add", a)
    _ip("netns", "add", b)
    try:
        _ip("link", "add", "hvk-va", "netns", a, "type", "veth", "peer", "name", "hvk-vb",
            "netns", b)  # fmt: skip
        for ns, dev, addr in ((a, "hvk-va", A_ADDR), (b, "hvk-vb", B_ADDR)):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            subprocess.run(["tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                            "1mbit", "burst", "1600", "limit", "200000"],
                           check=True, capture_output=True)  # fmt: skip
        yield a, b
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def namespace_inode(ns: str) -> int:
    return os.stat(f"/run/netns/{ns}").st_ino


def enter(ns: str) -> None:
    """Move the calling thread (only it) into namespace `ns`."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def run_in(ns: str, fn: Callable[[], None]) -> threading.Thread:
    """Run `fn` in a thread of its own inside `ns`."""
    errors: list[BaseException] = []

    def body() -> None:
        try:
            enter(ns)
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller's join
            errors.append(exc)

    t = threading.Thread(target=body, daemon=True)
    t.errors = errors  # type: ignore[attr-defined]
    t.start()
    return t


def join(*threads: threading.Thread) -> None:
    for t in threads:
        t.join(15)
        if t.errors:  # type: ignore[attr-defined]
            raise t.errors[0]  # type: ignore[attr-defined]


def filler(to: str) -> None:
    """Fill this end's token bucket: what it sends next waits behind ~135 ms of datagrams."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        for _ in range(FILLER):
            u.sendto(b"x" * 1400, (to, 9))


class Collector:
    """A sink for the tracer: keeps its events."""

    def __init__(self) -> None:
        self.events: list[SideEvent] = []
        self._tokens = itertools.count()
        self._lock = threading.Lock()

    def add_side(self, event: SideEvent) -> None:
        with self._lock:
            self.events.append(event)

    def lag(self) -> float:
        return 0.0

    def add_sides(self, events: list[SideEvent], saved: bool = False) -> None:
        with self._lock:
            self.events.extend(events)

    def begin(self, provisional: SocketEvent) -> int:
        return next(self._tokens)

    def end(
        self, token: int, build: Callable[[bool], SocketEvent | None], saved: bool = False
    ) -> None:
        event = build(False)
        if event is not None:
            self.add_side(event)

    def tracer_ready(self) -> None:
        pass

    def tracer_at(self, t: float) -> None:
        pass

    def tracer_gone(self) -> None:
        pass


@contextmanager
def recorded(a: str, b: str, ports: tuple[int, ...], out: Path) -> Iterator[None]:
    """tcpdump in A and the kernel's view of A and B while the block runs; then `out` holds
    both, as ``live`` saves them (pcapng, events as journal entries)."""
    raw = out.with_suffix(".tcpdump.pcap")
    expr = "tcp and (" + " or ".join(f"port {p}" for p in ports) + ")"
    dump = subprocess.Popen(
        ["ip", "netns", "exec", a, "tcpdump", "-i", "hvk-va", "-U", "--immediate-mode", "-n",
         "-s", "262144", "-w", str(raw), expr],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert dump.stderr is not None
    assert "listening on" in dump.stderr.readline()
    sink = Collector()
    tracer = KernelTracer(ports, sink, netns=[namespace_inode(a), namespace_inode(b)])
    tracer.start()
    try:
        reason = tracer.wait_ready()
        assert reason is None, reason
        started = time.time()
        yield
        time.sleep(0.5)
    finally:
        tracer.stop()
        dump.send_signal(2)
        dump.wait(10)
    write_with_events(raw, sink.events, out, started, list(ports))
    raw.unlink()


def write_with_events(
    pcap: Path, events: list[SideEvent], out: Path, started: float, ports: list[int]
) -> None:
    """A capture of tcpdump's packets and the kernel's events, in time order."""
    with open(pcap, "rb") as f:
        records = list(read_records(f))
    blocks: list[tuple[float, int, bytes]] = []
    for frame, t, _lt, data, wirelen, _ in records:
        sec = int(t)
        blocks.append((t, frame, epb_bytes(sec, round((t - sec) * 1e9), data, wirelen)))
    for i, ev in enumerate(events):
        blocks.append((ev.time, 1_000_000 + i, event_block(ev, side_text(ev))))
    blocks.sort(key=lambda b: (b[0], b[1]))
    linktype = records[0][2] if records else 1
    with open(out, "wb") as f:
        f.write(pcapng_header(linktype, 262144))
        f.write(event_block(view_entry(started, ports, True), "handshake-viz: capture began"))
        for _, _, block in blocks:
            f.write(block)


def simultaneous_close(out: Path) -> None:
    """A connects to B; then both close at once, their FINs crossing."""
    with two_namespaces() as (a, b):
        listening = threading.Event()
        go = threading.Barrier(2)
        held: dict[str, socket.socket] = {}

        def server() -> None:
            with socket.create_server((B_ADDR, CLOSE_PORT)) as srv:
                listening.set()
                conn, _ = srv.accept()
                go.wait(5)
                filler(A_ADDR)
                conn.close()
                time.sleep(1.0)

        def client() -> None:
            listening.wait(5)
            c = socket.create_connection((B_ADDR, CLOSE_PORT), timeout=5)
            held["c"] = c
            time.sleep(0.2)
            go.wait(5)
            filler(B_ADDR)
            c.close()
            time.sleep(1.0)

        with recorded(a, b, (CLOSE_PORT,), out):
            join(run_in(b, server), run_in(a, client))


def simultaneous_open(out: Path) -> None:
    """A and B connect to each other's port at once, their SYNs crossing; then A closes."""
    pa, pb = OPEN_PORTS
    with two_namespaces() as (a, b):
        go = threading.Barrier(2)
        closed = threading.Event()

        def side(me: str, port: int, peer: str, peer_port: int, first: bool) -> None:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((me, port))
            s.settimeout(5)
            go.wait(5)
            filler(peer)
            s.connect((peer, peer_port))
            time.sleep(0.3)
            if first:
                s.close()
                closed.set()
            else:
                closed.wait(5)
                time.sleep(0.2)
                s.close()
            time.sleep(0.5)

        with recorded(a, b, OPEN_PORTS, out):
            join(
                run_in(a, lambda: side(A_ADDR, pa, B_ADDR, pb, True)),
                run_in(b, lambda: side(B_ADDR, pb, A_ADDR, pa, False)),
            )


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    simultaneous_close(out / "simultaneous-close.pcapng")
    simultaneous_open(out / "simultaneous-open.pcapng")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
