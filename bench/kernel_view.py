"""What the kernel's view costs: live capture at ~2,000 connections/s with bpftrace beside it.

Each run captures the same paced traffic twice, with the kernel's view and without
(``--no-trace``), each time beside ``tcpdump -Q in``; the generator (a stdlib echo server and
client on 127.0.0.1, one connection after another at --rate, in a process of its own) starts
only once the tracer runs. Printed per run, then the medians:

- completeness: the share of tcpdump's packets we also reported (target 100%), and the
  kernel's drops on our socket;
- tracer CPU: bpftrace's own CPU time over the traffic's duration, in % of one core (its
  compiling before, about 2 CPU seconds, not counted);
- reader CPU: the process reading bpftrace's lines into events (`sources.kernel.reader`);
- main CPU: this process's (tracking, and with the view: merging, anchoring states, saving
  the events in the capture file), in % of one core;
- events: the socket calls, state changes and kernel events the view reported; records lost
  (bpftrace's buffers overflowed) and shed (the reader, too far behind, skipped them);
- latency: packet kernel timestamp to the event leaving ``LiveSource.events()``, median/p99.

The machine is shared (2 cores, other work running): medians of --runs, noise stated.
Run as root: ``.venv/bin/python bench/kernel_view.py [--runs 3] [--rate 2000]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from live_capture import GENERATOR, frames_of

from handshake_viz.core.events import KernelEvent, PacketEvent, SocketEvent, StateEvent
from handshake_viz.demo.scenarios import free_port
from handshake_viz.sources.kernel.tracer import unavailable_reason
from handshake_viz.sources.live.source import LiveSource
from handshake_viz.sources.netns import enter_private_network


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def process_cpu(pid: int | None) -> float:
    """CPU seconds process `pid` used so far (bpftrace's, without its compile before)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(trace: bool, connections: int, seconds: float, rate: float) -> dict:
    port = free_port("127.0.0.1", socket.AF_INET, "tcp", start=19500)
    tmp = Path(tempfile.mkdtemp(prefix="hv-kbench-"))
    ours, theirs = tmp / "ours.pcapng", tmp / "tcpdump.pcap"
    source = LiveSource("lo", [port], save=ours, trace=trace)
    source.open()
    source.kernel.wait_ready()
    if trace and source.kernel.tracer is None:
        raise SystemExit(f"kernel_view.py: {source.kernel.note}")
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-Q", "in", "-U", "-n", "-s", "262144", "-B", "4096",
         "-w", str(theirs), f"tcp port {port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert dump.stderr is not None
    dump.stderr.readline()  # "listening on lo"
    result: dict = {}
    counts: Counter[str] = Counter()
    latencies: list[float] = []

    def traffic() -> None:
        gen = subprocess.Popen(
            [sys.executable, "-c", GENERATOR, str(port), str(connections), str(seconds),
             str(rate)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        out, _ = gen.communicate()
        n, elapsed = out.split()
        result.update(connections=int(n), rate=int(n) / float(elapsed), elapsed=float(elapsed))
        time.sleep(1.5)  # let both captures catch up
        result["tracer_cpu1"] = process_cpu(tracer_pid)
        result["reader_cpu1"] = process_cpu(reader_pid)
        source.stop()

    tracer = source.kernel.tracer
    tracer_pid = tracer.process.pid if tracer is not None and tracer.process else None
    reader_pid = tracer.reader.pid if tracer is not None and tracer.reader else None
    tracer_cpu0, reader_cpu0 = process_cpu(tracer_pid), process_cpu(reader_pid)
    cpu0 = cpu_seconds()
    runner = threading.Thread(target=traffic, daemon=True)
    runner.start()
    now = time.time
    for ev in source.events():
        kind = type(ev)
        if kind is PacketEvent:
            latencies.append(now() - ev.time)
            counts["packets"] += 1
        elif kind in (SocketEvent, StateEvent, KernelEvent):
            counts[kind.__name__] += 1
    cpu1 = cpu_seconds()
    runner.join()
    dump.send_signal(signal.SIGINT)
    dump.communicate(timeout=10)
    ref, mine = Counter(frames_of(theirs)), Counter(frames_of(ours))
    missing = sum(max(0, c - mine[f]) for f, c in ref.items())
    latencies.sort()
    elapsed = result["elapsed"]
    result.update(
        trace=trace,
        packets=counts["packets"],
        tcpdump=sum(ref.values()),
        completeness=100.0 * (sum(ref.values()) - missing) / max(1, sum(ref.values())),
        drops=source.stats.drops,
        tracer_cpu=100.0 * (result.get("tracer_cpu1", 0.0) - tracer_cpu0) / elapsed,
        main_cpu=100.0 * (cpu1 - cpu0) / elapsed,
        reader_cpu=100.0 * (result.get("reader_cpu1", 0.0) - reader_cpu0) / elapsed,
        capture_cpu=100.0 * source.worker_cpu / elapsed,
        calls=counts["SocketEvent"],
        states=counts["StateEvent"],
        kernel=counts["KernelEvent"],
        lost=tracer.lost if tracer is not None else 0,
        shed=tracer.shed if tracer is not None else 0,
        lat_median_ms=1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        lat_p99_ms=1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    )
    for p in (ours, theirs):
        p.unlink(missing_ok=True)
    tmp.rmdir()
    return result


COLUMNS = (
    ("view", "{trace}"), ("conn/s", "{rate:.0f}"), ("ours", "{packets:.0f}"),
    ("tcpdump", "{tcpdump:.0f}"), ("complete%", "{completeness:.2f}"), ("drops", "{drops:.0f}"),
    ("tracer cpu%", "{tracer_cpu:.1f}"), ("reader cpu%", "{reader_cpu:.1f}"),
    ("main cpu%", "{main_cpu:.1f}"), ("capture cpu%", "{capture_cpu:.1f}"),
    ("calls", "{calls:.0f}"), ("states", "{states:.0f}"), ("kernel", "{kernel:.0f}"),
    ("lost", "{lost:.0f}"), ("shed", "{shed:.0f}"), ("lat med ms", "{lat_median_ms:.1f}"),
    ("lat p99 ms", "{lat_p99_ms:.1f}"),
)  # fmt: skip


def row(r: dict) -> str:
    return " ".join(f"{fmt.format(**r):>12}" for _, fmt in COLUMNS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=2000.0, help="connections per second")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("kernel_view.py: needs root", file=sys.stderr)
        return 2
    why = unavailable_reason()
    if why is not None:
        print(f"kernel_view.py: the kernel's view cannot run here: {why}", file=sys.stderr)
        return 2
    enter_private_network()  # nothing else on this loopback, and ports of our own
    print(" ".join(f"{name:>12}" for name, _ in COLUMNS))
    runs: dict[bool, list[dict]] = {True: [], False: []}
    limit = int(args.rate * args.seconds * 2)
    for _ in range(args.runs):
        for trace in (True, False):
            r = one_run(trace, limit, args.seconds, args.rate)
            runs[trace].append(r)
            print(row(r), flush=True)
    print("medians:")
    for trace in (True, False):
        rs = runs[trace]
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "trace"}
        print(row({**med, "trace": trace}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
