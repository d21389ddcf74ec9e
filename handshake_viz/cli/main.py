"""The ``handshake-viz`` command: argument parsing and dispatch, nothing else.

Every error that reaches the user is one line on stderr naming the problem and the fix, with
exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys

from handshake_viz.cli.argwords import words_language
from handshake_viz.cli.errors import EXIT_INTERRUPTED, error
from handshake_viz.cli.parser import build_parser
from handshake_viz.words.catalog import (
    DEFAULT_LANG,
    LANG_ENV,
    CatalogError,
    languages,
    load,
    locale_language,
)

__all__ = ["build_parser", "check_args", "main", "opens_tui"]


def check_args(args: argparse.Namespace) -> str | None:
    """What argparse cannot check (ranges, a default from the environment): the one line saying
    what is wrong, in the user's language, or None."""
    lang = getattr(args, "lang", DEFAULT_LANG)
    if lang not in languages():
        source = LANG_ENV if lang == os.environ.get(LANG_ENV) else "--lang"
        cat = load(locale_language())  # the variable's language has no catalog
        return cat.text("cli.error.lang", source=source, lang=lang,
                        languages=", ".join(languages()))  # fmt: skip
    cat = load(lang)
    speed = getattr(args, "speed", None)
    if speed is not None and not 0.01 <= speed <= 100:  # also false for nan
        return cat.text("cli.error.speed", speed=speed)
    pause = getattr(args, "pause", None)
    if pause is not None and not (math.isfinite(pause) and pause >= 0):
        return cat.text("cli.error.pause", pause=pause)
    duration = getattr(args, "duration", None)
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        return cat.text("cli.error.duration", duration=duration)
    return None


def opens_tui(args: argparse.Namespace) -> bool:
    """Whether the command shows the TUI (rather than printing, listing or serving)."""
    command = getattr(args, "command", None)
    if command == "classroom":
        return getattr(args, "handout", None) is None
    if command not in (None, "demo", "live", "replay"):
        return False
    return not getattr(args, "print_", False) and not getattr(args, "list", False)


def _lesson_problem(args: argparse.Namespace) -> str | None:
    """A classroom lesson that does not exist: the line naming those that do, before any
    other problem (without a terminal, the typo is still what to fix first)."""
    if getattr(args, "command", None) != "classroom" or args.free:
        return None
    from handshake_viz.classroom.lessons import SCRIPTS

    if args.scenario in SCRIPTS:
        return None
    return load(args.lang).text("cli.error.no_lesson", name=repr(args.scenario),
                                lessons=", ".join(SCRIPTS))  # fmt: skip


def _terminal_problem(args: argparse.Namespace) -> str | None:
    """A TUI with no terminal on stdout: the line saying so. `replay -` checks it itself,
    after its pipe (a pipe without a terminal for the keys says that first)."""
    if not opens_tui(args) or getattr(args, "mermaid", False) or getattr(args, "stream", None):
        return None
    if args.command == "replay" and args.file == "-":
        return None
    from handshake_viz.cli.tui import terminal_missing

    return terminal_missing(args)


def _in_other_words(key: str, **values: object) -> str:
    """Message `key` for when a catalog failed: in the locale's language, else English, else
    (English's own catalog broken) the values alone."""
    for lang in (locale_language(), DEFAULT_LANG):
        try:
            return load(lang).text(key, **values)
        except CatalogError:
            continue
    return ": ".join(str(value) for value in values.values())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser(words_language(argv))
    except CatalogError as e:  # a catalog of HANDSHAKE_VIZ_MESSAGES that does not parse
        return error(_in_other_words("cli.error.catalog", problem=e))
    args = parser.parse_args(argv)
    # A closed pipe (| head) ends quietly, as other Unix tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if getattr(args, "no_trace", False):
        # Every capture of this run, the classroom's and the served app's too, reads it.
        from handshake_viz.sources.live.kernelview import NO_TRACE_ENV

        os.environ[NO_TRACE_ENV] = "1"
    try:
        problem = check_args(args) or _lesson_problem(args) or _terminal_problem(args)
        if problem is not None:
            return error(problem)
        if args.command == "replay":
            from handshake_viz.cli.replay import run_replay

            return run_replay(args)
        if args.command == "demo":
            if args.step and not args.print_ and not args.list:
                from handshake_viz.cli.classroom import run_classroom

                save = None if args.no_save else args.save
                return run_classroom(args.scenario, args.lang, save=save,
                                     export_dir=args.export_dir)  # fmt: skip
            from handshake_viz.cli.live import run_demo

            return run_demo(args)
        if args.command == "live":
            from handshake_viz.cli.live import run_live

            return run_live(args)
        if args.command == "classroom":
            from handshake_viz.cli.classroom import run_classroom, run_handout

            if args.handout is not None:
                return run_handout(None if args.free else args.scenario, args.lang, args.handout)
            return run_classroom(None if args.free else args.scenario, args.lang,
                                 save=args.save, predict=args.predict,
                                 export_dir=args.export_dir)  # fmt: skip
        if args.command == "graph":
            from handshake_viz.cli.graph import run_graph

            return run_graph(args)
        if args.command == "serve":
            from handshake_viz.cli.serve import run_serve

            return run_serve(args)
        from handshake_viz.cli.live import run_default

        return run_default(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CatalogError as e:  # a catalog of HANDSHAKE_VIZ_MESSAGES that does not parse
        return error(_in_other_words("cli.error.catalog", problem=e))
    except Exception as e:  # the last line of defence: one line, not a traceback
        if os.environ.get("HANDSHAKE_VIZ_DEBUG"):
            raise
        return error(_in_other_words("cli.error.internal", kind=type(e).__name__, problem=e))
