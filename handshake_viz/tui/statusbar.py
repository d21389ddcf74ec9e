"""The status bar and the phase legend: one line each, rebuilt from the model on each tick."""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.widgets import Static

from handshake_viz.core.events import CaptureStats, Phase
from handshake_viz.core.source import ENDINGS, Arriving, Ended, EventSource, Progress
from handshake_viz.model.playback import TimelineView
from handshake_viz.render.palette import PHASE_COLOURS
from handshake_viz.words.catalog import load
from handshake_viz.words.explain import phase_name


def legend_text(lang: str = "en", width: int | None = None) -> Text:
    """Each phase's colour and code word, with the language's name for it where that differs,
    in the order a connection goes through them, then where the keys are.

    With `width`, the first of these forms that fits: full names, short names
    (``phase_short``), short names one space apart, the code words alone (every phase and
    the keys' hint stay on the line; only the names shrink).
    """
    cat = load(lang)
    forms = [(True, False, "  "), (True, True, "  "), (True, True, " "), (False, False, "  "),
             (False, False, " ")]  # fmt: skip
    text = Text()
    for named, short, gap in forms if width is not None else forms[:1]:
        text = Text(" ")
        for phase in Phase:
            text.append("▌", style=PHASE_COLOURS[phase])
            name = phase_name(phase, lang) if named else None
            if name and short:
                name = cat.text(f"phase_short.{phase.value}")
            label = phase.value + (f" {name}" if name else "")
            text.append(label + gap, style=PHASE_COLOURS[phase])
        text.append(cat.text("status.legend_keys"), style="dim")
        if width is None or text.cell_len <= width:
            break
    return text


class Legend(Static):
    """The phase legend above the ladder, in the form its width holds (`legend_text`)."""

    def __init__(self, lang: str = "en", **kw: object) -> None:
        super().__init__("", **kw)  # type: ignore[arg-type]
        self.lang = lang

    def render(self) -> Text:
        return legend_text(self.lang, self.size.width or None)


def playback_text(mode: str, speed: float | None, lang: str = "en") -> str:
    """The status bar's playback word for a `TimelineView.mode`: ``live``, ``step``, or the
    speed behind ▶ (playing) or ⏸ (paused)."""
    if mode in ("live", "step"):
        return load(lang).text(f"status.{mode}")
    return f"{'▶' if mode == 'play' else '⏸'} {speed:g}x"


def following_text(source: EventSource, done: bool, lang: str = "en") -> str:
    """The mode word of a view that follows its source: ``live``, or ``streaming`` for a pipe,
    and once the events have ended, that the capture stopped and why (`Ended`)."""
    cat = load(lang)
    if done:
        reason = source.ended if isinstance(source, Ended) else None
        return cat.text(f"status.ended_{reason if reason in ENDINGS else 'stopped'}")
    if isinstance(source, Arriving) and source.is_stream:
        return cat.text("status.stream")
    return cat.text("status.live")


KEEP_ERROR, KEEP_MODE, KEEP_FROZEN, KEEP_FILTER, KEEP_EVENTS, KEEP_DROPS = range(6)
KEEP_STREAMS, KEEP_SAVING, KEEP_NO_DROPS = 6, 7, 8
"""What a narrow status bar keeps, most important first: the source (or its error), the mode
(live, stopped and why, playing), the frozen view, the filter, the events, drops that
happened, the streams, the capture file, no drops. Parts go from the last; the order on
the line stays the same."""
SOURCE_MIN = 16
"""Cells of the source's name kept before the filter and the frozen state make way."""


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
    frozen: bool = False,
    error: str | None = None,
    progress: float | None = None,
    live: bool = False,
    lang: str = "en",
    width: int | None = None,
    filtering: str | None = None,
) -> Text:
    """source · packets · streams · drops · capture file · playback · frozen · filter, in `lang`.

    `mode` is the playback word (`playback_text`, `following_text`). `progress` (0 to 1) is
    how much of a file has been read, shown while reading. A `live` capture is never done
    until it stops, and says so with its mode, not "reading". `frozen`: a live view no longer
    follows (`new_events` arrived since). An `error` comes first, where the line is never
    cut: it names the source itself (by its file name alone, the folders are in the title),
    so the description makes way for it. With `width`, the parts that do not fit are left
    out, least important first (`KEEP_*`), and the source is cut last. `filtering`: the
    text of a filter still being applied (the rows shown are the old filter's meanwhile).
    """
    cat = load(lang)
    if error:
        first = Text(error.replace(f'"{description}"', f'"{os.path.basename(description)}"'),
                     style="bold red")  # fmt: skip
    else:
        first = Text(description, style="bold")
        if width is not None and len(description) > width // 2:
            first = Text(os.path.basename(description) or description, style="bold")
    parts: list[tuple[int, Text]] = [(KEEP_ERROR, first)]
    events = Text(cat.text("status.events", shown=f"{shown:,}", indexed=f"{indexed:,}"))
    if not done and not live:
        if progress is None:
            reading = cat.text("status.reading")
        else:
            reading = cat.text("status.reading_percent", percent=int(progress * 100))
        events.append(" " + reading, style="italic")
    parts.append((KEEP_EVENTS, events))
    parts.append((KEEP_STREAMS, Text(cat.text("status.streams", n=f"{streams:,}"))))
    drops = Text(cat.text("status.drops", n=stats.drops), style="bold red" if stats.drops else "")
    parts.append((KEEP_DROPS if stats.drops else KEEP_NO_DROPS, drops))
    if stats.saved_to:
        parts.append((KEEP_SAVING, Text(cat.text("status.saving", path=stats.saved_to))))
    parts.append((KEEP_MODE, Text(mode, style="bold")))
    if frozen or new_events:
        parts.append((KEEP_FROZEN, Text(cat.text("status.frozen", n=f"{max(new_events, 0):,}"),
                                        style="bold yellow")))  # fmt: skip
    if filter_text:
        flt = Text(cat.text("status.filter", text=filter_text), style="bold cyan")
        if matched is not None:
            flt.append(" " + cat.text("status.matched", n=f"{matched:,}"))
        parts.append((KEEP_FILTER, flt))
    if filtering is not None:
        busy = Text(cat.text("status.filtering", text=filtering), style="bold magenta")
        parts.append((KEEP_FILTER, busy))
    if width is not None:
        parts = _fit(parts, width)
    text = Text(" ")
    for i, (_, part) in enumerate(parts):
        if i:
            text.append(" · ")
        text.append_text(part)
    return text


def _fit(parts: list[tuple[int, Text]], width: int) -> list[tuple[int, Text]]:
    """`parts` in `width` cells (one space before, " · " between): the least important
    parts go first, down to the filter; then the first part (the source) is cut to
    `SOURCE_MIN` cells; then the filter and the frozen state go; the mode stays."""

    def cells(ps: list[tuple[int, Text]]) -> int:
        return 1 + sum(p.cell_len for _, p in ps) + 3 * (len(ps) - 1)

    def drop(ps: list[tuple[int, Text]], down_to: int) -> None:
        while cells(ps) > width:
            worst = max(range(1, len(ps)), key=lambda i: (ps[i][0], i), default=None)
            if worst is None or ps[worst][0] <= down_to:
                return
            del ps[worst]

    def cut_first(ps: list[tuple[int, Text]], least: int) -> None:
        over = cells(ps) - width
        first = ps[0][1]
        if over > 0 and first.cell_len > least:
            cut = first.copy()
            cut.truncate(max(first.cell_len - over - 1, least - 1, 0))
            cut.append("…")
            ps[0] = (ps[0][0], cut)

    parts = list(parts)
    drop(parts, KEEP_FILTER)
    cut_first(parts, SOURCE_MIN)
    drop(parts, KEEP_MODE)
    cut_first(parts, 1)
    return parts


class StatusBar(Static):
    """One line at the bottom: what is shown, from where, and the playback mode."""

    def __init__(self, lang: str = "en", **kw: Any) -> None:
        super().__init__("", **kw)
        self.lang = lang
        self._shown: tuple[Any, ...] = ()

    def show(
        self,
        source: EventSource,
        view: TimelineView,
        new_events: int,
        error: str | None,
        frozen: bool = False,
        filtering: str | None = None,
    ) -> None:
        """Say where `view` stands (`filtering`: a filter being applied, `status_text`);
        rebuilt only when something it says has changed (the app asks on every tick)."""
        tl = view.timeline
        stats = source.stats
        progress = None
        if isinstance(source, Progress) and not tl.done:
            progress = source.progress()  # files know how far they are
        if view.live:
            mode = following_text(source, tl.done, self.lang)
        else:
            mode = playback_text(view.mode, view.speed, self.lang)
        width = self.size.width or None
        key = (
            view.visible_count, tl.count, mode, tl.done, view.filter.text,
            view.matched, new_events, frozen, error, stats.drops, stats.saved_to,
            len(tl.streams), None if progress is None else int(progress * 100), width, filtering,
        )  # fmt: skip
        if key == self._shown:
            return
        self._shown = key
        text = status_text(
            source.description, stats,
            shown=view.visible_count, indexed=tl.count, streams=len(tl.streams),
            mode=mode, done=tl.done, filter_text=view.filter.text,
            matched=None if view.filter.empty else view.matched, new_events=new_events,
            frozen=frozen, error=error, progress=progress, live=view.live, lang=self.lang,
            width=width, filtering=filtering,
        )  # fmt: skip
        self.update(text, layout=False)  # one docked line: its size never changes
