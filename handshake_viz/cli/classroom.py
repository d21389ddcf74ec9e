"""``handshake-viz classroom`` and ``python -m handshake_viz.cli.classroom``: a lesson.

The module form is what ``serve`` runs per browser tab (``--session``, ``--teach``,
``--follow``, ``--parent``). Either way, the process first moves into a network of its own
(before any thread starts), so the lesson's sockets, capture and kernel panel are its own;
then it sets the lesson up while it still has its privileges (the capture socket, the
nftables rules of a lesson that loses packets) and gives them up before the UI starts.
Errors: one line on stderr, exit 2.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path

from handshake_viz.classroom.faults import FaultError
from handshake_viz.classroom.lessons import SCRIPTS
from handshake_viz.classroom.session import SessionFolder
from handshake_viz.cli.argwords import CatalogParser, words_language
from handshake_viz.cli.errors import EXIT_ERROR, error, note, said
from handshake_viz.core.source import SourceError
from handshake_viz.sources.live.privileges import drop_privileges
from handshake_viz.sources.netns import isolate
from handshake_viz.words.catalog import CatalogError, default_language, languages, load

PR_SET_PDEATHSIG = 1
PARENT_POLL = 0.5
"""Seconds between two looks at whether the process that started us is still there."""


def build_tab_parser(lang: str) -> CatalogParser:
    """The command line of one browser tab's lesson, its words in `lang`."""
    cat = load(lang)
    p = CatalogParser(prog="handshake-viz-classroom", cat=cat,
                      description=cat.text("cli.tab.description"))  # fmt: skip
    p.add_argument("scenario", nargs="?", default="basic", help=cat.text("cli.tab.scenario"))
    p.add_argument("--free", action="store_true", help=cat.text("cli.classroom.free"))
    p.add_argument("--predict", action="store_true", help=cat.text("cli.tab.predict"))
    p.add_argument("--lang", default=default_language(), choices=languages(),
                   help=cat.text("cli.tab.lang"))  # fmt: skip
    p.add_argument("--session", type=Path, help=cat.text("cli.tab.session"))
    p.add_argument("--teach", action="store_true", help=cat.text("cli.tab.teach"))
    p.add_argument("--follow", type=Path, metavar="SERVE_DIR", help=cat.text("cli.tab.follow"))
    p.add_argument("--parent", type=int, help=cat.text("cli.tab.parent"))
    return p


def main(argv: list[str] | None = None) -> int:
    """One browser tab's lesson, as `serve` starts it (`classroom.web`)."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_tab_parser(words_language(argv)).parse_args(argv)
    session = SessionFolder(args.session) if args.session else None
    if args.parent is not None:
        die_with_parent(args.parent, session)
    if args.follow is not None:
        from handshake_viz.classroom.follow import run_follow

        return run_follow(args.follow, args.lang)
    return run_classroom(None if args.free else args.scenario, args.lang, session=session,
                         teach=args.teach, parent=args.parent, predict=args.predict)  # fmt: skip


def die_with_parent(parent: int, session: SessionFolder | None) -> None:
    """End with the process that started us (serve, per browser tab): a served lesson must
    not outlive its server, holding sockets and a capture. The kernel sends SIGTERM when the
    parent dies (the app then quits as on `q`); `watch_parent` backs it up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above: nobody to serve
        _leave(session)


def watch_parent(parent: int, session: SessionFolder | None) -> None:
    """A thread that, should the app not end after its parent did, removes the session's
    folder and leaves at once. Start it after `isolate` (a namespace is per thread)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        time.sleep(4 * PARENT_POLL)  # SIGTERM's orderly way first
        _leave(session)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _leave(session: SessionFolder | None) -> None:
    if session is not None:
        session.remove()
    os._exit(0)


def run_classroom(
    scenario: str | None,
    lang: str,
    save: Path | None = None,
    session: SessionFolder | None = None,
    teach: bool = False,
    parent: int | None = None,
    predict: bool = False,
    export_dir: Path | None = None,
) -> int:
    """Run a lesson until q; 2 and one line if it cannot start."""
    if scenario is not None and scenario not in SCRIPTS:
        return error(_no_lesson(scenario, lang))
    network = isolate()
    if parent is not None:
        watch_parent(parent, session)
    from handshake_viz.classroom.app import make_classroom_app

    try:
        app = make_classroom_app(scenario, lang, save=save, network=network, session=session,
                                 teach=teach, predict=predict, export_dir=export_dir)  # fmt: skip
    except (SourceError, CatalogError, FaultError, OSError) as exc:
        if session is not None:
            session.remove()
        return error(said(exc, lang))
    if not network.private:
        note(load(lang).text("net.shared", reason=network.reason(lang), port=app.stepper.port))
    drop_privileges()
    try:
        code = int(app.run() or 0)
    finally:
        app.close_lesson()
        app.source.stop()
        if session is not None:
            session.remove()
    return code if app.error is None else EXIT_ERROR


def _no_lesson(name: str, lang: str) -> str:
    """The line saying there is no lesson `name`, naming those there are."""
    return load(lang).text("cli.error.no_lesson", name=repr(name), lessons=", ".join(SCRIPTS))


def run_handout(scenario: str | None, lang: str, path: Path) -> int:
    """Run the whole lesson headless and write its handout and capture; 2 and one line if it
    cannot (no lesson, no capture privilege, a file that cannot be written)."""
    if scenario is None:
        return error(load(lang).text("cli.error.handout_free"))
    if scenario not in SCRIPTS:
        return error(_no_lesson(scenario, lang))
    from handshake_viz.classroom.handout import export_handout, handout_paths
    from handshake_viz.demo.ports import DEFAULT_PORT

    html, _ = handout_paths(path, scenario, lang)
    network = isolate()
    try:
        html, pcap = export_handout(scenario, html, lang,
                                    port=DEFAULT_PORT if network.private else None,
                                    private=network.private)  # fmt: skip
    except (SourceError, FaultError, OSError) as exc:
        return error(said(exc, lang))
    print(load(lang).text("handout.written", html=html, pcap=pcap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
