"""`ReplaySource`: events from a saved capture, or from a pipe as it arrives."""

from __future__ import annotations

import contextlib
import io
import os
import select
import stat
import struct
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from handshake_viz.core.events import CaptureStats, Event
from handshake_viz.core.frames import FrameIndex
from handshake_viz.core.pcapfile import (
    CHUNK,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    CaptureCutShort,
    CaptureFileError,
    CaptureReader,
    RawRecord,
    unsupported_note,
)
from handshake_viz.core.pipeline import PacketPipeline
from handshake_viz.model.rows import RowBatch
from handshake_viz.sources.catalog_errors import catalog_error
from handshake_viz.sources.file_errors import file_error
from handshake_viz.sources.kernel.saved import SavedKernelView, holds_events
from handshake_viz.sources.parallel.decode_worker import DecodedPackets, worth_it
from handshake_viz.sources.parallel.index_worker import ShardedIndex

_PCAP_MAGICS = (PCAP_MAGIC_US, PCAP_MAGIC_NS)

MAX_WORKERS = 4
"""At most this many index workers (one per core beyond that buys little)."""


class ReplaySource:
    """Events from a pcap/pcapng file, or from stdin as it arrives (path "-").

    A path that is no regular file (a FIFO, a character device) is a stream like stdin: it is
    opened once (`check` keeps it open for `events`), never re-read, and has no frame index.

    Args:
        path: a file path, or "-" for standard input.
        keep_index: remember where each frame's bytes are, so `raw_frame` can re-read one
            packet for the detail view (costs 14 bytes per packet).
        summaries: yield a `ConnectionSummary` per stream after the last packet.
        parallel: for a big file, read and decode in a second process while this one tracks
            (`decode_worker`).
        stream: for path "-", the capture's stream if not `sys.stdin` (`capture_from_stdin`).
    """

    live = False

    def __init__(
        self,
        path: str | Path,
        keep_index: bool = True,
        summaries: bool = True,
        parallel: bool = False,
        stream: BinaryIO | None = None,
    ) -> None:
        self.path = str(path)
        self._stdin = stream
        self.name = "stdin" if self.path == "-" else self.path
        self.description = self.name
        self.stats = CaptureStats(source=self.name)
        self.is_stream = self.path == "-" or not _is_regular(self.path)
        """Read once as it arrives (stdin, a FIFO): no index, no size, no second process."""
        self.keep_index = keep_index and not self.is_stream
        self.with_summaries = summaries
        self.parallel = parallel
        self.frames = FrameIndex()
        """Where each frame read so far lies in the file (with `keep_index`)."""
        self.saved = SavedKernelView()
        """The socket calls and kernel states a capture of ours keeps beside its packets."""
        self.pipeline = PacketPipeline(self.saved.listening)
        self._stopped = False
        self._size: int | None = None
        self._opened: BinaryIO | None = None
        """A stream `check` opened, for `events` (a FIFO cannot be opened twice)."""
        self._waiting: StoppableStream | None = None
        """The pipe being read, so that `stop` can end a read that waits for data."""
        self._unsupported: dict[int, int] = {}
        self.ended: str | None = None
        """Why the events ended (`core.source.ENDINGS`: the end of the input is ``eof``)."""

    def _open(self) -> BinaryIO:
        if self._opened is not None:
            stream, self._opened = self._opened, None
            return stream
        if self.path == "-":
            if self._stdin is None and sys.stdin is None:
                raise catalog_error("source.error.stdin_closed")
            return self._stdin or sys.stdin.buffer
        try:
            return open(self.path, "rb")
        except FileNotFoundError:
            raise catalog_error("source.error.no_file", path=self.path) from None
        except IsADirectoryError:
            raise catalog_error("source.error.directory", path=self.path) from None
        except PermissionError:
            raise catalog_error("source.error.permission", path=self.path) from None
        except OSError as e:
            raise catalog_error("source.error.open", path=self.path, reason=e.strerror) from None

    def events(self) -> Iterator[Event]:
        """Yield packet events in file order, then one summary per stream.

        Raises:
            SourceError: after every complete packet, when the file is bad or cut short.
        """
        pipeline = self.pipeline
        stats = self.stats
        stream: BinaryIO | None = None
        decoded: DecodedPackets | None = None
        if self.parallel and not self.is_stream and worth_it(self.path) and not self._ours():
            decoded = DecodedPackets(self.path, self.name, self.frames if self.keep_index else None)
            if not decoded.start():
                decoded = None
        events: Iterator[Event]
        if decoded is not None:
            events = pipeline.run_decoded(decoded.batches())
        else:
            stream = self._open()
            if self.is_stream and StoppableStream.fits(stream):
                self._waiting = StoppableStream(stream)
                stream = cast(BinaryIO, self._waiting)  # read_records needs read1 and close
                if self._stopped:
                    self._waiting.stop()
            reader = CaptureReader(stream, self.name, self.saved.on_journal)
            self._unsupported = reader.unsupported
            records = iter(reader)
            if self.keep_index:
                records = self._indexed(records)
            if self._classic_pcap():
                events = pipeline.run(records)  # no journal blocks: no saved events to merge
            else:
                events = self.saved.merged(pipeline.run(self.saved.hold(records)))
        try:
            for ev in events:
                stats.packets += 1
                yield ev
                if self._stopped:
                    self.ended = "stopped"
                    return
        except CaptureCutShort as e:
            stats.skipped = pipeline.skipped + (decoded.skipped if decoded else 0)
            self._note_unsupported(decoded)
            if self.with_summaries:
                yield from pipeline.finish()
            if self._stopped and self._waiting is not None:
                self.ended = "stopped"
                return  # stopped while a record was arriving: the end the user asked for
            self.ended = "error"
            raise file_error(e, stats.packets) from None
        except CaptureFileError as e:
            self._note_unsupported(decoded)
            self.ended = "error"
            raise file_error(e, stats.packets) from None
        finally:
            if stream is not None and stream is not getattr(sys.stdin, "buffer", None):
                stream.close()
        stats.skipped = pipeline.skipped + (decoded.skipped if decoded else 0)
        self._note_unsupported(decoded)
        if self.with_summaries:
            yield from pipeline.finish()
        self.ended = "stopped" if self._stopped else "eof"

    def index_rows(self) -> Generator[list[RowBatch], None, None] | None:
        """The timeline's rows, built by worker processes (`index_worker`), for `Timeline.merge`.

        None where that would not be faster (a small file, stdin, one core, no `parallel`): read
        `events` instead. Counts into `stats` as it goes; raises `SourceError` as `events` does.
        """
        if not (self.parallel and not self.is_stream and worth_it(self.path)) or self._ours():
            return None
        index = self.frames if self.keep_index else None
        sharded = ShardedIndex(self.path, self.name, min(os.cpu_count() or 2, MAX_WORKERS), index)
        if not sharded.start():
            return None
        return self._merged_rows(sharded)

    def _merged_rows(self, sharded: ShardedIndex) -> Generator[list[RowBatch], None, None]:
        stats = self.stats
        try:
            for batches in sharded:
                stats.packets = sharded.rows + sharded.truncated
                stats.skipped = sharded.skipped + sharded.truncated
                yield batches
                if self._stopped:
                    return
        except CaptureFileError as e:
            raise file_error(e, stats.packets) from None
        finally:
            sharded.close()
            self._unsupported = sharded.unsupported

    def _ours(self) -> bool:
        """A capture this program saved with its events: read in this process, which merges
        them (the worker processes read packets only). A stream is not looked into: its bytes
        can be read only once."""
        return not self.is_stream and holds_events(self.path)

    def _classic_pcap(self) -> bool:
        """A regular file in the pcap format, which has no blocks for saved events (only a
        pcapng has them): its packets need not pass through `SavedKernelView`. A stream is
        not looked into: its bytes can be read only once."""
        if self.is_stream:
            return False
        try:
            with open(self.path, "rb") as f:
                head = f.read(4)
        except OSError:
            return False
        return len(head) == 4 and (
            struct.unpack("<I", head)[0] in _PCAP_MAGICS
            or struct.unpack(">I", head)[0] in _PCAP_MAGICS
        )

    def _indexed(self, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
        """Pass records through, noting where each frame's bytes are in the file."""
        note = self.frames.add_from_start
        for rec in records:
            note(rec)
            yield rec

    def _note_unsupported(self, decoded: DecodedPackets | None) -> None:
        if decoded is not None:
            self._unsupported = decoded.unsupported

    def notices(self) -> list[str]:
        """What the reading skipped without failing, to tell once at the end (frames of link
        types not decoded, in a pcapng with several kinds of interface)."""
        note = unsupported_note(self.name, self._unsupported)
        return [note] if note else []

    def progress(self) -> float | None:
        """How much of the file has been read, from 0 to 1; None for stdin or without the index.

        Safe to call from another thread while reading (see `FrameIndex`).
        """
        if not self.keep_index or not len(self.frames):
            return None
        if self._size is None:
            try:
                self._size = os.path.getsize(self.path) or 1
            except OSError:
                return None
        return min(self.frames.end() / self._size, 1.0)

    def stop(self) -> None:
        self._stopped = True  # read once a packet: a plain attribute is the cheapest check
        if self._waiting is not None:
            self._waiting.stop()  # a pipe that sends nothing more would never let it be read

    def check(self) -> None:
        """Fail early, before a UI starts, on a file that cannot be read at all.

        A stream (stdin, a FIFO) is only opened, and kept open for `events`: its bytes can be
        read only once. Opening a FIFO waits for its writer.

        Raises:
            SourceError: missing, unreadable, empty, not a capture, unsupported.
        """
        if self.path == "-":
            return
        if self.is_stream:
            if self._opened is None:
                self._opened = self._open()
            return
        with self._open() as f:
            try:
                next(iter(CaptureReader(f, self.name)), None)
            except CaptureCutShort:
                pass  # complete packets before the cut are still worth showing
            except CaptureFileError as e:
                raise file_error(e, 0) from None

    def raw_frame(self, frame: int) -> tuple[int, bytes] | None:
        """The link type and captured bytes of one frame (1-based), re-read from the file."""
        if not self.keep_index:
            return None
        return self.frames.read_path(self.path, frame)


class StoppableStream:
    """A pipe or FIFO read so that another thread can end a read that waits for data.

    `read1` waits in ``select`` on the pipe and on a wake-up pipe of its own; after `stop` it
    returns b"" (the end of the stream) at once. Without it, ``q`` in the TUI, or Ctrl-C under
    ``--print``, would wait for a writer that may never write again (``tcpdump`` on a quiet
    interface, a FIFO held open).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._fd = stream.fileno()
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    @staticmethod
    def fits(stream: BinaryIO) -> bool:
        """Whether `stream` is a pipe, FIFO, socket or terminal: a read that can wait. It must
        not have been read yet (its buffer would hide bytes from ``select``)."""
        try:
            mode = os.fstat(stream.fileno()).st_mode
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return False
        return not stat.S_ISREG(mode)

    def read1(self, n: int = -1) -> bytes:
        ready, _, _ = select.select([self._fd, self._wake_read], [], [])
        if self._wake_read in ready:
            return b""
        return os.read(self._fd, n if n > 0 else CHUNK)

    read = read1

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"!")

    def close(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._stream is not getattr(sys.stdin, "buffer", None):
            self._stream.close()


def _is_regular(path: str) -> bool:
    """Whether `path` is a regular file (one that can be read twice and has a size); a path
    that cannot be looked at counts as one, so that opening it says what is wrong."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return True


def capture_from_stdin() -> BinaryIO:
    """The capture piped to stdin, on a descriptor of its own; stdin becomes the terminal.

    For ``tcpdump -w - | handshake-viz replay -`` in the TUI, which reads its keys from stdin:
    left as it was, the TUI would read the capture's bytes as keys, and the reader would miss
    them. Raises SourceError where stdin is no pipe or there is no terminal to read keys from.
    """
    if sys.stdin is None:
        raise catalog_error("source.error.stdin_closed")
    if sys.stdin.isatty():
        raise catalog_error("source.error.stdin_terminal")
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        raise catalog_error("source.error.no_tty") from None
    capture = os.fdopen(os.dup(0), "rb")
    os.dup2(tty, 0)
    os.close(tty)
    return capture
