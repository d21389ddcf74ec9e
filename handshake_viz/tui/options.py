"""The TUI's settings, as the command line or a test gives them (no Textual needed to build)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handshake_viz.model.playback import DEFAULT_PAUSE, DEFAULT_SPEED
from handshake_viz.words.catalog import DEFAULT_LANG


@dataclass(frozen=True, slots=True)
class TuiOptions:
    """How the timeline app starts."""

    pause: float = DEFAULT_PAUSE
    """Replay: seconds per event at 1x."""
    speed: float | None = DEFAULT_SPEED
    """Replay: playback speed; None starts in step mode."""
    lang: str = DEFAULT_LANG
    """Language of every word on screen (a catalog in ``words/messages``)."""
    autoplay: bool = True
    """Replay: start playing at once."""
    export_dir: Path | None = None
    """Where `e` writes its files (None: the current folder)."""
    notice: str | None = None
    """What the user must know from the start (a replay instead of a live capture): a toast
    that stays until clicked or `e` clears it."""
