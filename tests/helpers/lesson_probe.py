"""Run a lesson the way ``handshake-viz classroom`` does, headless, and say what it showed.

``python -m tests.helpers.lesson_probe LESSON [--lang zh] [--steps N] [--keys lc]``

A process of its own: it moves into a network of its own first (or, with
HANDSHAKE_VIZ_SHARED_NET set, stays on the machine's and holds a port), sets the lesson up
with `make_classroom_app` as the CLI does, drives the real app with Pilot (Space per guided
step, then the free-mode keys given), and prints one JSON object: the port, whether the
network was private, every packet and socket call on the ladder, the kernel panel as text,
each step's words and the explanation of every row, and the sysctls it read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from handshake_viz.classroom.app import make_classroom_app
from handshake_viz.classroom.explain_more import lesson_explanation
from handshake_viz.classroom.screen import ClassroomApp
from handshake_viz.classroom.sysctls import read_syn_timers
from handshake_viz.core.events import PacketEvent, SocketEvent
from handshake_viz.sources.netns import isolate

SIZE = (160, 48)


async def _settle(app: ClassroomApp, pilot: Any, steps: int, quiet: float) -> None:
    deadline = time.monotonic() + 15
    while app.steps_done < steps and time.monotonic() < deadline:
        await pilot.pause(0.02)
    n, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if app.timeline.count != n:
            n, since = app.timeline.count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


async def probe(lesson: str | None, lang: str, steps: int | None, keys: str,
                quiet: float) -> dict[str, Any]:  # fmt: skip
    network = isolate()
    app = make_classroom_app(lesson, lang, network=network)
    out: dict[str, Any] = {"port": app.stepper.port, "private": network.private, "steps": []}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        done = 0
        if app.guided is not None:
            for _ in range(app.guided.total if steps is None else steps):
                await pilot.press("space")
                done += 1
                await _settle(app, pilot, done, quiet)
                t = app.guided.text()
                out["steps"].append({"n": t.n, "total": t.total, "say": t.say, "look": t.look,
                                     "counter": t.counter(app.cat),
                                     "kernel": app.kernel_text(200).plain})  # fmt: skip
        for key in keys:
            await pilot.press(key)
            done += 1
            await _settle(app, pilot, done, quiet)
        await _settle(app, pilot, done, quiet)
        app._refresh_panels()
        out["kernel"] = app.kernel_text(200).plain
        out["keys_panel"] = str(app.query_one("#keys").render())
        tl = app.timeline
        rows = []
        for i in range(tl.count):
            ev = tl.row(i).event()
            if isinstance(ev, PacketEvent):
                rows.append({"type": "packet", "time": ev.time, "dir": ev.dir, "stream": ev.stream,
                             "sport": ev.sport, "dport": ev.dport, "flags": list(ev.flag_list),
                             "len": ev.len, "analysis": list(ev.analysis),
                             "explain": lesson_explanation(tl, i, lang)})  # fmt: skip
            elif isinstance(ev, SocketEvent):
                rows.append({"type": "socket", "call": ev.call, "side": ev.side,
                             "local": ev.local, "remote": ev.remote, "result": ev.result,
                             "explain": lesson_explanation(tl, i, lang)})  # fmt: skip
        out["rows"] = rows
        timers = read_syn_timers()
        out["sysctls"] = {"tcp_syn_retries": timers.syn_retries,
                          "tcp_syn_linear_timeouts": timers.linear_timeouts,
                          "tcp_synack_retries": timers.synack_retries}  # fmt: skip
        await pilot.press("q")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lesson", nargs="?")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--keys", default="")
    ap.add_argument("--quiet", type=float, default=0.4)
    args = ap.parse_args()
    out = asyncio.run(probe(args.lesson, args.lang, args.steps, args.keys, args.quiet))
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
