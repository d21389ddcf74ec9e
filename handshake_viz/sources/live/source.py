"""`LiveSource`: packets sniffed on an interface (and, for the demo, socket calls) as events.

Three workers, one timeline:

- the capture process (`capture_worker`) reads the packet socket and appends each frame to
  the capture file at once, and does nothing else: under load it still drains the kernel's
  buffer, so nothing is dropped, and whatever is shown is already saved;
- the tracking thread reads the file as it grows (the same reader as replay, so frame numbers
  are positions in the saved file), runs the frames through the same `PacketPipeline` as
  replay and hands the events to the merger; in a burst it lags, it does not lose;
- the activity thread (the demo's scenario, if any) makes socket calls and reports them to
  the same merger;
- `events()` releases the merged timeline in time order, until ``stop()``, ``count`` packets,
  ``duration`` seconds, or the end of the activity (plus a short tail for its last packets).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource  # noqa: F401 - os.wait4 imports it lazily, after root (and /root) is gone
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from handshake_viz.core.events import CaptureStats, Event, PacketEvent, SocketEvent
from handshake_viz.core.frames import FrameIndex
from handshake_viz.core.pcapfile import CaptureCutShort, read_records
from handshake_viz.core.pipeline import PacketPipeline
from handshake_viz.core.source import SourceError
from handshake_viz.sources.catalog_errors import catalog_error
from handshake_viz.sources.children import deaf_to_ctrl_c
from handshake_viz.sources.live.growing import GrowingFile
from handshake_viz.sources.live.kernelview import LiveKernelView, trace_wanted
from handshake_viz.sources.live.merge import TimelineMerger
from handshake_viz.sources.live.pcapwriter import PcapWriter
from handshake_viz.sources.live.privileges import drop_root
from handshake_viz.sources.live.savefile import anonymous_capture_file, create_capture_file
from handshake_viz.sources.live.sniffer import SNAPLEN, Sniffer

DEMO_MERGE_DELAY = 0.02
"""Seconds each demo event waits for earlier ones still on their way: a packet is read by the
sniffer well under a millisecond after its kernel timestamp, even on a busy 2-core machine."""
TAIL = 0.25
"""Seconds of capture after the activity ends: the last ACK of a FIN, a late RST."""


class LiveSource:
    """Live capture on one interface, optionally with an activity whose socket calls join in.

    Args:
        iface: interface to sniff (``lo``).
        ports: ports to watch (either end); required unless `all_ports`.
        all_ports: watch every TCP/UDP port (other programs' traffic too).
        save: capture file to write (None: none).
        count: stop after this many packet events.
        duration: stop after this many seconds.
        activity: run in a thread once capture is on (the demo's scenario); the source ends
            `tail` seconds after it returns. It reports socket calls through `merger`.
        name: what the status bar calls the source.
        rename_if_taken: `save` is a default name: if it exists, add a random suffix
            (an explicit path that exists is refused).
        trace: add the kernel's view where it can run (`kernelview`); default: unless
            ``--no-trace`` said otherwise.
    """

    live = True

    def __init__(
        self,
        iface: str = "lo",
        ports: Iterable[int] = (),
        all_ports: bool = False,
        save: Path | None = None,
        count: int | None = None,
        duration: float | None = None,
        activity: Callable[[], None] | None = None,
        tail: float = TAIL,
        name: str | None = None,
        rename_if_taken: bool = False,
        trace: bool | None = None,
    ) -> None:
        self.rename_if_taken = rename_if_taken
        self.sniffer = Sniffer(iface, ports, all_ports)
        self.save = Path(save) if save is not None else None
        self.count = count
        self.duration = duration
        self.activity = activity
        self.tail = tail
        self.merger = TimelineMerger(delay=DEMO_MERGE_DELAY if activity else 0.0,
                                     paced=activity is not None)  # fmt: skip
        self.kernel = LiveKernelView(self.merger, () if all_ports else ports,
                                     trace_wanted() if trace is None else trace,
                                     demo=activity is not None)  # fmt: skip
        self.pipeline = PacketPipeline(self._listening)
        self.description = name or f"{iface}: {self.sniffer.expression}"
        self.stats = CaptureStats(
            source=self.description, saved_to=str(self.save) if self.save else None
        )
        self.writer: PcapWriter | None = None
        self.dropped_root = False
        self.captured = 0
        """Frames read from the socket (and written to the file)."""
        self._opened = False
        self._stop = threading.Event()
        self._stopped_at: float | None = None
        """Wall-clock time of `stop()`: socket calls the activity makes later are not shown."""
        self._capture_done = threading.Event()
        self._activity_done = threading.Event()
        self._activity_end = 0.0
        self._errors: list[BaseException] = []
        self._tracked = 0
        self._reader: BinaryIO | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._reap_lock = threading.Lock()
        self.worker_cpu = 0.0
        """CPU seconds the capture process used (known once it has ended)."""
        self.tracer_cpu = 0.0
        """CPU seconds the kernel's tracer used (known once it has ended)."""
        self.frames = FrameIndex()
        """Where each captured frame lies in the capture file, for `raw_frame`."""
        self.ended: str | None = None
        """Why the events ended (`core.source.ENDINGS`), once they have."""

    def _listening(self, addr: str, port: int, at: float) -> bool:
        """For the tracker, at a SYN: did anything listen there? With an activity, its traced
        sockets say (exactly); else the kernel's view, where it runs; else yes (LISTEN)."""
        if self.activity is not None:
            return self.merger.listeners.listening(addr, port, at)
        if self.kernel.tracer is not None:
            return self.kernel.listeners.listening(addr, port, at)
        return True

    # -- setup ------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the capture socket and the file, then give up root; idempotent.

        Call it before starting a UI, so that a missing privilege is one line and exit 2, and
        from a thread that lives as long as the capture (the main thread): the capture process
        is told to stop when that thread ends (`children.die_with_parent`).
        The file is created, never opened (`savefile`): no link is followed and no existing
        file reused; with ``--no-save`` it has no name at all.

        Raises:
            SourceError: no privilege, no such interface, file not writable or taken.
        """
        if self._opened:
            return
        self.sniffer.open()
        self.kernel.check()
        try:
            if self.save is not None:
                if self.rename_if_taken and self.kernel.saves_events:
                    self.save = self.save.with_suffix(".pcapng")  # a default name says pcapng
                fd, self.save = create_capture_file(self.save, self.rename_if_taken)
                self.stats.saved_to = str(self.save)
            else:  # --no-save: an unnamed file hands frames over, gone with its descriptors
                fd = anonymous_capture_file()
            self.writer = PcapWriter(self.save, self.sniffer.linktype, SNAPLEN, fd=fd,
                                     pcapng=self.kernel.saves_events)  # fmt: skip
            if self.kernel.saves_events:
                self.kernel.attach_file(fd)
            # A second open file description, with its own offset, for the reader (the
            # writer's is handed to the capture process); it works for the unnamed file too.
            self._reader = open(f"/proc/self/fd/{fd}", "rb", buffering=0)  # noqa: SIM115
            weakref.finalize(self, self._reader.close)
        except SourceError:
            self.sniffer.close()
            self.kernel.stop()
            raise
        except OSError as exc:
            self.sniffer.close()
            self.kernel.stop()
            raise catalog_error("source.error.write_capture", path=self.save,
                                reason=exc.strerror or exc) from None  # fmt: skip
        self.kernel.start()  # bpftrace compiles while the capture process starts
        # The capture process starts now, while this one may still read the interpreter
        # (under sudo it can live in root's home); it gives up its privileges itself.
        self._start_worker()
        self.writer.close()  # the worker appends now; this process only reads
        self.dropped_root = drop_root()
        self._opened = True

    # -- the threads --------------------------------------------------------------------------

    def _start_worker(self) -> None:
        """Start the capture process with the socket and the file (opened here, as root)."""
        assert self.writer is not None and self.sniffer.sock is not None
        sock_fd = self.sniffer.sock.fileno()
        file_fd = self.writer.fileno()
        cmd = [
            sys.executable,
            "-m",
            "handshake_viz.sources.live.capture_worker",
            "--sock-fd",
            str(sock_fd),
            "--file-fd",
            str(file_fd),
            "--iface",
            self.sniffer.iface,
            "--parent",
            str(os.getpid()),
        ]
        if self.count is not None:
            cmd += ["--count", str(self.count)]
        if self.writer.pcapng:
            cmd.append("--pcapng")
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        with deaf_to_ctrl_c():  # Ctrl-C while it still imports would print a traceback
            self.worker = subprocess.Popen(
                cmd,
                pass_fds=(sock_fd, file_fd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=env,
            )

    def _wait_worker_ready(self, timeout: float = 10.0) -> None:
        """Block until the capture process reads the socket (its first line says so)."""
        worker = self.worker
        assert worker is not None and worker.stdout is not None
        ready, _, _ = select.select([worker.stdout], [], [], timeout)
        if not ready or worker.stdout.readline() != b"ready\n":
            raise catalog_error("source.error.worker_start")

    def _worker_done(self) -> bool:
        worker = self.worker
        if worker is None:
            return True
        with self._reap_lock:  # the tracking thread and stop() both ask
            if worker.returncode is None:
                try:
                    pid, status, usage = os.wait4(worker.pid, os.WNOHANG)
                except ChildProcessError:
                    worker.returncode = -1
                    return True
                if pid == 0:
                    return False
                worker.returncode = os.waitstatus_to_exitcode(status)
                self.worker_cpu = usage.ru_utime + usage.ru_stime
        return True

    def _track_loop(self) -> None:
        """Read the capture file as the worker appends to it; decode, track, merge."""
        assert self.writer is not None
        feed = self.pipeline.feed
        merger = self.merger
        linktype = self.sniffer.linktype
        count = self.count
        note = self.frames.add_from_start
        batch: list[Event] = []
        next_stats = [time.monotonic() + 0.5]

        def idle() -> None:
            if batch:
                merger.add_packets(batch)  # type: ignore[arg-type]
                batch.clear()
            if time.monotonic() >= next_stats[0]:
                self.stats.drops = self.sniffer.read_stats()[1]
                next_stats[0] = time.monotonic() + 0.5

        try:
            assert self._reader is not None

            def at_end(began: float) -> None:
                """A read that began at `began` found nothing: every packet written before
                then is in (and handed on)."""
                idle()
                merger.caught_up(began)

            with GrowingFile(self._reader, self._worker_done, at_end) as growing:
                f = cast(BinaryIO, growing)  # read_records needs only read1 and read
                for record in read_records(f, str(self.save or "the capture")):
                    note(record)
                    frame, t, _lt, data, wirelen = record[:5]
                    self.captured = frame
                    ev = feed(frame, t, linktype, data, wirelen)
                    if ev is None:
                        continue
                    batch.append(ev)
                    if type(ev) is PacketEvent:
                        self._tracked += 1
                        if count is not None and self._tracked >= count:
                            break
                    if len(batch) >= 256:
                        idle()
        except CaptureCutShort:
            pass  # the worker was killed mid-write: every complete frame was read
        except BaseException as exc:  # noqa: BLE001 - handed to events(), shown as one line
            self._errors.append(exc)
        finally:
            idle()
            self.stats.drops = self.sniffer.read_stats()[1]
            if self.worker is not None and self.worker.returncode not in (None, 0):
                self._errors.append(
                    catalog_error("source.error.worker_failed", status=self.worker.returncode)
                )
            self._capture_done.set()

    def _activity_loop(self) -> None:
        assert self.activity is not None
        try:
            self.kernel.wait_ready(self._stop)  # the activity's first call must be seen
            self.activity()
        except BaseException as exc:  # noqa: BLE001 - handed to events(), shown as one line
            self._errors.append(exc)
        finally:
            self._activity_end = time.monotonic()
            self._activity_done.set()

    # -- EventSource ------------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Yield packets and socket calls in time order, then a summary per stream.

        Raises:
            SourceError: the capture could not start or failed; the activity failed.
        """
        self.open()
        self._wait_worker_ready()
        capture = threading.Thread(target=self._track_loop, name="track", daemon=True)
        capture.start()
        activity: threading.Thread | None = None
        if self.activity is not None:
            activity = threading.Thread(target=self._activity_loop, name="activity", daemon=True)
            activity.start()
        merger, stats = self.merger, self.stats
        deadline = None if self.duration is None else time.monotonic() + self.duration
        poll = 0.005
        ended = "stopped"
        try:
            while True:
                for ev in merger.take():
                    if type(ev) is PacketEvent:
                        stats.packets += 1
                    yield ev
                if self._stop.is_set() or self._capture_done.is_set() or self._errors:
                    ended = self._why_capture_ended()
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    ended = "duration"
                    break
                if (
                    self._activity_done.is_set()
                    and now >= self._activity_end + self.tail
                    and not merger.pending()
                ):
                    ended = "error" if self._errors else "activity"
                    break
                merger.wait(poll)
        finally:
            self._stop.set()
            self._stop_worker()
            capture.join(timeout=10.0)
            if activity is not None:
                # Stopped by the user, the activity is not waited for: it goes on at most until
                # its sockets time out (daemon threads, gone with the process), unseen.
                activity.join(timeout=5.0 if self._stopped_at is None else 0.05)
            self.tracer_cpu = self.kernel.stop()
            self._close_file()
        stopped_at = self._stopped_at
        for ev in merger.take(final=True):
            if type(ev) is PacketEvent:
                stats.packets += 1
            elif stopped_at is not None and type(ev) is SocketEvent and ev.time > stopped_at:
                continue  # the activity stops with the capture
            yield ev
        stats.skipped = self.pipeline.skipped
        stats.kernel_lost = self.kernel.lost
        stats.drops = self.sniffer.kernel_drops
        self.sniffer.close()
        stats.drops = self.sniffer.kernel_drops
        self.ended = "error" if self._errors else ended
        if self._errors:
            exc = self._errors[0]
            if isinstance(exc, SourceError):
                raise exc
            raise catalog_error("source.error.capture_failed", kind=type(exc).__name__,
                                problem=exc) from exc  # fmt: skip
        yield from self.pipeline.summaries()
        yield dataclasses.replace(stats)  # the final counts, drops included: never silent

    def _why_capture_ended(self) -> str:
        """Stopped, an error, or the capture's ``--count`` reached (its tracking ended)."""
        if self._errors:
            return "error"
        if self._stop.is_set() and not self._capture_done.is_set():
            return "stopped"
        if self.count is not None and self._tracked >= self.count:
            return "count"
        return "stopped" if self._stop.is_set() else "error"

    def _close_file(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.kernel.close_file()

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        """The link type and bytes of one captured frame (1-based), re-read from the file.

        For the TUI's packet detail: read through the capture's own descriptor while it is
        open, so an unsaved capture works too; afterwards from the saved file.
        """
        reader = self._reader
        if reader is not None and not reader.closed:
            with contextlib.suppress(OSError, ValueError):
                return self.frames.read(reader.fileno(), frame)
        if self.save is None:
            return None
        return self.frames.read_path(self.save, frame)

    def _stop_worker(self) -> None:
        """Ask the capture process to drain and stop; kill it if it does not."""
        worker = self.worker
        if worker is None or self._worker_done():
            return
        worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while not self._worker_done():
            if time.monotonic() > deadline:
                worker.kill()
            time.sleep(0.005)

    def stop(self) -> None:
        """End the iteration soon (thread-safe): within the sniffer's poll interval."""
        if self._stopped_at is None:
            self._stopped_at = time.time()
        self._stop.set()
