"""Drive the app to a graph and save the README's picture of it (docs/graph.svg).

    .venv/bin/python scripts/graph_screenshot.py [--capture FILE] [--stream N] [--kind K]
                                                 [--out docs/graph.svg]

It replays the loopback capture the graph tests use (a transfer that loses one data segment
in 40), reveals every row, chooses the connection, hides the side panel, opens the graph
pane with `g`, picks the kind, puts the ladder's cursor on a retransmission (the marker),
and saves what the terminal shows.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from handshake_viz.core.events import SYN
from handshake_viz.model.graphs_series import GraphKind
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import make_app
from handshake_viz.tui.graphs import KIND_KEYS, GraphPane

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "tests" / "data" / "graphs" / "selfmade__graphs_loopback.pcap"
SIZE = (130, 42)


async def shoot(capture: Path, stream: int, kind: GraphKind, out: Path) -> None:
    source = ReplaySource(capture)
    source.description = capture.name
    app = make_app(source, autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        while not (app.timeline.done and app.view.matched == app.timeline.count):
            await pilot.pause(0.05)
        await pilot.press("end")
        sid = app.timeline.sid_of("tcp", stream)
        if sid is None:
            raise SystemExit(f"graph_screenshot: {capture.name} has no tcp stream {stream}")
        await pilot.press("1", *["down"] * (sid + 1), "enter", "b")
        key = next(k for k, v in KIND_KEYS if v is kind)
        await pilot.press("g", key)
        pane = app.query_one(GraphPane)
        while pane._shown is None or pane._shown != pane._asked:
            await pilot.pause(0.05)
        graph = pane.plot.graph
        marked = [r for s in graph.series if s.key == "retransmission" for r in s.rows
                  if not app.timeline.flags[r] & SYN]  # fmt: skip
        if marked:
            pane.select_row(marked[len(marked) // 2])
        await pilot.pause(0.3)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(app.export_screenshot(title="handshake-viz: graphs"), encoding="utf-8")
    print(f"saved {out}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--capture", type=Path, default=CAPTURE)
    p.add_argument("--stream", type=int, default=3, help="tcp stream (default 3: the loss)")
    p.add_argument("--kind", default="tsg", choices=[k.value for k in GraphKind])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "graph.svg")
    args = p.parse_args()
    asyncio.run(shoot(args.capture, args.stream, GraphKind(args.kind), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
