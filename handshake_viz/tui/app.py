"""The timeline app: the ladder, the connections and the packet detail over one event source.

`make_app` builds it (the CLI and the tests run the same app); `run_tui` runs it for a command.
The source is read in a thread worker that appends to the `Timeline` (the only writer) and never
touches a widget; the UI reads the timeline on a 30 Hz tick, which also drives playback, so a
live packet is on screen within one tick and a flood of packets costs one redraw per tick.

Extending (classroom mode): subclass `TimelineApp`, add `BINDINGS` whose descriptions are
catalog keys (they appear in the footer, the help screen and the command palette by themselves,
in the app's language: `tui.binding_words`), and add panes to the side panel with
`self.query_one("#side", TabbedContent).add_pane(...)` or write to `#explain`.

Beside it, by job: `keys` (the bindings, the help's sections, the command palette),
`playback_keys` (what play, step, speed and follow do), `filterbox` (the `/` line),
`filtering` (applying a filter in a thread),
`statusbar`, `ladder`, `connections`, `detail`, `help`, `reader` (the reading thread's work),
`exports` (what `e` writes).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from textual import events, on, work
from textual.app import App, ComposeResult, CSSPathType, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from handshake_viz.core.source import Arriving, EventSource, FrameSource
from handshake_viz.model.playback import DEFAULT_PAUSE, DEFAULT_SPEED, TimelineView
from handshake_viz.model.query import Filter
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.fit import fit_lines
from handshake_viz.tui.appdata import toggle_app_lines
from handshake_viz.tui.binding_words import speak_bindings
from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.detail import PacketDetail
from handshake_viz.tui.exports import ExportKeys
from handshake_viz.tui.filterbox import FilterBox
from handshake_viz.tui.filtering import BackgroundFilter
from handshake_viz.tui.graphs import toggle_graphs
from handshake_viz.tui.help import HelpScreen
from handshake_viz.tui.interrupt import quit_on_ctrl_c
from handshake_viz.tui.keys import TIMELINE_BINDINGS, key_sections, palette_commands
from handshake_viz.tui.ladder import LadderView
from handshake_viz.tui.options import TuiOptions
from handshake_viz.tui.playback_keys import PlaybackKeys
from handshake_viz.tui.reader import SourceFinished, read_into
from handshake_viz.tui.side_panel import NARROW, SidePanel
from handshake_viz.tui.statusbar import Legend, StatusBar
from handshake_viz.words.catalog import load
from handshake_viz.words.explain import explain

TICK = 1 / 30
"""Seconds between two looks at the timeline (playback step, new rows, status)."""
ROOMY_FOOTER = 160
"""Under this width the footer drops the space between its keys."""
PALETTE_KEY_CELLS = 16
"""Cells the palette's key takes at the footer's end (docked there, over the other keys)."""
SLOW_TICK = 0.25
"""Seconds between two redraws of the counters (status bar, connections) while reading."""


NOTICE_SECONDS = 3600.0
"""A notice stays this long (a click dismisses it): a toast of a few seconds is missed by
whoever looks at the ladder first."""

EXPLAIN_LINES = 3
"""Lines of the explanation under the ladder (its CSS height)."""


class TimelineApp(PlaybackKeys, ExportKeys, SidePanel, BackgroundFilter, App[int]):
    """Ladder timeline of one event source, for replay (playback) and live capture (follow)."""

    CSS_PATH: ClassVar[CSSPathType] = "app.tcss"
    TITLE = "handshake-viz"

    BINDINGS: ClassVar[list[BindingType]] = TIMELINE_BINDINGS

    def __init__(
        self,
        source: EventSource,
        *,
        pause: float = DEFAULT_PAUSE,
        speed: float | None = DEFAULT_SPEED,
        lang: str = "en",
        autoplay: bool = True,
        export_dir: Path | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        speak_bindings(self, lang)
        self.source = source
        self.lang = lang
        """Language of every word on screen (a catalog in ``words/messages``)."""
        self.timeline = Timeline()
        # A pipe or FIFO is shown as a live capture is: following its newest event.
        follows = source.live or (isinstance(source, Arriving) and source.is_stream)
        self.view = TimelineView(
            self.timeline, live=follows, pause=pause, speed=speed, playing=autoplay
        )
        self.export_dir = export_dir or Path.cwd()
        self.notice = notice
        """Shown as a toast from the start (`TuiOptions.notice`)."""
        self.error: str | None = None
        self.ingest_finished = threading.Event()
        """Set when the reading thread has returned (run_tui waits on it)."""
        self.quit_requested = False
        """Ctrl-C came as a signal (`request_quit`): quit at the next tick."""
        self._frame_up = False
        """The first frame is up (Textual's Ready): quitting no longer cuts a mount short."""
        self.frozen_at: int | None = None
        """Live, not following: the timeline's row count when the view froze (rows from
        there on are the new ones, whatever the filter)."""
        self.first_row_at: float | None = None
        """monotonic() when the first row was drawn (the bench reads it)."""
        self._last_tick = time.monotonic()
        self._last_slow = 0.0
        self._shown_streams = -1
        self._explained: int | None = None
        """The row whose explanation is under the ladder."""

    # -- layout

    def compose(self) -> ComposeResult:
        cat, lang = load(self.lang), self.lang
        yield Legend(lang, id="legend")
        with Horizontal(id="main"):
            with Vertical(id="ladder-pane"):
                yield LadderView(self.view, lang=lang, id="ladder")
                yield Static("", id="explain")
            with TabbedContent(id="side", initial="connections"):
                with TabPane(cat.text("tab.connections"), id="connections"):
                    yield ConnectionsView(self.timeline, lang=lang, id="connections-view")
                with TabPane(cat.text("tab.packet"), id="packet"):
                    frames = self.source if isinstance(self.source, FrameSource) else None
                    yield PacketDetail(self.timeline, frames, lang, id="detail")
        yield FilterBox(lang, id="filter")
        yield StatusBar(lang, id="status")
        yield Footer()

    def on_mount(self) -> None:
        # Kept from the main screen: app.query_one would search whatever screen is on top
        # (help, command palette) and the tick runs under those too.
        self.ladder = self.query_one("#ladder", LadderView)
        self.connections = self.query_one("#connections-view", ConnectionsView)
        self.detail = self.query_one("#detail", PacketDetail)
        self.side = self.query_one("#side", TabbedContent)
        self.filter_box = self.query_one("#filter", FilterBox)
        self.status_bar = self.query_one("#status", StatusBar)
        self.explain_area = self.query_one("#explain", Static)
        self.sub_title = self.source.description
        self.filter_box.display = False
        self.ladder_pane = self.query_one("#ladder-pane", Vertical)
        if self.size.width < NARROW:
            self.side.display = False  # the ladder needs the width; 1, 2 or b bring it back
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        # Tab goes from pane to pane: the tab strip takes no focus (1 and 2 switch tabs).
        self.side.query_one(Tabs).can_focus = False
        self.ladder.focus()
        if self.notice:
            self.notify(self.notice, severity="warning", timeout=NOTICE_SECONDS)
        self._read_source()
        self.set_interval(TICK, self._tick)
        self._update_status()

    # -- the reading thread

    @work(thread=True, exclusive=True, group="source", exit_on_error=False)
    def _read_source(self) -> None:
        """Append the source's events to the timeline; post only the end (or an error)."""
        worker = get_current_worker()
        try:
            error = read_into(self.timeline, self.source, lambda: worker.is_cancelled, self.lang)
        finally:
            self.ingest_finished.set()
        if not worker.is_cancelled:
            self.post_message(SourceFinished(error))

    def on_source_finished(self, message: SourceFinished) -> None:
        if not self.view.live:
            # A million rows leave ~100k long-lived objects (streams, their row arrays): keep
            # the cyclic GC from walking them again on every later collection (keypresses).
            gc.freeze()
        if message.error:
            self.error = message.error
            self.notify(message.error, severity="error", timeout=10)
        self._tick()

    # -- the tick: new rows, playback, status

    def _tick(self) -> None:
        if self.quit_requested and self._frame_up:
            self._quit()
            return
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        grew = self.view.sync()
        moved = self.view.tick(elapsed)
        ladder = self.ladder
        if grew or moved:
            if self.view.live:
                if ladder.following:
                    ladder.show_newest()
                else:
                    ladder.update_size()
            elif moved or ladder.selected is None:
                ladder.show_newest()
            else:
                ladder.update_size()
            if self.first_row_at is None and self.view.visible_count:
                self.first_row_at = time.monotonic()
        # Counters that only grow while a file is read are redrawn at 4 Hz: a longer list of
        # connections costs a layout pass on the UI thread, which competes with the reading
        # thread for the GIL.
        if grew or moved or now - self._last_slow >= SLOW_TICK or self.timeline.done:
            self._last_slow = now
            if len(self.timeline.streams) != self._shown_streams:
                self._shown_streams = len(self.timeline.streams)
                self.connections.update_size()
            self._update_status()

    def _update_status(self) -> None:
        v = self.view
        at = self.frozen_at
        new = v.visible_since(at) if at is not None else 0
        frozen = at is not None and not v.timeline.done  # a stopped capture has nothing to follow
        self.status_bar.show(self.source, v, new, self.error, frozen=frozen,
                             filtering=self.filtering_text)  # fmt: skip

    # -- selection and follow

    @on(LadderView.Selected)
    def _selected(self, message: LadderView.Selected) -> None:
        self.detail.show(message.row)
        self._explained = message.row
        self._show_explanation()

    def _show_explanation(self) -> None:
        """The selected row's explanation under the ladder, cut to its three lines with a
        pointer to the whole of it (the packet detail) where it is longer."""
        row = self._explained
        if row is None:
            self.explain_area.update("")
            return
        text = explain(self.timeline.row(row).event(), self.lang, states=False)
        width = self.explain_area.content_size.width
        more = load(self.lang).text("ui.more")
        self.explain_area.update(fit_lines(text, width, EXPLAIN_LINES, more, self.console)
                                 if width > 0 else text)  # fmt: skip

    @on(LadderView.FollowChanged)
    def _follow_changed(self, message: LadderView.FollowChanged) -> None:
        self.frozen_at = None if message.following else self.view.revealed
        self._update_status()

    @on(ConnectionsView.Chosen)
    def _connection_chosen(self, message: ConnectionsView.Chosen) -> None:
        if not self.ladder_pane.display:
            self._show_side(False)  # narrow: show the ladder the choice filtered
        if message.sid is None:
            self._apply_filter(Filter())
        else:
            s = self.timeline.streams[message.sid]
            text = load(self.lang).text("conn.chosen", proto=s.proto, stream=s.stream)
            self._apply_filter(Filter(sids=frozenset({message.sid}), text=text))

    # -- actions (playback's in PlaybackKeys)

    def action_filter(self) -> None:
        flt = self.filtering[1] if self.filtering else self.view.filter  # the newest typed
        self.filter_box.open(flt.text if not flt.sids else "")

    @on(FilterBox.Applied)
    def _filter_applied(self, message: FilterBox.Applied) -> None:
        self._close_filter_box()
        self._apply_filter(message.filter)

    def _close_filter_box(self) -> None:
        box = self.filter_box
        box.display = False
        self.ladder.focus()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        if box.display:
            self._close_filter_box()
        elif self.cancel_filtering():
            pass  # a filter still being applied: abandoned, the old one stays
        elif not self.ladder_pane.display:
            self._show_side(False)  # a narrow screen showing the side panel: back to the ladder
        elif self.detail.has_focus or self.connections.has_focus and self.view.filter.empty:
            self.ladder.focus()  # the keys back to the ladder (a chosen connection: Esc twice)
        elif not self.view.filter.empty:
            self._apply_filter(Filter())
            self.connections.chosen = None

    def on_resize(self, event: events.Resize) -> None:
        if hasattr(self, "ladder_pane"):  # mounted
            self._show_side(self.side.display, event.size.width)  # side by side, or not
            self.call_after_refresh(self._show_explanation)  # its width changed too
            self._fit_footer(event.size.width)

    def _bindings_changed(self, _screen: object) -> None:
        self.call_after_refresh(lambda: self._fit_footer(self.size.width))

    def _fit_footer(self, width: int) -> None:
        """Compact under `ROOMY_FOOTER` columns; the palette's key only where the other keys
        leave it room: docked over their end, it would cut a wide (CJK) word in half. The help
        screen lists it in any case."""
        footer = self.query_one(Footer)
        compact = width < ROOMY_FOOTER
        shown = {b.action: b for _, b, _, _ in self.screen.active_bindings.values() if b.show}
        keys = sum(  # one key an action, as the footer shows them
            cell_len(self.get_key_display(b)) + 1 + cell_len(b.description) + (1 if compact else 2)
            for b in shown.values()
        )
        palette = keys + PALETTE_KEY_CELLS <= width
        footer.compact = compact
        if footer.show_command_palette != palette:
            footer.show_command_palette = palette
            footer.refresh(recompose=True)  # Footer reads it only when it composes

    def action_graphs(self) -> None:
        toggle_graphs(self)

    def action_app_data(self) -> None:
        toggle_app_lines(self)

    def action_time_true(self) -> None:
        """The ladder with gap lines as long as the waits between rows, or one line a row."""
        on = not self.ladder.time_true
        self.ladder.set_time_true(on)
        self.notify(load(self.lang).text("notify.time_true_on" if on else "notify.time_true_off"),
                    timeout=4)  # fmt: skip

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_sections(), self.lang))

    def key_sections(self) -> list[tuple[str, list[Binding]]]:
        """Every key that works here, by where it works (the help screen's content)."""
        return key_sections(self)

    def on_unmount(self) -> None:
        """However the app ends, the capture stops so that the reading thread returns."""
        self.source.stop()

    async def action_quit(self) -> None:
        """Stop the capture first, so the reading thread ends, then leave."""
        self._quit()

    def _quit(self) -> None:
        self.source.stop()
        self.workers.cancel_group(self, "source")
        self.exit(0)

    def request_quit(self) -> None:
        """Quit at the next tick once the first frame is up (Ctrl-C as a signal calls this:
        `tui.interrupt`); safe from a signal handler, as it only sets a flag."""
        self.quit_requested = True

    def on_ready(self) -> None:
        self._frame_up = True

    # -- command palette: every action by name

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return palette_commands(self, super().get_system_commands(screen))

    def action_command_palette(self) -> None:
        """Textual's command palette, with its search box's words in the app's language."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            placeholder = load(self.lang).text("palette.placeholder")
            self.push_screen(CommandPalette(placeholder=placeholder, id="--command-palette"))


make_app = TimelineApp
"""The app factory the CLI runs and the tests drive (the app's own keywords, not a copy)."""


def run_tui(source: EventSource, options: TuiOptions | None = None) -> int:
    """Run the TUI on a source until `q`; return the exit status (2 if the source failed)."""
    options = options or TuiOptions()
    app = make_app(
        source,
        pause=options.pause,
        speed=options.speed,
        lang=options.lang,
        autoplay=options.autoplay,
        export_dir=options.export_dir,
        notice=options.notice,
    )
    with quit_on_ctrl_c(app.request_quit):
        code = app.run() or 0
        source.stop()
        finished = app.ingest_finished.wait(1.0)
    if not finished:
        # The source ignores stop() (blocked in a read): the terminal is already restored, and
        # waiting on the thread would make `q` hang, so leave without joining it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if app.error:
        print(f"handshake-viz: {app.error}", file=sys.stderr)
        return 2
    return code
