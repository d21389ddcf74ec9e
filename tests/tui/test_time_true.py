"""The time-true ladder in the app, driven with Pilot: `d` puts gap lines between rows as long
as the waits, the cursor, paging, clicks and follow mode still work on rows (the gap lines
are only looked at), and the exports write what the screen shows."""

from __future__ import annotations

from pathlib import Path

from handshake_viz.core.events import SYN, Event
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.ladder import LadderView
from tests.helpers.fakes import FakeSource, read_events, wait_indexed
from tests.helpers.graphs import LOOPBACK, SYN_RETRIES

SIZE = (120, 35)
TIMER = "the SYN retransmission timer"


def replay(capture: Path, **kw: object) -> TimelineApp:
    source = ReplaySource(capture)
    source.description = capture.name
    return make_app(source, autoplay=False, **kw)  # type: ignore[arg-type]


def screen(ladder: LadderView) -> list[str]:
    """The ladder's lines as drawn, header first."""
    return [ladder.render_line(y).text for y in range(ladder.scrollable_content_region.height)]


def selected_on_screen(ladder: LadderView) -> bool:
    """The selected row's own line is among the lines drawn under the header."""
    assert ladder.selected is not None
    line = ladder._line_of(ladder.selected)
    top = round(ladder.scroll_y)
    return top <= line < top + ladder.scrollable_content_region.height - 1


async def test_d_puts_the_timers_wait_between_the_syns_and_takes_it_away() -> None:
    app = replay(SYN_RETRIES)  # one SYN sent four times, a second and more apart
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        before = screen(app.ladder)
        assert not any(TIMER in line for line in before)
        await pilot.press("d")
        assert app.ladder.time_true
        lines = screen(app.ladder)
        syns = [n for n, line in enumerate(lines) if "SYN seq=0" in line]
        assert len(syns) == 4
        assert all(b - a >= 5 for a, b in zip(syns, syns[1:], strict=False))  # 4 gap lines+
        assert sum(TIMER in line for line in lines) == 3
        assert app.ladder.virtual_size.height == 1 + 4 + sum(
            app.ladder.time_layout.gap_before(i) for i in range(4)
        )
        assert app.ladder.selected == 3 and selected_on_screen(app.ladder)
        await pilot.press("d")
        assert not app.ladder.time_true and screen(app.ladder) == before


async def test_the_cursor_moves_by_rows_and_keeps_its_row_on_screen() -> None:
    app = replay(LOOPBACK)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "d")
        ladder = app.ladder
        n = app.view.visible_count
        assert ladder.selected == n - 1 and selected_on_screen(ladder)
        await pilot.press("pageup", "pageup", "pageup")
        assert ladder.selected is not None and ladder.selected < n - 40
        assert selected_on_screen(ladder)
        start = ladder.selected
        await pilot.press(*["up"] * 12)
        assert ladder.selected == start - 12 and selected_on_screen(ladder)
        await pilot.press(*["down"] * 30)
        assert ladder.selected == start + 18 and selected_on_screen(ladder)
        resent = next(i for i in range(n) if app.timeline.analysis[app.view.row_at(i)]
                      and app.timeline.flags[app.view.row_at(i)] == SYN)  # fmt: skip
        ladder.select(resent)  # scrolling up to a row shows the gap above it, and its words
        await pilot.pause()
        assert TIMER in screen(ladder)[1 + (ladder.time_layout.gap_before(resent) - 1) // 2]
        top = round(ladder.scroll_y)
        kinds = [ladder._at(top + y)[1] >= 0 for y in range(len(screen(ladder)) - 1)]
        assert any(kinds) and not all(kinds)
        assert [line.lstrip().startswith("⋮") for line in screen(ladder)[1:]] == kinds


async def test_a_click_on_a_gap_line_selects_nothing_and_on_a_row_selects_it() -> None:
    app = replay(SYN_RETRIES)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "d")
        ladder = app.ladder
        lines = screen(ladder)
        first_syn = next(n for n, line in enumerate(lines) if "SYN seq=0" in line)
        await pilot.click(ladder, offset=(40, first_syn + 1))  # a gap line
        assert ladder.selected == 3
        await pilot.click(ladder, offset=(40, first_syn))
        assert ladder.selected == 0


async def test_following_a_live_capture_keeps_the_newest_row_on_screen() -> None:
    events: list[Event] = read_events(LOOPBACK)
    source = FakeSource(events[:40], live=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("d")
        ladder = app.ladder
        for start in range(40, 400, 60):
            source.push(*events[start : start + 60])
            await pilot.pause(0.3)
            assert ladder.following and app.view.visible_count >= start
            assert ladder.selected == app.view.visible_count - 1
            assert selected_on_screen(ladder)
            assert ladder.scroll_y == ladder.max_scroll_y
        source.close()


async def test_the_exports_show_the_gaps_the_screen_shows(tmp_path: Path) -> None:
    app = replay(SYN_RETRIES, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "d", "e")
        await pilot.pause(0.1)
        text = next(tmp_path.glob("*.txt")).read_text()
        svg = next(tmp_path.glob("*.svg")).read_text()
        assert text.count(TIMER) == 3 and "⋮" in text
        assert "SYN&#160;retransmission&#160;timer" in svg or "SYN retransmission timer" in svg


async def test_a_filter_lays_out_only_the_rows_it_keeps() -> None:
    app = replay(LOOPBACK)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "d", "slash", *"stream:2", "enter")
        await pilot.pause()
        ladder = app.ladder
        n = app.view.visible_count
        assert 0 < n < 20
        gaps = sum(ladder.time_layout.gap_before(i) for i in range(n))
        assert ladder.virtual_size.height == 1 + n + gaps
        lines = screen(ladder)
        assert sum(TIMER in line for line in lines) == 1  # its SYN, sent again a second later
        await pilot.press("escape")  # every row again, laid out again
        await pilot.pause()
        assert app.view.visible_count > 1000
        assert ladder.virtual_size.height == 1 + ladder.time_layout.total
