"""The headers of one TCP segment or UDP datagram (`Packet`), read from the bytes an IP header
points at: the last step of decoding, whatever link, network and tunnel came before.

Plain ``struct`` on bytes, as the rest of the decoder.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from handshake_viz.core.events import TruncatedPacket as Truncated

_u16 = struct.Struct("!H").unpack_from
_tcp_hdr = struct.Struct("!HHIIHHHH").unpack_from
_tcp_hdr16 = struct.Struct("!HHIIHH").unpack_from
_udp_hdr = struct.Struct("!HHHH").unpack_from

_ntoa4: dict[bytes, str] = {}
_ntoa6: dict[bytes, str] = {}


def ip4_str(raw: bytes) -> str:
    s = _ntoa4.get(raw)
    if s is None:
        if len(_ntoa4) > 100_000:
            _ntoa4.clear()
        s = _ntoa4[raw] = socket.inet_ntop(socket.AF_INET, raw)
    return s


def ip6_str(raw: bytes) -> str:
    s = _ntoa6.get(raw)
    if s is None:
        if len(_ntoa6) > 100_000:
            _ntoa6.clear()
        s = _ntoa6[raw] = socket.inet_ntop(socket.AF_INET6, raw)
    return s


@dataclass(slots=True)
class Packet:
    """The headers of one TCP segment or UDP datagram."""

    frame: int
    time: float
    proto: int
    """6 (TCP) or 17 (UDP)."""
    src: str
    dst: str
    sport: int
    dport: int
    seq: int = 0
    ack: int = 0
    flags: int = 0
    window: int = 0
    length: int = 0
    """Payload bytes according to the headers."""
    options: bytes = b""
    """Raw TCP option bytes (as far as captured)."""
    payload: bytes = b""
    """Captured payload bytes (may be shorter than `length`)."""
    urgent: int = 0
    options_cut: bool = False
    """The snaplen cut the TCP options short."""
    partial: bool = False
    """tshark cannot tell the segment's length: the first fragment of a datagram it could not
    reassemble (not all captured), or a header longer than IP says the segment is. It shows
    the header, its sequence numbers absolute, but neither a length nor any analysis."""
    outer: tuple[tuple[str, int, str, int, int], ...] = ()
    """The UDP datagrams (src, sport, dst, dport, length) of the VXLAN or Geneve tunnels this
    packet came through, outermost first: each is a UDP conversation of tshark's too."""


def read_tcp(
    frame: int,
    time: float,
    src: str,
    dst: str,
    data: bytes,
    pos: int,
    ip_len: int,
    partial: bool = False,
) -> Packet | Truncated:
    """The TCP header at `pos`; `ip_len` is the segment's length per IP (header included)."""
    have = min(len(data), pos + max(ip_len, 0)) - pos
    if have < 20:
        if have < 16:
            # tshark gives no stream to a segment cut before its window field.
            sport = _u16(data, pos)[0] if have >= 2 else None
            dport = _u16(data, pos + 2)[0] if have >= 4 else None
            return Truncated(
                frame,
                time,
                6,
                src,
                dst,
                sport,
                dport,
                f"TCP header cut short: {max(have, 0)} of 20 bytes captured",
            )
        sport, dport, seq, ack, offflags, window = _tcp_hdr16(data, pos)
        thl = (offflags >> 12) * 4
        partial = partial or ip_len < thl
        return Packet(
            frame,
            time,
            6,
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            offflags & 0x1FF,
            window,
            max(ip_len - thl, 0),
            options_cut=True,
            partial=partial,
        )
    sport, dport, seq, ack, offflags, window, _csum, urg = _tcp_hdr(data, pos)
    thl = (offflags >> 12) * 4
    # A segment shorter than its own header (per IP) has no length to tshark: "Short segment".
    partial = partial or ip_len < thl
    if thl < 20:
        # A bogus header length: tshark still numbers and analyses the segment (its length is
        # what IP says minus that header length) but shows neither options nor marks.
        return Packet(
            frame,
            time,
            6,
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            offflags & 0x1FF,
            window,
            max(ip_len - thl, 0),
            options_cut=True,
            partial=partial,
        )
    opt_end = pos + thl
    return Packet(
        frame,
        time,
        6,
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        offflags & 0x1FF,
        window,
        max(ip_len - thl, 0),
        data[pos + 20 : opt_end],
        data[opt_end : pos + ip_len],
        urg,
        len(data) < opt_end,
        partial=partial,
    )


def read_udp(
    frame: int, time: float, src: str, dst: str, data: bytes, pos: int, ip_len: int
) -> Packet | Truncated:
    """The UDP header at `pos`; `ip_len` is the datagram's length per IP."""
    have = min(len(data), pos + max(ip_len, 0)) - pos
    if have < 8:
        sport = _u16(data, pos)[0] if have >= 2 else None
        dport = _u16(data, pos + 2)[0] if have >= 4 else None
        return Truncated(
            frame,
            time,
            17,
            src,
            dst,
            sport,
            dport,
            f"UDP header cut short: {max(have, 0)} of 8 bytes captured",
        )
    sport, dport, ulen, _csum = _udp_hdr(data, pos)
    return Packet(
        frame,
        time,
        17,
        src,
        dst,
        sport,
        dport,
        length=max(ulen - 8, 0),
        payload=data[pos + 8 : pos + max(ulen, 8)],
    )
