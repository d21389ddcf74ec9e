"""A classic pcap writer that hands every packet to the kernel as it is captured.

Each record (header and bytes) is one ``write()`` on an unbuffered file, so once a packet has
been shown it is in the page cache: Ctrl-C, a crash or ``kill -9`` of the process loses
nothing that was on screen, and ``tcpdump -r``, tshark and ``handshake-viz replay`` read the
file even while it grows. Microsecond timestamps, as tcpdump writes by default.
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
    """

    def __init__(
        self,
        path: Path | None,
        linktype: int,
        snaplen: int = 262144,
        flush_every: int = 1,
        fd: int | None = None,
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
        os.write(self._fd, _GLOBAL.pack(PCAP_MAGIC_US, 2, 4, 0, 0, snaplen, linktype))
        self._end = _GLOBAL.size

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
