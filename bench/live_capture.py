"""Live capture at the highest connection rate the machine's generator reaches, against tcpdump.

One run: a generator process (a stdlib echo server and client on 127.0.0.1, one connection
after another, as fast as it goes, bounded by --connections and --seconds) while our
`LiveSource` and ``tcpdump -Q in`` capture the same port at once. Printed per run, then the
median of the runs:

- completeness: the share of tcpdump's packets we also reported (target 100%); tcpdump's own
  kernel drops are shown too (``td drops``): when tcpdump loses packets we kept, "ours" is
  larger than "tcpdump" and completeness still reads 100%;
- duplicates: frames we report more often than tcpdump saved them (target 0);
- drops: what the kernel says it dropped on our socket (target 0);
- CPU: our capture process's CPU time over the capture, in % of one core (the generator runs
  in its own process and is not counted);
- latency: from the packet's kernel timestamp to the event leaving ``LiveSource.events()``
  (what a consumer such as the TUI receives), median and p99.

Run as root (or with CAP_NET_RAW): ``.venv/bin/python bench/live_capture.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from handshake_viz.core.events import PacketEvent
from handshake_viz.core.pcapfile import read_records
from handshake_viz.demo.scenarios import free_port
from handshake_viz.sources.live.source import LiveSource

GENERATOR = r"""
import socket, sys, threading, time
port, limit = int(sys.argv[1]), int(sys.argv[2])
seconds, rate = float(sys.argv[3]), float(sys.argv[4])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(128)
def serve():
    while True:
        conn, _ = srv.accept()
        data = conn.recv(64)
        if data:
            conn.sendall(data)
        conn.close()
threading.Thread(target=serve, daemon=True).start()
n, t0 = 0, time.perf_counter()
while n < limit and time.perf_counter() - t0 < seconds:
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"ping"); c.recv(64); c.close()
    n += 1
    if rate:
        ahead = n / rate - (time.perf_counter() - t0)
        if ahead > 0:
            time.sleep(ahead)
el = time.perf_counter() - t0
print(n, el, flush=True)
"""


def frames_of(path: Path) -> list[bytes]:
    with open(path, "rb") as f:
        return [r[3] for r in read_records(f, str(path))]


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one_run(connections: int, seconds: float, rate: float = 0.0) -> dict:
    port = free_port("127.0.0.1", __import__("socket").AF_INET, "tcp", start=19000)
    tmp = Path(tempfile.mkdtemp(prefix="hv-bench-"))
    ours = tmp / "ours.pcap"
    theirs = tmp / "tcpdump.pcap"
    source = LiveSource("lo", [port], save=ours, trace=False)  # the capture alone
    source.open()
    dump = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "-Q",
            "in",
            "-U",
            "-n",
            "-s",
            "262144",
            "-B",
            "4096",
            "-w",
            str(theirs),
            f"tcp port {port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dump.stderr is not None
    dump.stderr.readline()  # "listening on lo"
    gen = subprocess.Popen(
        [sys.executable, "-c", GENERATOR, str(port), str(connections), str(seconds), str(rate)],
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict = {}

    def finish() -> None:
        out, _ = gen.communicate()
        n, elapsed = out.split()
        result["connections"] = int(n)
        result["rate"] = int(n) / float(elapsed)
        result["elapsed"] = float(elapsed)
        result["gen_end"] = time.monotonic()
        time.sleep(1.5)  # let both catch up (tcpdump hands over blocks every second)
        source.stop()

    stopper = threading.Thread(target=finish, daemon=True)
    latencies: list[float] = []
    cpu0 = cpu_seconds()
    stopper.start()
    packets = 0
    now = time.time
    for ev in source.events():
        if type(ev) is PacketEvent:
            latencies.append(now() - ev.time)
            packets += 1
    cpu1 = cpu_seconds()
    stopper.join()
    time.sleep(0.1)
    dump.send_signal(signal.SIGINT)
    _, err = dump.communicate(timeout=10)
    tcpdump_drops = next(
        (int(x.split()[0]) for x in err.splitlines() if "dropped by kernel" in x), -1
    )
    ref = Counter(frames_of(theirs))
    mine = Counter(frames_of(ours))
    # a duplicate: a frame we report more often than both once and tcpdump's count of it
    dups = sum(max(0, c - max(1, ref[f])) for f, c in mine.items())
    missing = sum(max(0, c - mine[f]) for f, c in ref.items())
    latencies.sort()
    result.update(
        packets=packets,
        tcpdump=sum(ref.values()),
        tcpdump_drops=tcpdump_drops,
        completeness=100.0 * (sum(ref.values()) - missing) / max(1, sum(ref.values())),
        duplicates=dups,
        drops=source.stats.drops,
        # CPU per second of traffic: the capture process (read and save), and this process
        # (decode, track, merge; its catch-up after a burst included)
        cpu=100.0 * source.worker_cpu / result["elapsed"],
        track_cpu=100.0 * (cpu1 - cpu0) / result["elapsed"],
        lat_median_ms=1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        lat_p99_ms=1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    )
    for p in (ours, theirs):
        p.unlink(missing_ok=True)
    tmp.rmdir()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="connections per second to pace the generator at (default 0: as fast as it goes)",
    )
    args = ap.parse_args()
    if (
        os.geteuid() != 0
        and not __import__(
            "handshake_viz.sources.live.privileges", fromlist=["can_capture"]
        ).can_capture()
    ):
        print("live_capture.py: needs root or CAP_NET_RAW", file=sys.stderr)
        return 2
    cols = (
        "conn",
        "conn/s",
        "ours",
        "tcpdump",
        "td drops",
        "complete%",
        "dups",
        "drops",
        "cpu%",
        "track cpu%",
        "lat med ms",
        "lat p99 ms",
    )
    print(" ".join(f"{c:>10}" for c in cols))
    runs = []
    for _ in range(args.runs):
        r = one_run(args.connections, args.seconds, args.rate)
        runs.append(r)
        print(_row(r), flush=True)
    med = {
        k: statistics.median(r[k] for r in runs) for k in runs[0] if k not in ("gen_end", "elapsed")
    }
    print("median:")
    print(_row(med))
    return 0


def _row(r: dict) -> str:
    return " ".join(
        f"{v:>10}"
        for v in (
            f"{r['connections']:.0f}",
            f"{r['rate']:.0f}",
            f"{r['packets']:.0f}",
            f"{r['tcpdump']:.0f}",
            f"{r['tcpdump_drops']:.0f}",
            f"{r['completeness']:.2f}",
            f"{r['duplicates']:.0f}",
            f"{r['drops']:.0f}",
            f"{r['cpu']:.1f}",
            f"{r['track_cpu']:.1f}",
            f"{r['lat_median_ms']:.3f}",
            f"{r['lat_p99_ms']:.3f}",
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
