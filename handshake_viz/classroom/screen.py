"""The classroom app: the timeline TUI plus the lesson (words, keys, the kernel's view).

Built on the TUI's `TimelineApp` (its ladder, tick and export), with a `LessonSource`
capturing the lesson's port, so each key's call and the packets it causes appear on the
ladder. Keys l a c s w x r press the stepper; Space, → and PgDn go to the next guided step,
← and PgUp back (presenter clickers send PgUp/PgDn); g toggles autoplay; z makes the lesson
panel smaller or larger; p turns predict mode on (`predict_keys`: each step's packets stay
hidden until the class has answered a question on each); h writes a handout (`handout`).

Socket calls run in a thread worker (a refused connect or a read waits up to a second), so
the screen keeps drawing; the worker posts `StepDone`, it never touches a widget. Keys
pressed while a call runs wait in a queue (shown in the keys panel) and run in order.
A teacher's lesson in ``serve`` also writes its stream (`session.StreamWriter`) for the
students who follow it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, CSSPathType
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from handshake_viz.classroom.explain_more import lesson_explanation
from handshake_viz.classroom.guided import GuidedRun, Script
from handshake_viz.classroom.kernelview import OwnSockets, kernel_text, lesson_sockets
from handshake_viz.classroom.keyspanel import KeyState, fitted, keys_text, without_action
from handshake_viz.classroom.lesson import LessonSource
from handshake_viz.classroom.lesson_exports import LessonExports
from handshake_viz.classroom.panels import lesson_panels
from handshake_viz.classroom.predict import Predictor, held_view, step_words
from handshake_viz.classroom.predict_keys import AnswerBox, PredictKeys
from handshake_viz.classroom.session import StreamWriter
from handshake_viz.classroom.stepper import CLIENT_ACTIONS, SERVER_ACTIONS, Action, Stepper
from handshake_viz.classroom.wrap import fit
from handshake_viz.sources.netns import Network
from handshake_viz.tui.app import TimelineApp
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load

AUTOPLAY_PAUSE = 4.0
"""Seconds autoplay stays on each step: time to read the words aloud."""
PANEL_REFRESH = 0.25
"""Seconds between two looks at the keys and the kernel's sockets."""
PANEL_HEIGHTS = (7, 14, 22)
"""Rows of the lesson panel: small, normal, tall (z goes through them)."""
TALL_SCREEN = 30
"""Screens at least this tall open with the normal panel, shorter ones with the small."""
CAPTURE_START = 10.0
"""Longest a first call waits for the capture to run."""
PUBLISHED_WIDTH = 200
"""Followers get the panels unwrapped (this wide), and wrap them to their own width."""
QUEUE_LIMIT = 8
"""Keys that may wait for a running call; more are refused with a word."""


class StepDone(Message):
    """A key's call (or a guided step) finished in the worker thread."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class ClassroomApp(LessonExports, PredictKeys, TimelineApp):
    """The timeline app with step mode and a guided lesson."""

    CSS_PATH: ClassVar[CSSPathType] = [
        Path(__file__).resolve().parents[1] / "tui" / "app.tcss",
        Path(__file__).resolve().parent / "classroom.tcss",
    ]
    TITLE = "handshake-viz classroom"

    # Descriptions are catalog keys, said in the lesson's language (tui.binding_words).
    BINDINGS = [
        *(Binding(a.value, f"key('{a.value}')", f"action.{a.value}", show=False)
          for a in Action),
        Binding("space,right,pagedown", "forward", "key.next_step", key_display="→",
                priority=True),
        Binding("left,pageup", "previous_step", "key.previous_step", key_display="←",
                priority=True),
        Binding("g", "autoplay", "key.autoplay"),
        Binding("z", "lesson_size", "key.lesson_panel"),
        Binding("p", "predict", "predict.key.toggle"),
        *(Binding(str(n), f"answer({n})", "predict.key.answer", show=False) for n in range(1, 5)),
        Binding("t", "type_answer", "predict.key.type", show=False),
        Binding("e", "export", "key.export"),
        Binding("h", "handout", "handout.key"),
        Binding("b", "toggle_side", "key.side", show=False),
        Binding("question_mark", "help", "key.help", key_display="?"),
        Binding("q", "quit", "key.quit"),
    ]  # fmt: skip

    def __init__(
        self,
        source: LessonSource,
        stepper: Stepper,
        script: Script | None,
        *,
        lang: str = "en",
        autoplay_pause: float = AUTOPLAY_PAUSE,
        export_dir: Path | None = None,
        network: Network | None = None,
        own: OwnSockets | None = None,
        stream: StreamWriter | None = None,
        predict: bool = False,
    ) -> None:
        super().__init__(source, pause=0.0, speed=None, lang=lang, autoplay=False,
                         export_dir=export_dir)  # fmt: skip
        self.held = held_view(self.view)
        self.view = self.held
        self.predictor = Predictor(self.held, lang, on=predict)
        """Predict mode: the step's packets held back until the class has answered."""
        self.lesson = source
        self.stepper = stepper
        self.guided = GuidedRun(script, stepper, lang) if script is not None else None
        self.cat = load(lang)
        self.network = network
        self.own = own
        """The lesson's own sockets, on a shared network (None: every socket is its own)."""
        self.stream = stream
        self.autoplay_pause = autoplay_pause
        self.autoplaying = False
        self.busy = False
        """A call is running in the worker: further keys wait for it."""
        self.queued: list[str] = []
        """Keys pressed while a call ran, in order ("forward" for the next step)."""
        self.steps_done = 0
        """Keys and guided steps completed (the tests wait on it)."""
        self.panel_size = 1
        self._autoplay_timer: Any = None
        self._words = Text()
        self._shown: dict[str, object] = {}
        self._kernel_published = ""
        """The kernel panel as followers last got it (held with the ladder in predict mode)."""
        self.step_times: dict[int, float] = {}
        """When each guided step's calls began, by step (the handout's sections)."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield lesson_panels()
        yield AnswerBox(id="answer")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#answer", AnswerBox).display = False
        self.sub_title = self.cat.text("ui.title")
        self.panel_size = 1 if self.size.height >= TALL_SCREEN else 0
        self._apply_panel_size()
        self.set_interval(PANEL_REFRESH, self._refresh_panels)
        self.call_after_refresh(self._show_step)
        self._refresh_panels()

    # -- panels ---------------------------------------------------------------------------

    def step_text(self) -> Text:
        """The step on screen: its number, what to say, do and look at (`step_words`)."""
        return step_words(self.guided.text() if self.guided else None, self.predictor, self.cat)

    def _show_step(self) -> None:
        # A question takes the room of the keys (none makes a call until the round is
        # over) and of the explanation (back once it is answered: the packet it showed).
        asking = self.predictor.question is not None
        for other, hide in (("#event-words", asking), ("#keys", self.predictor.holding)):
            panel = self.query_one(other, Static)
            if panel.display == hide:
                panel.display = not hide
                self.call_after_refresh(self._show_step)
        words = self.query_one("#step-words", Static)
        width = words.content_size.width or max(self.size.width // 2, 20)
        lines = words.content_size.height or PANEL_HEIGHTS[self.panel_size]
        hint = self.cat.text("ui.more_lesson") if self.panel_size < 2 else "…"
        fitted, _cut = fit(self.step_text(), width, lines, hint)
        words.update(fitted)
        self._publish()

    def keys_text(self, width: int, lines: int, inline: bool = False) -> Text:
        """The keys panel (`keyspanel`), from what the stepper says of each key now."""
        states = []
        for action in (*SERVER_ACTIONS, *CLIENT_ACTIONS):
            ok, reason = (True, "") if self.busy else self.stepper.available(action)
            states.append(KeyState(action, ok, without_action(reason)))
        return keys_text(self.cat, states, queued=self.queued, autoplaying=self.autoplaying,
                         predicting=self.predictor.on, width=width, lines=lines,
                         inline=inline)  # fmt: skip

    def _refresh_panels(self) -> None:
        keys = self.query_one("#keys", Static)
        kernel = self.query_one("#kernel", Static)
        width, lines = keys.content_size.width or 30, keys.content_size.height
        self._update(keys, fitted(self.keys_text(width, lines), width, lines))
        if not self.predictor.holding:  # the kernel's states would tell the answers
            width, lines = kernel.content_size.width or 30, kernel.content_size.height
            self._update(kernel, fitted(self.kernel_text(width), width, lines))
            self._kernel_published = self.kernel_text(PUBLISHED_WIDTH).markup
        self._publish()

    @property
    def lesson_name(self) -> str:
        """The lesson's name, or "free" (names the exports and the handout)."""
        return self.guided.script.name if self.guided is not None else "free"

    def _update_status(self) -> None:
        if not self.predictor.holding:  # its counts would tell how many packets are hidden
            super()._update_status()

    def _update(self, widget: Static, text: Text) -> None:
        """Redraw `widget` only when its text changed (the panels are looked at 4 times a
        second; redrawing them unchanged costs a layout pass each time)."""
        key = (text.markup, widget.content_size)
        if self._shown.get(widget.id or "") != key:
            self._shown[widget.id or ""] = key
            widget.update(text)

    def kernel_text(self, width: int = 40) -> Text:
        """The lesson's sockets as the kernel lists them."""
        note = ""
        if self.network is not None and not self.network.private:
            note = self.cat.text("net.shared_short")
        socks = lesson_sockets(self.stepper.port, self.own)
        return kernel_text(socks, self.cat, width, self.stepper.backlog, note)

    def _publish(self) -> None:
        """Hand the lesson panel to the followers' stream, if this is a teacher's lesson."""
        if self.stream is None:
            return
        self.stream.panels(
            step=self.step_text().markup,
            words=self._words.markup,
            keys=self.keys_text(PUBLISHED_WIDTH, 0, inline=True).markup,
            kernel=self._kernel_published,
            hold=self.predictor.hold,
        )

    @on(LadderView.Selected)
    def _classroom_selected(self, message: LadderView.Selected) -> None:
        words = self.query_one("#event-words", Static)
        if message.row is None:
            self._words = Text()
        else:
            self._words = Text(lesson_explanation(self.timeline, message.row, self.lang))
        width = words.content_size.width or 40
        lines = max(words.content_size.height, 1)
        fitted, _ = fit(self._words, width, lines, self.cat.text("ui.more"))
        words.update(fitted)
        self._publish()

    def _apply_panel_size(self) -> None:
        panel = self.query_one("#classroom", Horizontal)
        panel.styles.height = PANEL_HEIGHTS[self.panel_size]
        self.call_after_refresh(self._show_step)
        self.call_after_refresh(self._refresh_panels)

    def action_lesson_size(self) -> None:
        self.panel_size = (self.panel_size + 1) % len(PANEL_HEIGHTS)
        self._apply_panel_size()

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("forward", "previous_step") and isinstance(self.focused, Input):
            return False  # a space typed in a box is a space, not the next step
        return super().check_action(action, parameters)

    def action_key(self, key: str) -> None:
        if self.busy:
            self._queue(key)
            return
        if self.predict_blocks():
            return
        ok, reason = self.stepper.available(key)
        if not ok:
            self.notify(reason, severity="warning", timeout=4)
            return
        self._run(lambda: self.stepper.do(key))

    def _queue(self, key: str) -> None:
        if len(self.queued) >= QUEUE_LIMIT:
            self.notify(self.cat.text("ui.busy", keys=QUEUE_LIMIT), severity="warning", timeout=3)
            return
        self.queued.append(key)
        self._refresh_panels()

    def action_forward(self) -> None:
        if self.guided is None:
            return
        if self.busy:
            self._queue("forward")
            return
        if self.predict_forward():
            return
        if self.guided.at_end():
            self._stop_autoplay()
            return
        if self.guided.next_acts():
            self.step_times[self.guided.index + 1] = time.time()
            self._run(self.guided.forward)
        else:
            self._run(self.guided.forward, acts=False)

    def action_previous_step(self) -> None:
        if self.busy or self.guided is None or self.predict_blocks():
            return
        self._stop_autoplay()
        self.predictor.verdict = None
        self.guided.back()
        self._show_step()

    def action_autoplay(self) -> None:
        if self.autoplaying:
            self._stop_autoplay()
        else:
            self.autoplaying = True
            self._autoplay_timer = self.set_interval(self.autoplay_pause, self._autoplay_tick)
            self.action_forward()
        self._refresh_panels()

    def _autoplay_tick(self) -> None:
        if not self.busy and not self.predictor.holding:  # predict mode waits for the class
            self.action_forward()

    def _stop_autoplay(self) -> None:
        self.autoplaying = False
        if self._autoplay_timer is not None:
            self._autoplay_timer.stop()
            self._autoplay_timer = None

    def _run(self, call: Any, acts: bool = True) -> None:
        """Make `call` in the worker; `acts`: it makes socket calls (predict mode hides
        what they cause)."""
        if acts:
            self.predict_begin()
        self.busy = True
        self._refresh_panels()
        self._perform(call)

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def _perform(self, call: Any) -> None:
        """Make the socket call(s) off the UI thread; report back with a message."""
        error = None
        self.lesson.ready.wait(CAPTURE_START)  # a call made earlier would miss its packets
        try:
            call()
        except Exception as exc:  # shown as a notification, never a crash mid-lesson
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(StepDone(error))

    def on_step_done(self, message: StepDone) -> None:
        self.busy = False
        self.steps_done += 1
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
        self.predict_step_done()
        self._show_step()
        self._refresh_panels()
        if self.queued:
            key = self.queued.pop(0)
            if key == "forward":
                self.action_forward()
            else:
                self.action_key(key)

    async def action_quit(self) -> None:
        self._stop_autoplay()
        self.close_lesson()
        await super().action_quit()

    def close_lesson(self) -> None:
        """Close every socket of the lesson and end the followers' stream; idempotent."""
        if self.guided is not None:
            self.guided.close_all()
        else:
            self.stepper.close_all()
        if self.stream is not None:
            self.stream.close()
            self.stream = None
