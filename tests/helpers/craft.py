"""Capture files made byte by byte: pcap records and pcapng blocks with any field set to any
value, for tests of what the reader accepts and refuses (and for the fuzzer's mutations)."""

from __future__ import annotations

import struct

ETH_SYN = bytes.fromhex(
    "00000000000200000000000108004500002800010000400600000a0000010a000002"
    "d43100500000000100000000500220000000000000000000"
)
"""An Ethernet frame holding a TCP SYN from 10.0.0.1:54321 to 10.0.0.2:80 (60 bytes)."""

PCAP_US = 0xA1B2C3D4
PCAP_NS = 0xA1B23C4D
SHB_TYPE = 0x0A0D0D0A


def pcap_header(
    linktype: int = 1, major: int = 2, minor: int = 4, magic: int = PCAP_US, e: str = "<",
    snaplen: int = 262144,
) -> bytes:  # fmt: skip
    return struct.pack(e + "IHHiIII", magic, major, minor, 0, 0, snaplen, linktype)


def pcap_record(
    data: bytes, sec: int = 1, frac: int = 0, caplen: int | None = None,
    wirelen: int | None = None, e: str = "<",
) -> bytes:  # fmt: skip
    caplen = len(data) if caplen is None else caplen
    wirelen = len(data) if wirelen is None else wirelen
    return struct.pack(e + "IIII", sec, frac, caplen, wirelen) + data


def pcap(frames: list[bytes], linktype: int = 1, **header: int) -> bytes:
    """A pcap file of `frames`, one second apart."""
    return pcap_header(linktype, **header) + b"".join(
        pcap_record(f, sec=i + 1) for i, f in enumerate(frames)
    )


def pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def block(
    btype: int, body: bytes, total: int | None = None, trailer: int | None = None, e: str = "<"
) -> bytes:
    """A pcapng block: `body` padded to 4 bytes, between its lengths (given, or right)."""
    body = pad4(body)
    total = 12 + len(body) if total is None else total
    trailer = total if trailer is None else trailer
    return struct.pack(e + "II", btype, total) + body + struct.pack(e + "I", trailer)


def option(code: int, value: bytes, e: str = "<") -> bytes:
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def shb(major: int = 1, minor: int = 0, options: bytes = b"", e: str = "<") -> bytes:
    return block(SHB_TYPE, struct.pack(e + "IHHq", 0x1A2B3C4D, major, minor, -1) + options, e=e)


def idb(linktype: int = 1, snaplen: int = 0, options: bytes = b"", e: str = "<") -> bytes:
    return block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + options, e=e)


def epb(
    data: bytes, ifid: int = 0, ticks: int = 0, caplen: int | None = None,
    wirelen: int | None = None, options: bytes = b"", e: str = "<",
) -> bytes:  # fmt: skip
    caplen = len(data) if caplen is None else caplen
    wirelen = len(data) if wirelen is None else wirelen
    fixed = struct.pack(e + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, caplen, wirelen)
    return block(6, fixed + pad4(data) + options, e=e)


def spb(data: bytes, wirelen: int | None = None, e: str = "<") -> bytes:
    wirelen = len(data) if wirelen is None else wirelen
    return block(3, struct.pack(e + "I", wirelen) + data, e=e)


def custom_block(data: bytes, pen: int = 32473, copy: bool = True) -> bytes:
    return block(0x00000BAD if copy else 0x40000BAD, struct.pack("<I", pen) + data)


def pcapng(frames: list[bytes], linktype: int = 1) -> bytes:
    """A pcapng file of `frames` on one interface."""
    packets = b"".join(epb(f, ticks=i * 1_000_000) for i, f in enumerate(frames))
    return shb() + idb(linktype) + packets


def syns_from_ports(count: int, first_port: int = 10000) -> bytes:
    """A pcap of `count` SYNs from 10.0.0.1 to 10.0.0.2:80, each from its own port (so each
    its own stream, numbered 0 to count - 1), a millisecond apart."""
    frames = []
    for i in range(count):
        port = first_port + i
        frame = ETH_SYN[:34] + struct.pack(">H", port) + ETH_SYN[36:]
        frames.append(pcap_record(frame, sec=1 + i // 1000, frac=(i % 1000) * 1000))
    return pcap_header() + b"".join(frames)
