"""What the command line tells the TUI: its options, read once from the parsed arguments."""

from __future__ import annotations

import argparse

from handshake_viz.model.playback import DEFAULT_PAUSE, DEFAULT_SPEED
from handshake_viz.tui.options import TuiOptions
from handshake_viz.words.catalog import DEFAULT_LANG


def tui_options(args: argparse.Namespace) -> TuiOptions:
    """The TUI's options from a command's arguments (each command has only some of them)."""
    return TuiOptions(
        pause=getattr(args, "pause", DEFAULT_PAUSE),
        speed=getattr(args, "speed", DEFAULT_SPEED),
        lang=getattr(args, "lang", DEFAULT_LANG),
    )
