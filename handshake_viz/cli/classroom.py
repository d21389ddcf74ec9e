"""``python -m handshake_viz.classroom [SCENARIO] [--lang zh] [--free]``: the classroom app.

What ``serve`` runs per browser tab, and a way to try the classroom before cli.py wires
``demo --step`` to it. Errors: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from handshake_viz.classroom.guided import SCRIPTS
from handshake_viz.core.source import SourceError
from handshake_viz.words.catalog import CatalogError, languages


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="handshake-viz-classroom", description="Classroom mode: each socket call on a key."
    )
    p.add_argument("scenario", nargs="?", default="basic", choices=list(SCRIPTS))
    p.add_argument("--free", action="store_true", help="no script: the keys only")
    p.add_argument("--lang", default=os.environ.get("HANDSHAKE_VIZ_LANG", "en"),
                   choices=languages())  # fmt: skip
    args = p.parse_args(argv)
    _die_with_parent()
    return run_classroom(None if args.free else args.scenario, args.lang)


def _die_with_parent() -> None:
    """End with the process that started us (textual-serve, per browser tab): a served app
    must not outlive its server, holding sockets and a capture."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_classroom(scenario: str | None, lang: str, save: object = None) -> int:
    """Run the classroom app until q; 2 and one line if the capture cannot start."""
    from handshake_viz.classroom.screen import make_classroom_app

    try:
        app = make_classroom_app(scenario, lang, save=save)  # type: ignore[arg-type]
    except (SourceError, CatalogError, OSError) as exc:
        print(f"handshake-viz: {exc}", file=sys.stderr)
        return 2
    return int(app.run() or 0)


if __name__ == "__main__":
    sys.exit(main())
