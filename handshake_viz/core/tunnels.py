"""Tunnel headers tshark decodes by default, read down to what they carry.

VXLAN (UDP 4789) and Geneve (UDP 6081) over UDP; GRE (IP protocol 47) with or without
checksum, key, sequence number and routing, carrying IPv4, IPv6, Ethernet (transparent
Ethernet bridging, 0x6558), ERSPAN types I to III or PPP (PPTP's enhanced GRE). IP in IP
(protocols 4 and 41) needs no header of its own: `decode` reads the inner IP directly.

Each function takes the bytes of the tunnel's payload and returns what comes next, as an
ethertype and an offset, or None where tshark would not go further. The decoder then reads the
inner frame as it reads an outer one, so a tunnel in a tunnel works too.
"""

from __future__ import annotations

ETHERNET = 0x6558
"""The "ethertype" this module returns for a whole Ethernet frame (GRE's own number for it)."""
PPP_IPV4 = 0x0800
PPP_IPV6 = 0x86DD

VXLAN_PORT = 4789
GENEVE_PORT = 6081

_UDP_PORTS_BELOW_TUNNELS = frozenset(
    (0, 7, 13, 19, 37, 49, 53, 67, 68, 69, 88, 111, 123, 137, 138, 161, 162, 173, 177, 213,
     269, 319, 320, 389, 427, 434, 464, 473, 496, 500, 502, 513, 514, 520, 521, 524, 525, 539,
     546, 547, 573, 623, 631, 646, 654, 664, 698, 699, 701, 750, 853, 854, 910, 921, 925,
     1001, 1044, 1052, 1069, 1089, 1090, 1091, 1101, 1113, 1153, 1194, 1293, 1547, 1628,
     1629, 1645, 1646, 1700, 1701, 1718, 1719, 1745, 1755, 1812, 1813, 1900, 1985, 2029,
     2048, 2055, 2067, 2099, 2123, 2152, 2157, 2190, 2221, 2222, 2231, 2246, 2268, 2269,
     2313, 2345, 2424, 2427, 2428, 2727, 2887, 2944, 2945, 2948, 2949, 2960, 3000, 3121,
     3130, 3205, 3222, 3250, 3333, 3343, 3357, 3386, 3389, 3452, 3455, 3478, 3483, 3503,
     3540, 3544, 3567, 3622, 3671, 3784, 3785, 3792, 3799, 3804, 3819, 3863, 3956, 4000,
     4011, 4058, 4305, 4306, 4307, 4341, 4342, 4500, 4533, 4534, 4551, 4555, 4556, 4569,
     4665, 4672, 4713, 4729, 4739, 4754, 4784, 4789, 4790, 4791, 4991, 5000, 5001, 5031,
     5050, 5060, 5072, 5094, 5246, 5247, 5264, 5265, 5350, 5351, 5353, 5355, 5404, 5405,
     5436, 5555, 5567, 5678, 5683, 5684, 5868, 6060, 6073)
)  # fmt: skip
"""UDP ports below 6081 that tshark 4.0 gives a dissector of their own (``tshark -G
decodes``). tshark offers a datagram to the dissector of its lower port first, so VXLAN
from DNS's port 53 to 4789 is DNS to tshark, and from port 1234 it is VXLAN."""


def udp_tunnel(sport: int, dport: int) -> int:
    """The tunnel port (4789 or 6081) tshark decodes this datagram by, else 0."""
    low, high = (sport, dport) if sport <= dport else (dport, sport)
    if low == VXLAN_PORT or low == GENEVE_PORT:
        return low
    if (high == VXLAN_PORT or high == GENEVE_PORT) and low not in _UDP_PORTS_BELOW_TUNNELS:
        return high
    return 0


def vxlan(data: bytes, pos: int) -> tuple[int, int] | None:
    """VXLAN (RFC 7348): 8 bytes of flags and network identifier, then an Ethernet frame.

    tshark reads the frame whatever the flags say (the I bit need not be set).
    """
    if len(data) < pos + 8:
        return None
    return ETHERNET, pos + 8


def geneve(data: bytes, pos: int) -> tuple[int, int] | None:
    """Geneve (RFC 8926): 8 bytes, options, then whatever its protocol type (an ethertype)
    names. tshark decodes every version."""
    if len(data) < pos + 8:
        return None
    options = (data[pos] & 0x3F) * 4
    return (data[pos + 2] << 8) | data[pos + 3], pos + 8 + options


def gre(data: bytes, pos: int) -> tuple[int, int] | None:
    """GRE (RFC 2784, 2890; RFC 2637's version 1 for PPTP; RFC 1701's routing): the payload's
    type and where it starts, past the optional fields the flags announce."""
    if len(data) < pos + 4:
        return None
    flags = (data[pos] << 8) | data[pos + 1]
    ptype = (data[pos + 2] << 8) | data[pos + 3]
    pos += 4
    if flags & 0xC000:  # checksum or routing present: checksum and offset
        pos += 4
    if flags & 0x2000:  # key (PPTP: payload length and call id)
        pos += 4
    if flags & 0x1000:  # sequence number
        pos += 4
    if ptype == 0x880B and flags & 0x0080:  # PPTP's acknowledgement number
        pos += 4
    if flags & 0x4000:  # source route entries, up to the empty one
        while True:
            if len(data) < pos + 4:
                return None
            family = (data[pos] << 8) | data[pos + 1]
            length = data[pos + 3]
            pos += 4 + length
            if family == 0 and length == 0:
                break
    if ptype == 0x88BE or ptype == 0x22EB:
        return _erspan(data, pos, bool(flags & 0x1000))
    if ptype == 0x880B:
        return _ppp(data, pos)
    return ptype, pos


def _erspan(data: bytes, pos: int, sequenced: bool) -> tuple[int, int] | None:
    """ERSPAN: type I (GRE without a sequence number) has no header; type II has 8 bytes,
    type III 12, and 8 more when its O bit says a platform subheader follows."""
    if not sequenced:
        return ETHERNET, pos
    if len(data) < pos + 2:
        return None
    version = data[pos] >> 4
    if version == 1:
        return ETHERNET, pos + 8
    if version == 2:
        if len(data) < pos + 12:
            return None
        return ETHERNET, pos + (20 if data[pos + 11] & 0x01 else 12)
    return None


def _ppp(data: bytes, pos: int) -> tuple[int, int] | None:
    """A PPP frame in PPTP's GRE: address and control (0xFF 0x03) may be left out, and the
    protocol field may be one byte (odd) or two."""
    if len(data) >= pos + 2 and data[pos] == 0xFF and data[pos + 1] == 0x03:
        pos += 2
    if len(data) < pos + 1:
        return None
    if data[pos] & 1:
        proto, pos = data[pos], pos + 1
    else:
        if len(data) < pos + 2:
            return None
        proto, pos = (data[pos] << 8) | data[pos + 1], pos + 2
    if proto == 0x21:
        return PPP_IPV4, pos
    if proto == 0x57:
        return PPP_IPV6, pos
    return None
