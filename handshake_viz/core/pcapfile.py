"""Readers for pcap and pcapng files, from a path or a stream (stdin), without Scapy.

Records are read from raw bytes with ``struct`` so that a million packets take seconds, not
minutes. A stream is parsed as its bytes arrive (``read1``), so ``tcpdump -U -w - | ...``
shows packets as they happen. Errors mirror tshark's: an unsupported or corrupt file raises
`CaptureFileError` before any record; a file cut mid-record yields every complete record first.

This module knows nothing of the UI or of sockets.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, NamedTuple

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BOM = 0x1A2B3C4D

CHUNK = 1 << 20
"""Bytes asked for per read: large for files; a pipe returns what it has (read1)."""


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


class _Buffer:
    """Bytes from a stream, read as they come, with a moving read position."""

    __slots__ = ("stream", "buf", "pos", "eof", "consumed")

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.consumed = 0
        """File offset of buf[0]."""

    def fill(self, need: int) -> bool:
        """Make at least `need` bytes available from `pos`; False at end of stream."""
        while len(self.buf) - self.pos < need:
            if self.eof:
                return False
            read1 = getattr(self.stream, "read1", None)
            chunk = read1(max(CHUNK, need)) if read1 else self.stream.read(max(CHUNK, need))
            if not chunk:
                self.eof = True
                return False
            self.consumed += self.pos
            self.buf = self.buf[self.pos :] + chunk
            self.pos = 0
        return True

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    @property
    def offset(self) -> int:
        return self.consumed + self.pos


Journal = Callable[[int, bytes], None]
"""Told of each pcapng systemd Journal Export Block: its frame number and the entry's bytes."""


def read_records(
    stream: BinaryIO, name: str = "-", journal: Journal | None = None
) -> Iterator[RawRecord]:
    """Yield the packet records of a pcap or pcapng stream, in file order.

    A pcapng journal entry (block type 9) takes a frame number, as tshark counts it, and goes
    to `journal` if given.

    Raises:
        CaptureFileError: empty, unknown format, unsupported version or link type, corrupt.
        CaptureCutShort: after the last complete record, when the file ends mid-record.
    """
    buf = _Buffer(stream)
    if not buf.fill(4):
        if buf.remaining == 0:
            raise CaptureFileError(f'"{name}" is empty: there is no capture in it')
        raise CaptureCutShort(f'"{name}" is cut short in its file header')
    magic_le = struct.unpack_from("<I", buf.buf, 0)[0]
    if magic_le == PCAPNG_SHB:
        yield from _read_pcapng(buf, name, journal)
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


def _read_pcap(buf: _Buffer, name: str, endian: str) -> Iterator[RawRecord]:
    if not buf.fill(24):
        raise CaptureCutShort(f'"{name}" is cut short in its pcap file header')
    magic, major, minor, _zone, _sigfigs, _snaplen, network = struct.unpack_from(
        endian + "IHHiIII", buf.buf, buf.pos
    )
    nanos = magic == PCAP_MAGIC_NS
    if major != 2:
        raise CaptureFileError(f'"{name}": pcap major version {major} is not supported')
    if network & 0x03FF0000:
        raise CaptureFileError(
            f'"{name}": pcap link-type reserved field is not zero (0x{network & 0xFFFF0000:08x})'
        )
    linktype = network & 0xFFFF
    _check_linktype(linktype, name)
    buf.pos += 24
    unpack_from = struct.Struct(endian + "IIII").unpack_from
    frame = 0
    divisor = 1e9 if nanos else 1e6
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
            if caplen > 262144 * 4:
                raise CaptureFileError(
                    f'"{name}" is corrupt: frame {frame + 1} claims {caplen} captured bytes'
                )
            start = pos + 16
            stop = start + caplen
            if stop > end:
                break
            frame += 1
            if frac >= 1_000_000 and not nanos:
                # tshark keeps an out-of-range microsecond field as nanoseconds (x1000, 32 bits).
                time = sec + ((frac * 1000) & 0xFFFFFFFF) / 1e9
            else:
                time = sec + frac / divisor
            yield (frame, time, linktype, data_buf[start:stop], wirelen, base + start)
            pos = stop
        buf.pos = pos
        if pos + 16 <= end:  # a record longer than what is buffered: read more of it
            caplen = unpack_from(data_buf, pos)[2]
            if not buf.fill(16 + caplen):
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a packet')


_SUPPORTED_LINKTYPES = {0, 1, 101, 108, 113, 228, 229, 239, 276}


def _check_linktype(linktype: int, name: str) -> None:
    if linktype not in _SUPPORTED_LINKTYPES:
        raise CaptureFileError(
            f'"{name}": link type {linktype} is not supported '
            "(Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback and NFLOG are)"
        )


def _read_pcapng(buf: _Buffer, name: str, journal: Journal | None) -> Iterator[RawRecord]:
    endian = "<"
    interfaces: list[tuple[int, float, float]] = []
    """Per interface of the current section: (linktype, seconds per tick, offset seconds)."""
    frame = 0
    corrupt = f'"{name}" appears to be damaged or corrupt'
    while True:
        if not buf.fill(8):
            if buf.remaining:
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a block')
            return
        offset = buf.offset
        block_type = struct.unpack_from(endian + "I", buf.buf, buf.pos)[0]
        if block_type == PCAPNG_SHB:
            if not buf.fill(12):
                raise CaptureCutShort(f'"{name}" is cut short in a section header')
            bom = struct.unpack_from("<I", buf.buf, buf.pos + 8)[0]
            if bom == PCAPNG_BOM:
                endian = "<"
            elif bom == 0x4D3C2B1A:
                endian = ">"
            else:
                raise CaptureFileError(f"{corrupt} (pcapng: bad byte-order magic 0x{bom:08x})")
            interfaces = []
        total = struct.unpack_from(endian + "I", buf.buf, buf.pos + 4)[0]
        if total < 12 or total % 4:
            raise CaptureFileError(f"{corrupt} (pcapng: block length {total} is invalid)")
        if not buf.fill(total):
            raise CaptureCutShort(f'"{name}" is cut short in the middle of a block')
        body = buf.buf[buf.pos + 8 : buf.pos + total - 4]
        trailer = struct.unpack_from(endian + "I", buf.buf, buf.pos + total - 4)[0]
        buf.pos += total
        if trailer != total:
            raise CaptureFileError(
                f"{corrupt} (pcapng: block lengths {total} and {trailer} differ)"
            )
        if block_type == PCAPNG_SHB:
            if len(body) < 16:
                raise CaptureFileError(f"{corrupt} (pcapng: section header too short)")
            major, minor = struct.unpack_from(endian + "HH", body, 4)
            if (major, minor) != (1, 0):
                raise CaptureFileError(
                    f'"{name}": pcapng section header version {major}.{minor} is not supported'
                )
            for _ in _options(body, 16, endian, corrupt):
                pass
        elif block_type == 1:  # Interface Description Block
            if len(body) < 8:
                raise CaptureFileError(f"{corrupt} (pcapng: interface block too short)")
            linktype = struct.unpack_from(endian + "H", body, 0)[0]
            tick, tsoffset = 1e-6, 0.0
            for code, value in _options(body, 8, endian, corrupt):
                if code == 9 and value:  # if_tsresol
                    r = value[0]
                    tick = 2.0 ** -(r & 0x7F) if r & 0x80 else 10.0 ** -(r & 0x7F)
                elif code == 14 and len(value) >= 8:  # if_tsoffset
                    tsoffset = float(struct.unpack_from(endian + "q", value)[0])
            interfaces.append((linktype, tick, tsoffset))
        elif block_type in (6, 2, 3):  # Enhanced, obsolete and Simple Packet Blocks
            if block_type == 3:
                if len(body) < 4:
                    raise CaptureFileError(f"{corrupt} (pcapng: packet block too short)")
                ifid, ts_ticks = 0, None
                wirelen = struct.unpack_from(endian + "I", body, 0)[0]
                data_start = 4
                caplen = min(wirelen, len(body) - 4)
            else:
                if len(body) < 20:
                    raise CaptureFileError(f"{corrupt} (pcapng: packet block too short)")
                if block_type == 6:
                    ifid, hi, lo, caplen, wirelen = struct.unpack_from(endian + "IIIII", body, 0)
                else:
                    ifid, _drops, hi, lo, caplen, wirelen = struct.unpack_from(
                        endian + "HHIIII", body, 0
                    )
                ts_ticks = (hi << 32) | lo
                data_start = 20
                if caplen > len(body) - 20:
                    raise CaptureFileError(
                        f"{corrupt} (pcapng: packet of {caplen} bytes in a smaller block)"
                    )
            if ifid >= len(interfaces):
                raise CaptureFileError(
                    f"{corrupt} (pcapng: interface index {ifid} is not less than section "
                    f"interface count {len(interfaces)})"
                )
            linktype, tick, tsoffset = interfaces[ifid]
            _check_linktype(linktype, name)
            frame += 1
            time = 0.0 if ts_ticks is None else ts_ticks * tick + tsoffset
            yield (
                frame,
                time,
                linktype,
                body[data_start : data_start + caplen],
                wirelen,
                offset + 8 + data_start,
            )
        elif block_type == 9:  # systemd Journal Export Block: a frame to tshark
            frame += 1
            if journal is not None:
                journal(frame, body)
        # Other blocks (name resolution, statistics, custom, ...) carry no packet.


def _options(body: bytes, pos: int, endian: str, corrupt: str) -> Iterator[tuple[int, bytes]]:
    """Walk a pcapng option list; raise on an option that runs past its block."""
    end = len(body)
    while pos + 4 <= end:
        code, length = struct.unpack_from(endian + "HH", body, pos)
        pos += 4
        if code == 0:
            return
        if pos + length > end:
            raise CaptureFileError(
                f"{corrupt} (pcapng: not enough data to handle option of length {length})"
            )
        yield code, body[pos : pos + length]
        pos += (length + 3) & ~3
