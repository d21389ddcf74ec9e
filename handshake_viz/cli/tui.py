"""What the command line tells the TUI: its options, read once from the parsed arguments."""

from __future__ import annotations

import argparse
import sys

from handshake_viz.model.playback import DEFAULT_PAUSE, DEFAULT_SPEED
from handshake_viz.tui.options import TuiOptions
from handshake_viz.words.catalog import DEFAULT_LANG, load


def tui_options(args: argparse.Namespace) -> TuiOptions:
    """The TUI's options from a command's arguments (each command has only some of them)."""
    return TuiOptions(
        pause=getattr(args, "pause", DEFAULT_PAUSE),
        speed=getattr(args, "speed", DEFAULT_SPEED),
        lang=getattr(args, "lang", DEFAULT_LANG),
        export_dir=getattr(args, "export_dir", None),
        notice=getattr(args, "notice", None),
    )


def terminal_missing(args: argparse.Namespace) -> str | None:
    """The one line saying the TUI needs a terminal on stdout, or None when it has one.

    With stdout a file or a pipe the TUI would write its escape codes there (or wait for keys
    nobody can see), so a command that opens it stops first and names the way out.
    """
    if sys.stdout is not None and sys.stdout.isatty():
        return None
    cat = load(getattr(args, "lang", None) or DEFAULT_LANG)
    if getattr(args, "command", None) == "classroom":
        return cat.text("cli.no_terminal_classroom")
    return cat.text("cli.no_terminal")
