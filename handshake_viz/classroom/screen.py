"""The classroom app: the timeline TUI plus the lesson (words, keys, the kernel's view).

Built on the TUI's `TimelineApp` (its ladder, tick and export), with a `LessonSource`
capturing the stepper's port, so each key's call and the packets it causes appear on the
ladder. Keys l a c s w x r press the stepper; Space, → and PgDn go to the next guided step,
← and PgUp back (presenter clickers send PgUp/PgDn); g toggles autoplay.

Socket calls run in a thread worker (a refused connect or a read waits up to a second), so
the screen keeps drawing; the worker posts `StepDone`, it never touches a widget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, CSSPathType
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from handshake_viz.classroom.guided import SCRIPTS, GuidedRun, Script
from handshake_viz.classroom.lesson import LessonSource
from handshake_viz.classroom.procnet import read_sockets
from handshake_viz.classroom.stepper import CLIENT_ACTIONS, SERVER_ACTIONS, Action, Stepper
from handshake_viz.tui.app import TimelineApp
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load
from handshake_viz.words.explain import explain

AUTOPLAY_PAUSE = 4.0
"""Seconds autoplay stays on each step: time to read the words aloud."""
PANEL_REFRESH = 0.25
"""Seconds between two looks at the keys and the kernel's sockets."""


class StepDone(Message):
    """A key's call (or a guided step) finished in the worker thread."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class ClassroomApp(TimelineApp):
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
        Binding("e", "export", "key.export"),
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
    ) -> None:
        super().__init__(source, pause=0.0, speed=None, lang=lang, autoplay=False,
                         export_dir=export_dir)  # fmt: skip
        self.stepper = stepper
        self.guided = GuidedRun(script, stepper, lang) if script is not None else None
        self.cat = load(lang)
        self.autoplay_pause = autoplay_pause
        self.autoplaying = False
        self.busy = False
        """A call is running in the worker: further keys wait for it."""
        self.steps_done = 0
        """Keys and guided steps completed (the tests wait on it)."""
        self._autoplay_timer: Any = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        with Horizontal(id="classroom"):
            with Vertical(id="lesson"):
                yield Static("", id="step-words")
                yield Static("", id="event-words")
            yield Static("", id="keys")
            yield Static("", id="kernel")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = self.cat.text("ui.title")
        self.set_interval(PANEL_REFRESH, self._refresh_panels)
        self._show_step()
        self._refresh_panels()

    # -- panels ---------------------------------------------------------------------------

    def _show_step(self) -> None:
        words = self.query_one("#step-words", Static)
        if self.guided is None:
            words.update(self.cat.text("ui.free"))
            return
        t = self.guided.text()
        if t.n == 0:
            first = self.guided.text(self.guided.script.steps[0])
            words.update(
                Text(
                    f"{self.cat.text('ui.step', n=0, total=t.total)}  "
                    f"[{self.cat.text('ui.forward')}: Space / → / PgDn]\n{first.say}"
                )
            )
            return
        text = Text(self.cat.text("ui.step", n=t.n, total=t.total) + "\n", style="dim")
        text.append(f"{self.cat.text('ui.say')}: ", style="bold")
        text.append(t.say + "\n")
        if t.do:
            text.append(f"{self.cat.text('ui.do')}: ", style="bold")
            text.append(t.do + "\n")
        text.append(f"{self.cat.text('ui.look')}: ", style="bold")
        text.append(t.look)
        words.update(text)

    def _refresh_panels(self) -> None:
        keys = Text(self.cat.text("ui.keys") + "\n", style="bold")
        for group in (SERVER_ACTIONS, CLIENT_ACTIONS):
            for action in group:
                ok, reason = (False, "…") if self.busy else self.stepper.available(action)
                label = f" {action.value}  {self.cat.text(f'action.{action.value}')}"
                if ok:
                    keys.append(label + "\n")
                else:
                    keys.append(label + "\n", style="dim strike")
                    if reason != "…":
                        keys.append(f"    {reason.split(': ', 1)[-1]}\n", style="dim italic")
        autoplay = "ui.autoplay_on" if self.autoplaying else "ui.autoplay_off"
        keys.append(f" g  {self.cat.text(autoplay)}\n", style="dim")
        self.query_one("#keys", Static).update(keys)
        self.query_one("#kernel", Static).update(self.kernel_text())

    def kernel_text(self) -> Text:
        """Each socket on the lesson's port as the kernel lists it."""
        text = Text(self.cat.text("ui.kernel") + "\n", style="bold")
        socks = read_sockets([self.stepper.port])
        if not socks:
            text.append(self.cat.text("ui.kernel_none", port=self.stepper.port), style="dim")
        for ks in socks:
            state = self.cat.text(f"state.{ks.state.value}")
            if ks.accept_queue is not None:
                text.append(f"{ks.local} {state}\n")
                text.append("   " + self.cat.text("ui.accept_queue", queue=ks.accept_queue,
                                                  backlog=self.stepper.backlog) + "\n")  # fmt: skip
            else:
                text.append(f"{ks.local} → {ks.remote}\n   {state}\n")
        return text

    @on(LadderView.Selected)
    def _classroom_selected(self, message: LadderView.Selected) -> None:
        words = self.query_one("#event-words", Static)
        if message.row is None:
            words.update("")
            return
        words.update(explain(self.timeline.row(message.row).event(), self.lang))

    # -- keys -----------------------------------------------------------------------------

    def action_key(self, key: str) -> None:
        if self.busy:
            return
        ok, reason = self.stepper.available(key)
        if not ok:
            self.notify(reason, severity="warning", timeout=4)
            return
        self._run(lambda: self.stepper.do(key))

    def action_forward(self) -> None:
        if self.busy or self.guided is None:
            return
        if self.guided.at_end():
            self._stop_autoplay()
            return
        self._run(self.guided.forward)

    def action_previous_step(self) -> None:
        if self.busy or self.guided is None:
            return
        self._stop_autoplay()
        self.guided.back()
        self._show_step()

    def action_autoplay(self) -> None:
        if self.autoplaying:
            self._stop_autoplay()
        else:
            self.autoplaying = True
            self._autoplay_timer = self.set_interval(self.autoplay_pause, self.action_forward)
            self.action_forward()
        self._refresh_panels()

    def _stop_autoplay(self) -> None:
        self.autoplaying = False
        if self._autoplay_timer is not None:
            self._autoplay_timer.stop()
            self._autoplay_timer = None

    def _run(self, call: Any) -> None:
        self.busy = True
        self._refresh_panels()
        self._perform(call)

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def _perform(self, call: Any) -> None:
        """Make the socket call(s) off the UI thread; report back with a message."""
        error = None
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
        self._show_step()
        self._refresh_panels()

    async def action_quit(self) -> None:
        self._stop_autoplay()
        self.stepper.close_all()
        await super().action_quit()


def make_classroom_app(
    scenario: str | None,
    lang: str = "en",
    port: int | None = None,
    save: Path | None = None,
    autoplay_pause: float = AUTOPLAY_PAUSE,
    export_dir: Path | None = None,
) -> ClassroomApp:
    """The app the CLI (``demo --step``, ``serve``) runs and the tests drive.

    `scenario` None gives free stepping (the keys only, no script). Opens the capture at
    once, so a missing privilege is a `SourceError` before any UI starts.
    """
    import socket

    from handshake_viz.demo.scenarios import free_port

    script = SCRIPTS[scenario] if scenario is not None else None
    family = script.family if script is not None else socket.AF_INET
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    if port is None:
        port = free_port(host, family, "tcp")
    name = scenario or "step"
    source = LessonSource([port], save=save, name=f"classroom {name}: lo port {port}")
    source.open()
    stepper = Stepper(source.recorder, port, family, lang)
    return ClassroomApp(source, stepper, script, lang=lang, autoplay_pause=autoplay_pause,
                        export_dir=export_dir)  # fmt: skip
