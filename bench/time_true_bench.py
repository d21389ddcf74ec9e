"""Measure the time-true ladder on a 1,000,000-packet capture.

    .venv/bin/python bench/time_true_bench.py [--packets 1000000] [--runs 3]

The TUI bench's file (`tui_bench.write_capture`: 100,000 loopback connections of 10
packets), its timeline built as the TUI builds it (index workers, `graph_bench.load_timeline`).
Then, `--runs` times each: laying out every row from scratch (`TimeTrueLayout.sync`, what `d`
costs the first time on a whole file), and drawing the last screen (40 lines, gap lines and
their words included) as text; then the app itself, headless: End, then `d`, timed from the
key until the ladder has its time-true height. Medians, with the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from graph_bench import load_timeline
from tui_bench import write_capture

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timescale import TimeTrueLayout
from handshake_viz.render.ladder_gaps import gap_line, rails
from handshake_viz.render.ladder_text import Columns, header_text, ladder_segments


def last_screen(view: TimelineView, layout: TimeTrueLayout, height: int = 40) -> int:
    """Draw the last `height` lines as the ladder does; how many were drawn."""
    cols = Columns.fit(160)
    where = rails(header_text(view, cols))
    drawn = 0
    for line in range(max(layout.total - height, 0), layout.total):
        index, k = layout.at(line)
        if k < 0:
            ladder_segments(view, index, cols)
        else:
            gap_line(view, index, k, layout.gap_before(index), cols, where)
        drawn += 1
    return drawn


async def app_toggle(path: Path) -> float:
    from handshake_viz.sources.replay import ReplaySource
    from handshake_viz.tui.app import make_app

    app = make_app(ReplaySource(path, parallel=True), autoplay=False)
    async with app.run_test(size=(160, 45)) as pilot:
        while not (app.timeline.done and app.view.matched == app.timeline.count):
            await pilot.pause(0.1)
        await pilot.press("end")
        await pilot.pause(0.2)
        plain = app.ladder.virtual_size.height
        t = time.monotonic()
        await pilot.press("d")
        while app.ladder.virtual_size.height == plain:
            await pilot.pause(0.005)
        took = time.monotonic() - t
        await pilot.press("q")
    return took


def spread(values: list[float]) -> str:
    mid = statistics.median(values)
    return f"median {mid:.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--packets", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.pcap"
        write_capture(path, args.packets)
        timeline, _, load_s = load_timeline(path)
        view = TimelineView(timeline, live=True)
        view.sync()
        print(f"{timeline.count:,} rows, read in {load_s:.1f} s")
        sync_s, draw_s = [], []
        layout = TimeTrueLayout(view)
        for _ in range(args.runs):
            layout = TimeTrueLayout(view)
            t = time.monotonic()
            layout.sync()
            sync_s.append(time.monotonic() - t)
            t = time.monotonic()
            last_screen(view, layout)
            draw_s.append(time.monotonic() - t)
        print(f"lines: {layout.total:,} for {layout.rows:,} rows")
        print(f"layout of every row: {spread(sync_s)}")
        print(f"last screen drawn:   {spread(draw_s)}")
        toggles: list[Any] = [asyncio.run(app_toggle(path)) for _ in range(args.runs)]
        print(f"app, d at End:       {spread(toggles)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
