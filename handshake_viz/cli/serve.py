"""``handshake-viz serve``: the classroom TUI in a web browser, for a projector.

textual-serve starts one app process per browser tab (``handshake-viz demo --step ...``
under the hood) and relays it over a websocket. It binds 127.0.0.1 unless ``--host`` says
otherwise; anything else exposes a root-capable terminal app to the network, so we warn.
"""

from __future__ import annotations

import argparse
import shlex
import sys

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def app_command(scenario: str | None, lang: str) -> str:
    """The command textual-serve runs per browser tab: the classroom app on a scenario."""
    args = [sys.executable, "-m", "handshake_viz.cli.classroom", "--lang", lang]
    if scenario:
        args.append(scenario)
    return shlex.join(args)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; 2 with one line on stderr if the server cannot start."""
    from textual_serve.server import Server

    host = getattr(args, "host", "127.0.0.1") or "127.0.0.1"
    port = int(getattr(args, "port", 8008))
    scenario = getattr(args, "scenario", None)
    lang = getattr(args, "lang", "en")
    if host not in LOOPBACK:
        print(
            f"handshake-viz: warning: serving on {host}: anyone who can reach this address "
            "can drive the sockets and see the capture; use the default 127.0.0.1 unless "
            "the network is yours",
            file=sys.stderr,
        )
    if scenario is not None:
        from handshake_viz.classroom.guided import SCRIPTS

        if scenario not in SCRIPTS:
            print(f"handshake-viz: no scenario {scenario!r}: choose one of "
                  f"{', '.join(SCRIPTS)}", file=sys.stderr)  # fmt: skip
            return 2
    server = Server(app_command(scenario, lang), host=host, port=port,
                    title="handshake-viz classroom")  # fmt: skip
    try:
        server.serve()
    except OSError as exc:
        print(f"handshake-viz: cannot serve on {host}:{port}: {exc.strerror or exc} "
              "(choose another with --port)", file=sys.stderr)  # fmt: skip
        return 2
    return 0
