"""Frames made by hand, for what real programs on Linux do not send: tunnel headers this
kernel cannot make, odd headers a fuzzer finds, a sender that is not Linux-like.

Plain ``struct``: each builder returns the bytes of one layer; `PcapFile` writes frames
(optionally cut to a snaplen) with the times given.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def ether(ethertype: int, payload: bytes, src: bytes = MAC_A, dst: bytes = MAC_B) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def vlan_tags(tags: list[tuple[int, int]], inner: int) -> tuple[int, bytes]:
    """Stacked tags as (tpid, vid), outermost first: the outer ethertype and the tag bytes."""
    out = b""
    for i, (_tpid, vid) in enumerate(tags):
        nxt = tags[i + 1][0] if i + 1 < len(tags) else inner
        out += struct.pack("!HH", vid, nxt)
    return tags[0][0], out


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 1, frag: int = 0,
         total: int | None = None) -> bytes:  # fmt: skip
    """An IPv4 header and payload; `frag` is the flags-and-offset field, `total` a length to
    write instead of the real one."""
    length = 20 + len(payload) if total is None else total
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, ident, frag, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))  # fmt: skip
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + payload


def ipv6(src: str, dst: str, nxt: int, payload: bytes) -> bytes:
    return (
        struct.pack("!IHBB", 0x60000000, len(payload), nxt, 64)
        + socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + payload
    )


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, window: int = 65535,
        options: bytes = b"", payload: bytes = b"", offset: int | None = None
        ) -> bytes:  # fmt: skip
    """A TCP header (options padded to 4 bytes) and payload; `offset` overrides the header
    length field (in 4-byte words)."""
    options += b"\x01" * (-len(options) % 4)
    words = (20 + len(options)) // 4 if offset is None else offset
    return (
        struct.pack(
            "!HHIIHHHH",
            sport,
            dport,
            seq & 0xFFFFFFFF,
            ack & 0xFFFFFFFF,
            (words << 12) | flags,
            window,
            0,
            0,
        )  # fmt: skip
        + options
        + payload
    )


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def mss(value: int) -> bytes:
    return struct.pack("!BBH", 2, 4, value)


def wscale(shift: int) -> bytes:
    return struct.pack("!BBB", 3, 3, shift)


def tfo(cookie: bytes = b"") -> bytes:
    return struct.pack("!BB", 34, 2 + len(cookie)) + cookie


@dataclass
class PcapFile:
    """Frames for a classic pcap file (Ethernet unless told), each with its time and snaplen."""

    linktype: int = 1
    frames: list[tuple[float, bytes, int | None]] = field(default_factory=list)

    def add(self, time: float, frame: bytes, snaplen: int | None = None) -> None:
        self.frames.append((time, frame, snaplen))

    def write(self, path: Path) -> None:
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, self.linktype))
            for time, frame, snaplen in self.frames:
                kept = frame if snaplen is None else frame[:snaplen]
                sec = int(time)
                usec = round((time - sec) * 1e6)
                f.write(struct.pack("<IIII", sec, usec, len(kept), len(frame)))
                f.write(kept)


@dataclass
class Conversation:
    """Both ends of one TCP connection over Ethernet and IPv4, numbered by hand."""

    out: PcapFile
    client: tuple[str, int]
    server: tuple[str, int]
    t: float = 1_700_000_000.0

    def send(self, from_client: bool, dt: float, seq: int, ack: int, flags: int,
             window: int = 65535, options: bytes = b"", payload: bytes = b"") -> None:  # fmt: skip
        """One segment, `dt` seconds after the previous one."""
        self.t += dt
        (src, sport), (dst, dport) = (
            (self.client, self.server) if from_client else (self.server, self.client)
        )
        segment = tcp(sport, dport, seq, ack, flags, window, options, payload)
        self.out.add(self.t, ether(0x0800, ipv4(src, dst, 6, segment)))
