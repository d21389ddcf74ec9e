"""A filter on a large timeline is applied in a thread: the app keeps answering keys meanwhile,
Esc or a newer filter abandons it, and the ladder switches to its rows when they are found.

"Large" is `filtering.BACKGROUND_ROWS`, lowered here so that the HTTP capture is large; the
evaluation is made slow by holding it at a gate the test opens, so that what the app does
during it does not depend on how fast the machine is.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from textual.widgets import Static

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.model.query import Filter, filter_rows, matching_rows, parse_filter
from handshake_viz.model.timeline import Timeline
from handshake_viz.tui import filtering
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.ladder import LadderView
from tests.helpers.fakes import FakeSource, wait_indexed

SIZE = (140, 36)


@dataclass
class Gate:
    """Holds every evaluation at its start until `open`; counts those that got through."""

    started: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    finished: list[array[int] | None] = field(default_factory=list)

    def evaluate(
        self, tl: Timeline, flt: Filter, stop: int, cancelled: Callable[[], bool]
    ) -> array[int] | None:
        self.started.set()
        self.opened.wait(10)
        rows = filter_rows(tl, flt, stop, cancelled)
        self.finished.append(rows)
        return rows


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(filtering, "BACKGROUND_ROWS", 1)
    monkeypatch.setattr(filtering, "filter_rows", g.evaluate)
    yield g
    g.opened.set()  # never leave a worker waiting


def status(app: TimelineApp) -> str:
    return str(app.query_one("#status", Static).render())


async def until(pilot: object, done: Callable[[], bool]) -> None:
    for _ in range(250):
        if done():
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("never happened")


async def test_keys_work_while_a_slow_filter_is_found_then_the_ladder_shows_its_rows(
    demo_events: list[Event], gate: Gate
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash", *"(syn or fin) and not retrans", "enter")
        await until(pilot, gate.started.is_set)
        assert "filtering '(syn or fin) and not retrans'…" in status(app)
        assert app.view.filter.empty and app.view.visible_count == 18  # the old rows stay
        ladder = app.query_one(LadderView)
        before = ladder.selected
        await pilot.press("up")  # handled during the evaluation
        assert before is not None and ladder.selected == before - 1
        selected_row = app.view.row_at(before - 1)
        gate.opened.set()
        await until(pilot, lambda: app.filtering is None)
        await pilot.pause()
        assert app.view.filter.text == "(syn or fin) and not retrans"
        expected = list(matching_rows(app.timeline, app.view.filter, 0, app.timeline.count))
        assert list(app.view.rows()) == expected and len(expected) == 4
        assert "filtering" not in status(app) and "filter '(syn or fin)" in status(app)
        if selected_row in expected:
            assert ladder.selected == expected.index(selected_row)
        else:
            assert ladder.selected == len(expected) - 1  # the newest, as a filter always did


async def test_escape_abandons_a_filter_being_found_and_keeps_the_old_one(
    demo_events: list[Event], gate: Gate
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash", *"syn or fin", "enter")
        await until(pilot, gate.started.is_set)
        assert "filtering 'syn or fin'" in status(app)
        await pilot.press("escape")
        assert app.filtering is None and "filtering" not in status(app)
        gate.opened.set()
        await until(pilot, lambda: len(gate.finished) == 1)
        await pilot.pause()
        assert gate.finished == [None]  # the worker saw it was cancelled and stopped
        assert app.view.filter.empty and app.view.visible_count == 18


async def test_a_newer_filter_replaces_one_still_being_found(
    demo_events: list[Event], gate: Gate
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash", *"syn or fin", "enter")
        await until(pilot, gate.started.is_set)
        await pilot.press("slash", "ctrl+u", *"not ack", "enter")
        assert "filtering 'not ack'" in status(app)
        gate.opened.set()
        await until(pilot, lambda: app.filtering is None)
        await pilot.pause(0.1)
        assert app.view.filter.text == "not ack"
        flt = parse_filter("not ack")
        assert list(app.view.rows()) == list(matching_rows(app.timeline, flt, 0, 18))


async def test_rows_arriving_while_a_filter_is_found_are_filtered_too(
    http_events: list[Event], gate: Gate
) -> None:
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    source = FakeSource(packets[:5], live=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.visible_count == 5)
        await pilot.press("slash", *"fin or syn", "enter")
        await until(pilot, gate.started.is_set)
        source.push(*packets[5:])  # the capture goes on during the evaluation
        await until(pilot, lambda: app.timeline.count == len(packets))
        gate.opened.set()
        await until(pilot, lambda: app.filtering is None)
        await pilot.pause(0.1)
        expected = list(matching_rows(app.timeline, app.view.filter, 0, len(packets)))
        assert list(app.view.rows()) == expected and len(expected) == 4
        source.close()


async def test_a_filter_that_fails_in_its_thread_is_said_and_the_old_rows_stay(
    demo_events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> array[int] | None:
        raise RuntimeError("a column went missing")

    monkeypatch.setattr(filtering, "BACKGROUND_ROWS", 1)
    monkeypatch.setattr(filtering, "filter_rows", broken)
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        said: list[str] = []
        app.notify = lambda message, **kw: said.append(message)  # type: ignore[method-assign]
        await pilot.press("end", "slash", *"syn or fin", "enter")
        await until(pilot, lambda: app.filtering is None)
        assert said == ["the filter stopped (RuntimeError('a column went missing')); "
                        "the ladder keeps the rows it had"]  # fmt: skip
        assert app.view.filter.empty and "filtering" not in status(app)


async def test_slash_during_an_evaluation_shows_the_filter_being_applied(
    demo_events: list[Event], gate: Gate
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("slash", *"syn or fin", "enter")
        await until(pilot, gate.started.is_set)
        await pilot.press("slash")
        assert app.filter_box.value == "syn or fin"
        await pilot.press("escape")  # closes the box; the evaluation goes on
        assert app.filtering is not None
        await pilot.press("escape")  # abandons it
        assert app.filtering is None
