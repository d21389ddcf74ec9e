"""The keys panel: each key of step mode, and why a disabled one makes no sense now.

Pure: it takes what the stepper says of each key and the panel's size, and returns the text.
Where the panel has the room, a disabled key's reason stands under it, whole; else after it
on the same line, cut to the width; on a small panel all keys fit on two lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from handshake_viz.classroom.stepper import SERVER_ACTIONS, Action
from handshake_viz.classroom.wrap import fit, wrap
from handshake_viz.words.catalog import Catalog


@dataclass(frozen=True, slots=True)
class KeyState:
    """One key as the panel shows it."""

    action: Action
    ok: bool
    reason: str = ""
    """Why not, without the action's name it starts with in the catalogs."""


def without_action(reason: str) -> str:
    """A reason without the action's name it starts with ("accept: …", "接受连接：…")."""
    for colon in (": ", "："):
        head, sep, rest = reason.partition(colon)
        if sep and len(head) < 24:
            return rest
    return reason


def keys_text(
    cat: Catalog,
    states: list[KeyState],
    *,
    queued: list[str],
    autoplaying: bool,
    predicting: bool = False,
    width: int,
    lines: int,
    inline: bool = False,
) -> Text:
    """The panel's text for `states` in `width` x `lines` cells (0 lines: as tall as needed).

    `queued`: keys waiting for a running call ("forward" for the next step).
    `inline`: reasons after their keys whatever the room (followers wrap it themselves).
    """
    text = Text(cat.text("ui.keys"), style="bold")
    if queued:
        waiting = " ".join("→" if k == "forward" else k for k in queued)
        text.append("  " + cat.text("ui.queued", keys=waiting), style="yellow")
    if 0 < lines < len(states) + 5:
        text.append_text(_compact(cat, states))
    else:
        below = [_key_lines(cat, s, width, inline=False) for s in states]
        if inline or (lines and sum(len(k) for k in below) + 2 > lines):
            below = [_key_lines(cat, s, width, inline=True) for s in states]
        for key_lines in below:
            for line in key_lines:
                text.append("\n")
                text.append_text(line)
    autoplay = cat.text("ui.autoplay_on" if autoplaying else "ui.autoplay_off")
    predict = cat.text("predict.on" if predicting else "predict.off")
    text.append(f"\n g  {autoplay}\n p  {predict}\n z  {cat.text('ui.panel_size')}", style="dim")
    return text


def _key_lines(cat: Catalog, state: KeyState, width: int, inline: bool) -> list[Text]:
    line = Text(f" {state.action.value}  ", style="bold")
    line.append(cat.text(f"action.{state.action.value}"), style="" if state.ok else "dim strike")
    if state.ok:
        return [line]
    if inline:
        line.append(" — " + state.reason, style="dim italic")
        line.truncate(width, overflow="ellipsis")
        return [line]
    reason = wrap(Text(state.reason, style="dim italic"), width - 4)
    return [line, *(Text("    ") + part for part in reason)]


def _compact(cat: Catalog, states: list[KeyState]) -> Text:
    text = Text()
    for i, state in enumerate(states):
        if i in (0, len(SERVER_ACTIONS)):
            text.append("\n")
        style = "" if state.ok else "dim strike"
        text.append(f"{state.action.value} ", style=f"bold {style}")
        text.append(cat.text(f"action.{state.action.value}") + "  ", style=style)
    return text


def fitted(text: Text, width: int, lines: int) -> Text:
    """`text` in a panel's lines, its last line saying that z shows the rest."""
    if not lines:
        return text
    return fit(text, width, lines, "… z")[0]
