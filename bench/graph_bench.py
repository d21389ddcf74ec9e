"""Measure the graphs of a 1,000,000-packet capture's largest connection.

    .venv/bin/python bench/graph_bench.py [--packets 1000000] [--runs 3]

Two captures of `--packets` packets, written into a temporary directory:

- ``many``: the TUI bench's file (`tui_bench.write_capture`): 100,000 loopback connections of
  10 packets, so the largest connection is small and the cost is finding it among a million
  rows;
- ``bulk``: one connection carrying the whole file (a bulk transfer, its payloads cut by the
  snaplen, one segment in 500 lost and sent again after three duplicate ACKs), so the
  graph's own computation meets a million packets.

For each, the timeline is built as the TUI builds it (index workers), then each kind of graph
is computed (`build_graph`) and drawn at 160x40 (`plot_text`), `--runs` times: the medians
are printed with the spread, beside the target (under a second from key to picture). Then
the app itself, headless: `g` and each kind's key, timed until the graph is on screen, and
the app's memory peak with the graph open. Memory:
the peak (VmHWM) of the process that read the file and drew its graphs (one process per
capture), against the TUI's budget (500 MB at a million packets), and the peak of one
time-sequence graph's computation (tracemalloc, once).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from tui_bench import peak_mb, write_capture

from handshake_viz.model.graphs import build_graph, largest_tcp_stream
from handshake_viz.model.graphs_series import GraphKind
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.graph_plot import plot_text
from handshake_viz.sources.parallel import decode_worker
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.catalog import load

TARGET_S = 1.0
BUDGET_MB = 500.0
SIZE = (160, 40)
MSS = 1448
LOSS_EVERY = 500


def _frame(sport: int, dport: int, seq: int, ack: int, flags: int, length: int,
           options: bytes = b"", window: int = 512) -> tuple[bytes, int]:  # fmt: skip
    """Ethernet + IPv4 + TCP headers of a segment carrying `length` bytes (not captured)."""
    lo = 0x7F000001
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (5 + len(options) // 4) << 4, flags, window, 0, 0) + options  # fmt: skip
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(tcp) + length, 0, 0x4000, 64, 6, 0, lo,
                     lo)  # fmt: skip
    head = b"\x00" * 12 + b"\x08\x00" + ip + tcp
    return head, len(head) + length


def write_bulk(path: Path, packets: int) -> None:
    """One connection: handshake with window scale 7, then data one way, an ACK every second
    segment, a segment lost every `LOSS_EVERY` and sent again after three duplicate ACKs."""
    c, s = 1_000_000, 2_000_000
    syn_opts = bytes([2, 4, 0xFF, 0xD7, 1, 3, 3, 7])  # MSS 65495, NOP, wscale 7
    frames: list[tuple[bytes, int]] = [
        _frame(40000, 8000, c, 0, 0x02, 0, syn_opts, 65495),
        _frame(8000, 40000, s, c + 1, 0x12, 0, syn_opts, 65483),
        _frame(40000, 8000, c + 1, s + 1, 0x10, 0),
    ]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t, n = 1_700_000_000.0, 0

        def put(head: bytes, wire: int) -> None:
            nonlocal t, n
            t += 0.00001
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(head), wire))
            f.write(head)
            n += 1

        for fr in frames:
            put(*fr)
        seq, acked, k = c + 1, c + 1, 0
        while n < packets:
            k += 1
            if k % LOSS_EVERY == 0:  # lost: the receiver's next ACKs stay at `acked`
                lost = seq
                seq += MSS
                for _ in range(3):
                    put(*_frame(40000, 8000, seq, s + 1, 0x10, MSS))
                    put(*_frame(8000, 40000, s + 1, lost, 0x10, 0))
                    seq += MSS
                put(*_frame(40000, 8000, lost, s + 1, 0x10, MSS))  # fast retransmission
                acked = seq
                put(*_frame(8000, 40000, s + 1, acked, 0x10, 0))
                continue
            put(*_frame(40000, 8000, seq, s + 1, 0x10, MSS))
            seq += MSS
            if k % 2 == 0:
                acked = seq
                put(*_frame(8000, 40000, s + 1, acked, 0x10, 0))


def load_timeline(path: Path) -> tuple[Timeline, ReplaySource, float]:
    decode_worker.prepare()
    source = ReplaySource(path, parallel=True)
    t = time.monotonic()
    timeline = Timeline()
    merged = source.index_rows()
    if merged is None:
        timeline.extend(source.events())
    else:
        for batches in merged:
            timeline.merge(batches)
    timeline.done = True
    gc.freeze()  # as the app does once a file is read
    return timeline, source, time.monotonic() - t


def measure(path: Path, runs: int) -> dict[str, Any]:
    timeline, source, load_s = load_timeline(path)
    sid = largest_tcp_stream(timeline)
    assert sid is not None
    info = timeline.streams[sid]
    cat = load("en")
    out: dict[str, Any] = {"load_s": load_s, "rows": timeline.count, "packets": info.packets}
    for kind in GraphKind:
        computed, drawn = [], []
        for _ in range(runs):
            t = time.monotonic()
            graph = build_graph(timeline, sid, kind, frames=source, table=False)
            t1 = time.monotonic()
            plot_text(graph, timeline, cat, *SIZE, marker_row=info.first_row + 3)
            t2 = time.monotonic()
            computed.append(t1 - t)
            drawn.append(t2 - t)
        out[kind.value] = (computed, drawn)
    tracemalloc.start()
    graph = build_graph(timeline, sid, GraphKind.TSG, frames=source, table=False)
    out["tsg_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del graph
    out["peak_mb"] = peak_mb()
    return out


async def _tui(path: Path) -> dict[str, Any]:
    """The app on the file, headless, as `handshake-viz replay` runs it: every row revealed,
    then `g` and each kind's key, timed from the key to the graph on screen."""
    from handshake_viz.tui.app import make_app
    from handshake_viz.tui.graphs import KIND_KEYS, GraphPane

    decode_worker.prepare()
    app = make_app(ReplaySource(path, parallel=True), autoplay=False)
    out: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        while not (app.timeline.done and app.view.matched == app.timeline.count):
            await asyncio.sleep(0.05)
        await pilot.press("end")
        await pilot.pause()
        for key, kind in (("g", GraphKind.TSG), *KIND_KEYS[1:], KIND_KEYS[0]):
            t = time.monotonic()
            await pilot.press(key)
            pane = app.query_one(GraphPane)
            while pane._shown is None or pane._shown != pane._asked or pane.kind is not kind:
                await asyncio.sleep(0.005)
            await pilot.pause()  # drawn
            out.setdefault(kind.value, []).append(time.monotonic() - t)
        await pilot.press("q")
    out["peak_mb"] = peak_mb()
    return out


def _spread(values: list[float]) -> str:
    return (f"{statistics.median(values):.3f} s (min {min(values):.3f}, "
            f"max {max(values):.3f})")  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--packets", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", choices=("many", "bulk"))
    p.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    p.add_argument("--tui-child", metavar="PATH", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:  # one capture in a process of its own: its own memory peak
        print(json.dumps(measure(Path(args.child), args.runs)))
        return 0
    if args.tui_child:
        print(json.dumps(asyncio.run(_tui(Path(args.tui_child)))))
        return 0
    print(f"target: the largest connection's graph under {TARGET_S} s; memory under "
          f"{BUDGET_MB:.0f} MB (the TUI's budget)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, writer in (("many", write_capture), ("bulk", write_bulk)):
            if args.only and name != args.only:
                continue
            path = Path(tmp) / f"{name}.pcap"
            writer(path, args.packets)
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(path), "--runs", str(args.runs)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            r = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"\n{name}: {r['rows']:,} rows, largest connection {r['packets']:,} packets "
                  f"(timeline built in {r['load_s']:.1f} s)")  # fmt: skip
            for kind in GraphKind:
                computed, drawn = r[kind.value]
                print(f"  {kind.value:<9} computed {_spread(computed)}; computed and drawn "
                      f"{_spread(drawn)}")  # fmt: skip
            print(f"  one time-sequence graph's computation peaks at {r['tsg_mb']:.0f} MB; "
                  f"process peak {r['peak_mb']:.0f} MB")  # fmt: skip
            child = subprocess.run(
                [sys.executable, __file__, "--tui-child", str(path)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            r = json.loads(child.stdout.strip().splitlines()[-1])
            keys = ", ".join(f"{k} {r[k][0]:.2f} s" for k in (g.value for g in GraphKind))
            print(f"  in the TUI (headless, key to graph on screen): {keys}; app's peak "
                  f"{r['peak_mb']:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
