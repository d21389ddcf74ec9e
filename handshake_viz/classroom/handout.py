"""Handouts: a lesson written out for students, to print, with its capture beside it.

A handout is one HTML page (`handout_html`), light and printable from any browser, in the
lesson's language: each step's words, and under each step the ladder of what it did (socket
calls and packets, phases in colour) with blank seq, ack and state columns for students to
fill in; then, on a page of its own, the answer key: the same ladder with every number and
state as the kernels had them. The lesson's capture goes beside it, for Wireshark.

Two ways to make one: `export_handout` runs a lesson headless from start to end (what
``classroom LESSON --handout PATH`` does before a class), and the classroom's h key writes
what the class has seen so far (`Handout.from_timeline`).
"""

from __future__ import annotations

import shutil
import time
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from handshake_viz.classroom.guided import GuidedRun
from handshake_viz.core.events import Event, PacketEvent, SocketEvent
from handshake_viz.model.timeline import Timeline
from handshake_viz.words.catalog import load


@dataclass(frozen=True, slots=True)
class LadderRow:
    """One event of the handout's ladder."""

    event: PacketEvent | SocketEvent
    since: float
    """Seconds since the lesson's first event."""


@dataclass(frozen=True, slots=True)
class Section:
    """One step of the lesson and what it did."""

    heading: str
    """"step 2 of 5", "introduction", or free stepping's line."""
    do: str = ""
    say: str = ""
    look: str = ""
    rows: tuple[LadderRow, ...] = ()


@dataclass(frozen=True, slots=True)
class Handout:
    """Everything the page says, in `lang`."""

    lang: str
    lesson: str
    """The lesson's name ("basic"), or "free"."""
    summary: str
    """What the lesson teaches, in a line."""
    sections: tuple[Section, ...]
    capture: str | None = None
    """The capture's file name, beside the page (None: not written)."""
    endpoints: tuple[str, str] = field(default=("", ""))
    """The client's and the server's address and port, as the first connection had them."""

    @classmethod
    def from_timeline(
        cls,
        tl: Timeline,
        guided: GuidedRun | None,
        step_times: Mapping[int, float],
        lang: str,
        capture: str | None = None,
    ) -> Handout:
        """The handout of a lesson run so far.

        Args:
            tl: the lesson's timeline (its rows are the events, in the ladder's order).
            guided: the guided lesson, or None for free stepping (one section).
            step_times: when each step performed began, by step index (epoch seconds, the
                events' clock): an event belongs to the last step begun before it, however
                late it reached the timeline.
            lang: the language of the words.
            capture: the capture's file name beside the page.
        """
        cat = load(lang)
        first = tl.first_time or 0.0
        rows = [LadderRow(_event(tl, r), tl.time[r] - first) for r in range(tl.count)]
        endpoints = ("", "")
        if tl.streams:
            s = tl.streams[0]
            endpoints = (_endpoint(s.client, s.cport), _endpoint(s.server, s.sport))
        if guided is None:
            section = Section(cat.text("ui.free"), rows=tuple(rows))
            return cls(lang, "free", cat.text("handout.free"), (section,), capture, endpoints)
        starts = sorted((t, n) for n, t in step_times.items())
        by_step: dict[int, list[LadderRow]] = {}
        for r, row in zip(range(tl.count), rows, strict=True):
            at = bisect_right(starts, (tl.time[r], float("inf"))) - 1
            by_step.setdefault(starts[at][1] if at >= 0 else 0, []).append(row)
        sections = []
        for i, step in enumerate(guided.script.steps):
            t = guided.text(step)
            mine = tuple(by_step.get(i, ()))
            sections.append(Section(t.counter(cat), t.do, t.say, t.look, mine))
        name = guided.script.name
        summary = cat.text(f"scenario.{name}")
        return cls(lang, name, summary, tuple(sections), capture, endpoints)


def _endpoint(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def _event(tl: Timeline, row: int) -> PacketEvent | SocketEvent:
    return tl.row(row).event()


def timeline_of(events: Iterable[Event]) -> Timeline:
    """A finished timeline of `events` (socket calls and packets)."""
    tl = Timeline()
    tl.extend(list(events))
    tl.done = True
    return tl


def handout_paths(path: Path, lesson: str, lang: str) -> tuple[Path, Path]:
    """Where a handout and its capture go: `path` itself when it names an .html file, else
    ``handout-<lesson>-<lang>.html`` in the folder `path`; the capture beside it, .pcap."""
    if path.suffix.lower() not in (".html", ".htm"):
        path = path / f"handout-{lesson}-{lang}.html"
    return path, path.with_suffix(".pcap")


def write_handout(handout: Handout, html: Path, capture: Path | bytes | None) -> Path | None:
    """Write the page to `html` and the capture (a file to copy, or its bytes) beside it;
    the capture's path (None: none was given)."""
    from handshake_viz.classroom.handout_html import handout_html

    html.parent.mkdir(parents=True, exist_ok=True)
    pcap = html.with_suffix(".pcap") if capture is not None else None
    if pcap is not None and handout.capture is None:
        handout = _with_capture(handout, pcap.name)
    html.write_text(handout_html(handout), encoding="utf-8")
    if pcap is None:
        return None
    if isinstance(capture, bytes):
        pcap.write_bytes(capture)
    elif capture is not None and capture.resolve() != pcap.resolve():
        shutil.copyfile(capture, pcap)
    return pcap


def _with_capture(h: Handout, name: str) -> Handout:
    return Handout(h.lang, h.lesson, h.summary, h.sections, name, h.endpoints)


def export_handout(
    scenario: str, html: Path, lang: str = "en", port: int | None = None, private: bool = False
) -> tuple[Path, Path]:
    """Run the guided `scenario` headless under capture, from its first step to its last;
    write its handout to `html` and its capture beside it. Returns (html, pcap).

    Runs in the caller's network (the CLI isolates itself first; the tests run in their
    own); `private`: that network is the lesson's own, where a lesson that loses packets may
    install its rules (`FaultError` otherwise). An earlier handout at the same place is
    replaced. Needs the capture privilege (`SourceError` otherwise).
    """
    from handshake_viz.classroom.faults import FAULTS, install
    from handshake_viz.classroom.guided import SCRIPTS
    from handshake_viz.classroom.lesson import Collector, LessonSource
    from handshake_viz.classroom.stepper import Stepper
    from handshake_viz.demo.scenarios import free_port

    script = SCRIPTS[scenario]
    if port is None:
        port = free_port(script.host, script.family, "tcp")
    if script.fault is not None:
        install(FAULTS[script.fault], port, private=private)
    pcap = html.with_suffix(".pcap")
    pcap.unlink(missing_ok=True)  # the capture file is made new, never reused
    source = LessonSource([port], save=pcap, name=f"classroom {scenario}")
    collector = Collector(source).start()
    stepper = Stepper(source.recorder, port, script.family, lang, backlog=script.backlog,
                      client_mss=script.client_mss)  # fmt: skip
    run = GuidedRun(script, stepper, lang)
    step_times: dict[int, float] = {}
    try:
        while not run.at_end():
            if run.next_acts():
                step_times[run.index + 1] = time.time()
            run.forward()
            collector.settle(quiet=0.1)
    finally:
        run.close_all()
        collector.settle(quiet=0.1)
        collector.stop()
    saved = source.save or pcap
    tl = timeline_of(collector.events)
    handout = Handout.from_timeline(tl, run, step_times, lang, saved.name)
    write_handout(handout, html, saved)
    return html, saved
