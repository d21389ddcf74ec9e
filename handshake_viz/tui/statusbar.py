"""The status bar and the phase legend: one line each, rebuilt from the model on each tick."""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.widgets import Static

from handshake_viz.core.events import CaptureStats, Phase
from handshake_viz.core.source import EventSource, Progress
from handshake_viz.model.playback import TimelineView
from handshake_viz.render.palette import PHASE_COLOURS
from handshake_viz.words.catalog import load
from handshake_viz.words.explain import phase_name


def legend_text(lang: str = "en") -> Text:
    """Each phase's colour and code word, with the language's name for it where that differs,
    in the order a connection goes through them."""
    text = Text(" ")
    for phase in Phase:
        text.append("▌", style=PHASE_COLOURS[phase])
        name = phase_name(phase, lang)
        label = phase.value + (f" {name}" if name else "")
        text.append(label + "  ", style=PHASE_COLOURS[phase])
    text.append(load(lang).text("status.legend_keys"), style="dim")
    return text


class Legend(Static):
    """The phase legend above the ladder."""

    def __init__(self, lang: str = "en", **kw: object) -> None:
        super().__init__(legend_text(lang), **kw)  # type: ignore[arg-type]


def playback_text(mode: str, speed: float | None, lang: str = "en") -> str:
    """The status bar's playback word for a `TimelineView.mode`: ``live``, ``step``, or the
    speed behind ▶ (playing) or ⏸ (paused)."""
    if mode in ("live", "step"):
        return load(lang).text(f"status.{mode}")
    return f"{'▶' if mode == 'play' else '⏸'} {speed:g}x"


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
    lang: str = "en",
) -> Text:
    """source · packets · streams · drops · capture file · playback · filter, in `lang`.

    `mode` is the playback word (`playback_text`). `progress` (0 to 1) is how much of a file
    has been read, shown while reading. A `live` capture is never done until it stops, and
    says so with its mode, not "reading". An `error` comes first, where the line is never
    cut: it names the source itself (by its file name alone, the folders are in the title),
    so the description makes way for it.
    """
    cat = load(lang)
    text = Text(" ")
    if error:
        text.append(error.replace(f'"{description}"', f'"{os.path.basename(description)}"'),
                    style="bold red")  # fmt: skip
    else:
        text.append(description, style="bold")
    text.append(" · " + cat.text("status.events", shown=f"{shown:,}", indexed=f"{indexed:,}"))
    if not done and not live:
        if progress is None:
            reading = cat.text("status.reading")
        else:
            reading = cat.text("status.reading_percent", percent=int(progress * 100))
        text.append(" " + reading, style="italic")
    text.append(" · " + cat.text("status.streams", n=f"{streams:,}"))
    text.append(" · " + cat.text("status.drops", n=stats.drops),
                style="bold red" if stats.drops else "")  # fmt: skip
    if stats.saved_to:
        text.append(" · " + cat.text("status.saving", path=stats.saved_to))
    text.append(f" · {mode}", style="bold")
    if new_events:
        text.append(" · " + cat.text("status.frozen", n=f"{new_events:,}"), style="bold yellow")
    if filter_text:
        text.append(" · " + cat.text("status.filter", text=filter_text), style="bold cyan")
        if matched is not None:
            text.append(" " + cat.text("status.matched", n=f"{matched:,}"))
    return text


class StatusBar(Static):
    """One line at the bottom: what is shown, from where, and the playback mode."""

    def __init__(self, lang: str = "en", **kw: Any) -> None:
        super().__init__("", **kw)
        self.lang = lang
        self._shown: tuple[Any, ...] = ()

    def show(
        self, source: EventSource, view: TimelineView, new_events: int, error: str | None
    ) -> None:
        """Say where `view` stands; rebuilt only when something it says has changed (the app
        asks on every tick)."""
        tl = view.timeline
        stats = source.stats
        progress = None
        if isinstance(source, Progress) and not tl.done:
            progress = source.progress()  # files know how far they are
        key = (
            view.visible_count, tl.count, view.mode, view.speed, tl.done, view.filter.text,
            view.matched, new_events, error, stats.drops, stats.saved_to, len(tl.streams),
            None if progress is None else int(progress * 100),
        )  # fmt: skip
        if key == self._shown:
            return
        self._shown = key
        text = status_text(
            source.description, stats,
            shown=view.visible_count, indexed=tl.count, streams=len(tl.streams),
            mode=playback_text(view.mode, view.speed, self.lang), done=tl.done,
            filter_text=view.filter.text, matched=None if view.filter.empty else view.matched,
            new_events=new_events, error=error, progress=progress, live=view.live,
            lang=self.lang,
        )  # fmt: skip
        self.update(text, layout=False)  # one docked line: its size never changes
