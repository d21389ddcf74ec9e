"""The time-true ladder in `--print --time-true` text: gap lines between the printed events.

The same rule as the TUI's `d` (`model.timescale`): a gap takes a line a decade above a
millisecond, a SYN-ACK always one, and the middle gap line says what the wait was where it
means something. Events come one at a time, so the packets are kept in a `Timeline` of their
own to look back on, and a gap that ends in the kernel's word on a retransmission (its timer
fired) waits for the packet just after, which says what the wait was, before it is printed
(the kernel's words come microseconds before their packet: nothing else is held back, so a
live capture's lines still appear as they come).
"""

from __future__ import annotations

from typing import Any

from handshake_viz.core.events import ACK, SYN, KernelEvent, PacketEvent
from handshake_viz.model.rows import KIND_TCP
from handshake_viz.model.timeline import Timeline
from handshake_viz.model.timescale import (
    SUBJECT_ROWS,
    SUBJECT_WINDOW,
    GapMeaning,
    gap_lines,
    meaning_of,
)
from handshake_viz.render.ladder_gaps import TIME_MARK, gap_label

LABEL_AT = 48
"""Where `TextLadder`'s arrow column begins: the words on a wait go over the arrows."""
LABEL_WIDTH = 40


class PrintGaps:
    """Turns the text ladder's lines into lines with the time-true gaps between them."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self.timeline = Timeline()
        """The packets so far (a gap's meaning looks back on its connection)."""
        self._prev: float | None = None
        self._held: list[str] = []
        """A gap's lines and the lines after it, until the packet that says what it was."""
        self._held_gap = (0, 0.0)
        """(lines, time the gap ends) of the held gap."""
        self._held_rows = 0

    def lines(self, e: Any, line: str | None) -> list[str]:
        """The lines to print for event `e` (printed as `line`, None: not printed)."""
        t = getattr(e, "time", None)
        if t is None:
            return [*self.flush(), *([line] if line is not None else [])]
        row = self._take(e)
        gap = 0 if self._prev is None else gap_lines(t - self._prev)
        self._prev = t
        tl = self.timeline
        out: list[str] = []
        if self._held:
            lines, since = self._held_gap
            if row is not None and tl.kind[row] == KIND_TCP and t - since <= SUBJECT_WINDOW:
                meaning = meaning_of(tl, row)
                self._held[(lines - 1) // 2] = self._gap_line(meaning)
                out += self.flush()
            elif t - since > SUBJECT_WINDOW or self._held_rows >= SUBJECT_ROWS:
                out += self.flush()
        if row is not None and not gap and tl.flags[row] & (SYN | ACK) == SYN | ACK:
            gap = 0 if tl.analysis[row] or row == 0 else 1  # a SYN-ACK's round trip
        if line is None:
            return out
        if gap and isinstance(e, KernelEvent) and not self._held:
            self._held = [self._gap_line(None) for _ in range(gap)] + [line]
            self._held_gap, self._held_rows = (gap, t), 1
            return out
        mine = [self._gap_line(None) for _ in range(gap)]
        if gap and row is not None:
            mine[(gap - 1) // 2] = self._gap_line(meaning_of(tl, row))
        if self._held:
            self._held += [*mine, line]
            self._held_rows += 1
            return out
        return [*out, *mine, line]

    def flush(self) -> list[str]:
        """The lines held back, as they are."""
        held, self._held, self._held_rows = self._held, [], 0
        return held

    def _take(self, e: Any) -> int | None:
        """`e`'s row in the timeline of packets, if it is a packet."""
        if not isinstance(e, PacketEvent):
            return None
        self.timeline.extend([e])
        return self.timeline.count - 1

    def _gap_line(self, meaning: GapMeaning | None) -> str:
        mark = TIME_MARK.rjust(10)
        if meaning is None:
            return mark
        return f"{mark:<{LABEL_AT}}" + gap_label(meaning, self.lang).center(LABEL_WIDTH).rstrip()
