"""Every guided scenario, end to end in both languages, on real sockets with real capture."""

from __future__ import annotations

import time

import pytest

from handshake_viz.classroom.guided import SCRIPTS, GuidedRun, missing
from handshake_viz.classroom.lesson import Collector, LessonSource
from handshake_viz.classroom.stepper import Stepper
from handshake_viz.core.events import SocketEvent
from handshake_viz.demo.scenarios import SCENARIOS
from handshake_viz.demo.tracing import ListRecorder
from handshake_viz.words.catalog import languages, load
from tests.helpers.lessons import quiet_after


def test_a_lesson_for_every_demo_scenario_in_its_order_then_the_lossy_ones() -> None:
    assert list(SCRIPTS)[: len(SCENARIOS)] == list(SCENARIOS)
    assert all(s.fault for s in list(SCRIPTS.values())[len(SCENARIOS) :])


def test_every_lesson_opens_with_its_introduction() -> None:
    for script in SCRIPTS.values():
        assert script.steps[0].id == "intro" and script.steps[0].do is None, script.name


@pytest.mark.parametrize("lang", languages())
def test_every_step_has_words(lang: str) -> None:
    cat = load(lang)
    for script in SCRIPTS.values():
        for step in script.steps:
            for part in ("say", "look"):
                assert cat.has(f"guided.{script.name}.{step.id}.{part}"), (
                    lang, script.name, step.id
                )  # fmt: skip


def test_forward_and_back_do_each_call_once(port: int) -> None:
    rec = ListRecorder()
    st = Stepper(rec, port)
    run = GuidedRun(SCRIPTS["basic"], st, "en")
    try:
        assert run.back() is None and run.index == 0  # the introduction
        run.forward()  # listen
        run.forward()  # connect
        n = len(rec.events)
        assert run.back() is not None and run.index == 1
        assert run.forward() is not None and run.index == 2
        assert len(rec.events) == n, "going back and forward again made no new call"
        while run.forward() is not None:
            pass
        assert run.at_end() and run.text().n == run.total
    finally:
        st.close_all()


@pytest.mark.parametrize("name", [n for n, s in SCRIPTS.items() if not s.fault])
def test_guided_scenario_in_chinese_on_real_sockets(port: int, name: str) -> None:
    """The words and the calls, without capture (test_screen.py captures both languages)."""
    script = SCRIPTS[name]
    rec = ListRecorder()
    st = Stepper(rec, port, script.family, "zh", backlog=script.backlog)
    run = GuidedRun(script, st, "zh")
    try:
        while run.forward() is not None:
            text = run.text()
            assert text.say and text.look and "{" not in text.say + text.look
    finally:
        run.close_all()
    assert rec.events and all(e.call != "accept" or e.errno is None for e in rec.events)


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en"])
@pytest.mark.parametrize("name", [n for n, s in SCRIPTS.items() if not s.fault])
def test_guided_scenario_end_to_end(lesson: tuple[LessonSource, Collector], port: int,
                                    name: str, lang: str) -> None:  # fmt: skip
    source, col = lesson
    script = SCRIPTS[name]
    st = Stepper(source.recorder, port, script.family, lang, backlog=script.backlog,
                 client_mss=script.client_mss)  # fmt: skip
    run = GuidedRun(script, st, lang)
    seen = 0
    try:
        while (step := run.forward()) is not None:
            text = run.text()
            assert text.say and text.look and "{" not in text.say + text.look
            # Quiet on the wire is not enough on a loaded machine: the capture thread and the
            # merger (which holds packets for the kernel's view) may be late by more than it.
            deadline = time.monotonic() + 5
            while True:
                packets = col.settle(quiet=quiet_after(step))
                if not missing(step.expect, packets[seen:]) or time.monotonic() > deadline:
                    break
            new, seen = packets[seen:], len(packets)
            assert missing(step.expect, new) == [], (
                name, step.id, [(p.dir, p.flag_list, p.len, p.analysis) for p in new]
            )  # fmt: skip
    finally:
        run.close_all()
    calls = [e for e in col.events if isinstance(e, SocketEvent)]
    assert calls, "the socket calls join the packets on one timeline"
