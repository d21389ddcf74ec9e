"""``handshake-viz replay FILE|-``: a capture in the timeline TUI, or its events on stdout."""

from __future__ import annotations

import argparse

from handshake_viz.cli.errors import error, note, said
from handshake_viz.cli.printing import print_events
from handshake_viz.cli.tui import terminal_missing, tui_options
from handshake_viz.core.source import SourceError
from handshake_viz.sources.parallel.decode_worker import prepare, worth_it
from handshake_viz.sources.replay import ReplaySource, capture_from_stdin
from handshake_viz.words.catalog import DEFAULT_LANG, load


def run_replay(args: argparse.Namespace) -> int:
    """The ``replay`` command: the TUI, or with --print the events on stdout."""
    cat = load(getattr(args, "lang", None) or DEFAULT_LANG)
    if not args.print_:
        try:
            from handshake_viz.tui.app import run_tui
        except ImportError:
            note(cat.text("cli.note.no_tui"))
        else:
            try:
                stdin = capture_from_stdin() if args.file == "-" else None
                if (problem := terminal_missing(args)) is not None:
                    return error(problem)
                source = ReplaySource(args.file, parallel=True, stream=stdin)
                source.check()
            except SourceError as e:
                return error(said(e, cat.lang))
            if worth_it(args.file):
                prepare()
            status = run_tui(source, tui_options(args))
            for line in source.notices() if status == 0 else []:  # after the TUI is gone
                note(line)
            return status
    source = ReplaySource(args.file, keep_index=False, parallel=True)
    return print_events(source, args.format, streaming=args.file == "-",
                        time_true=args.time_true, lang=cat.lang)  # fmt: skip
