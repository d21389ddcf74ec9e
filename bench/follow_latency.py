"""How far behind the teacher a student following in ``serve`` is.

A teacher's lesson appends each event it shows to its stream (`classroom.session`); a
follower (`classroom.follow.FollowSource`) tails it. Here a writer appends a packet event
every `--interval` seconds, the way a lesson does, and a follower in another thread reads
them; printed: the delay from each append to the follower's yield, median and p95, over
`--events` events and `--runs` runs. The app's screen adds its own tick on top (30 Hz).

``.venv/bin/python bench/follow_latency.py [--runs 3]`` (no privilege needed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from handshake_viz.classroom.follow import FollowSource
from handshake_viz.classroom.session import SessionFolder, StreamWriter, name_teacher
from handshake_viz.core.events import SocketEvent


def one_run(events: int, interval: float) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        session = SessionFolder(root / "tab-teacher")
        session.path.mkdir()
        writer = StreamWriter(session.stream)
        name_teacher(root, session)
        follower = FollowSource(root)
        written: dict[int, float] = {}
        delays: list[float] = []

        def follow() -> None:
            for ev in follower.events():
                n = int(ev.time)
                delays.append(time.monotonic() - written[n])

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        for n in range(events):
            written[n] = time.monotonic()
            writer.event(SocketEvent(float(n), "client", "send", "127.0.0.1:1", None, "1 bytes"))
            time.sleep(interval)
        writer.close()
        reader.join(5)
        return delays


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.037)
    args = ap.parse_args()
    medians, p95s = [], []
    for run in range(1, args.runs + 1):
        delays = sorted(one_run(args.events, args.interval))
        median = statistics.median(delays)
        p95 = delays[int(len(delays) * 0.95) - 1]
        medians.append(median)
        p95s.append(p95)
        print(f"run {run}: {len(delays)} events, delay median {median * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"median of {args.runs} runs: delay median {statistics.median(medians) * 1000:.0f} ms, "
          f"p95 {statistics.median(p95s) * 1000:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
