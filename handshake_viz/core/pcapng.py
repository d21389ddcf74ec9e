"""The pcapng reader: blocks, sections and interfaces, read as tshark 4.0 reads them.

Every block is checked from its 8-byte header before its body is read: a total length above
`MAX_BLOCK`, or below the size its kind needs, is corrupt at once. A block's length is
rounded up to a multiple of 4, and so is its trailing copy before the two are compared, as
wiretap does. What becomes a frame is what tshark numbers as one: packet blocks (enhanced,
simple, obsolete), custom blocks and the event blocks of systemd and Sysdig; their frame
numbers are tshark's. A frame whose interface has a link type `decode` does not read is
yielded all the same (and counted), so the other interfaces' packets keep their numbers.

To read another kind of block (comments, a custom block of one's own), add a `BlockKind` to
`BLOCK_KINDS` with a reader that gets the block's body (`Block`, its `options` walked with
`options`) and returns a `Frame`, or None for a block that is no frame.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from handshake_viz.core.pcapfile import (
    MAX_PACKET,
    PCAPNG_SHB,
    SUPPORTED_LINKTYPES,
    Buffer,
    CaptureCutShort,
    CaptureFileError,
    Journal,
    RawRecord,
)

PCAPNG_BOM = 0x1A2B3C4D
MAX_BLOCK = 12 + 20 + 128 * 1024 * 1024 + 131072
"""tshark's largest block: an enhanced packet block holding the largest D-Bus packet (128 MiB)
and 128 KiB of options. Larger is corrupt, said from the header."""
JOURNAL_BLOCK = 9
"""systemd's Journal Export Block: a frame to tshark; the kernel's view keeps its events in
them, so they go to the reader's `journal`, not into its records."""
NO_LINKTYPE = 0xFFFF
"""The link type of a frame that is no packet (a custom or event block): nothing decodes it."""


@dataclass(slots=True)
class Interface:
    """What an interface description block says about the packets of that interface."""

    linktype: int
    snaplen: int
    units: float = 1e6
    """Timestamp units per second (if_tsresol)."""
    offset: int = 0
    """Seconds added to every timestamp (if_tsoffset)."""


@dataclass(slots=True)
class Section:
    """The state a section header block starts afresh."""

    endian: str = "<"
    interfaces: list[Interface] = field(default_factory=list)


@dataclass(slots=True)
class Block:
    """One block being read: its bytes are ``data[start:end]`` (the body, without the 8-byte
    header and the 4-byte trailer)."""

    type: int
    data: bytes
    start: int
    end: int
    section: Section
    name: str
    """The capture's name, for messages."""

    def corrupt(self, detail: str) -> CaptureFileError:
        why = f'"{self.name}" appears to be damaged or corrupt'
        return CaptureFileError(f"{why} (pcapng: {detail})")


Frame = tuple[int, bytes, int, int | None, Interface | None]
"""What a block reader returns for a frame: link type, data, length on the wire, timestamp
ticks (None: no time) and the interface whose units they are in (None for a frame that is no
packet: it is not counted as one of an unsupported link type)."""


@dataclass(frozen=True, slots=True)
class BlockKind:
    """How to read one kind of block."""

    name: str
    min_size: int
    """The smallest total length this kind of block may have (tshark's check)."""
    read: Callable[[Block], Frame | None] | None
    """None: the block is skipped as its bytes stream by."""
    data_at: int = 0
    """Where a frame's bytes start in the block's body (for the frame index)."""


def _ru32(b: Block, at: int) -> int:
    value: int = struct.unpack_from(b.section.endian + "I", b.data, b.start + at)[0]
    return value


def options(b: Block, at: int, kind: str) -> Iterator[tuple[int, bytes]]:
    """The options of a block from body offset `at`, checked as tshark checks them."""
    data, endian, pos, end = b.data, b.section.endian, b.start + at, b.end
    unpack = struct.Struct(endian + "HH").unpack_from
    while pos + 4 <= end:
        code, length = unpack(data, pos)
        pos += 4
        if code == 0:
            return
        if pos + length > end:
            raise b.corrupt(f"not enough data to handle option of length {length}")
        bad = _OPTION_RULES.get((kind, code)) or _CUSTOM_OPTION.get(code)
        if bad is not None and bad(length):
            raise b.corrupt(f"{kind} block option {code} cannot have length {length}")
        yield code, data[pos : pos + length]
        pos += (length + 3) & ~3


_OPTION_RULES: dict[tuple[str, int], Callable[[int], bool]] = {
    ("packet", 2): lambda n: n != 4,  # epb_flags
    ("packet", 4): lambda n: n != 8,  # epb_dropcount
    ("packet", 5): lambda n: n != 8,  # epb_packetid
    ("packet", 6): lambda n: n != 4,  # epb_queue
    ("packet", 7): lambda n: n < 1,  # epb_verdict
    ("interface", 11): lambda n: n < 1,  # if_filter
}
"""Options whose length tshark checks, by (kind of block, option code): True means corrupt
(found by giving tshark every option code from 1 to 19 at lengths 0 to 18, in each block)."""
_CUSTOM_OPTION: dict[int, Callable[[int], bool]] = dict.fromkeys(
    (2988, 2989, 19372, 19373), lambda n: n < 4
)
"""Custom options, in any block, start with a 4-byte enterprise number."""


def _section_header(b: Block) -> Frame | None:
    major, minor = struct.unpack_from(b.section.endian + "HH", b.data, b.start + 4)
    if major != 1 or minor not in (0, 2):
        raise CaptureFileError(
            f'"{b.name}": pcapng section header version {major}.{minor} is not supported'
        )
    for _ in options(b, 16, "section"):
        pass
    return None


def _interface(b: Block) -> Frame | None:
    linktype, _reserved, snaplen = struct.unpack_from(b.section.endian + "HHI", b.data, b.start)
    iface = Interface(linktype, snaplen)
    for code, value in options(b, 8, "interface"):
        if code == 9 and len(value) == 1:  # if_tsresol: a power of 10, or of 2 with the top bit
            base, exponent = (2, value[0] & 0x7F) if value[0] & 0x80 else (10, value[0])
            fits = exponent < (64 if base == 2 else 20)
            iface.units = float(base**exponent if fits else (1 << 64) - 1)
        elif code == 14 and len(value) == 8:  # if_tsoffset
            iface.offset = struct.unpack_from(b.section.endian + "q", value)[0]
    b.section.interfaces.append(iface)
    return None


def _on_interface(b: Block, ifid: int) -> Interface:
    interfaces = b.section.interfaces
    if ifid >= len(interfaces):
        raise b.corrupt(f"interface index {ifid} is not less than section interface count "
                        f"{len(interfaces)}")  # fmt: skip
    return interfaces[ifid]


def _packet(b: Block, fixed: str) -> Frame:
    """An enhanced (6) or obsolete (2) packet block: `fixed` unpacks its first 20 bytes."""
    fields = struct.unpack_from(b.section.endian + fixed, b.data, b.start)
    if len(fields) == 5:
        ifid, hi, lo, caplen, wirelen = fields
    else:
        ifid, _drops, hi, lo, caplen, wirelen = fields
    if caplen > MAX_PACKET:
        raise b.corrupt(f"cap_len {caplen} is larger than {MAX_PACKET}")
    padded = (caplen + 3) & ~3
    if b.start + 20 + padded > b.end:
        raise b.corrupt(
            f"total block length {b.end - b.start + 12} is too small for {caplen} bytes of "
            "packet data"
        )
    iface = _on_interface(b, ifid)
    if b.start + 20 + padded < b.end:
        for _ in options(b, 20 + padded, "packet"):
            pass
    data = b.data[b.start + 20 : b.start + 20 + caplen]
    return iface.linktype, data, wirelen, (hi << 32) | lo, iface


def _simple_packet(b: Block) -> Frame:
    if not b.section.interfaces:
        raise b.corrupt("SPB appeared before any IDBs in the section")
    iface = b.section.interfaces[0]
    wirelen = _ru32(b, 0)
    caplen = min(wirelen, iface.snaplen) if iface.snaplen else wirelen
    if caplen > MAX_PACKET:
        raise b.corrupt(f"cap_len {caplen} is larger than {MAX_PACKET}")
    padded = (caplen + 3) & ~3
    if b.start + 4 + padded > b.end:
        raise b.corrupt(
            f"total block length {b.end - b.start + 12} is too small for {caplen} bytes of "
            "packet data"
        )
    if b.start + 4 + padded < b.end:
        # tshark expects the trailer right after the data, where it reads something else.
        raise b.corrupt("simple packet block longer than its packet")
    return iface.linktype, b.data[b.start + 4 : b.start + 4 + caplen], wirelen, None, iface


def _opaque(skip: int) -> Callable[[Block], Frame]:
    """A block tshark shows as a frame of its bytes after `skip` (a custom or event block)."""

    def read(b: Block) -> Frame:
        data = b.data[b.start + skip : b.end]
        return NO_LINKTYPE, data, len(data), None, None

    return read


def _statistics(b: Block) -> Frame | None:
    for _ in options(b, 12, "statistics"):
        pass
    return None


BLOCK_KINDS: dict[int, BlockKind] = {
    PCAPNG_SHB: BlockKind("SHB", 28, _section_header),
    1: BlockKind("IDB", 20, _interface),
    2: BlockKind("PB", 32, lambda b: _packet(b, "HHIIII"), data_at=20),
    3: BlockKind("SPB", 16, _simple_packet, data_at=4),
    4: BlockKind("NRB", 16, None),
    5: BlockKind("ISB", 24, _statistics),
    6: BlockKind("EPB", 32, lambda b: _packet(b, "IIIII"), data_at=20),
    JOURNAL_BLOCK: BlockKind("systemd journal export block", 35, _opaque(0)),
    0xA: BlockKind("DSB", 20, None),
    0x204: BlockKind("Sysdig event block", 36, _opaque(0)),
    0x216: BlockKind("Sysdig event block", 40, _opaque(0)),
    0x221: BlockKind("Sysdig event block", 40, _opaque(0)),
    0x00000BAD: BlockKind("CB", 16, _opaque(4), data_at=4),
    0x40000BAD: BlockKind("CB", 16, _opaque(4), data_at=4),
}
"""The blocks read for what they hold; any other kind is skipped unread (at least 12 bytes)."""

_SKIPPED = BlockKind("block", 12, None)


def read_pcapng(
    buf: Buffer, name: str, unsupported: dict[int, int], journal: Journal | None = None
) -> Iterator[RawRecord]:
    """Yield the frames of a pcapng stream whose first bytes are in `buf`; count in
    `unsupported` the frames of link types `decode` does not read; hand journal entries to
    `journal` (numbered as frames, not yielded)."""
    section = Section()
    frame = 0
    why = f'"{name}" appears to be damaged or corrupt'
    header = struct.Struct("<II").unpack_from
    packet = struct.Struct("<IIIIIII").unpack_from
    trailer = struct.Struct("<I").unpack_from
    supported = SUPPORTED_LINKTYPES
    while True:
        # The common case first, with locals only: an enhanced packet block with no options,
        # its trailer equal to its length, on a known interface. Anything else (and every
        # error) goes the general way below, one block at a time.
        data, pos, base, interfaces = buf.buf, buf.pos, buf.consumed, section.interfaces
        end = len(data)
        while pos + 28 <= end:
            btype, total, ifid, hi, lo, caplen, wirelen = packet(data, pos)
            if (btype != 6 or total != 32 + ((caplen + 3) & ~3) or pos + total > end
                    or caplen > MAX_PACKET or ifid >= len(interfaces)
                    or trailer(data, pos + total - 4)[0] != total):  # fmt: skip
                break
            iface = interfaces[ifid]
            linktype = iface.linktype
            if linktype not in supported:
                unsupported[linktype] = unsupported.get(linktype, 0) + 1
            frame += 1
            yield (frame, ((hi << 32) | lo) / iface.units + iface.offset, linktype,
                   data[pos + 28 : pos + 28 + caplen], wirelen, base + pos + 28)  # fmt: skip
            pos += total
        buf.pos = pos
        if not buf.fill(8):
            if buf.remaining:
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a block')
            return
        block_type, total = header(buf.buf, buf.pos)
        if block_type == PCAPNG_SHB:
            if not buf.fill(12):
                raise CaptureCutShort(f'"{name}" is cut short in a section header')
            bom = struct.unpack_from("<I", buf.buf, buf.pos + 8)[0]
            if bom == PCAPNG_BOM:
                endian = "<"
            elif bom == 0x4D3C2B1A:
                endian = ">"
            else:
                raise CaptureFileError(f"{why} (pcapng: bad byte-order magic 0x{bom:08x})")
            section = Section(endian)
            header = struct.Struct(endian + "II").unpack_from
            packet = struct.Struct(endian + "IIIIIII").unpack_from
            trailer = struct.Struct(endian + "I").unpack_from
            total = header(buf.buf, buf.pos)[1]
        kind = BLOCK_KINDS.get(block_type, _SKIPPED)
        if total > MAX_BLOCK:
            raise CaptureFileError(f"{why} (pcapng: total block length {total} is too large "
                                   f"(> {MAX_BLOCK}))")  # fmt: skip
        size = (total + 3) & ~3
        if size < kind.min_size:
            raise CaptureFileError(f"{why} (pcapng: total block length {total} of a "
                                   f"{kind.name} is too small (< {kind.min_size}))")  # fmt: skip
        offset = buf.offset
        if kind.read is None:
            if not buf.skip(size - 4) or not buf.fill(4):
                raise CaptureCutShort(f'"{name}" is cut short in the middle of a block')
            _check_trailer(buf, section.endian, size, why)
            buf.pos += 4
            continue
        if not buf.fill(size):
            raise CaptureCutShort(f'"{name}" is cut short in the middle of a block')
        start = buf.pos
        block = Block(block_type, buf.buf, start + 8, start + size - 4, section, name)
        got = kind.read(block)
        buf.pos = start + size - 4
        _check_trailer(buf, section.endian, size, why)
        buf.pos += 4
        if got is None:
            continue
        linktype, data, wirelen, ticks, iface = got
        frame += 1
        if block_type == JOURNAL_BLOCK:
            if journal is not None:
                journal(frame, data)
            continue
        if iface is not None and linktype not in SUPPORTED_LINKTYPES:
            unsupported[linktype] = unsupported.get(linktype, 0) + 1
        time = 0.0 if ticks is None or iface is None else ticks / iface.units + iface.offset
        yield (frame, time, linktype, data, wirelen, offset + 8 + kind.data_at)


def _check_trailer(buf: Buffer, endian: str, size: int, why: str) -> None:
    trailer = struct.unpack_from(endian + "I", buf.buf, buf.pos)[0]
    if (trailer + 3) & ~3 != size:
        raise CaptureFileError(
            f"{why} (pcapng: total block lengths (first {size} and second {trailer}) don't match)"
        )
