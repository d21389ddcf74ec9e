"""What the keys that move through the timeline do: play and pause, step, speed, first and
last event in a replay; follow the newest in a live capture.

A mixin of `TimelineApp` (Textual finds an action by its name on the app): the app keeps its
layout, its reading thread and its tick; these keys only move the `TimelineView` and ask the
ladder and the status bar to show where it stands.
"""

from __future__ import annotations

from handshake_viz.model.playback import TimelineView
from handshake_viz.tui.ladder import LadderView

PLAYBACK_ACTIONS = frozenset({"toggle_play", "step", "faster", "slower"})
"""The keys that have nothing to play in a live capture."""


class PlaybackKeys:
    """The playback and follow actions, and which of them work here (`check_action`)."""

    view: TimelineView
    ladder: LadderView

    def _update_status(self) -> None:
        """The app's: say the new position in the status bar."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Playback keys belong to a replay, follow to a live capture: each is hidden (from
        the footer, the help and the palette) and inert in the other."""
        if action in PLAYBACK_ACTIONS:
            return not self.view.live
        if action == "follow":
            return self.view.live
        return True

    def action_toggle_play(self) -> None:
        self.view.toggle_play()
        self.ladder.show_newest()
        self._update_status()

    def action_step(self, n: int) -> None:
        self.view.playing = False
        self.view.step(n)
        self.ladder.show_newest()
        self._update_status()

    def action_faster(self) -> None:
        self.view.faster()
        self._update_status()

    def action_slower(self) -> None:
        self.view.slower()
        self._update_status()

    def action_home(self) -> None:
        if self.view.live:
            self.ladder.following = False
            self.ladder.select(0)
        else:
            self.view.playing = False
            self.view.home()
            self.ladder.show_newest()
        self._update_status()

    def action_end(self) -> None:
        if self.view.live:
            self.action_follow()
            return
        self.view.playing = False
        self.view.end()
        self.ladder.show_newest()
        self._update_status()

    def action_follow(self) -> None:
        if self.view.live:
            self.ladder.following = True
            self.ladder.show_newest()
