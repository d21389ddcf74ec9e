"""Damage to one captured frame at a time: VLAN stacks, garbage in the IP and TCP headers, IP
fragments. Each function takes (rng, link type, frame bytes) and returns the frames to write
in its place (fragments make several)."""

from __future__ import annotations

import random
import struct

_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_ETHERTYPE_AT = {1: 12, 113: 14, 276: 0}
_IP_AT = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0, 229: 0, 0: 4, 108: 4}


def ip_offset(linktype: int, data: bytes) -> int | None:
    """Where the IP header starts in a frame (after any VLAN tags), or None."""
    at = _IP_AT.get(linktype)
    if at is None or len(data) <= at:
        return None
    if linktype == 1:
        while len(data) >= at + 4 and struct.unpack_from("!H", data, at - 2)[0] in _VLAN_TPIDS:
            at += 4
    return at


def vlan_stack(rng: random.Random, linktype: int, data: bytes) -> list[bytes]:
    """An Ethernet frame with 1 to 300 more 802.1Q/802.1ad tags after its addresses."""
    if linktype != 1 or len(data) < 14:
        return [data]
    depth = rng.choice((1, 2, 3, 4, 8, 20, 100, 300))
    tags = b"".join(
        struct.pack("!HH", rng.choice(_VLAN_TPIDS), rng.getrandbits(16)) for _ in range(depth)
    )
    return [data[:12] + tags + data[12:]]


def _put(data: bytearray, at: int, fmt: str, value: int) -> None:
    if at + struct.calcsize(fmt) <= len(data):
        struct.pack_into(fmt, data, at, value)


def header_garbage(rng: random.Random, linktype: int, data: bytes) -> list[bytes]:
    """One field of the IPv4, IPv6, TCP or UDP header set to a value that makes no sense."""
    ip = ip_offset(linktype, data)
    if ip is None or len(data) < ip + 20:
        return [data]
    out = bytearray(data)
    version = data[ip] >> 4
    if version == 4:
        ihl = (data[ip] & 15) * 4
        l4 = ip + max(ihl, 20)
        proto = data[ip + 9]
        choice = rng.randrange(8 if proto in (6, 17) else 5)
        if choice == 0:  # version and header length
            out[ip] = rng.choice((0x40, 0x41, 0x44, 0x46, 0x4F, 0x60, 0x00, 0xFF))
        elif choice == 1:  # total length below the header, zero, beyond the frame
            _put(out, ip + 2, "!H", rng.choice((0, 1, 19, ihl - 1, ihl, len(data), 0xFFFF)))
        elif choice == 2:  # flags and fragment offset
            _put(out, ip + 6, "!H", rng.getrandbits(16))
        elif choice == 3:  # protocol
            out[ip + 9] = rng.choice((0, 1, 4, 6, 17, 41, 47, 50, 132, 255))
        elif choice == 4:  # options of any length
            out[ip] = 0x4F
            out[ip + 20 : ip + 20] = rng.randbytes(40)
        else:
            _transport_garbage(rng, out, l4, proto)
    elif version == 6 and len(data) >= ip + 40:
        choice = rng.randrange(4)
        if choice == 0:  # payload length
            _put(out, ip + 4, "!H", rng.choice((0, 1, 8, 20, len(data), 0xFFFF)))
        elif choice == 1:  # next header
            out[ip + 6] = rng.choice((0, 43, 44, 50, 59, 60, 135, 139, 140, 6, 17, 255))
        elif choice == 2:  # an extension header of any length in front of the payload
            nxt = out[ip + 6]
            out[ip + 6] = rng.choice((0, 43, 60, 44))
            out[ip + 40 : ip + 40] = bytes([nxt, rng.choice((0, 1, 255))]) + rng.randbytes(6)
        else:
            _transport_garbage(rng, out, ip + 40, data[ip + 6])
    else:
        out[ip] = rng.getrandbits(8)
    return [bytes(out)]


def _transport_garbage(rng: random.Random, out: bytearray, at: int, proto: int) -> None:
    if proto == 17:
        _put(out, at + 4, "!H", rng.choice((0, 1, 7, 8, 9, 0xFFFF)))
        return
    choice = rng.randrange(4)
    if choice == 0 and at + 12 < len(out):  # data offset
        out[at + 12] = (rng.randrange(16) << 4) | (out[at + 12] & 15)
    elif choice == 1 and at + 13 < len(out):  # flags
        out[at + 13] = rng.getrandbits(8)
    elif choice == 2 and at + 12 < len(out):  # options: any kind, any length
        out[at + 12] = 0xF0 | (out[at + 12] & 15)
        kinds = bytes(b for _ in range(10) for b in (rng.randrange(256), rng.choice((0, 1, 255))))
        out[at + 20 : at + 20] = kinds + rng.randbytes(20)
    else:  # ports
        _put(out, at, "!I", rng.choice((0, 0xFFFF)) * 0x10001)


def fragments(rng: random.Random, linktype: int, data: bytes) -> list[bytes]:
    """An IPv4 datagram cut into fragments: in or out of order, duplicated, overlapping,
    missing one, or with an empty piece; an IPv6 one gets a fragment header."""
    ip = ip_offset(linktype, data)
    if ip is None or len(data) < ip + 28:
        return [data]
    link, header = data[:ip], data[ip:]
    if header[0] >> 4 == 6:
        return _ipv6_fragments(rng, link, header)
    if header[0] >> 4 != 4:
        return [data]
    ihl = (header[0] & 15) * 4
    head, payload = bytearray(header[:ihl]), header[ihl:]
    step = rng.choice((8, 16, 24))
    pieces = [(off, payload[off : off + step]) for off in range(0, len(payload), step)]
    how = rng.randrange(6)
    if how == 1:
        rng.shuffle(pieces)
    elif how == 2:
        pieces.append(rng.choice(pieces))
    elif how == 3 and len(pieces) > 1:
        pieces.pop(rng.randrange(len(pieces)))
    elif how == 4:
        off, chunk = rng.choice(pieces)
        pieces.insert(rng.randrange(len(pieces) + 1), (off + 8, chunk + rng.randbytes(8)))
    elif how == 5:
        pieces.insert(rng.randrange(len(pieces) + 1), (rng.choice(pieces)[0], b""))
    last = max(off for off, _ in pieces)
    out = []
    for off, chunk in pieces:
        more = 0x2000 if off < last else 0
        struct.pack_into("!HH", head, 2, ihl + len(chunk), more | (off // 8))
        out.append(link + bytes(head) + chunk)
    if rng.random() < 0.2:  # the first fragment's IP length beyond what was captured
        out[0] = out[0][: len(link) + ihl + 4]
    return out


def _ipv6_fragments(rng: random.Random, link: bytes, header: bytes) -> list[bytes]:
    fixed, payload, nxt = bytearray(header[:40]), header[40:], header[6]
    ident = rng.getrandbits(32)
    step = rng.choice((8, 16))
    pieces = [(off, payload[off : off + step]) for off in range(0, len(payload), step)]
    if rng.random() < 0.5:
        rng.shuffle(pieces)
    last = max(off for off, _ in pieces)
    out = []
    for off, chunk in pieces:
        frag = struct.pack("!BBHI", nxt, 0, off | (1 if off < last else 0), ident)
        fixed[6] = 44
        struct.pack_into("!H", fixed, 4, 8 + len(chunk))
        out.append(link + bytes(fixed) + frag + chunk)
    return out
