"""Ctrl-C while the TUI starts (a signal, before the terminal is raw) asks the app to quit
once its first frame is up, as `q` does: no KeyboardInterrupt through a half-mounted app."""

from __future__ import annotations

import signal

from handshake_viz.core.events import Event
from handshake_viz.tui.app import make_app
from handshake_viz.tui.interrupt import quit_on_ctrl_c
from tests.helpers.fakes import FakeSource


def test_ctrl_c_as_a_signal_only_asks_to_quit() -> None:
    asked: list[int] = []
    before = signal.getsignal(signal.SIGINT)
    with quit_on_ctrl_c(lambda: asked.append(1)):
        signal.raise_signal(
            signal.SIGINT
        )  # the handler runs before it returns: no KeyboardInterrupt
    assert asked == [1]
    assert signal.getsignal(signal.SIGINT) is before


async def test_a_quit_asked_before_the_first_frame_ends_the_app_once_it_stands(
    demo_events: list[Event],
) -> None:
    source = FakeSource(demo_events, live=True)  # never ends by itself
    app = make_app(source)
    with quit_on_ctrl_c(app.request_quit):
        signal.raise_signal(signal.SIGINT)  # while the app is not even running
        async with app.run_test(size=(120, 35)) as pilot:
            for _ in range(100):
                if app.return_code is not None:
                    break
                await pilot.pause(0.05)
    assert app.return_code == 0 and source.stopped
    assert app.ingest_finished.wait(1.0)
