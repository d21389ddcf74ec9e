"""Decode captured frames into TCP and UDP headers, from raw bytes.

Link layers: Ethernet (with stacked 802.1Q/802.1ad tags), Linux cooked SLL and SLL2, raw IP,
BSD loopback (NULL and LOOP) and NFLOG. Network layers: IPv4 (fragments reassembled, as tshark
does by default) and IPv6 (extension headers, fragments). Lengths come from the IP and TCP
headers, so a packet cut short by the snaplen keeps its real payload length.

This is the hot path of replay: plain ``struct`` on bytes, no Scapy, no per-packet objects
beyond the one `Packet` returned. It knows nothing of the UI or of sockets.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

from handshake_viz.core.events import TruncatedPacket as Truncated

_ETH_VLAN = (0x8100, 0x88A8, 0x9100)
_IPV6_EXT = (0, 43, 60, 135, 139, 140)
"""IPv6 extension headers with the generic (next, length in 8-octet units) layout."""

_u16 = struct.Struct("!H").unpack_from
_u32 = struct.Struct("!I").unpack_from
_ipv4_hdr = struct.Struct("!BBHHHBBH4s4s").unpack_from
_tcp_hdr = struct.Struct("!HHIIHHHH").unpack_from
_eth_ip4_tcp = struct.Struct("!12xHBxH2xH1xB2x4s4sHHIIHH").unpack_from
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


def _fast_header(linktype: int, data: bytes) -> tuple[Any, ...] | None:
    """`_eth_ip4_tcp`'s fields of a frame on the decoder's fast path, else None.

    The fast path: Ethernet, IPv4 without options, an unfragmented TCP segment whose header is
    captured; such a frame always decodes to a `Packet`. The one definition of it, for
    `FrameDecoder.decode` and `fast_tcp_ports`.
    """
    if linktype != 1 or len(data) < 54:
        return None
    header = _eth_ip4_tcp(data)
    etype, vihl, total, frag, proto, _, _, _, _, _, _, offflags, _ = header
    thl = (offflags >> 12) << 2
    if (etype != 0x0800 or vihl != 0x45 or proto != 6 or frag & 0x3FFF or thl < 20
            or len(data) < 34 + thl or total < 20 + thl):  # fmt: skip
        return None
    return header


def fast_tcp_ports(linktype: int, data: bytes) -> int:
    """sport + dport of a frame `FrameDecoder.decode` reads on its fast path, else -1.

    One unpack, for the index workers, which must tell whose stream a frame is without
    decoding the others' frames.
    """
    header = _fast_header(linktype, data)
    return -1 if header is None else header[7] + header[8]


class Defragmenter:
    """Reassemble IP fragments, as tshark does: the datagram appears on its last fragment."""

    def __init__(self, limit: int = 4096) -> None:
        self._pending: dict[tuple[Any, ...], dict[int, tuple[bytes, bool]]] = {}
        self._limit = limit

    def add(self, key: tuple[Any, ...], offset: int, more: bool, data: bytes) -> bytes | None:
        """Add one fragment's payload; return the whole datagram once every piece is in."""
        parts = self._pending.get(key)
        if parts is None:
            if len(self._pending) >= self._limit:
                self._pending.pop(next(iter(self._pending)))
            parts = self._pending[key] = {}
        parts[offset] = (data, more)
        # Complete when pieces from 0 are contiguous up to one without "more fragments".
        pos = 0
        chunks = []
        while True:
            piece = parts.get(pos)
            if piece is None:
                # Overlapping or out-of-order pieces: look for one that covers pos.
                for off, (d, m) in parts.items():
                    if off < pos < off + len(d):
                        piece = (d[pos - off :], m)
                        break
                else:
                    return None
            d, m = piece
            chunks.append(d)
            pos += len(d)
            if not m:
                del self._pending[key]
                return b"".join(chunks)
            if not d:
                return None


class FrameDecoder:
    """Turn captured frames into `Packet`s; one instance per capture (it holds fragments)."""

    def __init__(self) -> None:
        self.defrag = Defragmenter()

    def decode(
        self, frame: int, time: float, linktype: int, data: bytes
    ) -> Packet | Truncated | None:
        """Decode one frame; None when it carries neither TCP nor UDP (or awaits fragments)."""
        header = _fast_header(linktype, data)
        if header is not None:
            # The common case (Ethernet, IPv4 without options, unfragmented TCP) in one unpack.
            _, _, total, _, _, src, dst, sport, dport, seq, ack, offflags, window = header
            thl = (offflags >> 12) << 2
            opt_end = 34 + thl
            s = _ntoa4.get(src) or ip4_str(src)
            d = _ntoa4.get(dst) or ip4_str(dst)
            return Packet(
                frame,
                time,
                6,
                s,
                d,
                sport,
                dport,
                seq,
                ack,
                offflags & 0x1FF,
                window,
                total - 20 - thl,
                data[54:opt_end],
                data[opt_end : 14 + total],
            )
        off = 0
        if linktype == 1:  # Ethernet
            if len(data) < 14:
                return None
            etype = (data[12] << 8) | data[13]
            off = 14
            while etype in _ETH_VLAN and len(data) >= off + 4:
                etype = (data[off + 2] << 8) | data[off + 3]
                off += 4
            if etype == 0x0800:
                return self._ipv4(frame, time, data, off)
            if etype == 0x86DD:
                return self._ipv6(frame, time, data, off)
            return None
        if linktype in (101, 228, 229):  # raw IP
            if not data:
                return None
            v = data[0] >> 4
        elif linktype == 113:  # Linux cooked (SLL)
            if len(data) < 16:
                return None
            etype, off = (data[14] << 8) | data[15], 16
            v = 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
        elif linktype == 276:  # Linux cooked v2 (SLL2)
            if len(data) < 20:
                return None
            etype, off = (data[0] << 8) | data[1], 20
            v = 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
        elif linktype in (0, 108):  # BSD loopback: address family, host or network order
            if len(data) < 4:
                return None
            af = struct.unpack_from(">I" if linktype == 108 else "<I", data)[0]
            if af > 0xFFFF:
                af = int.from_bytes(data[:4], "big" if linktype != 108 else "little")
            off = 4
            v = 4 if af == 2 else 6 if af in (24, 28, 30, 10) else 0
        elif linktype == 239:  # NFLOG
            return self._nflog(frame, time, data)
        else:
            return None
        if v == 4:
            return self._ipv4(frame, time, data, off)
        if v == 6:
            return self._ipv6(frame, time, data, off)
        return None

    def _nflog(self, frame: int, time: float, data: bytes) -> Packet | Truncated | None:
        if len(data) < 4:
            return None
        family = data[0]
        pos = 4
        while pos + 4 <= len(data):
            tlv_len, tlv_type = struct.unpack_from("<HH", data, pos)
            if tlv_len < 4:
                return None
            if tlv_type == 9:  # NFULA_PAYLOAD
                payload = data[pos + 4 : pos + tlv_len]
                if family == 2:
                    return self._ipv4(frame, time, payload, 0)
                if family == 10:
                    return self._ipv6(frame, time, payload, 0)
                return None
            pos += (tlv_len + 3) & ~3
        return None

    def _ipv4(self, frame: int, time: float, data: bytes, off: int) -> Packet | Truncated | None:
        if len(data) < off + 20:
            return None
        vihl, _tos, total, ident, frag, _ttl, proto, _csum, src, dst = _ipv4_hdr(data, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20 or (proto != 6 and proto != 17):
            return None
        if frag & 0x3FFF:  # more fragments, or an offset: a piece of a larger datagram
            piece = data[off + ihl : off + total]
            whole = self.defrag.add(
                (4, src, dst, ident, proto), (frag & 0x1FFF) * 8, bool(frag & 0x2000), piece
            )
            if whole is None:
                return None
            return self._transport(
                frame, time, proto, ip4_str(src), ip4_str(dst), whole, 0, len(whole)
            )
        end = off + total if total >= ihl else len(data)
        return self._transport(
            frame, time, proto, ip4_str(src), ip4_str(dst), data, off + ihl, end - off - ihl
        )

    def _ipv6(self, frame: int, time: float, data: bytes, off: int) -> Packet | Truncated | None:
        if len(data) < off + 40:
            return None
        plen = (data[off + 4] << 8) | data[off + 5]
        nxt = data[off + 6]
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        pos = off + 40
        remaining = plen
        while nxt != 6 and nxt != 17:
            if nxt in _IPV6_EXT:
                if len(data) < pos + 2:
                    return None
                hlen = (data[pos + 1] + 1) * 8
                nxt = data[pos]
            elif nxt == 51:  # AH: length in 4-octet units, minus 2
                if len(data) < pos + 2:
                    return None
                hlen = (data[pos + 1] + 2) * 4
                nxt = data[pos]
            elif nxt == 44:  # fragment header
                if len(data) < pos + 8:
                    return None
                nxt = data[pos]
                fo = (data[pos + 2] << 8) | data[pos + 3]
                ident = _u32(data, pos + 4)[0]
                pos += 8
                remaining -= 8
                if fo & 0xFFF9 == 0:  # offset 0 and no "more": an atomic fragment
                    continue
                piece = data[pos : pos + remaining]
                whole = self.defrag.add((6, src, dst, ident), fo & 0xFFF8, bool(fo & 1), piece)
                if whole is None or (nxt != 6 and nxt != 17):
                    return None
                return self._transport(
                    frame, time, nxt, ip6_str(src), ip6_str(dst), whole, 0, len(whole)
                )
            else:
                return None
            pos += hlen
            remaining -= hlen
        return self._transport(frame, time, nxt, ip6_str(src), ip6_str(dst), data, pos, remaining)

    @staticmethod
    def _transport(
        frame: int, time: float, proto: int, src: str, dst: str, data: bytes, pos: int, ip_len: int
    ) -> Packet | Truncated | None:
        """Read the TCP or UDP header at `pos`; `ip_len` is the transport length per IP."""
        have = len(data) - pos
        if proto == 6:
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
                )
            sport, dport, seq, ack, offflags, window, _csum, urg = _tcp_hdr(data, pos)
            thl = (offflags >> 12) * 4
            if thl < 20:
                return Truncated(
                    frame,
                    time,
                    6,
                    src,
                    dst,
                    sport,
                    dport,
                    f"bogus TCP header length {thl} (less than 20)",
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
            )
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
