"""Wrapping a lesson's words to a panel's width, in English and in Chinese.

Rich breaks Chinese text between any two characters, so a line may start with 「，」 or
「）」, and it breaks ``FIN-WAIT-2`` or ``ESTABLISHED（已建立）`` where the width runs out.
Here a line breaks at a space or between two Chinese characters, never inside a run of
Latin letters, digits and signs (a state name, ``connect()``, ``127.0.0.1:9000``), never
before closing punctuation (，。、：；）」 and the like) and never after opening punctuation
(（「 and the like): the rules of Chinese typesetting (禁则), which keep punctuation with the
word it belongs to. Styles survive: the lines are cut out of the `Text`.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

NO_LINE_START = set("，。、：；！？）」』】》〉’”…·,.;:!?)]}%")
"""Characters that may not begin a line: they stay with what comes before."""
NO_LINE_END = set("（「『【《〈‘“([{")
"""Characters that may not end a line: they stay with what comes after."""
GLOSS = 12
"""Longest gloss in full-width brackets kept with the word before it (state names)."""


def _atoms(line: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each unbreakable piece of `line`; spaces are pieces of their own."""
    atoms: list[tuple[int, int]] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        j = i + 1
        if ch == " ":
            while j < n and line[j] == " ":
                j += 1
        elif cell_len(ch) == 1:  # a run of narrow characters: one word
            while j < n and line[j] != " " and cell_len(line[j]) == 1:
                j += 1
        atoms.append((i, j))
        i = j
    # Punctuation rules: glue forbidden line starts backwards, forbidden line ends forwards;
    # a name's short gloss stays with it: ESTABLISHED（已建立）.
    glued: list[tuple[int, int]] = []
    for start, end in atoms:
        first = line[start]
        if glued and glued[-1][1] > end:
            continue  # inside a gloss glued already
        close = line.find("）", start, start + GLOSS)
        if first == "（" and glued and cell_len(line[glued[-1][1] - 1]) == 1 and close > 0:
            if line[glued[-1][1] - 1] != " " and cell_len(line[glued[-1][0] : close + 2]) <= width:
                glued[-1] = (glued[-1][0], close + 1)
                continue
        if glued and first in NO_LINE_START and line[glued[-1][0]] != " ":
            glued[-1] = (glued[-1][0], end)
        elif glued and line[glued[-1][1] - 1] in NO_LINE_END and first != " ":
            glued[-1] = (glued[-1][0], end)
        else:
            glued.append((start, end))
    return glued


def line_starts(line: str, width: int) -> list[int]:
    """Where each wrapped line of `line` (no newline in it) starts, greedily filled."""
    starts = [0]
    used = 0
    for start, end in _atoms(line, width):
        size = cell_len(line[start:end])
        if line[start] == " ":
            used += size
            continue
        if used and used + size > width:
            starts.append(start)
            used = 0
        while size > width:  # a word wider than the panel: cut it, as a last resort
            cut = start
            while cell_len(line[start : cut + 1]) <= width:
                cut += 1
            while cut > start + 1 and line[cut] in NO_LINE_START:
                cut -= 1  # even a hard cut keeps closing punctuation with what it closes
            starts.append(cut)
            start, size = cut, cell_len(line[cut:end])
        used += size
    return starts


def wrap(text: Text | str, width: int) -> list[Text]:
    """`text` as lines of at most `width` cells, its styles kept."""
    text = Text(text) if isinstance(text, str) else text
    width = max(width, 4)
    out: list[Text] = []
    for para in text.split("\n", allow_blank=True):
        plain = para.plain
        starts = line_starts(plain, width)
        pieces = para.divide(starts[1:]) if len(starts) > 1 else [para]
        for piece in pieces:
            piece.rstrip()
            while piece.plain.startswith(" "):
                piece = piece[1:]
            out.append(piece)
    return out


def fit(text: Text | str, width: int, lines: int, hint: str) -> tuple[Text, bool]:
    """`text` wrapped to `width`, in at most `lines` lines; (the text, whether it was cut).

    A cut text ends on its last whole line that fits and a line of its own with `hint`
    (which key shows the rest), so no sentence stops without a word saying so.
    """
    wrapped = wrap(text, width)
    if len(wrapped) <= lines:
        return Text("\n").join(wrapped), False
    kept = wrapped[: max(lines - 1, 0)]
    more = Text(hint, style="bold")
    return Text("\n").join([*kept, more]), True
