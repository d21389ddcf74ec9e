"""Which rows the ladder shows: the filter's rows that playback has revealed so far.

Plain objects the tests drive without a terminal: replay reveals rows one by one at a person's
pace, live capture everything as it arrives.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

from handshake_viz.model.query import Filter, matching_rows
from handshake_viz.model.timeline import Timeline

DEFAULT_PAUSE = 0.6
"""Seconds per event at 1x: a loopback handshake takes under 4 ms, too fast to watch."""
DEFAULT_SPEED = 1.0

SPEEDS: tuple[float, ...] = (
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
)
"""The speeds + and - walk through; below the slowest is step mode (nothing moves by itself)."""


@dataclass
class TimelineView:
    """Which rows the ladder shows: the filter's rows that playback has revealed so far.

    Replay reveals rows one by one at `pause / speed` seconds per row (a person's pace, since a
    loopback handshake takes under 4 ms); live capture reveals everything as it arrives.
    `revealed` counts timeline rows (not filtered rows), so changing the filter keeps the place.
    """

    timeline: Timeline
    live: bool = False
    pause: float = DEFAULT_PAUSE
    """Seconds per event at 1x."""
    speed: float | None = DEFAULT_SPEED
    """None: step mode."""
    playing: bool = True
    revealed: int = 0
    filter: Filter = field(default_factory=Filter)
    _rows: array[int] | None = None
    _scanned: int = 0
    _credit: float = 0.0

    def __post_init__(self) -> None:
        if self.speed is not None:
            self.speed = min(max(self.speed, SPEEDS[0]), SPEEDS[-1])
        if self.live:
            self.playing = False

    # -- filtering

    def set_filter(self, flt: Filter) -> None:
        """Apply a filter (the empty Filter shows everything)."""
        self.filter = flt
        self._rows = None if flt.empty else array("l")
        self._scanned = 0
        self.sync()

    def use_rows(self, flt: Filter, rows: array[int], scanned: int) -> None:
        """Apply a filter whose rows were found elsewhere (`query.filter_rows`, in a thread):
        `rows` are the matches among the first `scanned` timeline rows; rows the source added
        since are taken in here, as `sync` takes them in on every tick."""
        self.filter = flt
        self._rows = None if flt.empty else rows
        self._scanned = scanned
        self.sync()

    def sync(self) -> bool:
        """Take in rows the source added since the last call. Returns True if any were."""
        count = self.timeline.count
        grew = False
        if self._rows is not None and self._scanned < count:
            self._rows.extend(matching_rows(self.timeline, self.filter, self._scanned, count))
            self._scanned = count
            grew = True
        if self.live and self.revealed != count:
            self.revealed = count
            grew = True
        elif self.revealed == 0 and count:
            self.revealed = 1  # a replay opens on its first event
            grew = True
        return grew

    @property
    def matched(self) -> int:
        """Rows the filter keeps among all indexed rows (revealed or not)."""
        return self.timeline.count if self._rows is None else len(self._rows)

    @property
    def visible_count(self) -> int:
        """Rows the ladder shows."""
        if self._rows is None:
            return min(self.revealed, self.timeline.count)
        return bisect_left(self._rows, self.revealed)

    def row_at(self, i: int) -> int:
        """Timeline row of the i-th visible row."""
        return i if self._rows is None else self._rows[i]

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[int]:
        """Timeline rows of visible rows [start, stop)."""
        stop = self.visible_count if stop is None else min(stop, self.visible_count)
        for i in range(start, stop):
            yield self.row_at(i)

    def visible_since(self, row: int) -> int:
        """Visible rows at timeline row `row` or later: what a frozen live view has not shown
        (counted in timeline rows, so a filter changed meanwhile keeps the count right)."""
        if self._rows is None:
            return max(self.visible_count - row, 0)
        return max(self.visible_count - bisect_left(self._rows, row), 0)

    def index_of(self, row: int) -> int | None:
        """Visible index of a timeline row, None if it is filtered out or not revealed."""
        if row >= self.revealed:
            return None
        if self._rows is None:
            return row if row < self.timeline.count else None
        k = bisect_left(self._rows, row)
        return k if k < len(self._rows) and self._rows[k] == row else None

    # -- playback

    def _reveal_to(self, k: int) -> None:
        """Reveal exactly k visible rows (clamped to what exists)."""
        total = self.matched
        k = max(1 if total else 0, min(k, total))
        if k == 0:
            return
        self.revealed = self.row_at(k - 1) + 1

    def step(self, n: int = 1) -> None:
        """Move n events forward (negative: back). Never hides the first row."""
        if self.live:
            return
        self._reveal_to(self.visible_count + n)

    def home(self) -> None:
        if not self.live:
            self._reveal_to(1)

    def end(self) -> None:
        """Reveal every row indexed so far."""
        if not self.live:
            self.revealed = max(self.revealed, self.timeline.count)

    @property
    def at_end(self) -> bool:
        return self.visible_count >= self.matched

    def toggle_play(self) -> None:
        if self.live:
            return
        if not self.playing and self.at_end and self.timeline.done:
            self.home()  # play again from the start, like a media player
        self.playing = not self.playing
        self._credit = 0.0

    def faster(self) -> None:
        if self.speed is None:
            self.speed = SPEEDS[0]
        else:
            self.speed = next((s for s in SPEEDS if s > self.speed + 1e-9), SPEEDS[-1])

    def slower(self) -> None:
        if self.speed is None:
            return
        lower = [s for s in SPEEDS if s < self.speed - 1e-9]
        self.speed = lower[-1] if lower else None

    @property
    def interval(self) -> float | None:
        """Seconds between two revealed events, None in step mode."""
        return None if self.speed is None else self.pause / self.speed

    def tick(self, elapsed: float) -> bool:
        """Advance playback by `elapsed` seconds of wall time. Returns True if rows appeared."""
        interval = self.interval
        if self.live or not self.playing or interval is None:
            return False
        if self.at_end:
            self._credit = 0.0
            if self.timeline.done:
                self.playing = False
            return False
        self._credit += elapsed
        n = int(self._credit / interval) if interval > 0 else self.matched
        if n <= 0:
            return False
        self._credit -= n * interval
        before = self.revealed
        self._reveal_to(self.visible_count + n)
        return self.revealed != before

    @property
    def mode(self) -> str:
        """What playback is doing, as a code the status bar says in words: "live" (a capture
        going on), "step" (nothing moves but by a key), "play" or "pause" (at `speed`)."""
        if self.live:
            return "live"
        if self.speed is None:
            return "step"
        return "play" if self.playing else "pause"
