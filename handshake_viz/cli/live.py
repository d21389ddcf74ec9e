"""The ``demo`` and ``live`` commands, and bare ``handshake-viz`` (the default demo).

Each builds a source, opens it before any UI starts (so a missing privilege is one line and
exit 2), then hands it to the TUI, or with ``--print`` streams its events to stdout.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handshake_viz.core.source import SourceError

EXIT_OK = 0
EXIT_ERROR = 2

_BUNDLED_PLACES = (
    Path(__file__).resolve().parents[1] / "captures" / "basic.pcap",  # inside a wheel
    Path(__file__).resolve().parents[2] / "captures" / "basic.pcap",  # a source tree
)
BUNDLED_CAPTURE = next((p for p in _BUNDLED_PLACES if p.exists()), _BUNDLED_PLACES[-1])
"""Replayed by bare ``handshake-viz`` when it may not capture: recorded from the basic demo."""


def _error(message: str) -> int:
    print(f"handshake-viz: {message}", file=sys.stderr)
    return EXIT_ERROR


def _note(message: str) -> None:
    print(f"handshake-viz: {message}", file=sys.stderr, flush=True)


def default_save_path(name: str, when: float | None = None) -> Path:
    """``captures/live-<date>-<time>-<name>.pcap`` under the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return Path("captures") / f"live-{stamp}-{name}.pcap"


def _save_path(args: argparse.Namespace, name: str) -> tuple[Path | None, bool]:
    """Where to save, and whether that is the default name (which may take a suffix)."""
    if getattr(args, "no_save", False):
        return None, False
    save = getattr(args, "save", None)
    return (Path(save), False) if save is not None else (default_save_path(name), True)


def _give_up_privileges() -> None:
    """After the capture socket is open: as plain root, drop every capability (under sudo the
    source already became the user). Only the command does this, never the library, so a
    test that opens sources in its own process keeps its privileges."""
    from handshake_viz.sources.live.privileges import drop_privileges

    drop_privileges()


# -- demo ----------------------------------------------------------------------------------


def list_scenarios(stream: Any = None, lang: str = "en") -> None:
    """One line per scenario: its name and what it teaches (in `lang`)."""
    from handshake_viz.words.catalog import load
    from handshake_viz.demo.scenarios import SCENARIOS

    cat = load(lang)
    out = stream or sys.stdout
    width = max(len(n) for n in SCENARIOS)
    for name in SCENARIOS:
        out.write(f"{name:<{width}}  {cat.text(f'scenario.{name}')}\n")


def step_gate() -> Callable[[str, str], None]:
    """Classroom step mode without the TUI: each call waits for Enter on the terminal."""
    lock = threading.Lock()

    def gate(side: str, call: str) -> None:
        with lock:
            sys.stderr.write(f"[{side}] {call}() - press Enter ")
            sys.stderr.flush()
            sys.stdin.readline()

    return gate


def demo_source(
    name: str,
    save: Path | None,
    gate: Callable[[str, str], None] | None = None,
    port: int | None = None,
    rename_if_taken: bool = False,
) -> Any:
    """A `LiveSource` that runs scenario `name` under the sniffer (its port only).

    Raises:
        KeyError: no such scenario (the message names the choices).
        SourceError: the interface or filter cannot be set up.
    """
    from handshake_viz.demo.scenarios import get_scenario
    from handshake_viz.demo.tracing import ListRecorder, no_gate
    from handshake_viz.sources.live.source import LiveSource

    scenario = get_scenario(name)
    ctx = scenario.context(ListRecorder(), port=port, gate=gate or no_gate)
    source = LiveSource(
        "lo",
        [ctx.port],
        save=save,
        activity=lambda: scenario.run(ctx),
        name=f"demo {name}: lo port {ctx.port}",
        rename_if_taken=rename_if_taken,
    )
    ctx.recorder = source.merger
    source.scenario = scenario  # type: ignore[attr-defined]
    source.port = ctx.port  # type: ignore[attr-defined]
    return source


def run_demo(args: argparse.Namespace) -> int:
    """``handshake-viz demo [SCENARIO]``."""
    if getattr(args, "list", False):
        list_scenarios(lang=getattr(args, "lang", None) or "en")
        return EXIT_OK
    name = getattr(args, "scenario", None) or "basic"
    gate = step_gate() if getattr(args, "step", False) else None
    try:
        save, default = _save_path(args, name)
        source = demo_source(name, save, gate, rename_if_taken=default)
        source.open()
    except KeyError as exc:
        return _error(str(exc.args[0]))
    except (SourceError, OSError) as exc:
        return _error(str(exc))
    _give_up_privileges()
    return _show(source, args)


# -- live ------------------------------------------------------------------------------------


def run_live(args: argparse.Namespace) -> int:
    """``handshake-viz live --port P ...``: other programs' traffic until Ctrl-C, N or S."""
    from handshake_viz.sources.live.source import LiveSource

    if not args.port and not args.all:
        return _error("live needs the ports to watch: --port P (repeatable), or --all")
    for p in args.port:
        if not 0 < p < 65536:
            return _error(f"--port {p}: a port is a number from 1 to 65535")
    if args.count is not None and args.count <= 0:
        return _error("--count must be a positive number of packets")
    if args.duration is not None and args.duration <= 0:
        return _error("--duration must be a positive number of seconds")
    name = "all" if args.all else "port-" + "-".join(str(p) for p in sorted(set(args.port)))
    save, default = _save_path(args, name)
    try:
        source = LiveSource(
            args.iface,
            args.port,
            all_ports=args.all,
            save=save,
            rename_if_taken=default,
            count=args.count,
            duration=args.duration,
        )
        source.open()
    except (SourceError, OSError) as exc:
        return _error(str(exc))
    _give_up_privileges()
    if getattr(args, "print_", False):
        saving = f", saving to {source.save}" if source.save else ""
        _note(f"capturing on {source.description}{saving}; Ctrl-C to stop")
    return _show(source, args)


# -- bare handshake-viz ----------------------------------------------------------------------


def run_default(args: argparse.Namespace) -> int:
    """Bare ``handshake-viz``: the basic demo live; without the privilege, the bundled capture."""
    from handshake_viz.sources.live.privileges import can_capture

    defaults = {
        "print_": False,
        "format": "text",
        "scenario": "basic",
        "list": False,
        "step": False,
        "save": None,
        "no_save": False,
        "lang": os.environ.get("HANDSHAKE_VIZ_LANG", "en"),
        "pause": 0.6,
        "speed": 1.0,
    }
    for key, value in defaults.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    if can_capture():
        return run_demo(args)
    from handshake_viz.sources.replay import ReplaySource

    if not BUNDLED_CAPTURE.exists():
        from handshake_viz.sources.live.privileges import NO_PRIVILEGE_MESSAGE

        return _error(NO_PRIVILEGE_MESSAGE)
    _note(
        f"no capture privilege (root or CAP_NET_RAW): replaying the bundled capture "
        f"{BUNDLED_CAPTURE.name} instead; run with sudo to watch it live"
    )
    args.file = str(BUNDLED_CAPTURE)
    return _show(ReplaySource(BUNDLED_CAPTURE), args)


# -- showing a source ------------------------------------------------------------------------


def _show(source: Any, args: argparse.Namespace) -> int:
    if not getattr(args, "print_", False):
        try:
            from handshake_viz.tui.app import run_tui
        except ImportError:
            _note("the TUI is not available; printing the events instead")
        else:
            return int(run_tui(source, args))
    return print_source(source, getattr(args, "format", "text"))


def print_source(source: Any, fmt: str) -> int:
    """Stream `source`'s events to stdout until it ends; Ctrl-C ends a live capture cleanly.

    The first Ctrl-C (or SIGTERM) asks the source to stop, so the last packets, the
    summaries and the capture file are still completed; a second one interrupts.
    """
    from handshake_viz.core.events import CaptureStats
    from handshake_viz.render.output import EventPrinter

    printer = EventPrinter(sys.stdout, fmt, flush_each=True)
    interrupted = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        source.stop()

    old = {
        sig: signal.signal(sig, on_signal)
        for sig in (signal.SIGINT, signal.SIGTERM)
        if threading.current_thread() is threading.main_thread()
    }
    status = EXIT_OK
    try:
        for ev in source.events():
            printer.write(ev)
    except SourceError as exc:
        printer.close()
        status = _error(str(exc))
    except BrokenPipeError:
        return EXIT_OK
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    printer.close()
    stats: CaptureStats = source.stats
    if getattr(source, "live", False):
        saved = f", saved to {stats.saved_to}" if stats.saved_to else ""
        _note(f"{stats.packets} packets, {stats.drops} dropped by the kernel{saved}")
    return status
