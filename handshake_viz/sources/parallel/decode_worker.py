"""Reading and decoding a large capture in a second process, while this one tracks.

Tracking is sequential (each packet depends on the ones before), but reading the file and
decoding headers are not: on a machine with two cores a child process does them and sends
the decoded headers in batches (plain tuples, pickled: under a microsecond a packet each
way; without payloads, which tracking never reads), and the parent only tracks and prints.
Used for big files read with ``--print``; the events are the same, in the same order, as from
the one-process path (a test checks).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from handshake_viz.core.decode import FrameDecoder, Packet, PacketFields
from handshake_viz.core.events import TruncatedPacket
from handshake_viz.core.frames import FrameIndex
from handshake_viz.core.pcapfile import CaptureCutShort, CaptureFileError, CaptureReader
from handshake_viz.sources.children import deaf_to_ctrl_c, die_with_parent

BATCH = 2000
"""Decoded packets per message."""
FIRST_BATCH = 100
"""The first message is small, so that a viewer's first screen does not wait for 2,000."""
MIN_SIZE = 16 << 20
"""Files smaller than this are read in one process: the child's start-up would not pay."""


def worth_it(path: str) -> bool:
    """Whether a second process would make reading `path` faster."""
    try:
        return (os.cpu_count() or 1) >= 2 and os.path.getsize(path) >= MIN_SIZE
    except OSError:
        return False


def prepare() -> None:
    """Start multiprocessing's helper process now, while the standard streams are real files.

    Under the TUI, stderr is captured by Textual and has no file descriptor, which the
    helper's start-up needs; started beforehand, it is reused.
    """
    from multiprocessing import resource_tracker

    with contextlib.suppress(OSError, ValueError):
        resource_tracker.ensure_running()


def spawn(target: Callable[..., None], args: tuple[Any, ...], name: str
          ) -> tuple[BaseProcess, Connection] | None:  # fmt: skip
    """Start `target(*args, sender)` in a fresh interpreter; its process and our end of the pipe.

    None (and nothing left open) where starting fails, e.g. in a host app whose standard
    streams are not files. A fresh interpreter, not a fork: the TUI reads in a thread, and
    forking a process with threads can copy a lock that another thread holds. The child ends
    with this process and never sees the terminal's Ctrl-C (`children`): start it from the
    thread that reaps it.
    """
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(target, os.getpid(), (*args, sender)), daemon=True,
                        name=name)  # fmt: skip
    try:
        prepare()  # its own start would unblock SIGINT in this thread (multiprocessing does)
        with deaf_to_ctrl_c():
            child.start()
    except (OSError, ValueError):
        receiver.close()
        return None
    finally:
        sender.close()
    return child, receiver


def _child(target: Callable[..., None], parent: int, args: tuple[Any, ...]) -> None:
    """A spawned worker's first step: end with the parent, leave Ctrl-C to it, then work."""
    die_with_parent(parent, signal.SIGKILL)  # nothing to save: the parent reads the file
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        target(*args)
    except BaseException:  # noqa: BLE001 - no traceback on the terminal: the parent finds
        os._exit(1)  # the pipe closed early and says so in one line (`receive`)


def end_of(error: Exception, name: str) -> tuple[str, str]:
    """How a reading process tells its parent why the file ended early: ("cut"|"bad", text)."""
    if isinstance(error, CaptureCutShort):
        return "cut", str(error)
    if isinstance(error, CaptureFileError):
        return "bad", str(error)
    return "bad", f'cannot read "{name}": {getattr(error, "strerror", None) or error}'


def receive(pipe: Connection, name: str) -> Any:
    """The next message from a reading process; CaptureFileError if it ended without one."""
    try:
        return pickle.loads(pipe.recv_bytes())
    except EOFError:
        raise CaptureFileError(f'"{name}": a reading process ended early') from None


def raise_end(message: tuple[Any, ...]) -> None:
    """Raise the error an end message (kind, text, ...) names; return for a clean "end"."""
    if message[0] == "cut":
        raise CaptureCutShort(message[1])
    if message[0] == "bad":
        raise CaptureFileError(message[1])


def reap(child: BaseProcess) -> None:
    """Let a reading process end, or end it."""
    child.join(timeout=1)
    if child.is_alive():
        child.terminate()
        child.join(timeout=1)


def _decode_into(path: str, name: str, index: bool, conn: Connection) -> None:
    """Child: read and decode `path`, send ("batch", items, index) messages, then how it ended
    (("end", None, skipped, unsupported), or `end_of` the problem, skipped and unsupported:
    frames per link type not decoded, `CaptureReader.unsupported`).

    With `index`, each batch also carries where every frame read since the last batch lies in
    the file (offsets, lengths and link types, as array bytes), for the packet detail view.
    """
    decode = FrameDecoder().decode_fields
    send = conn.send_bytes
    dumps = pickle.dumps
    batch: list[object] = []
    append = batch.append
    frames_read = FrameIndex()
    note = frames_read.add
    skipped = 0
    limit = FIRST_BATCH

    def flush() -> None:
        send(dumps(("batch", batch, frames_read.to_bytes() if index else None), 5))
        batch.clear()
        frames_read.clear()

    reader: CaptureReader | None = None
    try:
        with open(path, "rb") as f:
            reader = CaptureReader(f, name)
            for record in reader:
                if index:
                    note(record)
                frame, time, linktype, data, _, _ = record
                p = decode(frame, time, linktype, data)
                if type(p) is tuple:
                    append(p)
                    if len(batch) >= limit:
                        flush()
                        limit = BATCH
                elif p is None:
                    skipped += 1
                else:
                    append(p)  # a TruncatedPacket, reported as it is
        end: tuple[object, ...] = ("end", None, skipped)
    except (CaptureFileError, OSError) as e:
        end = (*end_of(e, name), skipped)
    end = (*end, reader.unsupported if reader is not None else {})
    try:
        if batch or len(frames_read):
            flush()
        send(dumps(end, 5))
    except (BrokenPipeError, OSError):
        pass  # the parent has gone (| head): nothing to tell
    finally:
        conn.close()


class DecodedPackets:
    """Packets of a file, decoded by a child process, in file order.

    Iterate it for `Packet`s (their payloads left empty) and `TruncatedPacket`s; afterwards
    `skipped` counts frames with no TCP or UDP. A bad or cut file raises the same errors as
    `read_records`, after every packet before the problem.
    """

    def __init__(self, path: str, name: str, index: FrameIndex | None = None):
        self.path = path
        self.name = name
        self.skipped = 0
        self.unsupported: dict[int, int] = {}
        """Frames per link type not decoded (`CaptureReader.unsupported`), known at the end."""
        self.index = index
        """The frame index to extend with every frame read, or None."""

    def start(self) -> bool:
        """Start the decoding process; False (and nothing started) where that fails."""
        started = spawn(_decode_into, (self.path, self.name, self.index is not None), "decode")
        if started is None:
            return False
        self._child, self._receiver = started
        return True

    def __iter__(self) -> Iterator[Packet | TruncatedPacket]:
        for batch in self.batches():
            for item in batch:
                yield Packet(*item) if type(item) is tuple else item  # type: ignore[misc]

    def batches(self) -> Iterator[list[PacketFields | TruncatedPacket]]:
        """The packets as the child sends them, a batch at a time: `PacketFields` (``Packet(*f)``
        makes the packet) and `TruncatedPacket`s. For `PacketPipeline.run_decoded`, which
        tracks them without a generator step per packet."""
        receiver = self._receiver
        try:
            while True:
                message = receive(receiver, self.name)
                if message[0] == "batch":
                    if self.index is not None:
                        self.index.extend_bytes(message[2])
                    yield message[1]
                    continue
                self.skipped = message[2]
                self.unsupported = message[3]
                raise_end(message)
                return
        finally:
            receiver.close()
            reap(self._child)
