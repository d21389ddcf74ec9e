"""Predict, then reveal, in the classroom app (Pilot, real sockets, real capture), in English
and Chinese: a step's packets stay off the ladder, its kernel panel and its status bar until
the class has answered; each answer shows exactly the packet it was about, and the verdict
is computed from that packet."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static

from handshake_viz.classroom.app import make_classroom_app
from handshake_viz.classroom.questions import Kind
from handshake_viz.classroom.screen import ClassroomApp
from handshake_viz.core.events import PacketEvent
from handshake_viz.model.rows import KIND_SOCKET

SIZE = (160, 48)


def text_of(app: ClassroomApp, selector: str) -> str:
    return "".join(str(app.query_one(selector, Static).render()).split())


def shown_packets(app: ClassroomApp) -> list[PacketEvent]:
    tl = app.timeline
    out = []
    for row in app.view.rows():
        if tl.kind[row] != KIND_SOCKET:
            ev = tl.row(row).event()
            assert isinstance(ev, PacketEvent)
            out.append(ev)
    return out


async def question_on_screen(app: ClassroomApp, pilot, steps: int) -> None:
    """Wait for the step's calls, then for its packets to stop coming and the question."""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if app.steps_done >= steps and app.predictor.question is not None:
            await pilot.pause(0.05)
            return
        await pilot.pause(0.05)
    raise AssertionError("no question came")


def hidden_packets(app: ClassroomApp) -> list[PacketEvent]:
    tl = app.timeline
    hold = app.predictor.hold
    assert hold is not None
    return [
        ev
        for r in range(hold, tl.count)
        if tl.kind[r] != KIND_SOCKET and isinstance(ev := tl.row(r).event(), PacketEvent)
    ]


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_predict_the_basic_lesson_packet_by_packet(
    need_capture: None, port: int, lang: str
) -> None:
    app = make_classroom_app("basic", lang, port=port, predict=True)
    cat = app.cat
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert cat.text("predict.on") in str(app.query_one("#keys", Static).render())

        # Step 1, listen: the class says how many packets; there are none.
        await pilot.press("space")
        await question_on_screen(app, pilot, 1)
        q = app.predictor.question
        assert q is not None and q.kind is Kind.COUNT and q.truth == 0
        words = text_of(app, "#step-words")
        assert "".join(cat.text("predict.ask.count").split()) in words
        assert "".join(app.guided.text().say.split()) not in words  # the words wait
        await pilot.press(str(q.right + 1))
        await pilot.pause(0.1)
        assert not app.predictor.holding  # no packet: the round is over
        words = text_of(app, "#step-words")
        assert "✓" in words and "".join(app.guided.text().say.split()) in words
        assert "LISTEN" in str(app.query_one("#kernel", Static).render())

        # Step 2, connect: three packets made for real, none on the ladder yet.
        before = len(shown_packets(app))
        kernel_before = str(app.query_one("#kernel", Static).render())
        await pilot.press("space")
        await question_on_screen(app, pilot, 2)
        hidden = hidden_packets(app)
        assert [p.flag_list for p in hidden] == [("SYN",), ("SYN", "ACK"), ("ACK",)]
        assert len(shown_packets(app)) == before
        assert str(app.query_one("#kernel", Static).render()) == kernel_before  # no ESTAB
        q = app.predictor.question
        assert q is not None and q.kind is Kind.COUNT and q.truth == 3
        await pilot.press(str(q.right + 1))
        await pilot.pause(0.1)
        assert app.predictor.holding and len(shown_packets(app)) == before

        # The SYN: which flags? The class answers wrong on purpose.
        await pilot.press("space")
        await pilot.pause(0.1)
        q = app.predictor.question
        assert q is not None and q.kind is Kind.FLAGS and q.truth == frozenset({"SYN"})
        wrong = next(i for i in range(len(q.choices)) if i != q.right)
        await pilot.press(str(wrong + 1))
        await pilot.pause(0.1)
        assert [p.flag_list for p in shown_packets(app)[before:]] == [("SYN",)]
        assert "✗" in text_of(app, "#step-words")
        assert "".join(q.choices[wrong].split()) in text_of(app, "#step-words")

        # The SYN-ACK: what will ack be? Typed, as a class would shout it.
        await pilot.press("space")
        await pilot.pause(0.1)
        q = app.predictor.question
        synack = hidden_packets(app)[0]
        assert q is not None and q.kind is Kind.ACK and q.truth == synack.ack
        assert q.choices[q.right] == str(synack.ack)
        await pilot.press("t")
        await pilot.pause(0.1)
        await pilot.press(*str(synack.ack), "enter")
        await pilot.pause(0.1)
        assert "✓" in text_of(app, "#step-words")
        assert len(shown_packets(app)) == before + 2

        # The last ACK: which state will the server be in? Space shows the answer.
        await pilot.press("space")
        await pilot.pause(0.1)
        q = app.predictor.question
        assert q is not None and q.kind is Kind.STATE and q.truth == "ESTABLISHED"
        await pilot.press("space")
        await pilot.pause(0.3)
        assert not app.predictor.holding
        assert len(shown_packets(app)) == before + 3
        words = text_of(app, "#step-words")
        assert "".join(cat.text("predict.shown", answer=q.answer).split()) in words
        assert "".join(cat.text("predict.score", right=3, asked=5).split()) in words
        app._refresh_panels()
        assert "ESTAB" in str(app.query_one("#kernel", Static).render())
        await pilot.press("q")


@pytest.mark.capture
async def test_predict_is_a_key_and_keys_wait_for_the_answer(need_capture: None, port: int):
    """p turns predict mode on in free stepping; a call key during a round is refused with
    a word (its packets would mix in), and p again shows what was held."""
    app = make_classroom_app(None, "en", port=port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("l")
        deadline = time.monotonic() + 30
        while app.steps_done < 1 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.press("p")
        assert app.predictor.on
        await pilot.press("c")
        await question_on_screen(app, pilot, 2)
        assert app.predictor.question is not None
        assert shown_packets(app) == []
        await pilot.press("s")
        await pilot.pause(0.1)
        assert app.steps_done == 2
        messages = [n.message for n in app._notifications]
        assert app.cat.text("predict.answer_first") in messages
        await pilot.press("p")  # off: everything held shows at once
        await pilot.pause(0.2)
        assert not app.predictor.holding
        assert [p.flag_list for p in shown_packets(app)] == [("SYN",), ("SYN", "ACK"), ("ACK",)]
        await pilot.press("q")


@pytest.mark.capture
async def test_three_handshakes_are_asked_about_once(need_capture: None, port: int) -> None:
    """concurrent: three clients connect in one step; the class predicts one handshake, the
    two that only repeat it show with it."""
    app = make_classroom_app("concurrent", "en", port=port, predict=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await question_on_screen(app, pilot, 1)
        await pilot.press("space")  # listen: show the answer (no packet)
        await pilot.pause(0.1)
        await pilot.press("space")
        await question_on_screen(app, pilot, 2)
        q = app.predictor.question
        assert q is not None and q.kind is Kind.COUNT and q.truth == 9
        asked = 0
        while app.predictor.holding and asked < 10:
            await pilot.press("space")
            await pilot.pause(0.1)
            asked += 1
        assert not app.predictor.holding
        assert asked == 1 + 2 * 3  # the count, then (ask, show) for SYN, SYN-ACK, ACK
        assert len(shown_packets(app)) == 9
        await pilot.press("q")


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_80x24_the_question_and_every_choice_are_on_screen(
    need_capture: None, port: int, lang: str
) -> None:
    """The small lesson panel gives a question the explanation's room, puts it first, and
    never breaks a choice from its number."""
    app = make_classroom_app("basic", lang, port=port, predict=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await question_on_screen(app, pilot, 1)
        await pilot.press("space", "space")  # listen: no packet; connect: how many?
        deadline = time.monotonic() + 30
        while app.steps_done < 2 and time.monotonic() < deadline:
            await pilot.pause(0.02)
        await pilot.press("2")  # before its question: nothing (not the packet tab)
        await question_on_screen(app, pilot, 2)
        assert not app.side.display and app.predictor.question.kind is Kind.COUNT
        await pilot.press("1", "space")  # then the SYN's flags
        await pilot.pause(0.3)
        q = app.predictor.question
        assert q is not None and q.kind is Kind.FLAGS
        assert not app.query_one("#event-words", Static).display
        lines = str(app.query_one("#step-words", Static).render()).splitlines()
        shown = "".join("".join(lines).split())
        assert "".join(q.prompt.split()) in shown
        for i, choice in enumerate(q.choices, 1):
            assert any(f"{i}\u00a0\u00a0{choice.replace(' ', chr(0xA0))}" in line
                       for line in lines), (choice, lines)  # fmt: skip
        await pilot.press("q")
