"""The keys of predict mode in the classroom app: p turns it on or off, 1 to 4 answer with a
choice, t types an answer, Space shows the answer (or the next packet).

A mixin of `ClassroomApp` (Textual finds an action by its name on the app), as the TUI's
playback keys are: the app calls `predict_begin` before a step's calls, `predict_step_done`
when they returned, and `predict_forward` on Space; this part waits for the step to go
quiet, then hands the questions of `predict.Predictor` to the lesson panel.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from handshake_viz.classroom.predict import SETTLE_QUIET, Predictor
from handshake_viz.classroom.questions import free_answer
from handshake_viz.words.catalog import Catalog

SETTLE_POLL = 0.05
"""Seconds between two looks at whether a step's packets stopped coming."""


class AnswerBox(Input):
    """One line for the class's typed answer, hidden until t; posts `Given` on Enter, and
    Esc closes it."""

    BINDINGS = [Binding("escape", "close", "predict.key.close", show=False)]

    class Given(Message):
        """A typed answer, as typed."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def action_close(self) -> None:
        self.display = False
        self.app.query_one("#ladder").focus()

    @on(Input.Submitted)
    def _given(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Given(event.value))


if TYPE_CHECKING:
    from textual.app import App

    from handshake_viz.model.timeline import Timeline

    _App = App[int]
else:
    _App = object


class PredictKeys(_App):
    """Predict mode's actions, and the wait for a step's packets (see the module doc)."""

    predictor: Predictor
    cat: Catalog
    queued: list[str]
    _settle: tuple[int, float] | None = None
    _settle_timer: Any = None

    if TYPE_CHECKING:  # the app's (ClassroomApp, TimelineApp)
        timeline: Timeline

        def _show_step(self) -> None: ...
        def _refresh_panels(self) -> None: ...
        def action_tab(self, tab: str) -> None: ...

    def predict_begin(self) -> None:
        """A step's calls are about to be made: in predict mode, hide what they cause."""
        if self.predictor.on:
            self.predictor.begin()

    def predict_step_done(self) -> None:
        """The step's calls returned: wait for its packets to stop coming, then ask."""
        if not self.predictor.holding or self.predictor.settled:
            return
        if self.queued:  # keys typed during a predicted step would reveal it: said, not run
            self.queued.clear()
            self.notify(self.cat.text("predict.answer_first"), severity="warning", timeout=4)
        self._settle = (self.timeline.count, time.monotonic())
        if self._settle_timer is None:
            self._settle_timer = self.set_interval(SETTLE_POLL, self._settle_tick)

    def _settle_tick(self) -> None:
        if self._settle is None:
            return
        count, since = self._settle
        now = self.timeline.count
        if now != count:
            self._settle = (now, time.monotonic())
            return
        if time.monotonic() - since < SETTLE_QUIET:
            return
        self._settle = None
        if self._settle_timer is not None:
            self._settle_timer.stop()
            self._settle_timer = None
        if self.predictor.holding:
            self.predictor.settle()
        self._show_step()

    def predict_forward(self) -> bool:
        """Space in a round: show the answer, or ask about the next packet; False when no
        round is going on (Space goes on to the next step)."""
        p = self.predictor
        if not p.holding:
            return False
        if p.question is not None:
            p.answer(None)
        elif p.settled:
            p.next()
        self._after_reveal()
        return True

    def predict_blocks(self) -> bool:
        """A round is going on: a key that makes calls would mix its packets in. Says so."""
        if self.predictor.holding:
            self.notify(self.cat.text("predict.answer_first"), severity="warning", timeout=4)
            return True
        return False

    def _after_reveal(self) -> None:
        self._show_step()
        if not self.predictor.holding:
            self._refresh_panels()  # the kernel panel was held with the ladder

    # -- actions ------------------------------------------------------------------------------

    def action_predict(self) -> None:
        p = self.predictor
        p.toggle()
        self.notify(self.cat.text("predict.mode_on" if p.on else "predict.mode_off"), timeout=5)
        self._after_reveal()
        self._refresh_panels()

    def action_answer(self, n: int) -> None:
        q = self.predictor.question
        if q is None:
            if not self.predictor.on and n in (1, 2):  # the timeline's side panel keys
                self.action_tab("connections" if n == 1 else "packet")
            return  # in predict mode, an answer typed before its question is nothing
        if n > len(q.choices):
            return
        self.predictor.answer(n - 1)
        self._after_reveal()

    def action_type_answer(self) -> None:
        if self.predictor.question is None:
            self.notify(self.cat.text("predict.no_question"), timeout=4)
            return
        box = self.query_one("#answer", AnswerBox)
        box.placeholder = self.cat.text("predict.type_prompt")
        box.value = ""
        box.display = True
        box.focus()

    def on_answer_box_given(self, message: AnswerBox.Given) -> None:
        """A typed answer (a handler by name: `on` needs a Textual class, this is a mixin)."""
        q = self.predictor.question
        if q is None:
            self._close_answer_box()
            return
        if free_answer(q.kind, message.text) is None:
            hint = self.cat.text(f"predict.hint.{q.kind.value}")
            self.notify(self.cat.text("predict.unread", text=message.text, hint=hint),
                        severity="warning", timeout=6)  # fmt: skip
            return
        self._close_answer_box()
        self.predictor.answer(message.text.strip())
        self._after_reveal()

    def _close_answer_box(self) -> None:
        box = self.query_one("#answer", AnswerBox)
        box.display = False
        self.query_one("#ladder").focus()
