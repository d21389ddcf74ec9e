"""A capture writer that hands every packet to the kernel as it is captured.

Each record (header and bytes) is one ``write()`` on an unbuffered file, so once a packet has
been shown it is in the page cache: Ctrl-C, a crash or ``kill -9`` of the process loses
nothing that was on screen, and ``tcpdump -r``, tshark and ``handshake-viz replay`` read the
file even while it grows.

Classic pcap with microsecond timestamps (as tcpdump writes by default), or, where there are
socket calls and kernel states to keep with the packets, pcapng with nanosecond timestamps
and each such event in a block of its own (`sources.kernel.journal`).
"""

from __future__ import annotations

import os
import struct
from array import array
from pathlib import Path
from typing import Self

PCAP_MAGIC_US = 0xA1B2C3D4
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


def record_bytes(sec: int, usec: int, data: bytes, wirelen: int | None = None) -> bytes:
    """One pcap record: header and captured bytes (wire length: the captured length)."""
    return _RECORD.pack(sec, usec, len(data), len(data) if wirelen is None else wirelen) + data


_BLOCK_HEAD = struct.Struct("<II")
_EPB_HEAD = struct.Struct("<IIIIIII")
_U32 = struct.Struct("<I")
PCAPNG_APPLICATION = b"handshake-viz"


def pcapng_block(block_type: int, body: bytes) -> bytes:
    """One pcapng block: type, length, `body` padded to 32 bits, length again."""
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return _BLOCK_HEAD.pack(block_type, total) + body + _U32.pack(total)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_header(linktype: int, snaplen: int) -> bytes:
    """Section header (naming this program) and one interface with nanosecond times."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb += _option(4, PCAPNG_APPLICATION) + _option(0, b"")  # shb_userappl
    idb = struct.pack("<HHI", linktype, 0, snaplen) + _option(9, b"\x09") + _option(0, b"")
    return pcapng_block(0x0A0D0D0A, shb) + pcapng_block(1, idb)


def epb_bytes(sec: int, nsec: int, data: bytes, wirelen: int | None = None) -> bytes:
    """One Enhanced Packet Block on interface 0, nanosecond timestamp."""
    ts = sec * 1_000_000_000 + nsec
    n = len(data)
    total = 32 + n + (-n % 4)
    head = _EPB_HEAD.pack(
        6, total, 0, ts >> 32, ts & 0xFFFFFFFF, n, n if wirelen is None else wirelen
    )
    return head + data + b"\0" * (-n % 4) + _U32.pack(total)


class PcapWriter:
    """Append packets to a pcap file.

    Args:
        path: where to write (created or truncated); the parent directory must exist. None
            with `fd`.
        linktype: the pcap LINKTYPE of every frame (1 for ``lo``).
        snaplen: the snap length recorded in the header.
        flush_every: records per ``write()``; 1 (the default) writes each packet as it comes.
            The benchmark may batch to measure what per-packet writes cost.
        fd: an open descriptor to write to instead (a file `savefile` created safely); `path`
            then only names it.
        pcapng: write pcapng (nanosecond times, room for events) instead of pcap.
    """

    def __init__(
        self,
        path: Path | None,
        linktype: int,
        snaplen: int = 262144,
        flush_every: int = 1,
        fd: int | None = None,
        pcapng: bool = False,
    ):
        self.path = Path(path) if path is not None else None
        self.flush_every = max(1, flush_every)
        self.packets = 0
        self._pending: list[bytes] = []
        self.offsets = array("Q")
        """File offset of each record's header (frame N at offsets[N-1]): 8 bytes a packet."""
        self.lengths = array("I")
        if fd is None:
            assert self.path is not None
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._fd = fd
        self.pcapng = pcapng
        if pcapng:
            header = pcapng_header(linktype, snaplen)
        else:
            header = _GLOBAL.pack(PCAP_MAGIC_US, 2, 4, 0, 0, snaplen, linktype)
        os.write(self._fd, header)
        self._end = len(header)

    def write(self, sec: int, usec: int, data: bytes, wirelen: int) -> None:
        """Record one frame; with the default `flush_every` it is in the kernel on return."""
        record = record_bytes(sec, usec, data, wirelen)
        self.packets += 1
        self.offsets.append(self._end)
        self.lengths.append(len(data))
        self._end += len(record)
        if self.flush_every == 1:
            os.write(self._fd, record)
            return
        self._pending.append(record)
        if len(self._pending) >= self.flush_every:
            self.flush()

    def fileno(self) -> int:
        """The descriptor, to hand to the capture process (which appends at its offset)."""
        return self._fd

    def flush(self) -> None:
        """Hand any batched records to the kernel."""
        if self._pending:
            os.write(self._fd, b"".join(self._pending))
            self._pending.clear()

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
