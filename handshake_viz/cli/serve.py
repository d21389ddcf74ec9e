"""``handshake-viz serve``: the classroom TUI in web browsers, for a projector and a class.

Each browser tab gets a lesson of its own, in a network namespace of its own
(`classroom.web`); the teacher's page is also streamed to students who follow it. It binds
127.0.0.1 unless ``--host`` says otherwise; anything else lets whoever reaches the address
run lessons on this machine, so we warn. Errors (a port out of range, a port in use, no
textual-serve, no such lesson): one line on stderr, exit 2, before anything is printed.
"""

from __future__ import annotations

import argparse
import socket

from handshake_viz.cli.errors import EXIT_OK, error
from handshake_viz.words.catalog import DEFAULT_LANG, load

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def bind_listener(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now (OSError if the port is taken)."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; 2 with one line on stderr if the server cannot start."""
    host = getattr(args, "host", "127.0.0.1") or "127.0.0.1"
    port = getattr(args, "port", 8008)
    lesson = getattr(args, "scenario", None)
    lang = getattr(args, "lang", None) or DEFAULT_LANG
    cat = load(lang)
    if not 0 < port < 65536:
        return error(cat.text("cli.error.port", port=port))
    from handshake_viz.classroom.lessons import SCRIPTS

    if lesson is not None and lesson not in SCRIPTS:
        return error(cat.text("cli.error.no_lesson", name=repr(lesson),
                              lessons=", ".join(SCRIPTS)))  # fmt: skip
    try:
        from handshake_viz.classroom.web import ClassroomServer
    except ImportError as exc:
        return error(cat.text("cli.error.serve_missing", module=exc.name))
    try:
        sock = bind_listener(host, port)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return error(cat.text("cli.error.serve_bind", host=host, port=port, reason=reason))
    if host not in LOOPBACK:
        print(f"handshake-viz: {cat.text('cli.note.serve_open', host=host)}", flush=True)
    url_host = f"[{host}]" if ":" in host else host
    server = ClassroomServer(lesson, lang, sock, public_url=f"http://{url_host}:{port}",
                             predict=bool(getattr(args, "predict", False)))  # fmt: skip
    server.serve()
    return EXIT_OK
