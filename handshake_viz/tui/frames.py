"""Getting the raw bytes of one frame back, for the packet detail.

The timeline keeps no packet bytes (a million packets would not fit the memory budget), only
frame numbers. The detail view asks for the one frame the user opened, from, in order:

1. the source itself, if it offers ``raw_frame(frame) -> (linktype, bytes) | None``;
2. the capture file behind it (``source.path``, or ``source.stats.saved_to`` for a live capture
   written as it goes): classic pcap files get an index of record offsets built once (about a
   second per million records, in a worker thread), pcapng is read forward with Scapy.
"""

from __future__ import annotations

import os
import struct
import threading
from array import array
from collections.abc import Callable
from typing import Any, Protocol

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


class FrameReader(Protocol):
    """Reads one frame by its 1-based number."""

    def read(self, frame: int) -> tuple[int, bytes] | None:
        """(linktype, frame bytes), or None if the frame cannot be had."""
        ...


class SourceFrames:
    """A source's own ``raw_frame`` (live capture and fakes can hold the bytes themselves)."""

    def __init__(self, raw_frame: Callable[[int], tuple[int, bytes] | None]) -> None:
        self._raw_frame = raw_frame

    def read(self, frame: int) -> tuple[int, bytes] | None:
        return self._raw_frame(frame)


class PcapFrames:
    """Frames of a classic pcap file by offset; the index grows as the file does (live)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._offsets = array("q")
        self._next = 24
        self._lock = threading.Lock()
        with open(path, "rb") as f:
            head = f.read(24)
        self._endian = PCAP_MAGICS[head[:4]]
        self.linktype = struct.unpack(self._endian + "I", head[20:24])[0] & 0x0FFFFFFF

    def _index_to(self, frame: int) -> None:
        rec = struct.Struct(self._endian + "IIII")
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            pos = self._next
            offsets = self._offsets
            while len(offsets) < frame and pos + 16 <= size:
                f.seek(pos)
                incl = rec.unpack(f.read(16))[2]
                if pos + 16 + incl > size:
                    break
                offsets.append(pos)
                pos += 16 + incl
            self._next = pos

    def read(self, frame: int) -> tuple[int, bytes] | None:
        with self._lock:
            if frame > len(self._offsets):
                self._index_to(frame)
            if not 1 <= frame <= len(self._offsets):
                return None
            pos = self._offsets[frame - 1]
        with open(self.path, "rb") as f:
            f.seek(pos)
            incl = struct.unpack(self._endian + "IIII", f.read(16))[2]
            return self.linktype, f.read(incl)


class PcapNgFrames:
    """Frames of a pcapng file, read forward with Scapy (pcapng files here are small)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self, frame: int) -> tuple[int, bytes] | None:
        from scapy.utils import RawPcapNgReader

        reader: Any = RawPcapNgReader(self.path)
        try:
            n = 0
            while True:
                try:
                    data, meta = reader._read_packet()
                except EOFError:
                    return None
                n += 1
                if n == frame:
                    return int(meta.linktype), bytes(data)
        finally:
            reader.close()


def frame_reader_for(source: object) -> FrameReader | None:
    """The best way to re-read frames of this source, or None (then no bytes are shown)."""
    raw = getattr(source, "raw_frame", None)
    if callable(raw):
        return SourceFrames(raw)
    stats = getattr(source, "stats", None)
    for path in (getattr(source, "path", None), getattr(stats, "saved_to", None)):
        if not path or str(path) == "-" or not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                magic = f.read(4)
        except OSError:
            continue
        if magic in PCAP_MAGICS:
            return PcapFrames(str(path))
        if magic == PCAPNG_MAGIC:
            return PcapNgFrames(str(path))
    return None
