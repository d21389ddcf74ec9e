"""Drive the app through a handshake and save the README's screenshot (docs/screenshot.svg).

    .venv/bin/python scripts/screenshot.py [--capture FILE] [--out docs/screenshot.svg]

It replays a real capture with the server's socket calls in front (as the demo shows them),
steps to the client's ACK, and saves what the terminal would show.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from handshake_viz.core.events import CaptureStats, Event, PacketEvent, SocketEvent
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import make_app

ROOT = Path(__file__).resolve().parents[1]


class WithSocketCalls:
    """A replay with the server's listen() and the client's connect() put in front."""

    live = False

    def __init__(self, path: Path) -> None:
        self.replay = ReplaySource(path)
        self.description = path.name
        self.stats: CaptureStats = self.replay.stats
        self.raw_frame = self.replay.raw_frame

    def events(self):  # type: ignore[no-untyped-def]
        events: list[Event] = list(self.replay.events())
        first = next(e for e in events if isinstance(e, PacketEvent))
        t, server = first.time, f"{first.dst}:{first.dport}"
        yield SocketEvent(t - 0.003, "server", "bind", local=server, result="ok")
        yield SocketEvent(t - 0.002, "server", "listen", local=server, result="ok")
        yield SocketEvent(t - 0.001, "client", "connect", remote=server)
        yield from events

    def stop(self) -> None:
        self.replay.stop()


async def shoot(capture: Path, out: Path) -> None:
    app = make_app(WithSocketCalls(capture), autoplay=False)
    async with app.run_test(size=(150, 32)) as pilot:
        while not app.timeline.done:
            await pilot.pause(0.02)
        await pilot.pause(0.1)
        await pilot.press(*["right"] * 5, "2")
        for _ in range(100):  # let the dissection arrive
            await pilot.pause(0.05)
            if "###[ TCP ]###" in str(app.detail.query_one("#dissection").render()):
                break
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(app.export_screenshot(title="handshake-viz"), encoding="utf-8")
    print(f"saved {out}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--capture", type=Path, default=ROOT / "tests/data/zeek__http_get.pcap")
    p.add_argument("--out", type=Path, default=ROOT / "docs/screenshot.svg")
    args = p.parse_args()
    asyncio.run(shoot(args.capture, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
