"""The time-true ladder as data: blank lines between rows that grow with the time between them.

On loopback a handshake takes microseconds and a SYN retransmission waits a second, yet every
ladder row is one line tall. Here the gap before each row takes lines on a logarithmic scale
(none under a millisecond, one more per decade above, at most `MAX_GAP_LINES`), so both fit on
one screen, and a gap that means something says so (`gap_meaning`): the SYN retransmission
timer, a round-trip time, a delayed ACK. `TimeTrueLayout` maps between visible rows and lines
for a virtual list; it is kept up to date as rows are revealed, one pass over each new row.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum

from handshake_viz.core.events import ACK, FIN, RST, SYN
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.rows import KIND_TCP
from handshake_viz.model.timeline import Timeline

DECADES: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
"""A gap of at least DECADES[k] seconds takes k + 1 lines: 1 ms one line, 10 ms two, 100 ms
three, 1 s four, 10 s and more five."""
MAX_GAP_LINES = len(DECADES)

SUBJECT_WINDOW = 5e-3
"""A gap's meaning is the first packet this close after it: the kernel's own event for a
retransmission (its timer firing) comes a few microseconds before the packet it sends."""
SUBJECT_ROWS = 4
"""...and among this many rows."""
LOOK_BACK = 10_000
"""Rows looked at, at most, for the earlier packet of the same connection a gap is measured
from (a bigger distance says nothing on a screen anyway)."""

DELAYED_ACK = (0.03, 0.25)
"""Seconds between data and a pure ACK of it that read as a delayed ACK (Linux waits 40 ms
to 200 ms), where the connection's handshake was quicker than a quarter of that."""


def gap_lines(seconds: float) -> int:
    """Blank lines a gap of `seconds` takes on the time-true ladder (0 for negatives or NaN)."""
    return bisect_right(DECADES, seconds) if seconds >= DECADES[0] else 0


class GapKind(StrEnum):
    """What a gap between two rows is, where it is something the reader should know."""

    SYN_TIMER = "syn_timer"
    """The kernel's retransmission timer before a SYN sent again."""
    SYNACK_TIMER = "synack_timer"
    """...before a SYN-ACK sent again."""
    RTT = "rtt"
    """A round-trip time: SYN to SYN-ACK, data to the ACK that covers it. A SYN-ACK's gap
    always has a line for it, however short (on loopback, microseconds)."""
    DELAYED_ACK = "delayed_ack"
    """The receiver held its ACK back, hoping to send it with data."""


@dataclass(frozen=True, slots=True)
class GapMeaning:
    """What one gap means, and the time that says it."""

    kind: GapKind
    seconds: float
    """From the earlier packet (the first SYN, the data) to `row`."""
    row: int
    """The timeline row of the packet the gap leads to."""


def _mark(tl: Timeline, row: int, name: str) -> bool:
    names = tl.analysis_names
    return name in names and bool(tl.analysis[row] >> names.index(name) & 1)


def _is_synack(tl: Timeline, row: int) -> bool:
    return tl.kind[row] == KIND_TCP and tl.flags[row] & (SYN | ACK) == SYN | ACK


def _earlier(tl: Timeline, row: int, want: tuple[int, int, int]) -> int | None:
    """The latest row before `row` of the same connection whose (direction, flags mask,
    flags) match `want` (direction -1: either), looking back at most `LOOK_BACK` rows."""
    sid = tl.sid[row]
    first = max(tl.streams[sid].first_row, row - LOOK_BACK)
    direction, mask, flags = want
    for r in range(row - 1, first - 1, -1):
        if tl.sid[r] == sid and tl.kind[r] == KIND_TCP and tl.flags[r] & mask == flags:
            if direction < 0 or tl.dir[r] == direction:
                return r
    return None


def _previous_packet(tl: Timeline, row: int) -> int | None:
    return _earlier(tl, row, (-1, 0, 0))


def meaning_of(tl: Timeline, row: int) -> GapMeaning | None:
    """What the wait before packet `row` means, if it means something (see `GapKind`)."""
    if tl.kind[row] != KIND_TCP:
        return None
    flags, t = tl.flags[row], tl.time[row]
    if flags & SYN and _mark(tl, row, "retransmission"):
        same = _earlier(tl, row, (tl.dir[row], SYN | ACK | RST, flags & (SYN | ACK | RST)))
        if same is None:
            return None
        kind = GapKind.SYNACK_TIMER if flags & ACK else GapKind.SYN_TIMER
        return GapMeaning(kind, t - tl.time[same], row)
    if tl.analysis[row]:
        return None  # a duplicate ACK, a window update...: the wait is not a round trip
    if _is_synack(tl, row):
        syn = _earlier(tl, row, (1 - tl.dir[row], SYN | ACK, SYN))
        return None if syn is None else GapMeaning(GapKind.RTT, t - tl.time[syn], row)
    if not flags & ACK or flags & (SYN | RST):
        return None
    data = _previous_packet(tl, row)
    if data is None or tl.dir[data] == tl.dir[row] or tl.length[data] == 0:
        return None
    if tl.ack[row] < tl.seq[data] + tl.length[data] + (1 if tl.flags[data] & FIN else 0):
        return None
    waited = t - tl.time[data]
    pure = tl.length[row] == 0 and flags & (SYN | FIN | RST) == 0
    info = tl.streams[tl.sid[row]]
    handshake = info.t_synack - info.t_syn  # (the handshake's own ACK may be delayed too)
    quick = math.isnan(handshake) or handshake < waited / 4
    if pure and quick and DELAYED_ACK[0] <= waited <= DELAYED_ACK[1]:
        return GapMeaning(GapKind.DELAYED_ACK, waited, row)
    return GapMeaning(GapKind.RTT, waited, row)


def gap_meaning(view: TimelineView, index: int) -> GapMeaning | None:
    """What the gap before visible row `index` means: that of the first packet shortly after
    it (`SUBJECT_WINDOW`), which may follow the kernel's word on why it was sent."""
    tl = view.timeline
    if index <= 0 or index >= view.visible_count:
        return None
    start = tl.time[view.row_at(index)]
    for i in range(index, min(index + SUBJECT_ROWS, view.visible_count)):
        row = view.row_at(i)
        if tl.time[row] - start > SUBJECT_WINDOW:
            return None
        if tl.kind[row] == KIND_TCP:
            return meaning_of(tl, row)
    return None


class TimeTrueLayout:
    """Lines of the time-true ladder for a view: where each visible row is, what each line is.

    Line numbers count from the first row's line (no header). The layout holds the first line
    of every visible row seen so far, as an array; rows revealed later extend it, a new filter
    starts it again. Taking in a million rows costs one pass (about 0.2 s).
    """

    def __init__(self, view: TimelineView) -> None:
        self.view = view
        self._line = array("q")
        """Line of visible row i (the gap lines before it come just above)."""
        self._filter = view.filter

    def sync(self) -> None:
        """Take in rows revealed since the last call (all again if the filter changed)."""
        view = self.view
        if view.filter is not self._filter:
            self._filter = view.filter
            self._line = array("q")
        n = view.visible_count
        have = len(self._line)
        if have >= n:
            return
        tl = view.timeline
        time, flags, kind, analysis = tl.time, tl.flags, tl.kind, tl.analysis
        line = self._line[-1] if have else -1
        prev_t = time[view.row_at(have - 1)] if have else math.nan
        out = array("q")
        decades, first, synack = DECADES, DECADES[0], SYN | ACK
        for i in range(have, n):
            row = view.row_at(i)
            t = time[row]
            gap = t - prev_t
            extra = bisect_right(decades, gap) if gap >= first else 0
            if not extra and flags[row] & synack == synack and kind[row] == KIND_TCP and i:
                extra = 0 if analysis[row] else 1  # a SYN-ACK's round trip: always a line
            line += 1 + extra
            out.append(line)
            prev_t = t
        self._line.extend(out)

    @property
    def rows(self) -> int:
        """Visible rows laid out (the view's, after `sync`)."""
        return min(len(self._line), self.view.visible_count)

    @property
    def total(self) -> int:
        """Lines the visible rows take, gaps included."""
        n = self.rows
        return self._line[n - 1] + 1 if n else 0

    def line_of(self, index: int) -> int:
        """The line of visible row `index`."""
        return self._line[index]

    def gap_before(self, index: int) -> int:
        """Blank lines just above visible row `index` (none above the first)."""
        if index <= 0:
            return 0
        return self._line[index] - self._line[index - 1] - 1

    def at(self, line: int) -> tuple[int, int]:
        """What `line` shows: (visible row, -1) for a row's own line, (row, k) for the k-th of
        the gap lines above row `row`, (rows, -1) past the last row."""
        n = self.rows
        index = bisect_right(self._line, line, 0, n)
        if index and self._line[index - 1] == line:
            return index - 1, -1
        if index >= n:
            return n, -1
        return index, line - (self._line[index - 1] + 1 if index else 0)
