"""Measure applying a `/` filter to a large timeline: how long until its rows are on screen, and
how long the UI thread stalls meanwhile.

    .venv/bin/python bench/filter_bench.py [--packets 1000000] [--runs 3] [--filters ...]

It writes a capture of repeated loopback connections (`tui_bench.write_capture`), opens it in
the app headless (Pilot) as the CLI does, waits for it to be indexed, then for each filter,
`--runs` times: types it, presses Enter, and waits until the ladder has its rows and the screen
has been refreshed ("enter_to_rows_s"). A 5 ms heartbeat (`set_interval`) runs in the app all
along; the longest gap between two beats from Enter to the rows is the UI thread's longest
stall ("stall_ms"): a key pressed then would wait as long. Each figure is the median of the
runs. "box_closed_without_filter_stall_ms" is the floor: the same box closed by Esc, whose
redraw stalls the UI thread without any filter. Run it against another checkout (`--root`)
to compare before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FILTERS = ("fin", "(syn or fin) and not retrans", "127.0.0.1", "time:1-")
BEAT = 0.005


class Heartbeat:
    """The longest gap between two beats since `reset`."""

    def __init__(self) -> None:
        self.last = self.start = time.monotonic()
        self.longest = 0.0
        self.ended = 0.0
        """When the longest gap ended, in seconds after `reset`."""

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last > self.longest:
            self.longest, self.ended = now - self.last, now - self.start
        self.last = now

    def reset(self) -> None:
        self.last = self.start = time.monotonic()
        self.longest = self.ended = 0.0


async def measure(path: str, packets: int, filters: list[str], runs: int) -> dict[str, Any]:
    import handshake_viz
    from handshake_viz.model.query import matching_rows
    from handshake_viz.sources.parallel import decode_worker
    from handshake_viz.sources.replay import ReplaySource
    from handshake_viz.tui.app import make_app

    decode_worker.prepare()
    app = make_app(ReplaySource(path, parallel=True), autoplay=False)
    out: dict[str, Any] = {"code": str(Path(handshake_viz.__file__).parent.parent)}
    heart = Heartbeat()
    async with app.run_test(size=(160, 48)) as pilot:
        # While the file is read: a filter applied at a third of it, then checked at the end.
        while app.timeline.count < packets // 3:
            await asyncio.sleep(0.01)
        out["while_indexing"] = {"applied_at_rows": app.timeline.count}
        await pilot.press("slash", *filters[-1], "enter")
        out["while_indexing"]["read_when_applied"] = app.timeline.done
        while not app.timeline.done or getattr(app, "filtering", None):
            await asyncio.sleep(0.05)
        await pilot.pause(0.3)  # the tick takes in the last rows
        whole = matching_rows(app.timeline, app.view.filter, 0, app.timeline.count)
        kept = app.view._rows  # every row the filter keeps, revealed or not
        right = kept is not None and list(kept) == list(whole)
        out["while_indexing"].update(rows_once_read=app.timeline.count, matched=len(whole),
                                     right=right)  # fmt: skip
        await pilot.press("escape")
        await pilot.pause(0.2)
        out["events"] = app.timeline.count
        app.set_interval(BEAT, heart.beat)
        await pilot.press("end")
        await pilot.pause()
        floor = []  # the same box closed by Esc, no filter applied: the redraw's own stall
        for _ in range(runs):
            await pilot.press("slash", "ctrl+u", *"fin")
            await pilot.pause()
            heart.reset()
            await pilot.press("escape")
            await pilot.pause()
            heart.beat()
            floor.append(heart.longest * 1000)
        out["box_closed_without_filter_stall_ms"] = round(statistics.median(floor), 1)
        for text in filters:
            times, stalls, ends, matched = [], [], [], 0
            for _ in range(runs):
                await pilot.press("slash", "ctrl+u", *text)
                await pilot.pause()
                heart.reset()
                t = time.monotonic()
                await pilot.press("enter")
                while app.view.filter.text != text or getattr(app, "filtering", None):
                    await asyncio.sleep(0.002)
                await pilot.pause()  # the ladder redrawn with the rows
                heart.beat()
                times.append(time.monotonic() - t)
                stalls.append(heart.longest * 1000)
                ends.append(heart.ended * 1000)
                matched = app.view.matched
                await pilot.press("escape")  # back to every row (no filter is applied there)
                await pilot.pause(0.2)
            out[text] = {
                "enter_to_rows_s": round(statistics.median(times), 3),
                "stall_ms": round(statistics.median(stalls), 1),
                "runs_s": [round(x, 3) for x in times],
                "runs_stall_ms": [round(x, 1) for x in stalls],
                "runs_stall_ended_ms": [round(x) for x in ends],
                "matched": matched,
            }
        await pilot.press("q")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--filters", nargs="*", default=list(FILTERS))
    ap.add_argument("--root", type=Path, default=HERE.parent,
                    help="the checkout whose handshake_viz is measured")  # fmt: skip
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from tui_bench import write_capture  # puts this checkout first on the path

    sys.path.insert(0, str(args.root.resolve()))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.pcap"
        write_capture(path, args.packets)
        result = asyncio.run(measure(str(path), args.packets, args.filters, args.runs))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
