"""Every pane is reached and scrolled from the keyboard (Pilot): the packet detail with ↑ ↓
PgUp PgDn Home End once Enter, 2 or Tab gave it the keys, Esc or Tab back to the ladder; the
connections list by pages and to its ends; the help lists those keys."""

from __future__ import annotations

from typing import Any

import pytest

from handshake_viz.core.events import Event
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.detail import PacketDetail
from handshake_viz.tui.help import HelpScreen
from handshake_viz.tui.ladder import LadderView
from tests.helpers.fakes import FakeSource, wait_dissection, wait_indexed
from tests.helpers.graphs import LOOPBACK
from tests.helpers.paths import HTTP_GET


async def open_a_long_packet(app: TimelineApp, pilot: Any, *keys: str) -> PacketDetail:
    """A segment of the HTTP answer, 1,448 bytes (its detail is longer than the screen, its
    hex dump too at 16 bytes a line), opened by `keys`."""
    await wait_indexed(app, pilot)
    await pilot.press("end", *["up"] * 6, *keys)
    detail = app.query_one(PacketDetail)
    await wait_dissection(detail, pilot, "payload", timeout=10.0)
    await pilot.pause(0.2)
    assert detail.max_scroll_y > 10
    return detail


@pytest.mark.parametrize("size", [(120, 35), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_enter_gives_the_detail_the_keys_to_scroll_it(size: tuple[int, int]) -> None:
    app = make_app(ReplaySource(HTTP_GET), autoplay=False)
    async with app.run_test(size=size) as pilot:
        detail = await open_a_long_packet(app, pilot, "enter")
        assert detail.has_focus and app.side.active == "packet"
        selected = app.ladder.selected
        await pilot.press("down", "down")
        assert detail.scroll_y == 2 and app.ladder.selected == selected  # the text, not rows
        await pilot.press("pagedown")
        assert detail.scroll_y > 10
        await pilot.press("end")
        assert detail.scroll_y == detail.max_scroll_y  # the payload's hex and text
        await pilot.press("home")
        assert detail.scroll_y == 0
        await pilot.press("escape")
        assert app.query_one(LadderView).has_focus
        await pilot.press("up")
        assert app.ladder.selected == selected - 1  # the ladder has the keys again


async def test_tab_goes_from_the_ladder_to_the_open_pane_and_back() -> None:
    app = make_app(ReplaySource(HTTP_GET), autoplay=False)
    async with app.run_test(size=(140, 36)) as pilot:
        detail = await open_a_long_packet(app, pilot, "enter", "escape")
        await pilot.press("tab")
        assert detail.has_focus  # one Tab: the tab strip takes no focus
        await pilot.press("pagedown")
        assert detail.scroll_y > 10
        await pilot.press("tab")
        assert app.ladder.has_focus
        await pilot.press("1", "escape", "tab")
        assert app.query_one(ConnectionsView).has_focus


async def test_at_80_columns_the_detail_takes_the_screen_and_scrolls() -> None:
    app = make_app(ReplaySource(HTTP_GET), autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_a_long_packet(app, pilot, "2")
        assert detail.has_focus and not app.ladder_pane.display
        await pilot.press("pagedown", "down")
        assert detail.scroll_y > 10
        await pilot.press("end")
        assert detail.scroll_y == detail.max_scroll_y
        await pilot.press("escape")
        assert app.ladder_pane.display and app.ladder.has_focus


async def test_the_connections_list_pages_and_goes_to_its_ends() -> None:
    app = make_app(ReplaySource(LOOPBACK), autoplay=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_indexed(app, pilot, timeout=20)
        await pilot.press("1")
        conns = app.query_one(ConnectionsView)
        await pilot.press("end")
        assert conns.cursor == len(app.timeline.streams)
        await pilot.press("home")
        assert conns.cursor == 0
        await pilot.press("pagedown")
        assert conns.cursor == len(app.timeline.streams)  # four fit on a page


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_help_lists_the_detail_and_pane_keys(demo_events: list[Event], lang: str) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False, lang=lang)
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "".join(str(w.render()) for w in app.screen.query("Static"))
        words = {
            "en": ("Packet detail", "Scroll down", "Bottom", "Next pane", "Last connection"),
            "zh": ("数据包详情", "向下滚动", "底部", "下一个窗格", "最后一个连接"),
        }
        for word in words[lang]:
            assert word in text, word
        assert "pagedown" in text and "tab" in text


def test_the_payloads_hex_dump_fits_the_panes_width_without_wrapping() -> None:
    from handshake_viz.tui.detail import hex_dump

    data = b"GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n"
    wide, narrow = hex_dump(data, 80).splitlines(), hex_dump(data, 37).splitlines()
    assert wide[0] == "0000 47 45 54 20 2F 64 6F 77 6E 6C 6F 61 64 2F 43 48 GET /download/CH"
    assert narrow[0] == "0000 47 45 54 20 2F 64 6F 77 GET /dow" and len(narrow) == 6
    assert narrow[-1] == "0028 2E 31 0D 0A             .1.."  # the text column stays put
    assert all(len(line) <= 37 for line in narrow) and all(len(line) <= 69 for line in wide)
