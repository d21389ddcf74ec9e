"""Applying a `/` filter (or a chosen connection) without freezing the screen.

A mixin of `TimelineApp`. A filter on a small timeline is applied at once; on a larger one its
rows are found in a thread worker (`query.filter_rows`, a million rows take from 0.06 s for a
word to about 2 s for an expression such as `(syn or fin) and not retrans`), while the ladder
keeps the old filter's rows, the tick keeps taking in new rows, the keys keep working and the
status bar says it is filtering. The rows are handed over in a `FilterFound` message and put
on screen at once, the selection kept where it still is; the rows the source added meanwhile
are filtered on the UI thread, as every tick does. A newer filter, or Esc, abandons the
evaluation: the worker is cancelled (it looks between chunks of rows) and its answer, should
one still arrive, is recognised as stale by its number and dropped.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, cast

from textual.message import Message
from textual.worker import get_current_worker

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.query import Filter, filter_rows
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load

if TYPE_CHECKING:
    from textual.app import App

BACKGROUND_ROWS = 20_000
"""Timelines with at least this many rows are filtered in a thread; below it a filter takes
at most ~40 ms (an expression), quicker than the handover."""


class FilterFound(Message):
    """The rows a filter keeps among the first `scanned` timeline rows (from the worker)."""

    def __init__(
        self, number: int, flt: Filter, rows: array[int] | None, scanned: int,
        error: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.number = number
        """Which evaluation this answers (`BackgroundFilter.filtering`)."""
        self.filter = flt
        self.rows = rows
        """None if the evaluation failed (`error` says how)."""
        self.scanned = scanned
        self.error = error


class BackgroundFilter:
    """`_apply_filter` and `cancel_filtering`, and the worker between them."""

    view: TimelineView
    ladder: LadderView
    lang: str
    filtering: tuple[int, Filter] | None = None
    """The evaluation under way, if any: its number and its filter."""
    _filter_number: int = 0

    def _update_status(self) -> None:
        """The app's: say where the view stands (and `filtering_text`)."""

    @property
    def filtering_text(self) -> str | None:
        """The text of the filter being applied, for the status bar."""
        return None if self.filtering is None else self.filtering[1].text

    def _apply_filter(self, flt: Filter) -> None:
        """Show the rows `flt` keeps: now on a small timeline, when found on a larger one."""
        self.cancel_filtering()
        self._filter_number += 1
        count = self.view.timeline.count
        if flt.empty or count < BACKGROUND_ROWS:
            self._use_filter(flt, None, 0)
            return
        number = self._filter_number
        self.filtering = (number, flt)
        self._update_status()
        # Started once the screen has been redrawn (the box closed, the status saying it):
        # a thread that holds the GIL makes each step of a redraw wait for it.
        cast("App[int]", self).call_after_refresh(self._start_evaluation, number, flt, count)

    def _start_evaluation(self, number: int, flt: Filter, count: int) -> None:
        if self.filtering is None or self.filtering[0] != number:
            return  # abandoned before it started
        cast("App[int]", self).run_worker(
            lambda: self._evaluate(number, flt, count), name="filter", group="filter",
            thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

    def _evaluate(self, number: int, flt: Filter, count: int) -> None:
        """In the worker: find the rows, post them unless cancelled meanwhile."""
        worker = get_current_worker()
        app = cast("App[int]", self)
        try:
            rows = filter_rows(self.view.timeline, flt, count, lambda: worker.is_cancelled)
        except Exception as exc:  # said by the UI thread, which then forgets the filter
            app.post_message(FilterFound(number, flt, None, count, error=repr(exc)))
            raise
        if rows is not None:
            app.post_message(FilterFound(number, flt, rows, count))

    def on_filter_found(self, message: FilterFound) -> None:
        if self.filtering is None or self.filtering[0] != message.number:
            return  # abandoned: a newer filter, or Esc
        self.filtering = None
        if message.rows is None:
            text = load(self.lang).text("filter.failed", error=message.error or "")
            cast("App[int]", self).notify(text, severity="error", timeout=10)
            self._update_status()
            return
        self._use_filter(message.filter, message.rows, message.scanned)

    def _use_filter(self, flt: Filter, rows: array[int] | None, scanned: int) -> None:
        """Switch the ladder to `flt`'s rows (found by the worker, or here if `rows` is None),
        keeping the selected row selected if the filter keeps it, else showing the newest."""
        view, ladder = self.view, self.ladder
        selected = view.row_at(ladder.selected) if ladder.selected is not None else None
        if rows is None:
            view.set_filter(flt)
        else:
            view.use_rows(flt, rows, scanned)
        ladder.reset()
        index = None if selected is None else view.index_of(selected)
        if index is None:
            ladder.show_newest()
        else:
            ladder.select(index)
        self._update_status()

    def cancel_filtering(self) -> bool:
        """Abandon the filter being applied, if one is (the old rows stay). True if one was."""
        if self.filtering is None:
            return False
        self.filtering = None
        cast("App[int]", self).workers.cancel_group(cast("App[int]", self), "filter")
        self._update_status()
        return True
