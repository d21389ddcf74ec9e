"""The status bar and the phase legend: one line each, rebuilt from the model on each tick."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from handshake_viz.core.events import CaptureStats, Phase
from handshake_viz.render.palette import PHASE_COLOURS, PHASE_LABELS_ZH


def legend_text(lang: str = "en") -> Text:
    """Each phase's colour and name, in the order a connection goes through them."""
    text = Text(" ")
    for phase in Phase:
        text.append("▌", style=PHASE_COLOURS[phase])
        label = phase.value
        if lang == "zh":
            label += f" {PHASE_LABELS_ZH[phase]}"
        text.append(label + "  ", style=PHASE_COLOURS[phase])
    text.append("· ? keys", style="dim")
    return text


class Legend(Static):
    """The phase legend above the ladder."""

    def __init__(self, lang: str = "en", **kw: object) -> None:
        super().__init__(legend_text(lang), **kw)  # type: ignore[arg-type]


def status_text(
    description: str,
    stats: CaptureStats,
    *,
    shown: int,
    indexed: int,
    streams: int,
    mode: str,
    done: bool,
    filter_text: str = "",
    matched: int | None = None,
    new_events: int = 0,
    error: str | None = None,
    progress: float | None = None,
    live: bool = False,
) -> Text:
    """source · packets · streams · drops · capture file · playback · filter.

    `progress` (0 to 1) is how much of a file has been read, shown while reading. A `live`
    capture is never done until it stops, and says so with its mode, not "reading".
    """
    text = Text(" ")
    text.append(description, style="bold")
    text.append(f" · {shown:,}/{indexed:,} events")
    if not done and not live:
        read = "" if progress is None else f" {int(progress * 100)}%"
        text.append(f" (reading…{read})", style="italic")
    text.append(f" · streams {streams:,}")
    text.append(f" · drops {stats.drops}", style="bold red" if stats.drops else "")
    if stats.saved_to:
        text.append(f" · saving {stats.saved_to}")
    text.append(f" · {mode}", style="bold")
    if new_events:
        text.append(f" · frozen, {new_events:,} new (f: follow)", style="bold yellow")
    if filter_text:
        text.append(f" · filter '{filter_text}'", style="bold cyan")
        if matched is not None:
            text.append(f" ({matched:,} match)")
    if error:
        text.append(f" · {error}", style="bold red")
    return text


class StatusBar(Static):
    """One line at the bottom: what is shown, from where, and the playback mode."""
