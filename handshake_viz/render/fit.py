"""Fitting text into a box of a few lines, cut with a pointer to the rest."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text


def fit_lines(text: str, width: int, lines: int, more: str, console: Console) -> Text:
    """`text` wrapped to `width` cells; past `lines` lines, cut with `more` at the end."""
    wrapped = Text(text).wrap(console, width)
    if len(wrapped) <= lines:
        return Text(text)
    last = wrapped[lines - 1]
    last.truncate(max(width - cell_len(more), 0))
    last.rstrip()
    last.append(more, style="bold")
    return Text("\n").join(wrapped[:lines])
