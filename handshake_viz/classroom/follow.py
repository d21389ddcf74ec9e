"""Following the teacher: a student's browser tab shows the teacher's lesson, read-only.

`FollowSource` tails the stream the teacher's lesson writes in serve's folder
(`session.StreamWriter`): its packets and socket calls become this tab's ladder, in the
teacher's order, and its lesson panel (step, explanation, keys, kernel) is handed to
`FollowApp` as it changes. It polls a few times a second, so a student is well under a second
behind; it needs no privilege and opens no socket. A student who joins late sees the whole
lesson so far at once. In predict mode the teacher's ladder holds back the packets the class
has not predicted yet, and so does the student's (the panels say how many rows to show).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult, CSSPathType
from textual.binding import Binding
from textual.widgets import Static

from handshake_viz.classroom.download import deliver_export
from handshake_viz.classroom.panels import lesson_panels
from handshake_viz.classroom.predict import held_view
from handshake_viz.classroom.session import SessionFolder, event_from_record, read_stream
from handshake_viz.classroom.session import teacher_session as find_teacher
from handshake_viz.classroom.wrap import fit
from handshake_viz.core.events import CaptureStats, Event
from handshake_viz.core.pcapfile import read_records
from handshake_viz.tui.app import TimelineApp
from handshake_viz.words.catalog import load

POLL = 0.1
"""Seconds between two looks at the teacher's stream."""
PANEL_REFRESH = 0.2


class FollowSource:
    """The teacher's lesson, as a live event source read from serve's folder.

    Args:
        serve_dir: serve's folder, where the teacher's session is named.
        lang: language of the description.
    """

    live = True

    def __init__(self, serve_dir: Path, lang: str = "en") -> None:
        self.serve_dir = serve_dir
        self.cat = load(lang)
        self.description = self.cat.text("follow.title")
        self.stats = CaptureStats(source=self.description)
        self.session: SessionFolder | None = None
        self.panels: dict[str, Any] = {}
        """The teacher's lesson panel, as Rich markup by part (the latest)."""
        self.ended = False
        """The teacher's lesson is over."""
        self._stop = threading.Event()

    def _wait_for_teacher(self) -> SessionFolder | None:
        while not self._stop.is_set():
            session = find_teacher(self.serve_dir)
            if session is not None:
                return session
            time.sleep(POLL * 3)
        return None

    def events(self) -> Iterator[Event]:
        session = self._wait_for_teacher()
        if session is None:
            return
        self.session = session
        with open(session.stream, encoding="utf-8") as f:
            yield from self._tail(f)

    def _tail(self, f: IO[str]) -> Iterator[Event]:
        partial = ""
        while not self._stop.is_set():
            records, partial = read_stream(f, partial)
            for record in records:
                kind = record.get("type")
                if kind == "panels":
                    self.panels = record
                elif kind == "end":
                    self.ended = True
                    return
                else:
                    ev = event_from_record(record)
                    if ev is not None:
                        if ev.type == "packet":
                            self.stats.packets += 1
                        yield ev
            if not records:
                time.sleep(POLL)

    def stop(self) -> None:
        self._stop.set()

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        """One frame of the teacher's capture (for the packet detail), re-read from the file."""
        if self.session is None:
            return None
        try:
            with open(self.session.capture, "rb") as f:
                for record in read_records(f, str(self.session.capture)):
                    if record[0] == frame:
                        return record[2], record[3]
        except (OSError, ValueError):
            return None
        return None


class FollowApp(TimelineApp):
    """The teacher's ladder and lesson panel, read-only: no key makes a call here."""

    CSS_PATH: ClassVar[CSSPathType] = [
        Path(__file__).resolve().parents[1] / "tui" / "app.tcss",
        Path(__file__).resolve().parent / "classroom.tcss",
    ]
    TITLE = "handshake-viz classroom"
    # Descriptions are catalog keys, said in the lesson's language (tui.binding_words).
    BINDINGS = [
        Binding("z", "lesson_size", "key.lesson_panel"),
        Binding("e", "export", "key.export"),
        Binding("question_mark", "help", "key.help", key_display="?"),
        Binding("q", "quit", "key.quit"),
    ]
    HEIGHTS = (7, 14, 22)

    def __init__(self, source: FollowSource, lang: str = "en") -> None:
        super().__init__(source, pause=0.0, speed=None, lang=lang, autoplay=False)
        self.held = held_view(self.view)
        """The view, holding back the rows the teacher's class has not predicted yet."""
        self.view = self.held
        self.follow = source
        self.cat = load(lang)
        self.panel_size = 1

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield lesson_panels()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = self.cat.text("follow.title")
        self.panel_size = 1 if self.size.height >= 30 else 0
        self.query_one("#classroom").styles.height = self.HEIGHTS[self.panel_size]
        self.set_interval(PANEL_REFRESH, self._refresh_panels)

    def _refresh_panels(self) -> None:
        panels = self.follow.panels
        step = self.query_one("#step-words", Static)
        if not panels:
            step.update(Text(self.cat.text("follow.waiting"), style="italic"))
            return
        hold = panels.get("hold")
        self.held.hold = hold if isinstance(hold, int) else None
        parts = {
            "#step-words": (panels.get("step", ""), self.cat.text("ui.more_lesson")),
            "#event-words": (panels.get("words", ""), self.cat.text("ui.more")),
            "#keys": (panels.get("keys", ""), "…"),
            "#kernel": (panels.get("kernel", ""), "…"),
        }
        for selector, (markup, hint) in parts.items():
            widget = self.query_one(selector, Static)
            width = widget.content_size.width or 30
            lines = widget.content_size.height or 10
            text = Text.from_markup(markup)
            if selector == "#step-words" and self.follow.ended:
                text.append("\n" + self.cat.text("follow.ended"), style="italic yellow")
            widget.update(fit(text, width, lines, hint)[0])

    def _update_status(self) -> None:
        if self.held.hold is None:  # its counts would tell how many packets are held
            super()._update_status()

    def action_lesson_size(self) -> None:
        self.panel_size = (self.panel_size + 1) % len(self.HEIGHTS)
        self.query_one("#classroom").styles.height = self.HEIGHTS[self.panel_size]

    def action_export(self) -> None:
        if not self.is_web:
            super().action_export()
            return
        capture = self.follow.session.capture if self.follow.session is not None else None
        filename = deliver_export(self, self.view, "teacher", capture,
                                  time_true=self.ladder.time_true)  # fmt: skip
        self.notify(self.cat.text("ui.exported_download", name=filename))


def run_follow(serve_dir: Path, lang: str) -> int:
    """Follow the teacher's lesson until q (a student's tab in ``serve``)."""
    from handshake_viz.sources.live.privileges import drop_privileges

    drop_privileges()  # a follower reads files others wrote: it needs nothing more
    app = FollowApp(FollowSource(serve_dir, lang), lang)
    return int(app.run() or 0)
