"""A capture arriving on a pipe is followed like a live capture, and the status bar says what
a view shows: streaming, a stopped capture and why, a frozen view's new rows, whatever the
filter (Pilot; the pipe is a real one, fed from a capture file record by record)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load
from tests.helpers.fakes import FakeSource
from tests.helpers.paths import HTTP_GET

SIZE = (120, 35)


def status(app: TimelineApp) -> str:
    return str(app.query_one("#status", Static).render())


def pcap_records(path: Path) -> tuple[bytes, list[bytes]]:
    """A little-endian microsecond pcap's header and its records, as bytes."""
    data = path.read_bytes()
    header, rest, records = data[:24], data[24:], []
    while rest:
        caplen = struct.unpack("<I", rest[8:12])[0]
        records.append(rest[: 16 + caplen])
        rest = rest[16 + caplen :]
    return header, records


async def wait_for(pilot: Any, check: Callable[[], bool], timeout: float = 5.0) -> None:
    waited = 0.0
    while not check() and waited < timeout:
        await pilot.pause(0.02)
        waited += 0.02
    assert check(), "the app never showed what was expected"


async def test_a_piped_capture_is_followed_as_it_arrives_and_says_streaming() -> None:
    header, records = pcap_records(HTTP_GET)
    read_end, write_end = os.pipe()
    source = ReplaySource("-", stream=os.fdopen(read_end, "rb"))
    app = make_app(source, pause=30)  # a replay would show one row every 30 s
    async with app.run_test(size=SIZE) as pilot:
        os.write(write_end, header + records[0] + records[1] + records[2])
        await wait_for(pilot, lambda: app.view.visible_count == 3)
        ladder = app.query_one(LadderView)
        assert app.view.live and ladder.following
        assert ladder.selected == 2  # the newest row, at the bottom, as live
        assert "streaming" in status(app) and "reading" not in status(app)
        assert "SYN,ACK" in ladder.render_line(2).text
        os.write(write_end, b"".join(records[3:6]))
        await wait_for(pilot, lambda: app.view.visible_count == 6 and ladder.selected == 5)
        os.close(write_end)  # tcpdump ends: the stream ends, its connection is summed up
        await wait_for(pilot, lambda: app.timeline.done)
        await pilot.pause(0.3)
        assert "stream ended" in status(app) and "6/6 events" in status(app)
        assert app.error is None


async def test_home_then_a_filter_never_counts_new_rows_below_zero(
    demo_events: list[Event],
) -> None:
    source = FakeSource(demo_events, live=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view.visible_count == len(demo_events) - 1)
        await pilot.press("home")
        assert "frozen, 0 new" in status(app)
        await pilot.press("slash", *"syn", "enter")
        await pilot.pause(0.1)
        assert "frozen, 0 new" in status(app) and "filter 'syn'" in status(app)
        first = next(e for e in demo_events if isinstance(e, PacketEvent))
        source.push(first)  # a new SYN arrives while the view is frozen: one new row
        await wait_for(pilot, lambda: "frozen, 1 new" in status(app))
        source.push(demo_events[-3])  # not a SYN: new, but not shown by the filter
        await pilot.pause(0.4)
        assert "frozen, 1 new" in status(app)
        await pilot.press("f")
        assert "frozen" not in status(app)
        source.close()


@pytest.mark.parametrize(
    ("lang", "reason"),
    [("en", "activity"), ("zh", "activity"), ("en", "duration"), ("zh", "count"), ("en", "error")],
)
async def test_a_finished_live_capture_says_why_it_stopped_in_each_language(
    demo_events: list[Event], lang: str, reason: str
) -> None:
    source = FakeSource(demo_events, live=True)
    app = make_app(source, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view.visible_count > 10)
        assert load(lang).text("status.live") in status(app)
        source.ended = reason  # type: ignore[attr-defined]
        source.close()
        await wait_for(pilot, lambda: app.timeline.done)
        await pilot.pause(0.3)
        said = status(app)
        assert load(lang).text(f"status.ended_{reason}") in said
        assert f" · {load(lang).text('status.live')}" not in said
        await pilot.press("home")  # a stopped capture has nothing to follow
        await pilot.pause(0.1)
        assert "frozen" not in status(app) and "冻结" not in status(app)


async def test_the_status_bar_keeps_frozen_and_filter_state_at_80_columns(
    demo_events: list[Event],
) -> None:
    source = FakeSource(demo_events, live=True)
    source.description = "lo: tcp port 8000 or udp port 8000"
    source.stats.saved_to = "captures/live-20261201-093000-port-8000.pcap"
    app = make_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.view.visible_count == len(demo_events) - 1)
        await pilot.press("home", "slash", *"fin", "enter")
        await pilot.pause(0.4)
        said = status(app)
        assert "live" in said and "frozen, 0 new (f: follow)" in said
        assert "filter 'fin' (2 match)" in said and len(said) <= 80
        assert "lo: tcp port 8000" in said  # the source is cut last
        assert "saving" not in said  # the capture file's name goes first
        source.close()
