"""Measure the timeline TUI at scale, headless (Pilot) and in a real terminal (tmux).

    .venv/bin/python bench/tui_bench.py [--packets 1000000 100000] [--no-tmux]

For each size it writes a capture of repeated loopback connections (10 packets each) into a
temporary directory, then reports: first screen, fully indexed, keypress redraw (End, Home, an
arrow, a filter), memory peak, and live latency (a packet pushed to a live source until the
ladder shows it). Targets (issue 4): first screen < 1 s, indexed < 5 s, keypress < 100 ms,
live < 100 ms, memory < 500 MB at 1,000,000 packets. termshark's figures are printed beside
them: measured on the same file in the same tmux size if termshark is installed (`make
bench-tui` installs it), else quoted from ../shared/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"first_screen_s": 1.0, "indexed_s": 5.0, "key_ms": 100.0, "live_ms": 100.0,
           "peak_mb": 500.0}  # fmt: skip
TERMSHARK_QUOTED = "termshark 2.4 (quoted, ../shared/README.md): 200k packets first rows 1.1 s, " \
    "loaded 8 s; 1M packets ~30 s, ~2.7 GB"  # fmt: skip


# -- a big capture, written with struct -------------------------------------------------------


def _tcp_frame(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: int,
               payload: bytes = b"") -> bytes:  # fmt: skip
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0,
                     src, dst)  # fmt: skip
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + tcp + payload


def write_capture(path: Path, packets: int) -> None:
    """Connections of 10 packets (handshake, a request, a reply, FIN teardown) on loopback.

    As Linux makes them: the client ports are even (connect() takes even ephemeral ports) and
    come round again every 14,116 connections, each time with new initial sequence numbers, so
    every connection is a stream of its own (tshark marks the reuse of the port).
    """
    lo = 0x7F000001
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1_700_000_000.0
        n = 0
        conn = 0
        while n < packets:
            cp = 32768 + 2 * (conn % 14116)
            c, s = (conn * 2654435761) & 0x7FFFFFFF, (conn * 40503 + 12345) & 0x7FFFFFFF  # ISNs
            script = [
                (lo, lo, cp, 8000, c, 0, 0x02, b""),
                (lo, lo, 8000, cp, s, c + 1, 0x12, b""),
                (lo, lo, cp, 8000, c + 1, s + 1, 0x10, b""),
                (lo, lo, cp, 8000, c + 1, s + 1, 0x18, b"hello"),
                (lo, lo, 8000, cp, s + 1, c + 6, 0x10, b""),
                (lo, lo, 8000, cp, s + 1, c + 6, 0x18, b"hello"),
                (lo, lo, cp, 8000, c + 6, s + 6, 0x10, b""),
                (lo, lo, cp, 8000, c + 6, s + 6, 0x11, b""),
                (lo, lo, 8000, cp, s + 6, c + 7, 0x11, b""),
                (lo, lo, cp, 8000, c + 7, s + 7, 0x10, b""),
            ]
            for args in script:
                if n >= packets:
                    break
                frame = _tcp_frame(*args)
                t += 0.00001
                sec = int(t)
                f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
                f.write(frame)
                n += 1
            conn += 1


def peak_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- headless, in this process (run in a child so each size gets its own memory peak) ----------


async def _headless(path: str, packets: int) -> dict[str, Any]:
    from handshake_viz.sources.parallel import decode_worker
    from handshake_viz.sources.replay import ReplaySource
    from handshake_viz.tui.app import make_app

    t0 = time.monotonic()
    decode_worker.prepare()
    app = make_app(ReplaySource(path, parallel=True), autoplay=False)  # as the CLI runs it
    out: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        # Polled with plain sleeps: Pilot's pause waits for the app to settle each time, which
        # costs the app's thread more than a second of CPU over a million-packet load.
        while app.first_row_at is None:
            await asyncio.sleep(0.005)
        out["first_screen_s"] = app.first_row_at - t0
        while not (app.timeline.done and app.view.matched == app.timeline.count):
            await asyncio.sleep(0.02)
        out["indexed_s"] = time.monotonic() - t0
        out["events"] = app.timeline.count
        keys = {}
        for key in ("z", "end", "up", "home", "right", "end", "pageup"):  # z: unbound, the floor
            t = time.monotonic()
            await pilot.press(key)
            await pilot.pause()  # the key handled and the screen refreshed
            keys[key] = (time.monotonic() - t) * 1000
        await pilot.press("slash", *"fin")
        t = time.monotonic()
        await pilot.press("enter")
        await pilot.pause()
        keys["filter fin"] = (time.monotonic() - t) * 1000
        out["key_ms"] = keys
        out["timeline_mb"] = app.timeline.memory_bytes() / 2**20
        await pilot.press("q")
    out["peak_mb"] = peak_mb()
    return out


async def _live_latency() -> float:
    """Median ms from a live source yielding a packet to the ladder having it."""
    import queue
    import statistics

    from handshake_viz.core.events import CaptureStats
    from handshake_viz.sources.replay import ReplaySource
    from handshake_viz.tui.app import make_app

    sample = ROOT / "tests" / "data" / "zeek__http_get.pcap"
    packets = [e for e in ReplaySource(sample).events() if e.type == "packet"]

    class Live:
        description, live = "live bench", True

        def __init__(self) -> None:
            self.stats = CaptureStats("bench")
            self.q: queue.Queue[Any] = queue.Queue()
            self.stopped = False

        def events(self):  # type: ignore[no-untyped-def]
            while not self.stopped:
                try:
                    yield self.q.get(timeout=0.05)
                except queue.Empty:
                    pass

        def stop(self) -> None:
            self.stopped = True

    src = Live()
    app = make_app(src)
    lat = []
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        for i in range(40):
            n = app.view.visible_count
            t = time.monotonic()
            src.q.put(packets[i % len(packets)])
            while app.view.visible_count == n or app.ladder.selected != n:
                await pilot.pause(0.001)
            lat.append((time.monotonic() - t) * 1000)
            await pilot.pause(0.05 + (i % 7) * 0.007)  # arrive at random points of the tick
        await pilot.press("q")
    return statistics.median(lat)


# -- in a real terminal ----------------------------------------------------------------------


def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", sock, *args], check=False, capture_output=True, text=True
    ).stdout


def tmux_run(path: str, packets: int) -> dict[str, Any]:
    """The real command in tmux: times until the pane shows things, and its memory peak."""
    sock = f"hv-bench-{os.getpid()}"
    exe = Path(sys.executable).parent / "handshake-viz"
    cmd = f"{exe} replay {path} --pause 1000"
    total = f"{packets:,}"
    out: dict[str, Any] = {}

    def wait(pred: Any, timeout: float = 60.0, every: float = 0.005) -> float:
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if pred(_tmux(sock, "capture-pane", "-p", "-t", "b")):
                return time.monotonic() - t
            time.sleep(every)
        raise TimeoutError(_tmux(sock, "capture-pane", "-p", "-t", "b"))

    t0 = time.monotonic()
    _tmux(sock, "new-session", "-d", "-s", "b", "-x", "160", "-y", "48", cmd)
    try:
        wait(lambda t: "SYN seq=0" in t)
        out["first_screen_s"] = time.monotonic() - t0
        # Polled 10 times a second: each capture-pane is a process, and 200 a second would
        # take a core from the app and its workers on a 2-core machine.
        wait(lambda t: f"/{total} events" in t and "reading" not in t, every=0.1)
        out["indexed_s"] = time.monotonic() - t0
        pid = _tmux(sock, "display-message", "-p", "-t", "b", "#{pane_pid}").strip()
        keys = {}
        for key, expect in (("End", f"{total}/{total}"), ("Home", f" 1/{total}"),
                            ("Right", f" 2/{total}")):  # fmt: skip
            t = time.monotonic()
            _tmux(sock, "send-keys", "-t", "b", key)
            wait(lambda s, e=expect: e in s)  # type: ignore[misc]
            keys[key] = (time.monotonic() - t) * 1000
        out["key_ms"] = keys
        out["peak_mb"] = peak_mb(pid)
        t = time.monotonic()
        _tmux(sock, "send-keys", "-t", "b", "q")
        while _tmux(sock, "has-session", "-t", "b") or time.monotonic() - t < 0:
            if subprocess.run(["tmux", "-L", sock, "has-session", "-t", "b"],
                              check=False, capture_output=True).returncode:  # fmt: skip
                break
            time.sleep(0.01)
        out["quit_s"] = time.monotonic() - t
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], check=False, capture_output=True)
    return out


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (termshark runs tshark twice)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def termshark_run(path: str, timeout: float = 300.0) -> dict[str, Any]:
    """termshark on the same file in the same tmux size: first rows, loaded, memory peak.

    Loaded: its loading percentage and <Stop> button are gone from the filter line. Memory:
    the largest sum of resident memory of termshark and its tshark children seen while
    polling (10 times a second), so a lower bound of the true peak.
    """
    sock = f"hv-ts-{os.getpid()}"
    out: dict[str, Any] = {}
    t0 = time.monotonic()
    _tmux(sock, "new-session", "-d", "-s", "t", "-x", "160", "-y", "48", f"termshark -r {path}")
    try:
        pid = int(_tmux(sock, "display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        peak = 0.0
        while time.monotonic() - t0 < timeout:
            pane = _tmux(sock, "capture-pane", "-p", "-t", "t")
            peak = max(peak, _tree_rss_mb(pid))
            rows = any(line.split()[:2] == ["1", "0.000000"] for line in pane.splitlines()
                       if line.strip())  # fmt: skip
            if rows and "first_rows_s" not in out:
                out["first_rows_s"] = time.monotonic() - t0
            if rows and "<Stop>" not in pane:
                out["loaded_s"] = time.monotonic() - t0
                break
            time.sleep(0.1)
        out["peak_mb"] = peak
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], check=False, capture_output=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--packets", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--no-tmux", action="store_true")
    p.add_argument("--child", nargs=2, metavar=("PATH", "N"), help=argparse.SUPPRESS)
    p.add_argument("--live-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_headless(args.child[0], int(args.child[1])))))
        return 0
    if args.live_child:
        print(json.dumps({"live_ms": asyncio.run(_live_latency())}))
        return 0

    def child(*extra: str) -> dict[str, Any]:
        res = subprocess.run(
            [sys.executable, __file__, *extra], check=False, capture_output=True, text=True
        )
        if res.returncode:
            raise SystemExit(res.stderr)
        return json.loads(res.stdout.strip().splitlines()[-1])

    print(f"targets: {TARGETS}")
    termshark = shutil.which("termshark") and shutil.which("tmux") and not args.no_tmux
    if not termshark:
        print(TERMSHARK_QUOTED + "  (install termshark to measure it here: make bench-tui)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.packets:
            path = Path(tmp) / f"bench-{n}.pcap"
            t = time.monotonic()
            write_capture(path, n)
            print(f"\n{n:,} packets ({path.stat().st_size / 2**20:.0f} MB, written in "
                  f"{time.monotonic() - t:.1f} s)")  # fmt: skip
            h = child("--child", str(path), str(n))
            keys = " ".join(f"{k} {v:.0f}" for k, v in h["key_ms"].items())
            print(f"  headless: first screen {h['first_screen_s']:.2f} s, indexed "
                  f"{h['indexed_s']:.2f} s, keys (ms) {keys}, peak {h['peak_mb']:.0f} MB "
                  f"(timeline columns {h['timeline_mb']:.0f} MB)")  # fmt: skip
            if not args.no_tmux and shutil.which("tmux"):
                r = tmux_run(str(path), n)
                keys = " ".join(f"{k} {v:.0f}" for k, v in r["key_ms"].items())
                print(f"  tmux:     first screen {r['first_screen_s']:.2f} s, indexed "
                      f"{r['indexed_s']:.2f} s, keys (ms, incl. capture-pane polling) {keys}, "
                      f"peak {r['peak_mb']:.0f} MB, q quit {r['quit_s']:.2f} s")  # fmt: skip
            if termshark:
                ts = termshark_run(str(path))
                first = ts.get("first_rows_s")
                loaded = ts.get("loaded_s")
                print(f"  termshark (same file, same tmux size): first rows "
                      f"{'-' if first is None else f'{first:.2f} s'}, loaded "
                      f"{'not within 300 s' if loaded is None else f'{loaded:.2f} s'}, "
                      f"peak >= {ts['peak_mb']:.0f} MB")  # fmt: skip
    live = child("--live-child")
    print(f"\nlive: packet to ladder, median {live['live_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
