"""How many terminal cells a text takes: two for a wide (CJK) character, one for the rest.

For plain-text output that pads and wraps without Rich (the `--print` ladder, `--help`):
loading Rich for a width would cost more than the printing it measures.
"""

from __future__ import annotations

import unicodedata


def wide(char: str) -> bool:
    """Whether `char` takes two cells (a Chinese character, a full stop 。)."""
    return unicodedata.east_asian_width(char) in "WF"


def cells(text: str) -> int:
    """Terminal cells `text` takes."""
    if text.isascii():
        return len(text)
    return sum(2 if wide(c) else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` cells (on the left where `right`)."""
    space = " " * max(width - cells(text), 0)
    return space + text if right else text + space
