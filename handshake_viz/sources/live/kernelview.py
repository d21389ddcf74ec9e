"""The kernel's view beside a live capture: started with it, merged into its timeline, saved in
its file.

`LiveSource` asks for it whenever it may (root, bpftrace, a port list) unless told not to
(``--no-trace``, or ``HANDSHAKE_VIZ_NO_TRACE`` in the environment, which the classroom and
``serve`` inherit); where it cannot run, `note` says why in one line and the capture goes on
with packets only. Its events reach the merger directly, and, as they are queued, the capture
file as journal entries (`sources.kernel.journal`), with the demo's own socket calls.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from handshake_viz.core.events import SideEvent
from handshake_viz.render.output import side_text
from handshake_viz.sources.kernel.journal import event_block, view_entry
from handshake_viz.sources.kernel.saved import KernelListeners
from handshake_viz.sources.kernel.tracer import KernelTracer, unavailable_reason
from handshake_viz.sources.live.merge import TimelineMerger
from handshake_viz.words.catalog import load

NO_TRACE_ENV = "HANDSHAKE_VIZ_NO_TRACE"
"""Set (to anything) to keep the kernel's view off: ``--no-trace`` sets it for child apps."""
LISTENER_GRACE = 0.05
"""Seconds the tracker waits for the tracer's word on a listener before calling a SYN
refused (the tracer's lines lag the packets by a few milliseconds)."""


def trace_wanted() -> bool:
    """The kernel's view is not turned off (``--no-trace``)."""
    return not os.environ.get(NO_TRACE_ENV)


def _process_name() -> str:
    try:
        return Path("/proc/self/comm").read_text().strip()
    except OSError:
        return "python3"


class LiveKernelView:
    """The tracer of one live capture, and where its events go.

    Args:
        merger: the capture's timeline.
        ports: the watched ports (none: the kernel's view cannot run).
        wanted: False: off (``--no-trace``).
        demo: the capture has an activity of this process (the demo, a lesson) whose own
            sockets report its calls: the tracer leaves this process's calls out and gives
            its sockets' states this process's name.
    """

    def __init__(
        self, merger: TimelineMerger, ports: Iterable[int], wanted: bool, demo: bool
    ) -> None:
        self.merger = merger
        self.ports = sorted(set(ports))
        self.demo = demo
        self.tracer: KernelTracer | None = None
        self.listeners = KernelListeners(LISTENER_GRACE)
        """Where the kernel says something listens: the tracker's answer for a SYN."""
        self.note: str | None = None
        """Why the kernel's view is off, in a line (None: on, or not asked for)."""
        self.stopped_early: str | None = None
        self._fd = -1
        self._wanted = wanted
        self._words = load("en")
        """The file's messages are in English, as tshark's own words are."""
        if demo:
            merger.default_process = (os.getpid(), _process_name())

    def check(self) -> None:
        """Decide whether the tracer can run here (`note` says why not)."""
        if not self._wanted:
            return
        cat = load("en")
        if not self.ports:
            self.note = cat.text("kernel.off", reason="it needs --port, not --all")
            return
        reason = unavailable_reason()
        if reason is not None:
            self.note = cat.text("kernel.off", reason=reason)
            return
        own = (os.getpid(),) if self.demo else ()
        self.tracer = KernelTracer(
            self.ports,
            self.merger,
            exclude_pids=own,
            on_state=self.listeners.add,
            default_owner=self.merger.default_process if self.demo else None,
            calls=not self.demo,
        )

    def start(self) -> None:
        """Start the tracer, if `check` found it can run: while still root, and after
        `attach_file`, so that what it finds at its start is saved too."""
        if self.tracer is not None:
            if self._fd >= 0:
                self.tracer.save_into(self._fd)
            self.tracer.start()

    @property
    def saves_events(self) -> bool:
        """The capture file keeps events (pcapng): the tracer's, or the demo's own calls."""
        return self.tracer is not None or self.demo

    def attach_file(self, fd: int) -> None:
        """Keep every side event in the capture file (`fd`: the writer's, before it closes)."""
        self._fd = os.dup(fd)
        # Appends from this process and the capture process never overlap: both append.
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_APPEND)
        entry = view_entry(time.time(), self.ports, self.tracer is not None)
        os.write(self._fd, event_block(entry, "handshake-viz: capture began"))
        self.merger.on_side = self._write

    def _write(self, event: SideEvent) -> None:
        if self._fd < 0:
            return
        try:
            os.write(self._fd, event_block(event, side_text(event, self._words)))
        except OSError:
            self.close_file()  # a full disk: the capture itself reports it

    def wait_ready(self, stop: threading.Event | None = None) -> None:
        """Block until the tracer runs (1 to 5 s of compiling on 2 cores) or `stop` is set;
        on failure, a `note`. (Without waiting, packets flow meanwhile, a quarter of a
        second late, without the kernel's word.)"""
        if self.tracer is None:
            return
        reason = self.tracer.wait_ready(stop=stop)
        if reason is not None:
            self.note = load("en").text("kernel.off", reason=reason)
            self.merger.tracer_gone()
            self.tracer = None

    def stop(self) -> float:
        """Stop the tracer; its CPU seconds."""
        tracer = self.tracer
        if tracer is None:
            return 0.0
        tracer.stop()
        self.merger.tracer_gone()
        return tracer.cpu_seconds

    @property
    def lost(self) -> int | None:
        """Records of the kernel's view lost so far (None: the view is off)."""
        tracer = self.tracer
        return None if tracer is None else tracer.lost + tracer.shed

    def close_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
