"""`LiveSource`: packets sniffed on an interface (and, for the demo, socket calls) as events.

Two threads produce, the caller's thread consumes:

- the capture thread reads the packet socket and writes each frame to the capture file at
  once (so whatever is shown is already saved), and queues it; that is all, so that under
  load the kernel's buffer is drained before anything else;
- the consumer (``events()``) runs queued frames through the same `PacketPipeline` as replay
  (frame numbers are positions in the saved file) and hands their events to the merger;
- the activity thread (the demo's scenario, if any) makes socket calls and reports them to
  the same merger;
- `events()` releases the merged timeline in time order, until ``stop()``, ``count`` packets,
  ``duration`` seconds, or the end of the activity (plus a short tail for its last packets).
"""

from __future__ import annotations

import dataclasses
from collections import deque
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from handshake_viz.events import CaptureStats, Event, PacketEvent
from handshake_viz.live.merge import TimelineMerger
from handshake_viz.live.pcapwriter import PcapWriter
from handshake_viz.live.privileges import drop_root, give_to_user
from handshake_viz.live.sniffer import SNAPLEN, Sniffer
from handshake_viz.pipeline import PacketPipeline
from handshake_viz.source import SourceError

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
        flush_every: frames per write to the capture file (1: each packet as it comes).
        name: what the status bar calls the source.
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
        flush_every: int = 1,
        tail: float = TAIL,
        name: str | None = None,
    ) -> None:
        self.sniffer = Sniffer(iface, ports, all_ports)
        self.save = Path(save) if save is not None else None
        self.count = count
        self.duration = duration
        self.activity = activity
        self.flush_every = flush_every
        self.tail = tail
        self.merger = TimelineMerger(delay=DEMO_MERGE_DELAY if activity else 0.0)
        self.pipeline = PacketPipeline()
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
        self._capture_done = threading.Event()
        self._activity_done = threading.Event()
        self._activity_end = 0.0
        self._errors: list[BaseException] = []
        self._raw: deque[tuple[int, float, bytes]] = deque()
        """Frames captured but not yet tracked (the capture thread appends, events() pops)."""
        self._tracked = 0

    # -- setup ------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the capture socket and the file, then give up root; idempotent.

        Call it before starting a UI, so that a missing privilege is one line and exit 2.

        Raises:
            SourceError: no privilege, no such interface, file not writable.
        """
        if self._opened:
            return
        self.sniffer.open()
        if self.save is not None:
            try:
                self._make_dirs(self.save.parent)
                self.writer = PcapWriter(
                    self.save, self.sniffer.linktype, SNAPLEN, flush_every=self.flush_every
                )
            except OSError as exc:
                self.sniffer.close()
                raise SourceError(
                    f'cannot write the capture file "{self.save}": {exc.strerror or exc} '
                    "(choose another with --save PATH, or --no-save)"
                ) from None
            give_to_user(self.save)
        self.dropped_root = drop_root()
        self._opened = True

    @staticmethod
    def _make_dirs(path: Path) -> None:
        missing = []
        p = path
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            give_to_user(d)

    # -- the threads --------------------------------------------------------------------------

    def _capture_loop(self) -> None:
        """Read frames and save them, nothing else: decoding waits for the consumer.

        Under load this thread must keep the kernel's buffer drained, so its work per frame is
        a read and a write; tracking (twenty times dearer) happens in `events()`, which may
        lag behind a burst but loses nothing.
        """
        sniffer, writer, raw = self.sniffer, self.writer, self._raw
        # With --count the filter passes only TCP and UDP: N frames are N packets, so the file
        # holds exactly the packets shown.
        limit = self.count
        frame = 0
        final_rounds = 0
        next_stats = time.monotonic() + 0.5
        try:
            while True:
                stopping = self._stop.is_set()
                frames = sniffer.read_ready()
                if stopping:
                    final_rounds += 1
                if not frames:
                    if writer is not None:
                        writer.flush()
                    if stopping:
                        break
                    sniffer.wait()
                else:
                    for sec, usec, data in frames:
                        frame += 1
                        if writer is not None:
                            writer.write(sec, usec, data, len(data))
                        raw.append((frame, sec + usec / 1e6, data))
                        if limit is not None and frame >= limit:
                            break
                    self.captured = frame
                    if limit is not None and frame >= limit:
                        break
                    if final_rounds > 64:  # traffic never pauses: stop anyway
                        break
                if time.monotonic() >= next_stats:
                    self.stats.drops = sniffer.read_stats()[1]
                    next_stats = time.monotonic() + 0.5
        except BaseException as exc:  # noqa: BLE001 - handed to events(), shown as one line
            self._errors.append(exc)
        finally:
            self.captured = frame
            if writer is not None:
                writer.flush()
            self.stats.drops = sniffer.read_stats()[1]
            self._capture_done.set()

    def _track_captured(self) -> None:
        """Decode and track the frames captured so far; hand their events to the merger."""
        raw = self._raw
        if not raw:
            return
        feed = self.pipeline.feed
        linktype = self.sniffer.linktype
        count = self.count
        batch = []
        popleft = raw.popleft
        while raw:
            frame, t, data = popleft()
            ev = feed(frame, t, linktype, data, len(data))
            if ev is None:
                continue
            batch.append(ev)
            if type(ev) is PacketEvent:
                self._tracked += 1
                if count is not None and self._tracked >= count:
                    self._stop.set()
                    raw.clear()
                    break
        self.merger.add_packets(batch)  # type: ignore[arg-type]

    def _activity_loop(self) -> None:
        assert self.activity is not None
        try:
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
        capture = threading.Thread(target=self._capture_loop, name="capture", daemon=True)
        capture.start()
        activity: threading.Thread | None = None
        if self.activity is not None:
            activity = threading.Thread(target=self._activity_loop, name="activity", daemon=True)
            activity.start()
        merger, stats = self.merger, self.stats
        deadline = None if self.duration is None else time.monotonic() + self.duration
        poll = 0.005
        try:
            while True:
                self._track_captured()
                for ev in merger.take():
                    if type(ev) is PacketEvent:
                        stats.packets += 1
                    yield ev
                if self._stop.is_set() or self._capture_done.is_set() or self._errors:
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if (
                    self._activity_done.is_set()
                    and now >= self._activity_end + self.tail
                    and not merger.pending()
                ):
                    break
                merger.wait(poll)
        finally:
            self._stop.set()
            capture.join(timeout=2.0)
            if activity is not None:
                activity.join(timeout=5.0)
            self._close_file()
        if self.count is None or self._tracked < self.count:
            self._track_captured()
        for ev in merger.take(final=True):
            if type(ev) is PacketEvent:
                stats.packets += 1
            yield ev
        stats.skipped = self.pipeline.skipped
        stats.drops = self.sniffer.kernel_drops
        self.sniffer.close()
        stats.drops = self.sniffer.kernel_drops
        if self._errors:
            exc = self._errors[0]
            if isinstance(exc, SourceError):
                raise exc
            raise SourceError(f"capture failed: {type(exc).__name__}: {exc}") from exc
        yield from self.pipeline.summaries()
        yield dataclasses.replace(stats)  # the final counts, drops included: never silent

    def _close_file(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        """The link type and bytes of one captured frame (1-based), re-read from the file.

        For the TUI's packet detail; None when the capture is not saved.
        """
        writer = self.writer
        if writer is None or not 0 < frame <= len(writer.offsets):
            return None
        with open(writer.path, "rb") as f:
            f.seek(writer.offsets[frame - 1] + 16)
            return self.sniffer.linktype, f.read(writer.lengths[frame - 1])

    def stop(self) -> None:
        """End the iteration soon (thread-safe): within the sniffer's poll interval."""
        self._stop.set()
