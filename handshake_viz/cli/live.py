"""The ``demo`` and ``live`` commands, and bare ``handshake-viz`` (the default demo).

Each builds a source, opens it before any UI starts (so a missing privilege is one line and
exit 2), gives up the privileges capturing no longer needs, then hands it to the TUI, or with
``--print`` streams its events to stdout.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from handshake_viz.cli.errors import EXIT_OK, error, note, said
from handshake_viz.cli.printing import print_events
from handshake_viz.cli.tui import tui_options
from handshake_viz.core.source import EventSource, SourceError
from handshake_viz.demo.scenarios import SCENARIOS
from handshake_viz.demo.tracing import no_gate
from handshake_viz.sources.live.privileges import (
    NO_PRIVILEGE,
    can_capture,
    drop_privileges,
)
from handshake_viz.sources.live.scenario import isolated_scenario
from handshake_viz.sources.live.source import LiveSource
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.catalog import DEFAULT_LANG, default_language, load

_BUNDLED_PLACES = (
    Path(__file__).resolve().parents[1] / "captures" / "basic.pcap",  # inside a wheel
    Path(__file__).resolve().parents[2] / "captures" / "basic.pcap",  # a source tree
)
BUNDLED_CAPTURE = next((p for p in _BUNDLED_PLACES if p.exists()), _BUNDLED_PLACES[-1])
"""Replayed by bare ``handshake-viz`` when it may not capture: recorded from the basic demo."""


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


# -- demo ----------------------------------------------------------------------------------


def list_scenarios(stream: TextIO | None = None, lang: str = "en") -> None:
    """One line per scenario: its name and what it teaches (in `lang`)."""
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


def run_demo(args: argparse.Namespace) -> int:
    """``handshake-viz demo [SCENARIO]``."""
    if getattr(args, "list", False):
        list_scenarios(lang=getattr(args, "lang", None) or "en")
        return EXIT_OK
    name = getattr(args, "scenario", None) or "basic"
    lang = getattr(args, "lang", None) or DEFAULT_LANG
    if name not in SCENARIOS:
        return error(load(lang).text("cli.error.no_scenario", name=repr(name),
                                     scenarios=", ".join(SCENARIOS)))  # fmt: skip
    try:
        save, default = _save_path(args, name)
        gate = step_gate() if getattr(args, "step", False) else no_gate
        # In a network of its own (before any thread starts), or on a held port.
        source = isolated_scenario(name, save, gate, rename_if_taken=default, lang=lang)
        source.open()
    except KeyError as exc:
        return error(str(exc.args[0]))
    except (SourceError, OSError) as exc:
        return error(said(exc, lang))
    if source.network is not None and not source.network.private:
        note(load(lang).text("net.shared", reason=source.network.reason(lang), port=source.port))
    _kernel_note(source)
    drop_privileges()
    return _show(source, args)


def _kernel_note(source: LiveSource) -> None:
    """One line when the kernel's view was asked for and cannot run."""
    if source.kernel.note:
        note(source.kernel.note)


# -- live ------------------------------------------------------------------------------------


def run_live(args: argparse.Namespace) -> int:
    """``handshake-viz live --port P ...``: other programs' traffic until Ctrl-C, N or S."""
    cat = load(getattr(args, "lang", None) or DEFAULT_LANG)
    if not args.port and not args.all:
        return error(cat.text("cli.error.live_ports"))
    for p in args.port:
        if not 0 < p < 65536:
            return error(cat.text("cli.error.port", port=p))
    if args.count is not None and args.count <= 0:
        return error(cat.text("cli.error.count"))
    if args.duration is not None and args.duration <= 0:
        return error(cat.text("cli.error.duration_positive"))
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
        return error(said(exc, cat.lang))
    if source.kernel.tracer is not None:
        # Other programs are already running: their next call must be seen, so wait.
        note(cat.text("kernel.starting"))
        source.kernel.wait_ready()
    _kernel_note(source)
    drop_privileges()
    if getattr(args, "print_", False):
        if source.save:
            note(cat.text("cli.note.capturing_saving", source=source.description,
                          path=source.save))  # fmt: skip
        else:
            note(cat.text("cli.note.capturing", source=source.description))
    return _show(source, args)


# -- bare handshake-viz ----------------------------------------------------------------------


def run_default(args: argparse.Namespace) -> int:
    """Bare ``handshake-viz``: the basic demo live; without the privilege, the bundled capture."""
    defaults = {
        "print_": False,
        "format": "text",
        "scenario": "basic",
        "list": False,
        "step": False,
        "save": None,
        "no_save": False,
        "lang": default_language(),
    }
    for key, value in defaults.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    if can_capture():
        return run_demo(args)
    if not BUNDLED_CAPTURE.exists():
        return error(load(args.lang).text(NO_PRIVILEGE))
    cat = load(args.lang)
    name = BUNDLED_CAPTURE.name
    note(cat.text("cli.bundled", name=name))  # stays on the terminal once the TUI is gone
    args.file = str(BUNDLED_CAPTURE)
    args.notice = cat.text("cli.bundled", name=name)
    source = ReplaySource(BUNDLED_CAPTURE)
    source.description = cat.text("cli.bundled_status", name=name)
    return _show(source, args)


# -- showing a source ------------------------------------------------------------------------


def _show(source: EventSource, args: argparse.Namespace) -> int:
    if getattr(args, "export_dir", None) is None and isinstance(source, LiveSource) and source.save:
        args.export_dir = Path(source.save).parent  # the exports beside the capture
    if not getattr(args, "print_", False):
        try:
            from handshake_viz.tui.app import run_tui
        except ImportError:
            note(load(getattr(args, "lang", None) or DEFAULT_LANG).text("cli.note.no_tui"))
        else:
            return run_tui(source, tui_options(args))
    return print_events(source, getattr(args, "format", "text"),
                        time_true=getattr(args, "time_true", False),
                        lang=getattr(args, "lang", None) or DEFAULT_LANG)  # fmt: skip
