"""Handouts: a lesson's ladder as SVG and as a Mermaid sequence diagram, beside its capture.

Reuses the TUI's exporters (`tui.export`: the ladder as text, the Mermaid diagram), so the
handout shows what the class saw. The SVG is the plain-text ladder recorded by rich's
console: no app needed, and it prints well.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from handshake_viz.core.events import Event
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.export import export_mermaid, export_text

HANDOUT_WIDTH = 120


def view_of(events: Iterable[Event]) -> TimelineView:
    """A fully revealed timeline view of `events` (socket calls and packets)."""
    tl = Timeline()
    tl.extend(list(events))
    tl.done = True
    view = TimelineView(tl, live=True)
    view.sync()
    return view


def write_handout(view: TimelineView, capture: Path, title: str) -> tuple[Path, Path]:
    """Write ``<capture>.svg`` and ``<capture>.mmd`` beside the capture file; their paths."""
    console = Console(record=True, width=HANDOUT_WIDTH, file=open("/dev/null", "w"))  # noqa: SIM115
    try:
        console.print(export_text(view, HANDOUT_WIDTH), highlight=False, markup=False,
                      soft_wrap=True)  # fmt: skip
        svg = capture.with_suffix(".svg")
        svg.write_text(console.export_svg(title=title), encoding="utf-8")
    finally:
        console.file.close()
    mmd = capture.with_suffix(".mmd")
    mmd.write_text(export_mermaid(view), encoding="utf-8")
    return svg, mmd


def export_handout(
    scenario: str, out_dir: Path = Path("captures"), lang: str = "en", port: int | None = None
) -> tuple[Path, Path, Path]:
    """Run the guided `scenario` headless under capture; write its capture, SVG and Mermaid.

    Needs the capture privilege (`SourceError` otherwise). Returns (pcap, svg, mmd).
    """
    import socket

    from handshake_viz.classroom.guided import SCRIPTS, GuidedRun
    from handshake_viz.classroom.lesson import Collector, LessonSource
    from handshake_viz.classroom.stepper import Stepper
    from handshake_viz.demo.scenarios import free_port

    script = SCRIPTS[scenario]
    host = "::1" if script.family == socket.AF_INET6 else "127.0.0.1"
    if port is None:
        port = free_port(host, script.family, "tcp")
    out_dir.mkdir(parents=True, exist_ok=True)
    capture = out_dir / f"classroom-{scenario}.pcap"
    source = LessonSource([port], save=capture, name=f"classroom {scenario}")
    collector = Collector(source).start()
    stepper = Stepper(source.recorder, port, script.family, lang, backlog=script.backlog,
                      client_mss=script.client_mss)  # fmt: skip
    run = GuidedRun(script, stepper, lang)
    try:
        while run.forward() is not None:
            collector.settle(quiet=0.1)
    finally:
        run.close_all()
        collector.settle(quiet=0.1)
        collector.stop()
    svg, mmd = write_handout(view_of(collector.events), capture, f"handshake-viz: {scenario}")
    return capture, svg, mmd
