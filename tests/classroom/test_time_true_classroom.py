"""The classroom's ladder is the app's: `d` shows it time-true there too, in the lesson's
language (Pilot, real sockets, real capture)."""

from __future__ import annotations

import time

import pytest

from handshake_viz.classroom.app import make_classroom_app
from handshake_viz.classroom.screen import ClassroomApp
from handshake_viz.model.rows import KIND_SOCKET


def packets_shown(app: ClassroomApp) -> int:
    return sum(app.timeline.kind[r] != KIND_SOCKET for r in app.view.rows())


@pytest.mark.capture
@pytest.mark.parametrize(("lang", "rtt"), [("en", "RTT "), ("zh", "往返时间 ")])
async def test_d_shows_the_handshakes_round_trip_between_syn_and_syn_ack(
    need_capture: None, port: int, lang: str, rtt: str
) -> None:
    app = make_classroom_app(None, lang, port=port)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("l", "c")  # listen, then connect: a handshake
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and (app.steps_done < 2 or packets_shown(app) < 3):
            await pilot.pause(0.05)
        await pilot.press("d")
        await pilot.pause(0.1)
        ladder = app.ladder
        assert ladder.time_true
        lines = [ladder.render_line(y).text for y in range(ladder.size.height)]
        said = [n for n, line in enumerate(lines) if rtt in line and "ms" in line]
        assert len(said) == 1
        assert "SYN seq=0" in lines[said[0] - 1] and "SYN,ACK" in lines[said[0] + 1]
        await pilot.press("q")
