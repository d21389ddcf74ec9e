"""Readers for pcap and pcapng files, from a path or a stream (stdin, a FIFO), without Scapy.

Records are read from raw bytes with ``struct`` so that a million packets take seconds, not
minutes. A stream is parsed as its bytes arrive (``read1``), so ``tcpdump -U -w - | ...``
shows packets as they happen. Errors mirror tshark's: an unsupported or corrupt file raises
`CaptureFileError` before any record; a file cut mid-record yields every complete record first.

Hostile input is bounded as tshark bounds it: a packet of more than `MAX_PACKET` bytes, or a
pcapng block of more than `MAX_BLOCK`, is refused from its header, before its bytes are read;
a block is buffered once (never re-copied as more arrives), and a block whose bytes nothing
needs is skipped as it streams by. So a header claiming 4 GiB fails at once, and endless input
costs time proportional to its size, never memory beyond one block.

The pcapng blocks are read by `pcapng`; this module holds what both formats share and pcap.
It knows nothing of the UI or of sockets.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, NamedTuple

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A

CHUNK = 1 << 20
"""Bytes asked for per read: large for files; a pipe returns what it has (read1)."""
MAX_PACKET = 262144
"""Captured bytes of one packet at most: wiretap's maximum snapshot length for every link
type this reader decodes; tshark calls a larger packet corrupt, in pcap and pcapng alike."""

SUPPORTED_LINKTYPES = frozenset({0, 1, 101, 108, 113, 228, 229, 239, 276})
"""Link types `decode` reads: NULL, Ethernet, raw IP (3), LOOP, SLL, NFLOG, SLL2."""


class CaptureFileError(Exception):
    """The file cannot be read (or cannot be read further); the message says why."""


class CaptureCutShort(CaptureFileError):
    """The file ends in the middle of a record (every complete record was yielded first)."""


class Record(NamedTuple):
    """One captured frame, as stored in the file.

    The readers yield plain tuples in this field order (a tuple costs a third of an object);
    ``Record._make(t)`` names the fields where speed does not matter.
    """

    frame: int
    """1-based position among the packet records, as tshark's frame.number."""
    time: float
    """Epoch seconds."""
    linktype: int
    """pcap LINKTYPE of the interface that captured it."""
    data: bytes
    """The captured bytes (possibly fewer than `wirelen`: snaplen)."""
    wirelen: int
    """The frame's length on the wire."""
    offset: int
    """Byte offset of the captured bytes in the file (to re-read one packet later)."""


RawRecord = tuple[int, float, int, bytes, int, int]
"""A record as the readers yield it: the fields of `Record`, in its order, as a plain tuple."""

Journal = Callable[[int, bytes], None]
"""Told of each pcapng systemd Journal Export Block: its frame number and the entry's bytes."""


class Buffer:
    """Bytes from a stream, read as they come, with a moving read position.

    Each `fill` joins what it read once: a block that arrives in ten thousand pieces from a
    pipe costs one copy, not ten thousand growing ones.
    """

    __slots__ = ("stream", "buf", "pos", "eof", "consumed")

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.consumed = 0
        """File offset of buf[0]."""

    def _read(self, n: int) -> bytes:
        read1 = getattr(self.stream, "read1", None)
        chunk: bytes = read1(n) if read1 else self.stream.read(n)
        if not chunk:
            self.eof = True
        return chunk

    def fill(self, need: int) -> bool:
        """Make at least `need` bytes available from `pos`; False at end of stream."""
        have = len(self.buf) - self.pos
        if have >= need:
            return True
        parts = [self.buf[self.pos :]] if have else []
        self.consumed += self.pos
        self.buf, self.pos = b"", 0  # the bytes read before go now, not after the join
        while have < need and not self.eof:
            chunk = self._read(max(CHUNK, need - have))
            parts.append(chunk)
            have += len(chunk)
        self.buf = parts[0] if len(parts) == 1 else b"".join(parts)
        return have >= need

    def skip(self, n: int) -> bool:
        """Move `n` bytes past `pos` without keeping them; False (at the end) if fewer came."""
        have = len(self.buf) - self.pos
        if have >= n:
            self.pos += n
            return True
        self.consumed += len(self.buf) + (n - have)
        self.buf = b""
        self.pos = 0
        left = n - have
        while left > 0:
            chunk = self._read(min(CHUNK, left))
            if not chunk:
                self.consumed -= left  # the offset of the end, as far as the stream went
                return False
            left -= len(chunk)
            if left < 0:  # read1 may return more than asked of a file: keep the excess
                self.buf = chunk[left:]
                self.consumed -= len(self.buf)
        return True

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    @property
    def offset(self) -> int:
        return self.consumed + self.pos


class CaptureReader:
    """The packet records of a pcap or pcapng stream, in file order; iterate it once.

    After (or while) iterating, `unsupported` counts the frames of each link type this
    reader yields but `decode` cannot read (a pcapng interface of another kind): tshark
    numbers them, so they are yielded and counted, never dropped or fatal.

    A pcapng journal entry (block type 9) takes a frame number, as tshark counts it, and goes
    to `journal` if given, not into the records.

    Raises (while iterating):
        CaptureFileError: empty, unknown format, unsupported version or link type, corrupt.
        CaptureCutShort: after the last complete record, when the file ends mid-record.
    """

    def __init__(self, stream: BinaryIO, name: str = "-", journal: Journal | None = None) -> None:
        self.stream = stream
        self.name = name
        self.journal = journal
        self.unsupported: dict[int, int] = {}
        """Frames yielded per link type that `decode` does not read."""

    def __iter__(self) -> Iterator[RawRecord]:
        name = self.name
        buf = Buffer(self.stream)
        if not buf.fill(4):
            if buf.remaining == 0:
                raise CaptureFileError(f'"{name}" is empty: there is no capture in it')
            raise CaptureCutShort(f'"{name}" is cut short in its file header')
        magic_le = struct.unpack_from("<I", buf.buf, 0)[0]
        if magic_le == PCAPNG_SHB:
            from handshake_viz.core.pcapng import read_pcapng

            yield from read_pcapng(buf, name, self.unsupported, self.journal)
            return
        if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            endian = "<"
        elif struct.unpack_from(">I", buf.buf, 0)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            endian = ">"
        else:
            raise CaptureFileError(
                f'"{name}" is not a pcap or pcapng capture (unknown magic number 0x{magic_le:08x})'
            )
        yield from _read_pcap(buf, name, endian)


def read_records(
    stream: BinaryIO, name: str = "-", journal: Journal | None = None
) -> Iterator[RawRecord]:
    """Yield the packet records of a pcap or pcapng stream, in file order (`CaptureReader`)."""
    return iter(CaptureReader(stream, name, journal))


def unsupported_note(name: str, unsupported: dict[int, int]) -> str | None:
    """The one line that says which frames were skipped for their link type, or None."""
    if not unsupported:
        return None
    kinds = ", ".join(f"{n} of link type {lt}" for lt, n in sorted(unsupported.items()))
    return (
        f'"{name}": skipped {kinds} (not supported: Ethernet, Linux cooked SLL/SLL2, raw IP, '
        "BSD loopback and NFLOG are)"
    )


def _not_supported(linktype: int, name: str) -> CaptureFileError:
    return CaptureFileError(
        f'"{name}": link type {linktype} is not supported '
        "(Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback and NFLOG are)"
    )


def too_big(name: str, frame: int, caplen: int) -> CaptureFileError:
    """A packet larger than tshark reads: corrupt, said before its bytes are read."""
    return CaptureFileError(
        f'"{name}" appears to be damaged or corrupt (frame {frame} claims {caplen} captured '
        f"bytes, more than the {MAX_PACKET} a packet can have)"
    )


def _read_pcap(buf: Buffer, name: str, endian: str) -> Iterator[RawRecord]:
    if not buf.fill(24):
        raise CaptureCutShort(f'"{name}" is cut short in its pcap file header')
    magic, major, minor, _zone, _sigfigs, _snaplen, network = struct.unpack_from(
        endian + "IHHiIII", buf.buf, buf.pos
    )
    nanos = magic == PCAP_MAGIC_NS
    if major < 2:
        raise CaptureFileError(f'"{name}": pcap major version {major} is not supported')
    # Before version 2.3 (and in DG/UX's 543.0) a record's two lengths came the other way
    # round; in 2.3 files they are in either order. tshark swaps them back likewise.
    swapped = (major == 2 and minor < 3) or major == 543
    maybe_swapped = major == 2 and minor == 3
    if not nanos and (major, minor) == (2, 2) and network in (6, 24):
        # AIX wrote RFC 1573 interface types here (6 Ethernet, 24 loopback), with
        # nanosecond fractions: tshark recognises it by these values.
        network, nanos = (1 if network == 6 else 0), True
    if network & 0x03FF0000:
        raise CaptureFileError(
            f'"{name}": pcap link-type reserved field is not zero (0x{network & 0xFFFF0000:08x})'
        )
    linktype = network & 0xFFFF
    if linktype not in SUPPORTED_LINKTYPES:
        raise _not_supported(linktype, name)
    buf.pos += 24
    unpack_from = struct.Struct(endian + "IIII").unpack_from
    frame = 0
    divisor = 1e9 if nanos else 1e6
    # tshark keeps the fraction in a signed 32-bit count of nanoseconds: an out-of-range
    # microsecond field is multiplied by 1000 in 32 bits; either may then read as negative.
    odd_frac = (1 << 31) if nanos else 1_000_000
    scale = 1 if nanos else 1000
    while True:
        if not buf.fill(16):
            if buf.remaining:
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a packet')
            return
        # Parse every complete record in the buffer with locals only: this loop is the
        # reader's whole cost for a million packets.
        data_buf = buf.buf
        pos = buf.pos
        end = len(data_buf)
        base = buf.consumed
        while pos + 16 <= end:
            sec, frac, caplen, wirelen = unpack_from(data_buf, pos)
            if swapped or (maybe_swapped and caplen > wirelen):
                caplen, wirelen = wirelen, caplen
            if caplen > MAX_PACKET:
                raise too_big(name, frame + 1, caplen)
            start = pos + 16
            stop = start + caplen
            if stop > end:
                break
            frame += 1
            if frac >= odd_frac:
                ns = (frac * scale) & 0xFFFFFFFF
                time = sec + (ns - (1 << 32) if ns >> 31 else ns) / 1e9
            else:
                time = sec + frac / divisor
            yield (frame, time, linktype, data_buf[start:stop], wirelen, base + start)
            pos = stop
        buf.pos = pos
        if pos + 16 <= end:  # a record longer than what is buffered: read more of it
            sec, frac, caplen, wirelen = unpack_from(data_buf, pos)
            if swapped or (maybe_swapped and caplen > wirelen):
                caplen = wirelen
            if not buf.fill(16 + caplen):
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a packet')
