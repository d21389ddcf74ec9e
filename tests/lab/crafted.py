"""Captures made by hand, one per class of the reader's rules that real programs here cannot
show: tunnels this kernel has no driver for, headers only a fuzzer sends, a sender that is not
Linux-like (1-byte zero-window probes), TCP Fast Open answers, handshakes timed on purpose.

Each builder returns a `PcapFile`; ``scripts/lab crafted`` writes them to tests/data/lab/
with tshark's reading beside them (`tests.lab.oracles`).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.lab.frames import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    Conversation,
    PcapFile,
    ether,
    ipv4,
    ipv6,
    mss,
    tcp,
    tfo,
    udp,
    vlan_tags,
    wscale,
)

C, S = "10.0.0.1", "10.0.0.2"
SYN_OPTIONS = mss(1460) + b"\x04\x02" + b"\x01" + wscale(7)


def windows() -> PcapFile:
    """Full windows, zero windows and 1-byte zero-window probes from a sender that is not
    Linux (Linux probes with an old byte, which both tools call a keep-alive)."""
    out = PcapFile()
    c = Conversation(out, (C, 40001), (S, 80))
    ci, si = 1000, 5000
    c.send(True, 0, ci, 0, SYN, 64240, mss(1460) + wscale(7))
    c.send(False, 0.01, si, ci + 1, SYN | ACK, 65160, mss(1460) + wscale(2))
    c.send(True, 0.0001, ci + 1, si + 1, ACK, 502)
    c.send(False, 0.001, si + 1, ci + 1, ACK, 25)  # 25 << 2: 100 bytes open
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 502, payload=b"x" * 100)  # fills it
    c.send(False, 0.01, si + 1, ci + 101, ACK, 0)  # zero window
    c.send(True, 0.2, ci + 101, si + 1, ACK, 502, payload=b"y")  # 1-byte probe
    c.send(False, 0.01, si + 1, ci + 101, ACK, 0)  # the probe's ACK, still zero
    c.send(True, 0.4, ci + 101, si + 1, ACK, 502, payload=b"y")  # probe again
    c.send(False, 0.01, si + 1, ci + 101, ACK, 0)
    c.send(False, 0.3, si + 1, ci + 101, ACK, 25)  # window update
    c.send(True, 0.001, ci + 101, si + 1, PSH | ACK, 502, payload=b"z" * 100)  # full again
    c.send(False, 0.01, si + 1, ci + 201, ACK, 50)
    c.send(True, 0.001, ci + 201, si + 1, FIN | ACK, 502)
    c.send(False, 0.01, si + 1, ci + 202, FIN | ACK, 50)
    c.send(True, 0.0001, ci + 202, si + 2, ACK, 502)
    # No window scaling agreed (the SYN offers none): the window counts as it is.
    c = Conversation(out, (C, 40002), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 8192, mss(1460))
    c.send(False, 0.01, si, ci + 1, SYN | ACK, 50, mss(1460) + wscale(3))
    c.send(True, 0.0001, ci + 1, si + 1, ACK, 8192)
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 8192, payload=b"a" * 50)
    c.send(False, 0.01, si + 1, ci + 51, ACK, 50)
    # The SYN-ACK refuses scaling: none for either side.
    c = Conversation(out, (C, 40003), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 8192, mss(1460) + wscale(5))
    c.send(False, 0.01, si, ci + 1, SYN | ACK, 60, mss(1460))
    c.send(True, 0.0001, ci + 1, si + 1, ACK, 8192)
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 8192, payload=b"b" * 60)
    # Caught mid-stream: the scaling is not known, so no window is called full.
    c = Conversation(out, (C, 40004), (S, 80), t=c.t + 1)
    c.send(False, 0, si + 1, ci + 1, ACK, 40)
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 8192, payload=b"c" * 40)
    c.send(False, 0.01, si + 1, ci + 41, ACK, 0)
    c.send(True, 0.2, ci + 41, si + 1, ACK, 8192, payload=b"d")
    # A shift past 14 (RFC 7323's limit) on both sides.
    c = Conversation(out, (C, 40005), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 8192, mss(1460) + wscale(15))
    c.send(False, 0.01, si, ci + 1, SYN | ACK, 8192, mss(1460) + wscale(15))
    c.send(True, 0.0001, ci + 1, si + 1, ACK, 1)
    c.send(False, 0.001, si + 1, ci + 1, ACK, 1)
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 1, payload=b"e" * 16384)  # 1 << 14
    return out


def fast_open() -> PcapFile:
    """TCP Fast Open: a SYN with a cookie and data, accepted, ignored, partly accepted."""
    out = PcapFile()
    ci, si = 7000, 9000
    cookie = bytes.fromhex("0a0b0c0d0e0f1011")
    c = Conversation(out, (C, 41001), (S, 443))
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS + tfo(cookie), b"G" * 20)
    c.send(False, 0.02, si, ci + 21, SYN | ACK, 65160, mss(1460) + wscale(7))
    c.send(True, 0.0002, ci + 21, si + 1, ACK, 502)
    c.send(False, 0.001, si + 1, ci + 21, PSH | ACK, 509, payload=b"H" * 30)
    c.send(True, 0.0002, ci + 21, si + 31, FIN | ACK, 502)
    c.send(False, 0.01, si + 31, ci + 22, FIN | ACK, 509)
    c.send(True, 0.0002, ci + 22, si + 32, ACK, 502)
    # The server ignores the data: the SYN-ACK acknowledges the SYN alone.
    c = Conversation(out, (C, 41002), (S, 443), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS + tfo(cookie), b"G" * 20)
    c.send(False, 0.02, si, ci + 1, SYN | ACK, 65160, mss(1460) + wscale(7))
    c.send(True, 0.0002, ci + 1, si + 1, PSH | ACK, 502, payload=b"G" * 20)
    c.send(False, 0.02, si + 1, ci + 21, ACK, 509)
    # A cookie request (the option empty), answered with a cookie.
    c = Conversation(out, (C, 41003), (S, 443), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS + tfo())
    c.send(False, 0.02, si, ci + 1, SYN | ACK, 65160, mss(1460) + tfo(cookie))
    c.send(True, 0.0002, ci + 1, si + 1, ACK, 502)
    # The experimental option (254, magic 0xF989), part of the data accepted.
    c = Conversation(out, (C, 41004), (S, 443), t=c.t + 1)
    exp = bytes([254, 12, 0xF9, 0x89]) + cookie
    c.send(True, 0, ci, 0, SYN, 64240, mss(1460) + exp, b"P" * 10)
    c.send(False, 0.02, si, ci + 5, SYN | ACK, 65160, mss(1460))
    c.send(True, 0.0002, ci + 5, si + 1, PSH | ACK, 502, payload=b"P" * 6)
    # No data in the SYN, yet a SYN-ACK that acknowledges more than it.
    c = Conversation(out, (C, 41005), (S, 443), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, mss(1460))
    c.send(False, 0.02, si, ci + 3, SYN | ACK, 65160, mss(1460))
    return out


def handshakes() -> PcapFile:
    """Handshakes timed on purpose, for tshark's initial RTT and Zeek's history."""
    out = PcapFile()
    ci, si = 100, 200
    # A SYN lost: the retransmission a second later is what the SYN-ACK answers.
    c = Conversation(out, (C, 42001), (S, 22))
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(True, 1.0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.03, si, ci + 1, SYN | ACK, 65160, SYN_OPTIONS)
    c.send(True, 0.0003, ci + 1, si + 1, ACK, 502)
    c.send(True, 0.001, ci + 1, si + 1, PSH | ACK, 502, payload=b"SSH-2.0-x\r\n")
    c.send(False, 0.03, si + 1, ci + 12, ACK, 509)
    # A SYN duplicated on the way.
    c = Conversation(out, (C, 42002), (S, 22), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(True, 0.00002, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.03, si, ci + 1, SYN | ACK, 65160, SYN_OPTIONS)
    c.send(True, 0.0003, ci + 1, si + 1, ACK, 502)
    # Simultaneous open: the SYNs cross, each end answers with a SYN-ACK.
    c = Conversation(out, (C, 42003), (S, 42004), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.001, si, 0, SYN, 64240, SYN_OPTIONS)
    c.send(True, 0.02, ci, si + 1, SYN | ACK, 64240, SYN_OPTIONS)
    c.send(False, 0.001, si, ci + 1, SYN | ACK, 64240, SYN_OPTIONS)
    c.send(True, 0.02, ci + 1, si + 1, ACK, 502)
    c.send(False, 0.001, si + 1, ci + 1, ACK, 502)
    # The ACK that completes the handshake carries the request.
    c = Conversation(out, (C, 42005), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.04, si, ci + 1, SYN | ACK, 65160, SYN_OPTIONS)
    c.send(True, 0.0004, ci + 1, si + 1, PSH | ACK, 502, payload=b"GET / HTTP/1.0\r\n\r\n")
    c.send(False, 0.04, si + 1, ci + 19, ACK, 509)
    # Refused: RST-ACK to the SYN (tshark times it; a refusal is no round trip).
    c = Conversation(out, (C, 42006), (S, 81), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.0001, 0, ci + 1, RST | ACK, 0)
    # The client gives up with a RST after the SYN-ACK: no ACK, no round trip measured.
    c = Conversation(out, (C, 42007), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.04, si, ci + 1, SYN | ACK, 65160, SYN_OPTIONS)
    c.send(True, 0.0004, ci + 1, 0, RST, 0)
    # The SYN-ACK lost: the SYN is sent again, then the SYN-ACK too.
    c = Conversation(out, (C, 42008), (S, 80), t=c.t + 1)
    c.send(True, 0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(True, 1.0, ci, 0, SYN, 64240, SYN_OPTIONS)
    c.send(False, 0.05, si, ci + 1, SYN | ACK, 65160, SYN_OPTIONS)
    c.send(True, 0.0005, ci + 1, si + 1, ACK, 502)
    c.send(False, 0.0005, si + 1, ci + 1, FIN | ACK, 509)
    c.send(True, 0.05, ci + 1, si + 2, FIN | ACK, 502)
    c.send(False, 0.05, si + 2, ci + 2, ACK, 509)
    # An ACK caught before the SYN of its connection, and none after: tshark's second pass
    # times the ACK against that later SYN (a negative RTT); no RTT here.
    c = Conversation(out, (C, 42009), (S, 80), t=c.t + 1)
    c.send(False, 0, si + 1, ci + 1, ACK, 509)
    c.send(True, 0.5, ci, 0, SYN, 64240, SYN_OPTIONS)
    return out


def _vxlan(inner_frame: bytes, sport: int) -> bytes:
    return ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17,
                              udp(sport, 4789, b"\x08\0\0\0\0\0\x2a\0" + inner_frame)))  # fmt: skip


def _gre(ptype: int, payload: bytes, key: int | None = None, seq: int | None = None,
         csum: bool = False, version: int = 0) -> bytes:  # fmt: skip
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0)
    flags |= (0x1000 if seq is not None else 0) | version
    head = (flags << 16 | ptype).to_bytes(4, "big") + (b"\0\0\0\0" if csum else b"")
    head += b"" if key is None else key.to_bytes(4, "big")
    head += b"" if seq is None else seq.to_bytes(4, "big")
    return head + payload


def tunnels() -> PcapFile:
    """One HTTP connection in each tunnel tshark decodes by default, and UDP around them."""
    out = PcapFile()
    t = 1_700_000_100.0
    # Outer and inner endpoints, each connection with its own inner ports.
    wraps: list[tuple[str, Callable[[bytes, bool], bytes]]] = [
        ("vxlan", lambda ip, c2s: _vxlan(ether(0x0800, ip), 50000 if c2s else 50001)),
        ("geneve-eth", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17, udp(
            50002, 6081, b"\0\0\x65\x58\0\0\x2a\0" + ether(0x0800, ip))))),
        ("geneve-ip", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17, udp(
            50003, 6081, b"\x01\0\x08\0\0\0\x2a\0" + b"\x01\x02\x03\x01\xaa\xaa\xaa\xaa" + ip)))),
        ("gre", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47,
                                                   _gre(0x0800, ip)))),
        ("gre-key-seq", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47,
                                                           _gre(0x0800, ip, key=7, seq=3)))),
        ("gre-csum", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47,
                                                        _gre(0x0800, ip, csum=True)))),
        ("gretap", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47,
                                                      _gre(0x6558, ether(0x0800, ip), key=9)))),
        ("erspan2", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47, _gre(
            0x88BE, bytes.fromhex("1005000000000000") + ether(0x0800, ip), seq=1)))),
        ("pptp", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47, _gre(
            0x880B, b"\xff\x03\x00\x21" + ip, key=(40 << 16) | 5, seq=1, version=1)))),
        ("ipip", lambda ip, c2s: ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 4, ip))),
        ("gre-over-ipv6", lambda ip, c2s: ether(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 47,
                                                             _gre(0x0800, ip)))),
    ]  # fmt: skip
    for n, (_name, wrap) in enumerate(wraps):
        ci, si, port = 1000 * n, 50000 + n, 30000 + n
        segs = [
            (True, ci, 0, SYN, b""),
            (False, si, ci + 1, SYN | ACK, b""),
            (True, ci + 1, si + 1, ACK, b""),
            (True, ci + 1, si + 1, PSH | ACK, b"GET / HTTP/1.1\r\n\r\n"),
            (False, si + 1, ci + 19, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\n"),
            (False, si + 1, ci + 19, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\n"),  # again
            (True, ci + 19, si + 20, FIN | ACK, b""),
            (False, si + 20, ci + 20, FIN | ACK, b""),
            (True, ci + 20, si + 21, ACK, b""),
        ]
        for c2s, seq, ack, flags, data in segs:
            t += 0.001
            src, dst = ("10.1.0.1", "10.1.0.2") if c2s else ("10.1.0.2", "10.1.0.1")
            sp, dp = (port, 80) if c2s else (80, port)
            inner = ipv4(src, dst, 6, tcp(sp, dp, seq, ack, flags, 502, b"", data))
            out.add(t, wrap(inner, c2s))
    # IPv6 in IPv4 (6in4), UDP in VXLAN, and a VXLAN datagram carrying no IP at all.
    t += 0.01
    six = ipv6("fd00::1", "fd00::2", 6, tcp(30100, 80, 1, 0, SYN, 64240, mss(1440)))
    out.add(t, ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 41, six)))
    dns = ipv4("10.1.0.1", "10.1.0.53", 17, udp(53000, 53, b"\x12\x34" + b"\0" * 10))
    out.add(t + 0.001, _vxlan(ether(0x0800, dns), 50010))
    out.add(t + 0.002, _vxlan(ether(0x0806, b"\0" * 28), 50011))
    # VXLAN from a port tshark gives DNS (53 is lower than 4789): DNS to tshark.
    out.add(t + 0.003, ether(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17, udp(
        53, 4789, b"\x08\0\0\0\0\0\x2a\0" + ether(0x0800, dns)))))  # fmt: skip
    return out


def odd_headers() -> PcapFile:
    """Headers a fuzzer sends: deep VLAN stacks, IPv6 next headers that are not extension
    headers, IPv4 total lengths below the header's, bogus TCP header lengths."""
    out = PcapFile()
    t = 1_700_000_200.0
    n = 0

    def syn(sport: int) -> bytes:
        return tcp(sport, 80, 1, 0, SYN, 64240)

    def add(frame: bytes) -> None:
        nonlocal t, n
        t += 0.001
        n += 1
        out.add(t, frame)

    for tpid in (0x8100, 0x9100, 0x88A8):
        for depth in (19, 20, 21):
            first, tags = vlan_tags([(tpid, i + 1) for i in range(depth)], 0x0800)
            add(ether(first, tags + ipv4(C, S, 6, syn(20000 + depth + tpid % 7 * 100))))
    first, tags = vlan_tags([(0x8100, 1)] * 10 + [(0x88A8, 2)] * 5 + [(0x9100, 3)] * 10, 0x0800)
    add(ether(first, tags + ipv4(C, S, 6, syn(20100))))  # 20 counted: still read
    for nh in (0, 43, 60, 135, 139, 140, 253):
        ext = bytes([6, 0]) + b"\0" * 6
        add(ether(0x86DD, ipv6("fd00::1", "fd00::2", nh, ext + syn(21000 + nh))))
    shim6_control = bytes([6, 0, 0x80]) + b"\0" * 5
    add(ether(0x86DD, ipv6("fd00::1", "fd00::2", 140, shim6_control + syn(21999))))
    for total in (0, 10, 19, 20, 21, 40, 44):
        seg = tcp(22000 + total, 80, 1, 1, PSH | ACK, 502, payload=b"q" * 20)
        add(ether(0x0800, ipv4(C, S, 6, seg, total=total)))
    for words in (0, 2, 4, 15):
        add(ether(0x0800, ipv4(C, S, 6, tcp(23000 + words, 80, 1, 1, ACK, 502, b"",
                                            b"r" * 40, offset=words))))  # fmt: skip
    return out


def fragments() -> PcapFile:
    """IPv4 and IPv6 fragments as a fuzzer sends them: empty pieces, overlaps that disagree,
    two tails, a first fragment cut by the snaplen."""
    out = PcapFile()
    t = 1_700_000_300.0
    a = tcp(24000, 80, 1111, 2222, PSH | ACK, 502, payload=b"A" * 40)
    b = tcp(24000, 80, 3333, 4444, PSH | ACK, 502, payload=b"B" * 40)

    def piece(ident: int, off: int, more: bool, data: bytes, snaplen: int | None = None
              ) -> None:  # fmt: skip
        nonlocal t
        t += 0.001
        frag = (0x2000 if more else 0) | off // 8
        out.add(t, ether(0x0800, ipv4(C, S, 6, data, ident=ident, frag=frag)), snaplen)

    piece(1, 0, True, a[:24]), piece(1, 0, True, b""), piece(1, 24, False, a[24:])
    piece(2, 0, True, a[:8]), piece(2, 0, True, b[:16]), piece(2, 16, False, a[16:])
    piece(3, 8, True, b[8:16]), piece(3, 0, True, a[:16]), piece(3, 16, False, a[16:])
    piece(4, 0, True, a[:24]), piece(4, 24, False, b""), piece(4, 24, False, a[24:])
    piece(5, 24, False, a[24:40]), piece(5, 0, True, a[:24]), piece(5, 24, False, a[24:])
    piece(6, 0, True, a[:48], snaplen=14 + 20 + 30)  # never whole: tshark shows its header
    piece(6, 48, False, a[48:])
    for ident, off, more, data in ((7, 0, True, a[:24]), (7, 0, True, b""),
                                   (7, 24, False, a[24:]), (8, 0, True, a[:32])):  # fmt: skip
        t += 0.001
        fh = bytes([6, 0]) + (off | (1 if more else 0)).to_bytes(2, "big")
        fh += ident.to_bytes(4, "big")
        frame = ether(0x86DD, ipv6("fd00::1", "fd00::2", 44, fh + data))
        out.add(t, frame, 14 + 40 + 8 + 20 if ident == 8 else None)
    return out


CRAFTED: dict[str, Callable[[], PcapFile]] = {
    "crafted__windows": windows,
    "crafted__fast-open": fast_open,
    "crafted__handshakes": handshakes,
    "crafted__tunnels": tunnels,
    "crafted__odd-headers": odd_headers,
    "crafted__fragments": fragments,
}
"""Each crafted capture by file name (without .pcap)."""
