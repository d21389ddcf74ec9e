"""The ``handshake-viz`` command: argument parsing and dispatch, nothing else.

Every error that reaches the user is one line on stderr naming the problem and the fix, with
exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
from pathlib import Path

from handshake_viz.cli.errors import EXIT_INTERRUPTED, error
from handshake_viz.words.catalog import DEFAULT_LANG, CatalogError, languages, load

DESCRIPTION = """\
See a TCP connection being made, packet by packet.

  1. listen   (服务器监听)  the server binds, listens and waits: no packet yet
  2. request  (客户端请求)  the client's SYN
  3. confirm  (连接确认)    the server's SYN-ACK and the client's ACK; accept() returns
  then data, teardown (FIN) and reset (RST). UDP has no handshake at all.

Run with no command to watch the default demo live (needs root or CAP_NET_RAW to capture;
without it, a bundled capture is replayed instead).
"""

EPILOG = """\
examples:
  handshake-viz                                 the basic demo, live, in the TUI
  handshake-viz demo --list                     what each scenario teaches
  handshake-viz demo refused --print            a refused connection, as text
  handshake-viz classroom basic --lang zh       step through the handshake key by key, in Chinese
  handshake-viz classroom basic --predict       the class predicts each packet before it shows
  handshake-viz classroom basic --handout out/  a printable handout (HTML) and its capture
  handshake-viz replay captures/basic.pcap      open a capture in the TUI
  handshake-viz replay trace.pcapng --print --format jsonl | jq .phase
  tcpdump -i lo -U -w - port 8000 | handshake-viz replay - --print
  sudo handshake-viz live --port 8000           watch curl against python -m http.server 8000
  handshake-viz graph trace.pcap --kind rtt --output rtt.svg    a connection's RTT, as SVG
"""


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--print",
        dest="print_",
        action="store_true",
        help="no TUI: print the events to stdout as they come, then exit",
    )
    p.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="with --print: a readable ladder (text, default) or one JSON object per line (jsonl)",
    )
    p.add_argument(
        "--time-true",
        action="store_true",
        help="with --print (text): blank lines between events as the waits between them grow, "
        "the waits that mean something said (in the TUI, the key d)",
    )


def _add_save_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--save",
        metavar="PATH",
        type=Path,
        help="write the capture here (default: captures/live-<date>-<time>-<name>.pcapng, or "
        ".pcap when it holds packets alone: live without the kernel's view)",
    )
    g.add_argument("--no-save", action="store_true", help="do not write a capture file")


def _add_export_dir(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--export-dir",
        metavar="DIR",
        type=Path,
        help=f"where e in the TUI writes its files (default: {default})",
    )


def _add_trace(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-trace",
        action="store_true",
        help="without the kernel's view (bpftrace, as root: any program's socket calls and "
        "the kernel's TCP states beside the packets): packets only",
    )


def _lang_name(lang: str) -> str:
    """A language's code, with its own name for itself (``zh (中文)``)."""
    if lang == DEFAULT_LANG:
        return f"{lang} (default)"
    try:
        return f"{lang} ({load(lang).text('meta.language')})"
    except CatalogError:
        return lang  # a catalog that does not parse says so when it is chosen, not here


def _lang_help(langs: list[str]) -> str:
    """--lang's help: each language by its code and its name."""
    named = [_lang_name(lang) for lang in langs]
    listed = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]
    return f"language of the explanations: {listed}"


def _add_lang(p: argparse.ArgumentParser, langs: list[str], top: bool = False) -> None:
    """--lang, before the command or after it. Only the top level has a default: a command's
    own default would overwrite a `--lang zh` given before the command. The choices are the
    catalogs present (`words.catalog.languages`): a language is one file."""
    p.add_argument(
        "--lang",
        choices=langs,
        default=os.environ.get("HANDSHAKE_VIZ_LANG", DEFAULT_LANG) if top else argparse.SUPPRESS,
        help=_lang_help(langs),
    )


class _Version(argparse.Action):
    """--version, reading the installed version only when asked (importlib.metadata is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import handshake_viz

        print(f"handshake-viz {handshake_viz.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, so that --help teaches."""
    parser = argparse.ArgumentParser(
        prog="handshake-viz",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    langs = languages()
    _add_lang(parser, langs, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "replay",
        help="replay a pcap or pcapng file (or - for stdin)",
        description="Replay a saved capture (pcap or pcapng; - reads stdin as it arrives). "
        "Without --print, opens the timeline TUI with play, pause, step and speed.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="keys in the TUI: space play/pause, → ← step, + - speed, Home End, / filter, ? help",
    )
    p.add_argument("file", metavar="FILE|-", help="capture file, or - to read stdin")
    _add_output_options(p)
    _add_export_dir(p, "the current folder")
    p.add_argument(
        "--pause",
        type=float,
        default=0.6,
        metavar="SECONDS",
        help="TUI playback: seconds per event at 1x speed (default 0.6: loopback is too fast "
        "to watch in real time)",
    )
    p.add_argument(
        "--speed", type=float, default=1.0, help="TUI playback speed, 0.01 to 100 (default 1)"
    )
    _add_lang(p, langs)

    p = sub.add_parser(
        "demo",
        help="run a built-in client/server scenario under the sniffer",
        description="Run one of the built-in scenarios (a stdlib client and server on loopback) "
        "while sniffing it, and show packets and socket calls on one timeline.",
    )
    p.add_argument("scenario", nargs="?", default="basic", help="scenario name (see --list)")
    p.add_argument("--list", action="store_true", help="list the scenarios and what each teaches")
    _add_output_options(p)
    _add_save_options(p)
    _add_export_dir(p, "the capture's folder, else the current one")
    _add_lang(p, langs)
    p.add_argument(
        "--step", action="store_true", help="classroom mode: each socket call waits for a key"
    )
    _add_trace(p)

    p = sub.add_parser(
        "live",
        help="watch other programs' loopback traffic",
        description="Sniff the loopback interface and show the TCP/UDP traffic of the given "
        "ports (for instance curl against python -m http.server 8000) until Ctrl-C, "
        "--count packets or --duration seconds.",
    )
    p.add_argument(
        "--port",
        type=int,
        action="append",
        default=[],
        metavar="P",
        help="a port to watch (repeatable)",
    )
    p.add_argument("--all", action="store_true", help="every port (other programs' traffic too)")
    p.add_argument("--iface", default="lo", help="interface (default lo)")
    p.add_argument("--count", type=int, metavar="N", help="stop after N packets")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    _add_output_options(p)
    _add_save_options(p)
    _add_export_dir(p, "the capture's folder, else the current one")
    _add_lang(p, langs)
    _add_trace(p)

    p = sub.add_parser(
        "classroom",
        help="step through a scenario key by key, with explanations (en or zh)",
        description="Classroom mode: the paired client and server run inside the TUI and each "
        "socket call happens on a key (l listen, a accept, c connect, s send, w shutdown, "
        "x close, r abort), its packets appearing in the ladder with an explanation. "
        "Space, → and PgDn go forward through the guided steps, ← and PgUp back; "
        "p predict, then reveal; h writes a handout of what the class has seen.",
        epilog="predict mode: each step's packets stay hidden until the class has answered a "
        "question on each (1-4 choose, t type an answer, Space show it).\n"
        "handout: one HTML page to print from a browser (the steps' words, the ladder with "
        "blank seq, ack and state columns, an answer key), and the lesson's capture beside "
        "it for Wireshark; a Chinese handout carries the CJK glyphs it uses.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", nargs="?", default="basic", help="scenario (see demo --list)")
    p.add_argument("--free", action="store_true", help="no script: the keys only")
    p.add_argument(
        "--predict",
        action="store_true",
        help="predict, then reveal: the class answers a question on each packet before it shows",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--save", metavar="PATH", type=Path, help="write the lesson's capture here (default: none)"
    )
    g.add_argument("--no-save", action="store_true", help="keep no capture (the default)")
    g.add_argument(
        "--handout",
        metavar="PATH",
        type=Path,
        help="no TUI: run the whole lesson and write its handout to PATH (a .html file, or a "
        "folder for handout-LESSON-LANG.html), its capture beside it (.pcap), then exit",
    )
    _add_export_dir(p, "the current folder; h writes its handout there too")
    _add_lang(p, langs)
    _add_trace(p)

    p = sub.add_parser(
        "serve",
        help="serve the TUI to a browser (for a projector)",
        description="Serve the classroom TUI to a web browser with textual-serve: open the "
        "address it prints on the projector's machine; each browser tab gets its own lesson.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8008, help="port (default 8008)")
    p.add_argument("scenario", nargs="?", default="basic",
                   help="scenario to teach (default basic; see demo --list)")  # fmt: skip
    p.add_argument("--predict", action="store_true",
                   help="every tab's lesson starts in predict mode (p toggles it)")  # fmt: skip
    _add_lang(p, langs)

    p = sub.add_parser(
        "graph",
        help="write a graph of one connection (time-sequence, RTT, in flight, window) to a file",
        description="Compute one of TCP's graphs for one connection of a capture and write it "
        "as an SVG picture, or its data as CSV, by the output's suffix. The rtt CSV has one "
        "row per acknowledging packet: frame, time, epoch, dir, ack, ack_rtt (seconds, as "
        "tshark's tcp.analysis.ack_rtt) and acked_frame.",
        epilog="example: handshake-viz graph trace.pcap --stream 0 --kind rtt --output rtt.csv",
    )
    p.add_argument("file", metavar="FILE", help="capture file (pcap or pcapng)")
    p.add_argument(
        "--stream",
        type=int,
        metavar="N",
        help="tshark's tcp.stream (default: the connection with the most packets)",
    )
    p.add_argument(
        "--kind",
        default="tsg",
        metavar="KIND",
        help="tsg (time-sequence, the default), rtt, inflight or window",
    )
    p.add_argument("--output", metavar="PATH", help="the file to write: .svg or .csv")
    p.add_argument("--width", type=int, default=120, help="SVG: columns (default 120)")
    p.add_argument("--height", type=int, default=34, help="SVG: rows (default 34)")
    _add_lang(p, langs)
    return parser


def check_args(args: argparse.Namespace) -> str | None:
    """What argparse cannot check (ranges, a default from the environment): the one line saying
    what is wrong, or None. (A lesson's name is checked by `run_classroom`.)"""
    from handshake_viz.words.catalog import languages

    lang = getattr(args, "lang", "en")
    if lang not in languages():
        source = "HANDSHAKE_VIZ_LANG" if lang == os.environ.get("HANDSHAKE_VIZ_LANG") else "--lang"
        return f"{source}={lang}: no such language, choose one of {', '.join(languages())}"
    speed = getattr(args, "speed", None)
    if speed is not None and not 0.01 <= speed <= 100:  # also false for nan
        return f"--speed {speed}: the playback speed is a number from 0.01 to 100"
    pause = getattr(args, "pause", None)
    if pause is not None and not (math.isfinite(pause) and pause >= 0):
        return f"--pause {pause}: the seconds per event are a number, 0 or more"
    duration = getattr(args, "duration", None)
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        return f"--duration {duration}: the capture lasts a positive number of seconds"
    return None


def opens_tui(args: argparse.Namespace) -> bool:
    """Whether the command shows the TUI (rather than printing, listing or serving)."""
    command = getattr(args, "command", None)
    if command == "classroom":
        return getattr(args, "handout", None) is None
    if command not in (None, "demo", "live", "replay"):
        return False
    return not getattr(args, "print_", False) and not getattr(args, "list", False)


def _terminal_problem(args: argparse.Namespace) -> str | None:
    """A TUI with no terminal on stdout: the line saying so. `replay -` checks it itself,
    after its pipe (a pipe without a terminal for the keys says that first)."""
    if not opens_tui(args) or (args.command == "replay" and args.file == "-"):
        return None
    from handshake_viz.cli.tui import terminal_missing

    return terminal_missing(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # A closed pipe (| head) ends quietly, as other Unix tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if getattr(args, "no_trace", False):
        # Every capture of this run, the classroom's and the served app's too, reads it.
        from handshake_viz.sources.live.kernelview import NO_TRACE_ENV

        os.environ[NO_TRACE_ENV] = "1"
    try:
        problem = check_args(args) or _terminal_problem(args)
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
        return error(f"{e} (fix the file, or choose another --lang)")
    except Exception as e:  # the last line of defence: one line, not a traceback
        if os.environ.get("HANDSHAKE_VIZ_DEBUG"):
            raise
        return error(
            f"internal error: {type(e).__name__}: {e} "
            "(please report it; HANDSHAKE_VIZ_DEBUG=1 shows the traceback)"
        )
