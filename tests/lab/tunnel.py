"""A tunnel endpoint in user space, for tunnels this kernel has no driver for (GRE, IP in IP,
6in4, Geneve): real programs talk over a TUN or TAP device, and this program carries what
they send inside the tunnel's headers to the other endpoint, and back.

    python -m tests.lab.tunnel MODE LOCAL REMOTE DEV ADDR [key=K] [seq=1] [limit=S]

MODE is ``gre`` (IP over GRE, protocol 47), ``gretap`` (Ethernet over GRE, 0x6558), ``ipip``
(protocol 4), ``sit`` (IPv6 in IPv4, protocol 41), ``geneve`` (Ethernet over UDP 6081).
GRE may carry a key and sequence numbers. The device gets ADDR and MTU 1400; the endpoint
stops after `limit` seconds.
"""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
PROTO = {"gre": 47, "gretap": 47, "ipip": 4, "sit": 41}


def _device(name: str, tap: bool) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", name.encode(), (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def _gre_header(ptype: int, key: int | None, seq: int | None) -> bytes:
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    head = struct.pack("!HH", flags, ptype)
    if key is not None:
        head += struct.pack("!I", key)
    if seq is not None:
        head += struct.pack("!I", seq)
    return head


def _gre_payload(packet: bytes) -> bytes | None:
    """The payload of a GRE packet (the outer IPv4 header included, as raw sockets give it)."""
    pos = (packet[0] & 0x0F) * 4
    flags = int.from_bytes(packet[pos : pos + 2], "big")
    pos += 4 + (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0)
    pos += 4 if flags & 0x1000 else 0
    return packet[pos:]


def run(mode: str, local: str, remote: str, dev: str, addr: str, key: int | None,
        sequenced: bool, limit: float) -> None:  # fmt: skip
    tap = mode in ("gretap", "geneve")
    fd = _device(dev, tap)
    subprocess.run(["ip", "addr", "add", addr, "dev", dev], check=True)
    subprocess.run(["ip", "link", "set", dev, "mtu", "1400", "up"], check=True)
    if mode == "geneve":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((local, 6081))
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO[mode])
        sock.bind((local, 0))
    seq = 0
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ready, _, _ = select.select([fd, sock], [], [], 0.2)
        if fd in ready:
            inner = os.read(fd, 65535)
            if mode == "geneve":
                sock.sendto(b"\0\0\x65\x58\0\0\x2a\0" + inner, (remote, 6081))
            elif mode in ("gre", "gretap"):
                ptype = 0x6558 if tap else 0x86DD if inner[0] >> 4 == 6 else 0x0800
                seq += 1
                head = _gre_header(ptype, key, seq if sequenced else None)
                sock.sendto(head + inner, (remote, 0))
            else:
                sock.sendto(inner, (remote, 0))
        if sock in ready:
            packet, peer = sock.recvfrom(65535)
            if peer[0] != remote:
                continue
            if mode == "geneve":
                payload: bytes | None = packet[8 + (packet[0] & 0x3F) * 4 :]
            elif mode in ("gre", "gretap"):
                payload = _gre_payload(packet)
            else:
                payload = packet[(packet[0] & 0x0F) * 4 :]
            if payload:
                os.write(fd, payload)


def main(argv: list[str]) -> int:
    mode, local, remote, dev, addr, *pairs = argv
    opts = dict(p.split("=", 1) for p in pairs)
    key = int(opts["key"]) if "key" in opts else None
    run(mode, local, remote, dev, addr, key, opts.get("seq") == "1",
        float(opts.get("limit", "20")))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
