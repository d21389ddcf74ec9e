"""Where the side panel (connections, packet detail) goes: beside the ladder, or in its place
on a narrow screen, and which of its tabs has the keys.

A mixin of `TimelineApp` (Textual finds an action by its name on the app), as `PlaybackKeys`.
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import TabbedContent

from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.detail import PacketDetail
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load

NARROW = 120
"""Terminals narrower than this open with the side panel hidden."""
SIDE_BY_SIDE = 100
"""Terminals narrower than this show the side panel instead of the ladder, not beside it: at
80 columns the ladder beside it kept 44 and its arrows had room for one letter."""
LADDER_KEEPS = 80
SIDE_MIN, SIDE_MAX = 36, 90
"""Beside the ladder, the side panel takes two fifths of the screen, at most what is left
beside `LADDER_KEEPS` columns, within these bounds (at 120 columns: 40, the ladder 80; at
200: 80, the ladder 120, the connections list whole). app.tcss says the same bounds."""


class SidePanel:
    """The side panel's actions: `1` `2` (a tab, with the keys), `b` (shown or hidden)."""

    side: TabbedContent
    ladder_pane: Vertical
    ladder: LadderView
    connections: ConnectionsView
    detail: PacketDetail
    lang: str

    def action_tab(self, tab: str) -> None:
        """Show a tab of the side panel and give it the keys (↑ ↓ PgUp PgDn Home End there;
        Esc or Tab gives them back to the ladder, whose selection the detail follows)."""
        self._show_side(True)
        self.side.active = tab
        (self.connections if tab == "connections" else self.detail).focus()

    def action_toggle_side(self) -> None:
        self._show_side(not self.side.display)

    def _show_side(self, show: bool, width: int | None = None) -> None:
        """Show or hide the side panel; on a narrow screen it takes the ladder's place."""
        was_shown = self.side.display
        self.side.display = show
        width = self.side.app.size.width if width is None else width
        alone = show and width < SIDE_BY_SIDE
        if not alone:
            # The ladder keeps 80 columns (all an 80-column terminal shows) and two fifths.
            side = min(width - LADDER_KEEPS, width * 2 // 5)
            self.side.styles.width = max(SIDE_MIN, min(SIDE_MAX, side))
        else:
            self.side.styles.width = None  # the stylesheet's: the whole screen
        self.ladder_pane.display = not alone
        self.side.set_class(alone, "alone")
        if alone and not was_shown:
            self.side.app.notify(load(self.lang).text("notify.back_to_ladder"), timeout=3)
        side_focused = show and (self.connections.has_focus or self.detail.has_focus)
        if not alone and not self.ladder.has_focus and not side_focused:
            self.ladder.focus()  # the keys never stay with a hidden pane
        if show != was_shown:
            self.ladder.reset()
