"""Every guided scenario, end to end in both languages, on real sockets with real capture."""

from __future__ import annotations

import pytest

from handshake_viz.classroom.guided import SCRIPTS, GuidedRun, Step, missing
from handshake_viz.classroom.lesson import Collector, LessonSource
from handshake_viz.classroom.stepper import Stepper
from handshake_viz.core.events import SocketEvent
from handshake_viz.demo.scenarios import SCENARIOS
from handshake_viz.demo.tracing import ListRecorder
from handshake_viz.words.catalog import languages, load


def test_a_script_for_every_demo_scenario() -> None:
    assert list(SCRIPTS) == list(SCENARIOS)


@pytest.mark.parametrize("lang", languages())
def test_every_step_has_words(lang: str) -> None:
    cat = load(lang)
    for script in SCRIPTS.values():
        for step in script.steps:
            for part in ("say", "look"):
                assert cat.has(f"guided.{script.scenario}.{step.id}.{part}"), (
                    lang, script.scenario, step.id
                )  # fmt: skip


def test_forward_and_back_do_each_call_once(port: int) -> None:
    rec = ListRecorder()
    st = Stepper(rec, port)
    run = GuidedRun(SCRIPTS["basic"], st, "en")
    try:
        assert run.back() is None
        run.forward()
        run.forward()  # listen
        n = len(rec.events)
        assert run.back() is not None and run.index == 0
        assert run.forward() is not None and run.index == 1
        assert len(rec.events) == n, "going back and forward again made no new call"
        while run.forward() is not None:
            pass
        assert run.at_end() and run.text().n == run.total
    finally:
        st.close_all()


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_guided_scenario_in_chinese_on_real_sockets(port: int, name: str) -> None:
    """The words and the calls, without capture (test_screen.py captures both languages)."""
    script = SCRIPTS[name]
    rec = ListRecorder()
    st = Stepper(rec, port, script.family, "zh")
    run = GuidedRun(script, st, "zh")
    try:
        while run.forward() is not None:
            text = run.text()
            assert text.say and text.look and "{" not in text.say + text.look
    finally:
        st.close_all()
    assert rec.events and all(e.call != "accept" or e.errno is None for e in rec.events)


@pytest.mark.parametrize("lang", ["en"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_guided_scenario_end_to_end(lesson: tuple[LessonSource, Collector], port: int,
                                    name: str, lang: str) -> None:  # fmt: skip
    source, col = lesson
    script = SCRIPTS[name]
    st = Stepper(source.recorder, port, script.family, lang)
    run = GuidedRun(script, st, lang)
    seen = 0
    try:
        while (step := run.forward()) is not None:
            text = run.text()
            assert text.say and text.look and "{" not in text.say + text.look
            packets = col.settle(quiet=_quiet(step))
            new, seen = packets[seen:], len(packets)
            assert missing(step.expect, new) == [], (
                name, step.id, [(p.dir, p.flag_list, p.len, p.analysis) for p in new]
            )  # fmt: skip
    finally:
        st.close_all()
    calls = [e for e in col.events if isinstance(e, SocketEvent)]
    assert calls, "the socket calls join the packets on one timeline"


def _quiet(step: Step) -> float:
    """How long a step must stay quiet: a call that makes no packet needs a real window."""
    return 0.2 if step.expect == ("none",) else 0.12
