"""The `/` filter's line: opened by `/`, read on Enter, in the app's language.

The filter language itself (`model.query`) speaks no language: a text it cannot read raises
a `FilterError` naming a catalog key, and this box says it, with the filter's help, as a
notification; the box stays open with the text, so the reader can mend it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.widgets import Input

from handshake_viz.model.query import Filter, FilterError, parse_filter
from handshake_viz.words.catalog import load


class FilterBox(Input):
    """One line above the status bar, hidden until `/`; posts `Applied` with a filter it read."""

    class Applied(Message):
        """The reader's filter, read (the app applies it and closes the box)."""

        def __init__(self, flt: Filter) -> None:
            super().__init__()
            self.filter = flt

    def __init__(self, lang: str = "en", **kw: Any) -> None:
        super().__init__(placeholder=load(lang).text("filter.placeholder"), **kw)
        self.lang = lang

    def open(self, text: str) -> None:
        """Show the box with `text` in it, and type there."""
        self.display = True
        self.value = text
        self.focus()

    @on(Input.Submitted)
    def _read(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            flt = parse_filter(event.value)
        except FilterError as exc:
            cat = load(self.lang)
            message = cat.text(exc.key, help=cat.text("filter.help"), **exc.values)
            self.app.notify(message, severity="error", timeout=8)
            return
        self.post_message(self.Applied(flt))
