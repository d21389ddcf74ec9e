"""``handshake-viz replay FILE|-``: a capture in the timeline TUI, or its events on stdout."""

from __future__ import annotations

import argparse
import sys

from handshake_viz.cli.errors import error, note, said
from handshake_viz.cli.printing import print_events
from handshake_viz.cli.tui import terminal_missing, tui_options
from handshake_viz.core.source import SourceError
from handshake_viz.sources.parallel.decode_worker import prepare, worth_it
from handshake_viz.sources.replay import ReplaySource, capture_from_stdin
from handshake_viz.words.catalog import DEFAULT_LANG, load


def run_replay(args: argparse.Namespace) -> int:
    """The ``replay`` command: the TUI, or with --print the events on stdout, or with
    --mermaid the ladder as a diagram."""
    cat = load(getattr(args, "lang", None) or DEFAULT_LANG)
    if args.mermaid or args.stream is not None:
        return print_mermaid(args)
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


def print_mermaid(args: argparse.Namespace) -> int:
    """``replay FILE --mermaid [--stream N]``: the whole capture's ladder, or one connection's,
    as a Mermaid sequence diagram on stdout."""
    from handshake_viz.model.playback import TimelineView
    from handshake_viz.model.query import Filter
    from handshake_viz.model.timeline import Timeline
    from handshake_viz.render.export import export_mermaid

    cat = load(getattr(args, "lang", None) or DEFAULT_LANG)
    if not args.mermaid:
        return error(cat.text("cli.stream_needs_mermaid"))
    timeline = Timeline()
    try:
        timeline.extend(ReplaySource(args.file, keep_index=False).events())
    except SourceError as e:
        return error(said(e, cat.lang))
    view = TimelineView(timeline, live=True)
    if args.stream is not None:
        if all(s.stream != args.stream for s in timeline.streams):
            last = max((s.stream for s in timeline.streams), default=-1)
            return error(cat.text("cli.no_such_stream", stream=args.stream, file=args.file,
                                  last=last))  # fmt: skip
        view.set_filter(Filter(streams=frozenset({args.stream})))
    view.sync()
    sys.stdout.write(export_mermaid(view, limit=max(view.visible_count, 1)))
    return 0
