"""Decode captured frames into TCP and UDP headers, from raw bytes.

Link layers: Ethernet (with stacked 802.1Q/802.1ad tags), Linux cooked SLL and SLL2, raw IP,
BSD loopback (NULL and LOOP) and NFLOG. Network layers: IPv4 (fragments reassembled, as tshark
does by default) and IPv6 (extension headers, fragments). Tunnels as tshark decodes them by
default (VXLAN, Geneve, GRE, IP in IP: `tunnels`), read to the TCP or UDP inside. Lengths come
from the IP and TCP headers, so a packet cut short by the snaplen keeps its real payload length.

Where a frame is odd, tshark's reading decides: more than 20 802.1Q tags, an IPv4 total
length below its header length, an IPv6 next header tshark does not walk as an extension
header (HIP, Mobility) give no packet, as tshark shows none.

This is the hot path of replay: plain ``struct`` on bytes, no Scapy, no per-packet objects
beyond the one `Packet` returned. It knows nothing of the UI or of sockets.
"""

from __future__ import annotations

import struct
from typing import Any

from handshake_viz.core import tunnels
from handshake_viz.core.defrag import Defragmenter
from handshake_viz.core.events import TruncatedPacket as Truncated
from handshake_viz.core.segments import Packet, _ntoa4, ip4_str, ip6_str, read_tcp, read_udp

_VLAN_TAGS = (0x8100, 0x9100, 0x88A8)
_MAX_VLAN_TAGS = 20
"""tshark's limit on 802.1Q tags (0x8100 and 0x9100, not 802.1ad's 0x88A8) in one frame,
tunnels included: past it, "Too many nested VLAN tags" and nothing more."""
_IPV6_EXT = (0, 43, 60, 140)
"""IPv6 extension headers tshark walks with the generic (next, length in 8-octet units)
layout: hop-by-hop, routing, destination options, Shim6. HIP (139) and Mobility (135) are
protocols of their own to tshark, and 253 and 254 are unknown to it: nothing is read past."""
_IP_PROTOS = (6, 17, 4, 41, 47)
"""What an IP header may carry for the decoder to go on: TCP, UDP, IPv4, IPv6, GRE."""
_MAX_DEPTH = 8
"""Tunnels in tunnels deeper than this are not followed."""

_u32 = struct.Struct("!I").unpack_from
_ipv4_hdr = struct.Struct("!BBHHHBBH4s4s").unpack_from
_eth_ip4_tcp = struct.Struct("!12xHBxH2xH1xB2x4s4sHHIIHH").unpack_from

__all__ = ["FrameDecoder", "Packet", "PacketFields", "fast_tcp_ports", "ip4_str", "ip6_str"]

PacketFields = tuple[Any, ...]
"""A `Packet`'s first fields in its order, as a plain tuple; ``Packet(*fields)`` makes it again,
the fields left out taking their defaults."""


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


class FrameDecoder:
    """Turn captured frames into `Packet`s; one instance per capture (it holds fragments)."""

    def __init__(self) -> None:
        self.defrag = Defragmenter()
        # What the frame being decoded has shown so far (the slow path resets them).
        self._frame = 0
        self._time = 0.0
        self._vlans = 0
        self._vlan_id = 0
        self._depth = 0
        self._partial = False

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
        return self._decode(frame, time, linktype, data)

    def decode_fields(
        self, frame: int, time: float, linktype: int, data: bytes
    ) -> PacketFields | Truncated | None:
        """`decode`, a packet given as `PacketFields` without its payload: what the decode
        worker sends to the tracking process, which reads no payload. The common case makes
        no `Packet` on the way, and ends at the options (the rest are the defaults)."""
        header = _fast_header(linktype, data)
        if header is not None:
            _, _, total, _, _, src, dst, sport, dport, seq, ack, offflags, window = header
            thl = (offflags >> 12) << 2
            s = _ntoa4.get(src) or ip4_str(src)
            d = _ntoa4.get(dst) or ip4_str(dst)
            return (frame, time, 6, s, d, sport, dport, seq, ack, offflags & 0x1FF, window,
                    total - 20 - thl, data[54 : 34 + thl])  # fmt: skip
        p = self._decode(frame, time, linktype, data)
        if not isinstance(p, Packet):
            return p
        return (p.frame, p.time, p.proto, p.src, p.dst, p.sport, p.dport, p.seq, p.ack, p.flags,
                p.window, p.length, p.options, b"", p.urgent, p.options_cut, p.partial,
                p.outer)  # fmt: skip

    def _decode(
        self, frame: int, time: float, linktype: int, data: bytes
    ) -> Packet | Truncated | None:
        """Every frame but the common case, layer by layer."""
        self._frame, self._time = frame, time
        self._vlans = self._vlan_id = self._depth = 0
        self._partial = False
        if linktype == 1:  # Ethernet
            return self._ether(data, 0)
        if linktype in (101, 228, 229):  # raw IP
            return self._ip(data, 0)
        if linktype == 113:  # Linux cooked (SLL)
            if len(data) < 16:
                return None
            return self._ethertype((data[14] << 8) | data[15], data, 16)
        if linktype == 276:  # Linux cooked v2 (SLL2)
            if len(data) < 20:
                return None
            return self._ethertype((data[0] << 8) | data[1], data, 20)
        if linktype in (0, 108):  # BSD loopback: address family, host or network order
            if len(data) < 4:
                return None
            af = struct.unpack_from(">I" if linktype == 108 else "<I", data)[0]
            if af > 0xFFFF:
                af = int.from_bytes(data[:4], "big" if linktype != 108 else "little")
            if af == 2:
                return self._ipv4(data, 4)
            if af in (24, 28, 30, 10):
                return self._ipv6(data, 4)
            return None
        if linktype == 239:  # NFLOG
            return self._nflog(data)
        return None

    def _ether(self, data: bytes, off: int) -> Packet | Truncated | None:
        if len(data) < off + 14:
            return None
        return self._ethertype((data[off + 12] << 8) | data[off + 13], data, off + 14)

    def _ethertype(self, etype: int, data: bytes, off: int) -> Packet | Truncated | None:
        """What follows an ethertype at `off`: VLAN tags, IP, or a whole Ethernet frame."""
        while etype in _VLAN_TAGS:
            if len(data) < off + 4:
                return None
            if etype != 0x88A8:
                self._vlans += 1
                if self._vlans > _MAX_VLAN_TAGS:
                    return None
                self._vlan_id = ((data[off] << 8) | data[off + 1]) & 0x0FFF
            etype = (data[off + 2] << 8) | data[off + 3]
            off += 4
        if etype == 0x0800:
            return self._ipv4(data, off)
        if etype == 0x86DD:
            return self._ipv6(data, off)
        if etype == tunnels.ETHERNET and self._deeper():
            return self._ether(data, off)
        return None

    def _ip(self, data: bytes, off: int) -> Packet | Truncated | None:
        """An IP header of either version, told by its first nibble."""
        if len(data) <= off:
            return None
        v = data[off] >> 4
        if v == 4:
            return self._ipv4(data, off)
        if v == 6:
            return self._ipv6(data, off)
        return None

    def _deeper(self) -> bool:
        """One tunnel further in; False past `_MAX_DEPTH`."""
        self._depth += 1
        return self._depth <= _MAX_DEPTH

    def _nflog(self, data: bytes) -> Packet | Truncated | None:
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
                    return self._ipv4(payload, 0)
                if family == 10:
                    return self._ipv6(payload, 0)
                return None
            pos += (tlv_len + 3) & ~3
        return None

    def _ipv4(self, data: bytes, off: int) -> Packet | Truncated | None:
        if len(data) < off + 20:
            return None
        vihl, _tos, total, ident, frag, _ttl, proto, _csum, src, dst = _ipv4_hdr(data, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20 or proto not in _IP_PROTOS:
            return None
        if total == 0:
            total = len(data) - off  # TCP segmentation offload: tshark takes the frame's
        elif total < ihl:
            return None  # tshark: "Bogus IP length"
        if frag & 0x3FFF:  # more fragments, or an offset: a piece of a larger datagram
            offset = (frag & 0x1FFF) * 8
            if total > ihl and len(data) >= off + total:
                whole = self.defrag.add(
                    (src, dst, ident, proto, self._vlan_id),
                    offset,
                    bool(frag & 0x2000),
                    data[off + ihl : off + total],
                )
                if whole is None:
                    return None
                return self._carried(proto, ip4_str(src), ip4_str(dst), whole, 0, len(whole))
            if offset:
                return None
            # A first fragment tshark cannot add (not all captured, or empty): it shows
            # the header, as it does, but no length and no analysis.
            self._partial = True
        return self._carried(proto, ip4_str(src), ip4_str(dst), data, off + ihl, total - ihl)

    def _ipv6(self, data: bytes, off: int) -> Packet | Truncated | None:
        if len(data) < off + 40:
            return None
        plen = (data[off + 4] << 8) | data[off + 5]
        nxt = data[off + 6]
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        pos = off + 40
        remaining = plen
        while nxt not in _IP_PROTOS:
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
                if remaining > 0 and len(data) >= pos + remaining:
                    piece = data[pos : pos + remaining]
                    whole = self.defrag.add((6, src, dst, ident), fo & 0xFFF8, bool(fo & 1), piece)
                    if whole is None or nxt not in _IP_PROTOS:
                        return None
                    return self._carried(nxt, ip6_str(src), ip6_str(dst), whole, 0, len(whole))
                return None  # unlike IPv4's, tshark reads no part of an IPv6 fragment alone
            else:
                return None
            pos += hlen
            remaining -= hlen
        return self._carried(nxt, ip6_str(src), ip6_str(dst), data, pos, remaining)

    def _carried(
        self, proto: int, src: str, dst: str, data: bytes, pos: int, ip_len: int
    ) -> Packet | Truncated | None:
        """What an IP header at `pos` carries: `ip_len` bytes of TCP, UDP, IP or GRE."""
        if proto == 6 or proto == 17:
            return self._transport(proto, src, dst, data, pos, ip_len)
        if not self._deeper():
            return None
        end = pos + max(ip_len, 0)
        inner = data[:end] if end < len(data) else data
        if proto == 4:
            return self._ip(inner, pos)
        if proto == 41:
            return self._ipv6(inner, pos) if len(inner) > pos and inner[pos] >> 4 == 6 else None
        found = tunnels.gre(inner, pos)
        return None if found is None else self._ethertype(found[0], inner, found[1])

    def _transport(
        self, proto: int, src: str, dst: str, data: bytes, pos: int, ip_len: int
    ) -> Packet | Truncated | None:
        """The TCP segment or UDP datagram at `pos`, or what a VXLAN or Geneve datagram carries."""
        if proto == 6:
            return read_tcp(self._frame, self._time, src, dst, data, pos, ip_len, self._partial)
        datagram = read_udp(self._frame, self._time, src, dst, data, pos, ip_len)
        if type(datagram) is not Packet:
            return datagram
        port = tunnels.udp_tunnel(datagram.sport, datagram.dport)
        if port and self._deeper():
            payload = datagram.payload
            found = tunnels.vxlan(payload, 0) if port == 4789 else tunnels.geneve(payload, 0)
            inner = None if found is None else self._ethertype(found[0], payload, found[1])
            if type(inner) is Packet:
                # The datagram's own conversation is tshark's udp.stream first.
                outer = (src, datagram.sport, dst, datagram.dport, datagram.length)
                inner.outer = (outer, *inner.outer)
                return inner
        return datagram
