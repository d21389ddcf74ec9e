"""Snapshots of the main screens (pytest-textual-snapshot).

Nothing here depends on the clock: playback starts paused, times are the capture's own, and
each test waits for the reading thread (and the dissection) before the picture is taken.
Update with `pytest tests/tui/test_snapshots.py --snapshot-update` after a deliberate change.
"""

from __future__ import annotations

from typing import Any

from handshake_viz.core.events import Event
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from tests.helpers.fakes import FakeSource, wait_dissection, wait_indexed
from tests.helpers.paths import HTTP_GET

SIZE = (150, 34)


def demo_app(events: list[Event]) -> TimelineApp:
    return make_app(FakeSource(events), autoplay=False)


def test_ladder_whole_connection(snap_compare: Any, demo_events: list[Event]) -> None:
    app = demo_app(demo_events)

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("end", "up", "up", "up", "up")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_handshake_step_by_step(snap_compare: Any, demo_events: list[Event]) -> None:
    app = demo_app(demo_events)

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("right", "right", "right", "right", "right", "right")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_packet_detail(snap_compare: Any) -> None:
    source = ReplaySource(HTTP_GET)
    source.description = HTTP_GET.name  # the status bar would show this checkout's path
    app = make_app(source, autoplay=False)

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("end", *["up"] * 10, "enter")
        await wait_dissection(app.detail, pilot, "payload", timeout=10.0)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_filter_and_help(snap_compare: Any, demo_events: list[Event]) -> None:
    app = demo_app(demo_events)

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash", *"confirm", "enter", "question_mark")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
