"""The `v` key: a line of application data on the arrows (``GET /``, ``200 OK``).

The timeline keeps no payload, so each line is read back from the capture (one frame per
data row drawn, remembered), on the UI thread: the ladder draws only the rows on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handshake_viz.core.appdata import frame_first_line
from handshake_viz.core.source import FrameSource
from handshake_viz.model.timeline import Timeline
from handshake_viz.words.catalog import load

if TYPE_CHECKING:
    from handshake_viz.tui.app import TimelineApp

KEPT = 100_000
"""Lines remembered at most (a row's line never changes)."""


class AppLines:
    """The application line of a timeline row, read from its frame once."""

    def __init__(self, timeline: Timeline, frames: FrameSource) -> None:
        self.timeline = timeline
        self.frames = frames
        self._lines: dict[int, str | None] = {}

    def __call__(self, row: int) -> str | None:
        if row in self._lines:
            return self._lines[row]
        frame = self.timeline.frame[row]
        got = self.frames.raw_frame(frame) if frame > 0 else None
        line = None if got is None else frame_first_line(*got)
        if len(self._lines) >= KEPT:
            self._lines.clear()
        self._lines[row] = line
        return line


def toggle_app_lines(app: TimelineApp) -> None:
    """The app's `v`: the lines on, or off again; a toast says which (or why not)."""
    cat = load(app.lang)
    ladder = app.ladder
    if ladder.app_lines is not None:
        ladder.set_app_lines(None)
        app.notify(cat.text("notify.app_data_off"), timeout=3)
    elif not isinstance(app.source, FrameSource):
        app.notify(cat.text("notify.app_data_none"), timeout=5)
    else:
        ladder.set_app_lines(AppLines(app.timeline, app.source))
        app.notify(cat.text("notify.app_data_on"), timeout=4)
