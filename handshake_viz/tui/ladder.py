"""The ladder: one line per event between a client column and a server column.

A `ScrollView` drawing with the line API: only the lines on screen are ever built (from the
timeline's columns, in `render_line`), so a million events cost no more to show than twenty.
Line 0 is a sticky header naming the columns and the two ends. In the time-true mode (`d`)
blank gap lines go between rows as long as the waits between them (`model.timescale`), so
the ladder's lines are no longer its rows: `_line_of` and `_at` map between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timescale import SUBJECT_ROWS, TimeTrueLayout
from handshake_viz.render.ladder_gaps import gap_line, rails
from handshake_viz.render.ladder_text import Columns, header_text, ladder_segments, pad
from handshake_viz.tui.binding_words import speak_bindings


class LadderView(ScrollView, can_focus=True, inherit_bindings=False):
    """The ladder timeline of a `TimelineView`, drawing only the lines on screen."""

    # Not inheriting ScrollView's keys: left/right/home/end/space belong to playback.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "key.previous_row", show=False),
        Binding("down", "cursor(1)", "key.next_row", show=False),
        Binding("pageup", "page(-1)", "key.page_up", show=False),
        Binding("pagedown", "page(1)", "key.page_down", show=False),
        Binding("enter", "app.tab('packet')", "key.open_packet", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"ladder--header", "ladder--selected"}

    following: reactive[bool] = reactive(True)
    """Live: the newest row stays on screen. Scrolling up turns it off; f or End back on."""

    class Selected(Message):
        """The selected row changed (row: a timeline row, or None)."""

        def __init__(self, row: int | None) -> None:
            super().__init__()
            self.row = row

    class FollowChanged(Message):
        """Live follow mode went on or off (so the status bar can say so)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, view: TimelineView, *, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        speak_bindings(self, lang)
        self.view = view
        self.lang = lang
        """Language of the column headers and the calls' results."""
        self.selected: int | None = None
        """Visible index of the selected row."""
        self._cache: LRUCache[tuple[int, int, int, bool, int, int], Strip] = LRUCache(1024)
        self._auto_scroll = False
        self.time_true = False
        """Gap lines between rows, as long as the waits between them (`set_time_true`)."""
        self.time_layout = TimeTrueLayout(view)
        self.app_lines: Callable[[int], str | None] | None = None
        """A row's line of application data for its arrow (`tui.appdata`), None: off."""
        self._gap_cache: LRUCache[tuple[int, int, int, int, int], Strip] = LRUCache(256)

    # -- data changes

    def reset(self) -> None:
        """The filter or the revealed rows changed in a way that breaks the line cache."""
        self._cache.clear()
        self._gap_cache.clear()
        self.update_size()
        self.refresh()

    def update_size(self) -> None:
        # Width 0: every line is drawn to the region's width, so nothing scrolls sideways. The
        # widget's own width here made a horizontal scrollbar appear with the vertical one (one
        # column narrower than the lines), which hid the newest row under it after End.
        self.virtual_size = Size(0, self._lines() + 1)

    # -- lines and rows (the same but in the time-true mode)

    def set_time_true(self, on: bool) -> None:
        """Gap lines between rows or not, keeping the selected row (or the newest) on screen."""
        self.time_true = on
        self._cache.clear()
        self._gap_cache.clear()
        self.update_size()
        if self.view.live and self.following:
            self.show_newest()
        elif self.selected is not None:
            self.scroll_to_index(self.selected)
        self.refresh()

    def set_app_lines(self, lines: Callable[[int], str | None] | None) -> None:
        """Application data on the arrows (or not, with None)."""
        self.app_lines = lines
        self._cache.clear()
        self.refresh()

    def _lines(self) -> int:
        """Lines the visible rows take (with their gap lines in the time-true mode)."""
        if not self.time_true:
            return self.view.visible_count
        self.time_layout.sync()
        return self.time_layout.total

    def _line_of(self, index: int) -> int:
        if not self.time_true:
            return index
        self.time_layout.sync()
        return self.time_layout.line_of(index)

    def _at(self, line: int) -> tuple[int, int]:
        """What line `line` (0: the first row's) shows: (visible row, -1) for a row, (row, k)
        for the k-th gap line above that row."""
        if not self.time_true:
            return line, -1
        self.time_layout.sync()
        return self.time_layout.at(line)

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self.update_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._gap_cache.clear()

    def show_newest(self) -> None:
        """Select the newest visible row and scroll so it is on screen (playback, follow)."""
        self.update_size()
        n = self.view.visible_count
        self.select(n - 1 if n else None, scroll=True)

    def select(self, index: int | None, *, scroll: bool = True) -> None:
        n = self.view.visible_count
        if index is not None:
            index = max(0, min(index, n - 1)) if n else None
        changed = index != self.selected
        self.selected = index
        if scroll and index is not None:
            self.scroll_to_index(index)
        self.refresh()
        if changed:
            self.post_message(self.Selected(None if index is None else self.view.row_at(index)))

    def scroll_to_index(self, index: int) -> None:
        rows_on_screen = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_y)
        line = self._line_of(index)
        if line < top:
            # with the gap above it, whose line says what the wait was
            target = max(line - self.time_layout.gap_before(index), 0) if self.time_true else line
        elif line >= top + rows_on_screen:
            target = line - rows_on_screen + 1
        else:
            return
        self._auto_scroll = True
        try:
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
        finally:
            self._auto_scroll = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # The wheel, the scrollbar or a key moved the view up, away from the newest row (a
        # layout change that clamps scroll_y to a new bottom is not the user leaving it).
        if (
            self.view.live
            and self.following
            and not self._auto_scroll
            and new < old - 0.01
            and new < self.max_scroll_y - 0.5
        ):
            self.following = False

    def watch_following(self, following: bool) -> None:
        self.post_message(self.FollowChanged(following))

    # -- actions

    def action_cursor(self, delta: int) -> None:
        n = self.view.visible_count
        if not n:
            return
        cur = self.selected if self.selected is not None else n - 1
        self.select(cur + delta)
        if self.view.live and delta < 0:
            self.following = False

    def action_page(self, delta: int) -> None:
        page = delta * max(self.scrollable_content_region.height - 2, 1)
        n = self.view.visible_count
        if not self.time_true or not n:
            self.action_cursor(page)
            return
        cur = self.selected if self.selected is not None else n - 1
        line = max(self._line_of(cur) + page, 0)
        self.action_cursor(min(self._at(line)[0], n - 1) - cur)

    def on_click(self, event: events.Click) -> None:
        y = event.y
        if y < 1:
            return
        index, gap = self._at(round(self.scroll_y) + y - 1)
        if gap < 0 and index < self.view.visible_count:
            self.select(index, scroll=False)
            if self.view.live and index < self.view.visible_count - 1:
                self.following = False

    # -- drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        cols = Columns.fit(width, len(self.view.timeline.streams))
        if y == 0:
            style = self.get_component_rich_style("ladder--header")
            return Strip([Segment(pad(header_text(self.view, cols, self.lang), width), style)])
        index, gap = self._at(round(self.scroll_y) + y - 1)
        if index >= self.view.visible_count:
            return Strip.blank(width, base)
        if gap >= 0:
            return self._gap_strip(index, gap, cols)
        row = self.view.row_at(index)
        prev = self.view.row_at(index - 1) if index else -1
        selected = index == self.selected
        # A socket call's connection may be known only once its SYN is in (connect() first).
        streams = len(self.view.timeline.streams) if row in self.view.timeline.sockets else 0
        key = (row, prev, width, selected, streams, cols.conn_w)
        strip = self._cache.get(key)
        if strip is None:
            segs = ladder_segments(self.view, index, cols, self.lang, self.app_lines)
            strip = Strip(segs).apply_style(base)
            if selected:
                strip = strip.apply_style(self.get_component_rich_style("ladder--selected"))
            strip = strip.adjust_cell_length(width, base)
            self._cache[key] = strip
        return strip

    def _gap_strip(self, index: int, k: int, cols: Columns) -> Strip:
        """Gap line `k` above visible row `index` (the time-true mode)."""
        lines = self.time_layout.gap_before(index)
        # what the gap means may be the packet just after the row: drawn again once it came
        ahead = min(self.view.visible_count - index, SUBJECT_ROWS)
        key = (self.view.row_at(index), k, lines, cols.width, ahead)
        strip = self._gap_cache.get(key)
        if strip is None:
            where = rails(header_text(self.view, cols, self.lang))
            segs = gap_line(self.view, index, k, lines, cols, where, self.lang)
            strip = Strip(segs).apply_style(self.rich_style)
            strip = strip.adjust_cell_length(cols.width, self.rich_style)
            self._gap_cache[key] = strip
        return strip
