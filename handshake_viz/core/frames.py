"""The frame index: where each frame of a capture file lies, to read one back by its number.

The views keep no packet bytes (a million packets would not fit the memory budget), only
frame numbers; the packet detail re-reads the one frame the user opened. Every source that
reads a file (replay, the index and decode workers, live capture tailing its own file) keeps
this index as it reads: 14 bytes a frame in three arrays, which cross a process boundary as
bytes.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable

from handshake_viz.core.pcapfile import RawRecord

IndexBytes = tuple[bytes, bytes, bytes]
"""A run of the index as the bytes of its three arrays (offsets, lengths, link types)."""


class FrameIndex:
    """Offsets, captured lengths and link types of frames 1, 2, ... of one file.

    Safe to read from another thread while one thread appends: the lengths are written after
    the offsets, so every frame counted in `lengths` has its offset.
    """

    __slots__ = ("offsets", "lengths", "linktypes")

    def __init__(self) -> None:
        self.offsets = array("Q")
        """File offset of each frame's bytes (frame N at offsets[N-1])."""
        self.linktypes = array("H")
        self.lengths = array("I")

    def __len__(self) -> int:
        return len(self.lengths)

    def add(self, record: RawRecord) -> None:
        """Note one record as `pcapfile.read_records` yields it."""
        self.offsets.append(record[5])
        self.linktypes.append(record[2])
        self.lengths.append(len(record[3]))

    def add_from_start(self, record: RawRecord) -> None:
        """`add`, for an index of a whole file read from its start: frames that hold no packet
        (pcapng journal entries) are noted as empty, so frame N stays at N."""
        while len(self.lengths) < record[0] - 1:
            self.offsets.append(0)
            self.linktypes.append(0)
            self.lengths.append(0)
        self.add(record)

    def add_run(self, records: Iterable[RawRecord]) -> None:
        """Note a run of records (one call per batch: faster than `add` for each)."""
        records = list(records)
        if (
            records
            and records[-1][0] - records[0][0] + 1 != len(records)
            or (records and records[0][0] != len(self.lengths) + 1)
        ):
            for record in records:  # frame numbers with gaps: journal entries in between
                self.add(record)
            return
        self.offsets.extend([r[5] for r in records])
        self.linktypes.extend([r[2] for r in records])
        self.lengths.extend([len(r[3]) for r in records])

    def to_bytes(self) -> IndexBytes:
        """The index as bytes, to send to another process (`extend_bytes` there)."""
        return self.offsets.tobytes(), self.lengths.tobytes(), self.linktypes.tobytes()

    def extend_bytes(self, raw: IndexBytes) -> None:
        """Append a run another process sent with `to_bytes`."""
        offsets, lengths, linktypes = raw
        self.offsets.frombytes(offsets)
        self.linktypes.frombytes(linktypes)
        self.lengths.frombytes(lengths)

    def clear(self) -> None:
        del self.offsets[:], self.lengths[:], self.linktypes[:]

    def end(self) -> int:
        """The file offset just past the last frame noted (0 for none): how far reading got."""
        n = len(self.lengths)
        return self.offsets[n - 1] + self.lengths[n - 1] if n else 0

    def where(self, frame: int) -> tuple[int, int, int] | None:
        """(offset, length, link type) of 1-based `frame`, None if it is not indexed."""
        if not 0 < frame <= len(self.lengths):
            return None
        i = frame - 1
        return self.offsets[i], self.lengths[i], self.linktypes[i]

    def read(self, fd: int, frame: int) -> tuple[int, bytes] | None:
        """The link type and captured bytes of `frame`, read from descriptor `fd` (pread: the
        descriptor's offset is left alone, so a thread reading the file goes on undisturbed)."""
        at = self.where(frame)
        if at is None:
            return None
        offset, length, linktype = at
        return linktype, os.pread(fd, length, offset)

    def read_path(self, path: str | os.PathLike[str], frame: int) -> tuple[int, bytes] | None:
        """`read` from the file at `path`."""
        if self.where(frame) is None:
            return None
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return self.read(fd, frame)
        finally:
            os.close(fd)
