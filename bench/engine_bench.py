"""Replay speed and memory against tshark, on a capture of real loopback connections.

Generates (once, cached under bench/out/) a capture of at least --packets packets recorded by
tcpdump while a stdlib echo client and server talk on 127.0.0.1, then times, in one run and on
the same file:

  handshake-viz replay FILE --print --format jsonl > /dev/null
  tshark -2 -r FILE -T fields -e <the same fields> > /dev/null

and prints both packet rates, their ratio and each peak memory (median of --runs runs; the
machine is noisy). Needs root for tcpdump on lo.

    .venv/bin/python bench/engine_bench.py [--packets 1000000] [--runs 3]
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


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command, stdout to /dev/null."""
    t0 = time.perf_counter()
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {r.stderr.strip()[-300:]}")
    peak_kb = int(r.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--file", type=Path, help="use this capture instead of generating one")
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
    ours_cmd = [
        sys.executable,
        "-m",
        "handshake_viz",
        "replay",
        str(path),
        "--print",
        "--format",
        "jsonl",
    ]
    tshark_cmd = ["tshark", "-2", "-r", str(path), "-T", "fields"]
    for f in TSHARK_FIELDS:
        tshark_cmd += ["-e", f]
    ours, theirs = [], []
    for i in range(args.runs):
        ours.append(timed(ours_cmd))
        theirs.append(timed(tshark_cmd))
        print(
            f"  run {i + 1}: handshake-viz {ours[-1][0]:.2f} s {ours[-1][1]:.0f} MB, "
            f"tshark {theirs[-1][0]:.2f} s {theirs[-1][1]:.0f} MB",
            file=sys.stderr,
        )
    o_t = statistics.median(t for t, _ in ours)
    t_t = statistics.median(t for t, _ in theirs)
    o_m = max(m for _, m in ours)
    t_m = max(m for _, m in theirs)
    print(
        f"handshake-viz: {n / o_t:>10,.0f} packets/s  ({o_t:.2f} s median of {args.runs}), "
        f"peak {o_m:.0f} MB"
    )
    print(
        f"tshark -2:     {n / t_t:>10,.0f} packets/s  ({t_t:.2f} s median of {args.runs}), "
        f"peak {t_m:.0f} MB"
    )
    print(
        f"ratio: {t_t / o_t:.2f}x tshark's packet rate (target >= 3), "
        f"memory {o_m:.0f} MB (target < 150)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
