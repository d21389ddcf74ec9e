"""Index a big capture for the timeline in several processes, each tracking a share of the streams.

Tracking is sequential within a stream, but tshark's rules only ever look at a stream's own
packets, so streams can be tracked apart. Each of N worker processes reads the whole file and
numbers every row, but decodes, tracks and builds rows (`RowBuilder`) only for the streams whose
ports hash to its own number (`shard_of`); the rows of the other workers' streams stay all zero,
so the parent ORs the workers' batches into its timeline (`Timeline.merge`). A frame of another
worker's stream costs one unpack of its headers (`fast_tcp_ports`); anything off that fast
path (other link types, IPv6, fragments, UDP) is decoded by every worker, which keeps the
defragmenter and the row numbering the same in all of them.

`worker_batches` is one worker's whole job as a generator (the tests run it in-process);
`ShardedIndex` runs N of them in spawned processes; `ReplaySource.index_rows` decides when
(`decode_worker.worth_it`: a big file and a second core).
"""

from __future__ import annotations

import dataclasses
import gc
import pickle
from array import array
from collections.abc import Iterator
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from handshake_viz.core.decode import FrameDecoder, Packet, fast_tcp_ports
from handshake_viz.core.events import ConnectionSummary
from handshake_viz.core.frames import FrameIndex
from handshake_viz.core.pcapfile import CaptureFileError, CaptureReader, RawRecord
from handshake_viz.core.tracker import ConnectionTracker
from handshake_viz.model.rows import COLUMNS, RowBatch, RowBuilder
from handshake_viz.sources.parallel.decode_worker import end_of, raise_end, reap, receive, spawn

FIRST_FRAMES = 256
"""Frames in the first batch: small, so that the first screen comes at once."""
BATCH_FRAMES = 16384
"""Frames in every later batch."""
CHUNK = 512
"""Frames each step (decode, track, build rows) takes at a time."""

_MIX = 0x9E3779B1
"""Knuth's multiplicative hash constant (2**32 / the golden ratio)."""

_ZERO_ROW = (0,) * len(COLUMNS)
_SUMMARY_FIELDS = tuple(f.name for f in dataclasses.fields(ConnectionSummary) if f.init)


def worker_batches(
    path: str, name: str, shard: int, shards: int, index: bool = False,
    first: int = FIRST_FRAMES, batch: int = BATCH_FRAMES,
) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """One worker's messages: ("batch", RowBatch, counts, index) per run of frames, then the end.

    A stream belongs to worker `shard_of(sport + dport, shards)`, whichever way its packets go.
    `counts` is (skipped, truncated) frames of that run: every worker counts the same. With
    `index` (worker 0), `index` is where each frame of the run lies in the file (offsets,
    lengths and link types as array bytes), for the packet detail view. The last batch carries
    the summaries. The end is ("end",), or ("cut", message) or ("bad", message) after every
    complete frame (`decode_worker.end_of`), each followed by the frames per link type not
    decoded (`CaptureReader.unsupported`). Messages share objects with the worker's state:
    pickle them (as the worker process does) before giving them to `Timeline.merge`, which
    adopts the stream infos.
    """
    decode = FrameDecoder().decode
    tracker = ConnectionTracker()
    track = tracker.feed
    builder = RowBuilder(step=shards, offset=shard)
    packet_row = builder.packet_row
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    zero = _ZERO_ROW
    row0 = 0
    frames = skipped = truncated = 0
    limit = first
    frames_read = FrameIndex()

    def cut() -> tuple[Any, ...]:
        """The batch of the rows so far; empties the buffers."""
        message = ("batch", _row_batch(builder, rows), (skipped, truncated),
                   frames_read.to_bytes() if index else None)  # fmt: skip
        rows.clear()
        frames_read.clear()
        return message

    end: tuple[Any, ...] = ("end", None)
    reader: CaptureReader | None = None
    try:
        with open(path, "rb") as f:
            reader = CaptureReader(f, name)
            records = iter(reader)
            problem: Exception | None = None
            while problem is None:
                # Each step for a chunk of frames at a time: CPython runs a loop that stays in
                # one function ~15% faster than one that calls decode, track and build by turns.
                chunk: list[RawRecord] = []
                try:
                    chunk.extend(islice(records, min(CHUNK, limit - frames)))
                except (CaptureFileError, OSError) as e:  # the frames before it stay in chunk
                    problem = e
                if not chunk:
                    break
                frames += len(chunk)
                if index:
                    frames_read.add_run(chunk)
                owners = [-1 if (pt := fast_tcp_ports(r[2], r[3])) < 0 else shard_of(pt, shards)
                          for r in chunk]  # fmt: skip
                todo = [r for r, o in zip(chunk, owners, strict=True) if o < 0 or o == shard]
                decoded = iter([decode(r[0], r[1], r[2], r[3]) for r in todo])
                mine: list[Packet] = []
                at: list[int] = []
                for o in owners:
                    if o >= 0 and o != shard:
                        append(zero)
                        continue
                    p = next(decoded)
                    if type(p) is Packet:
                        if shard_of(p.sport + p.dport, shards) == shard:
                            mine.append(p)
                            at.append(len(rows))
                        append(zero)  # replaced below when mine
                    elif p is None:
                        skipped += 1
                    else:
                        truncated += 1  # a TruncatedPacket: reported, not a row
                events = [track(p) for p in mine]
                rows_made = [packet_row(ev, row0 + i) for ev, i in zip(events, at, strict=True)]
                for i, row in zip(at, rows_made, strict=True):
                    rows[i] = row
                if frames >= limit:
                    row0 += len(rows)
                    yield cut()
                    frames = skipped = truncated = 0
                    limit = batch
            if problem is not None:
                raise problem
    except (CaptureFileError, OSError) as e:
        end = end_of(e, name)
    last = cut()
    last[1].summaries = [
        (info.sid, *(getattr(summary, name) for name in _SUMMARY_FIELDS))
        for summary in tracker.finish()
        if (info := builder.info(summary.proto, summary.stream)) is not None
    ]
    yield last
    yield (*end, reader.unsupported if reader is not None else {})


def shard_of(port_sum: int, shards: int) -> int:
    """The worker of a stream whose two ports add up to `port_sum` (the same both ways).

    A hash, not `port_sum % shards`: Linux gives connect() even ephemeral ports, so on
    loopback every client of one server port has a port sum of the same parity, and plain
    modulo 2 would hand every stream to one worker.
    """
    return (port_sum * _MIX >> 16 & 0xFFFF) % shards


def _row_batch(builder: RowBuilder, rows: list[tuple[Any, ...]]) -> RowBatch:
    """Rows (this worker's, and zero rows for the others') as a batch for `Timeline.merge`."""
    zero = _ZERO_ROW
    step, offset = builder.step, builder.offset
    mine = sorted({r[3] for r in rows if r is not zero})
    streams = [builder.streams[(sid - offset) // step].fields() for sid in mine]
    if rows:
        columns = tuple(
            array(tc, col).tobytes()
            for (_, tc), col in zip(COLUMNS, zip(*rows, strict=True), strict=True)
        )
    else:
        columns = tuple(b"" for _ in COLUMNS)
    options = dict(builder.options)
    builder.options.clear()
    return RowBatch(len(rows), columns, streams, options)


def _work(path: str, name: str, shard: int, shards: int, index: bool, conn: Connection) -> None:
    """A worker process: send `worker_batches`' messages, pickled, to the parent."""
    # The tracker makes no reference cycles: the cyclic collector would only rescan its tens
    # of thousands of live connections again and again.
    gc.disable()
    try:
        for message in worker_batches(path, name, shard, shards, index):
            conn.send_bytes(pickle.dumps(message, 5))
    except (BrokenPipeError, OSError):
        pass  # the parent has gone (the app quit while indexing)
    finally:
        conn.close()


class ShardedIndex:
    """The timeline rows of a file, built by `shards` worker processes.

    Iterate it for lists of `RowBatch` (one per worker, for the same frames) to give to
    `Timeline.merge`. `rows`, `skipped` and `truncated` count as it goes; a bad or cut file
    raises the errors `read_records` raises, after the batches of every complete frame.
    """

    def __init__(self, path: str, name: str, shards: int = 2,
                 index: FrameIndex | None = None) -> None:  # fmt: skip
        self.path = path
        self.name = name
        self.shards = shards
        self.index = index
        """The frame index to extend with every frame read, or None."""
        self.rows = self.skipped = self.truncated = 0
        self.unsupported: dict[int, int] = {}
        """Frames per link type not decoded (`CaptureReader.unsupported`), known at the end."""
        self._children: list[BaseProcess] = []
        self._pipes: list[Connection] = []

    def start(self) -> bool:
        """Start the workers; False (and nothing left running) where that fails."""
        for shard in range(self.shards):
            started = spawn(
                _work,
                (self.path, self.name, shard, self.shards, shard == 0 and self.index is not None),
                f"index-{shard}",
            )
            if started is None:
                self.close()
                return False
            self._children.append(started[0])
            self._pipes.append(started[1])
        return True

    def __iter__(self) -> Iterator[list[RowBatch]]:
        try:
            while True:
                messages = [receive(pipe, self.name) for pipe in self._pipes]
                first = messages[0]
                if first[0] != "batch":
                    self.unsupported = first[2]
                    raise_end(first)
                    return
                skipped, truncated = first[2]
                self.skipped += skipped
                self.truncated += truncated
                self.rows += first[1].rows
                if self.index is not None:
                    self.index.extend_bytes(first[3])
                yield [m[1] for m in messages]
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (if still running) and release the pipes."""
        for pipe in self._pipes:
            pipe.close()
        for child in self._children:
            reap(child)
        self._pipes.clear()
        self._children.clear()
