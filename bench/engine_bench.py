"""Replay speed and memory against tshark, on a capture of real loopback connections.

Generates (once, cached under bench/out/) a capture of at least --packets packets recorded by
tcpdump while a stdlib echo client and server talk on 127.0.0.1, then times, in one run and on
the same file:

  handshake-viz replay FILE --print --format jsonl > /dev/null
  tshark -2 -r FILE -T fields -e <the same fields> > /dev/null

and prints each one's packet rate (wall clock), its CPU time (user + system, child processes
included: replay decodes in a second process), their ratios and each peak memory: medians of
--runs runs, the commands taking turns, since the machine is noisy. Needs root for tcpdump on lo.

With --baseline DIR (a checkout of another commit, e.g. ``git worktree add /tmp/base 208ed6c``)
that commit's replay is timed in the same turns, run from DIR with this interpreter, and the
CPU ratio of this tree's replay to it is printed too: a regression shows on the same machine,
file and load.

    .venv/bin/python bench/engine_bench.py [--packets 1000000] [--runs 3] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TSHARK_FIELDS = [
    "frame.number",
    "frame.time_epoch",
    "tcp.stream",
    "udp.stream",
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "ip.dst",
    "ipv6.dst",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.window_size_value",
    "tcp.options",
    "tcp.analysis.flags",
]
"""What the JSONL carries per packet, as tshark fields."""


def echo_server(sock: socket.socket, stop: threading.Event) -> None:
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        with conn:
            try:
                data = conn.recv(100)
                if data:
                    conn.sendall(data)
            except OSError:
                pass


def generate(path: Path, packets: int, max_seconds: float = 240) -> int:
    """Record real loopback connections until the capture holds `packets` packets."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(512)
    port = srv.getsockname()[1]
    stop = threading.Event()
    t = threading.Thread(target=echo_server, args=(srv, stop), daemon=True)
    t.start()
    tmp = path.with_suffix(".tmp")
    dump = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "--immediate-mode",
            "-n",
            "-B",
            "16384",
            "-w",
            str(tmp),
            f"tcp port {port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert dump.stderr
    dump.stderr.readline()
    conns = 0
    deadline = time.monotonic() + max_seconds
    target = packets // 10 + 500  # ~10 packets a connection
    try:
        while conns < target and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                    c.sendall(b"hello handshake-viz\n")
                    c.recv(100)
            except OSError:
                time.sleep(0.01)
                continue
            conns += 1
            if conns % 20000 == 0:
                print(f"  {conns} connections...", file=sys.stderr)
    finally:
        time.sleep(1.5)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)
        stop.set()
        srv.close()
    tmp.rename(path)
    return conns


def count_packets(path: Path) -> int:
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if "Number of packets" in line:
            return int(line.split(":")[1].strip())
    return -1


class Timing(NamedTuple):
    """One run of one command."""

    wall: float
    """Seconds on the wall clock."""
    cpu: float
    """User plus system seconds, its child processes included."""
    peak_mb: float
    """Peak resident memory (of the largest process), MB."""


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Timing:
    """Time one command, stdout to /dev/null."""
    t0 = time.perf_counter()
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {r.stderr.strip()[-300:]}")
    user, system, peak_kb = r.stderr.strip().splitlines()[-1].split()
    return Timing(wall, float(user) + float(system), int(peak_kb) / 1024)


def medians(runs: list[Timing]) -> Timing:
    """Median wall and CPU time, largest peak memory."""
    return Timing(
        statistics.median(t.wall for t in runs),
        statistics.median(t.cpu for t in runs),
        max(t.peak_mb for t in runs),
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--file", type=Path, help="use this capture instead of generating one")
    ap.add_argument(
        "--baseline", type=Path, help="a checkout of another commit to time in the same runs"
    )
    args = ap.parse_args()
    for tool in ("tshark", "tcpdump", "capinfos"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/bootstrap.sh installs it)")
    OUT.mkdir(parents=True, exist_ok=True)
    path = args.file or OUT / f"loopback-{args.packets}.pcap"
    if not path.exists():
        if os.geteuid() != 0:
            raise SystemExit("generating the capture runs tcpdump on lo: run as root")
        print(f"generating {path} from real loopback connections...", file=sys.stderr)
        t0 = time.perf_counter()
        conns = generate(path, args.packets)
        print(f"  {conns} connections in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    n = count_packets(path)
    print(f"capture: {path} ({n} packets, {path.stat().st_size / 2**20:.0f} MiB)")
    replay = ["-m", "handshake_viz", "replay", str(path.resolve()), "--print", "--format", "jsonl"]
    tshark_cmd = ["tshark", "-2", "-r", str(path), "-T", "fields"]
    for f in TSHARK_FIELDS:
        tshark_cmd += ["-e", f]
    commands: dict[str, tuple[list[str], Path | None, dict[str, str] | None]] = {
        "handshake-viz": ([sys.executable, *replay], ROOT, None),
    }
    if args.baseline:
        base = args.baseline.resolve()
        if not (base / "handshake_viz").is_dir():
            raise SystemExit(f"--baseline {base}: no handshake_viz package there")
        # Run from DIR: ``-m`` finds DIR's package first (and PYTHONPATH says so again).
        env = dict(os.environ, PYTHONPATH=str(base))
        commands["baseline"] = ([sys.executable, *replay], base, env)
    commands["tshark -2"] = (tshark_cmd, None, None)
    results: dict[str, list[Timing]] = {name: [] for name in commands}
    for i in range(args.runs):
        for name, (cmd, cwd, run_env) in commands.items():
            results[name].append(timed(cmd, cwd, run_env))
        print(
            f"  run {i + 1}: "
            + ", ".join(
                f"{name} {r[-1].wall:.2f} s ({r[-1].cpu:.2f} s CPU) {r[-1].peak_mb:.0f} MB"
                for name, r in results.items()
            ),
            file=sys.stderr,
        )
    m = {name: medians(r) for name, r in results.items()}
    if args.baseline:
        print(f"baseline: the replay of {args.baseline}")
    for name, t in m.items():
        print(
            f"{name + ':':<15} {n / t.wall:>10,.0f} packets/s  ({t.wall:.2f} s, "
            f"{t.cpu:.2f} s CPU: medians of {args.runs}), peak {t.peak_mb:.0f} MB"
        )
    ours, theirs = m["handshake-viz"], m["tshark -2"]
    print(
        f"ratio: {theirs.wall / ours.wall:.2f}x tshark's packet rate (target >= 3), "
        f"{theirs.cpu / ours.cpu:.2f}x its rate per CPU second, "
        f"memory {ours.peak_mb:.0f} MB (target < 150)"
    )
    if "baseline" in m:
        base_t = m["baseline"]
        print(
            f"against the baseline: {ours.cpu / base_t.cpu:.3f}x its CPU time "
            f"({ours.cpu - base_t.cpu:+.2f} s), {ours.peak_mb - base_t.peak_mb:+.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
