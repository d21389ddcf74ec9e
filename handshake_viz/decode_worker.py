"""Reading and decoding a large capture in a second process, while this one tracks.

Tracking is sequential (each packet depends on the ones before), but reading the file and
decoding headers are not: on a machine with two cores a child process does them and sends
the decoded headers in batches (plain tuples, pickled: under a microsecond a packet each
way), and the parent only tracks and prints. Used for big files read with ``--print``; the
events are the same, in the same order, as from the one-process path (a test checks).
"""

from __future__ import annotations

import contextlib
import multiprocessing
from array import array
import os
import pickle
from collections.abc import Iterator
from multiprocessing.connection import Connection

from handshake_viz.decode import FrameDecoder, Packet
from handshake_viz.events import TruncatedPacket
from handshake_viz.pcapfile import CaptureCutShort, CaptureFileError, read_records

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


def _decode_into(path: str, name: str, conn: Connection, index: bool) -> None:
    """Child: read and decode `path`, send ("batch", items, index) messages, then how it ended.

    With `index`, each batch also carries where every frame read since the last batch lies in
    the file (offsets, lengths and link types, as array bytes), for the packet detail view.
    """
    decode = FrameDecoder().decode
    send = conn.send_bytes
    dumps = pickle.dumps
    batch: list[object] = []
    append = batch.append
    offsets, lengths, linktypes = array("Q"), array("I"), array("H")
    skipped = 0
    limit = FIRST_BATCH

    def flush() -> None:
        send(dumps(("batch", batch,
                    (offsets.tobytes(), lengths.tobytes(), linktypes.tobytes()) if index else None),
                   5))  # fmt: skip
        batch.clear()
        del offsets[:], lengths[:], linktypes[:]

    try:
        with open(path, "rb") as f:
            for frame, time, linktype, data, _wirelen, offset in read_records(f, name):
                if index:
                    offsets.append(offset)
                    lengths.append(len(data))
                    linktypes.append(linktype)
                p = decode(frame, time, linktype, data)
                if type(p) is Packet:
                    append((p.frame, p.time, p.proto, p.src, p.dst, p.sport, p.dport, p.seq,
                            p.ack, p.flags, p.window, p.length, p.options, p.payload, p.urgent,
                            p.options_cut))  # fmt: skip
                    if len(batch) >= limit:
                        flush()
                        limit = BATCH
                elif p is None:
                    skipped += 1
                else:
                    append(p)  # a TruncatedPacket, reported as it is
        end: tuple[object, ...] = ("end", skipped)
    except CaptureCutShort as e:
        end = ("cut", skipped, str(e))
    except CaptureFileError as e:
        end = ("bad", skipped, str(e))
    except OSError as e:
        end = ("bad", skipped, f'cannot read "{name}": {e.strerror or e}')
    try:
        if batch or offsets:
            flush()
        send(dumps(end, 5))
    except (BrokenPipeError, OSError):
        pass  # the parent has gone (| head): nothing to tell
    finally:
        conn.close()


class DecodedPackets:
    """Packets of a file, decoded by a child process, in file order.

    Iterate it for `Packet`s and `TruncatedPacket`s; afterwards `skipped` counts frames with
    no TCP or UDP. A bad or cut file raises the same errors as `read_records`, after every
    packet before the problem.
    """

    def __init__(self, path: str, name: str, index: tuple[array, array, array] | None = None):
        self.path = path
        self.name = name
        self.skipped = 0
        self.index = index
        """(offsets, lengths, link types) arrays to extend with every frame read, or None."""

    def start(self) -> bool:
        """Start the decoding process; False (and nothing started) where that fails."""
        # A fresh interpreter, not a fork: the TUI reads in a thread, and forking a process
        # with threads can copy a lock some other thread holds.
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_decode_into,
                            args=(self.path, self.name, sender, self.index is not None),
                            daemon=True, name="decode")  # fmt: skip
        try:
            child.start()
        except (OSError, ValueError):  # e.g. a host app whose standard streams are not files
            receiver.close()
            sender.close()
            return False
        sender.close()
        self._child, self._receiver = child, receiver
        return True

    def __iter__(self) -> Iterator[Packet | TruncatedPacket]:
        child, receiver = self._child, self._receiver
        recv = receiver.recv_bytes
        loads = pickle.loads
        try:
            while True:
                try:
                    message = loads(recv())
                except EOFError:
                    raise CaptureFileError(f'"{self.name}": the reading process ended early')
                kind = message[0]
                if kind == "batch":
                    if self.index is not None:
                        for column, raw in zip(self.index, message[2], strict=True):
                            column.frombytes(raw)
                    for item in message[1]:
                        if type(item) is tuple:
                            yield Packet(*item)
                        else:
                            yield item
                    continue
                self.skipped = message[1]
                if kind == "cut":
                    raise CaptureCutShort(message[2])
                if kind == "bad":
                    raise CaptureFileError(message[2])
                return
        finally:
            receiver.close()
            child.join(timeout=1)
            if child.is_alive():
                child.terminate()
