"""A small Ethernet relay between two interfaces, for what ``sch_netem`` would do and this
kernel lacks: delay, reordering, duplication.

    python -m tests.lab.relay IF_A IF_B [delay=MS] [reorder=N] [duplicate=N] [limit=S]

Frames read on one interface are written to the other (AF_PACKET, the relay's namespace
routes nothing itself), each `delay` ms later, their TCP or UDP checksum filled in (a veth
leaves it to the receiving end, which a frame sent again from user space no longer tells).
Of the TCP segments that carry data, every
`reorder`-th is held back until the next frame has passed, and every `duplicate`-th is sent
twice. Handshakes and pure ACKs pass unchanged, so the impairments fall on data. The relay
stops after `limit` seconds.
"""

from __future__ import annotations

import heapq
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
HOLD = 0.05
"""Seconds a frame held back for reordering waits at most for one to overtake it."""


def _open(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _with_checksum(frame: bytes) -> bytes:
    """The frame with its TCP or UDP checksum computed (unfragmented IPv4 or IPv6)."""
    etype = int.from_bytes(frame[12:14], "big")
    if etype == 0x0800 and len(frame) >= 34 and not int.from_bytes(frame[20:22], "big") & 0x3FFF:
        ihl = (frame[14] & 0x0F) * 4
        proto, end = frame[23], 14 + int.from_bytes(frame[16:18], "big")
        pseudo = frame[26:34] + struct.pack("!HH", proto, end - 14 - ihl)
        start = 14 + ihl
    elif etype == 0x86DD and len(frame) >= 54 and frame[20] in (6, 17):
        proto, end = frame[20], 54 + int.from_bytes(frame[18:20], "big")
        pseudo = frame[22:54] + struct.pack("!IxxxB", end - 54, proto)
        start = 54
    else:
        return frame
    where = start + (16 if proto == 6 else 6)
    if proto not in (6, 17) or len(frame) < end or end < where + 2:
        return frame
    segment = frame[start:where] + b"\0\0" + frame[where + 2 : end]
    checksum = ~_sum16(pseudo + segment) & 0xFFFF
    return frame[:where] + struct.pack("!H", checksum or 0xFFFF) + frame[where + 2 :]


def _carries_data(frame: bytes) -> bool:
    """An IPv4 or IPv6 TCP segment with payload, without SYN, FIN or RST."""
    etype = int.from_bytes(frame[12:14], "big")
    if etype == 0x0800 and len(frame) >= 34 and frame[23] == 6:
        ihl = (frame[14] & 0x0F) * 4
        total = int.from_bytes(frame[16:18], "big")
        tcp = 14 + ihl
    elif etype == 0x86DD and len(frame) >= 54 and frame[20] == 6:
        total = 40 + int.from_bytes(frame[18:20], "big")
        ihl, tcp = 40, 54
    else:
        return False
    if len(frame) < tcp + 14:
        return False
    thl = (frame[tcp + 12] >> 4) * 4
    return total - ihl - thl > 0 and not frame[tcp + 13] & 0x07


def relay(if_a: str, if_b: str, delay: float, reorder: int, duplicate: int, limit: float) -> None:
    a, b = _open(if_a), _open(if_b)
    other = {a: b, b: a}
    queue: list[tuple[float, int, socket.socket, bytes]] = []
    held: dict[socket.socket, tuple[float, bytes]] = {}
    data_seen = 0
    order = 0
    end = time.monotonic() + limit
    while time.monotonic() < end:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                out.send(frame)
            except OSError:
                pass  # a frame too big for the other side: dropped, as a switch would
        for out, (since, frame) in list(held.items()):
            if now - since > HOLD:  # nothing came after it: let it go anyway
                del held[out]
                order += 1
                heapq.heappush(queue, (now + delay, order, out, frame))
        timeout = min(queue[0][0] - now, 0.05) if queue else 0.05
        ready, _, _ = select.select([a, b], [], [], max(timeout, 0))
        for sock in ready:
            try:
                frame, addr = sock.recvfrom(65535)
            except BlockingIOError:
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            out = other[sock]
            frame = _with_checksum(frame)
            copies = [frame]
            if _carries_data(frame):
                data_seen += 1
                if duplicate and data_seen % duplicate == 0:
                    copies.append(frame)
                if reorder and data_seen % reorder == 0 and out not in held:
                    held[out] = (time.monotonic(), frame)
                    continue
            if out in held:
                copies.append(held.pop(out)[1])  # the held frame goes after this one
            for copy in copies:
                order += 1
                heapq.heappush(queue, (time.monotonic() + delay, order, out, copy))


def main(argv: list[str]) -> int:
    if_a, if_b, *pairs = argv
    opts = dict(p.split("=", 1) for p in pairs)
    relay(if_a, if_b, float(opts.get("delay", "0")) / 1000, int(opts.get("reorder", "0")),
          int(opts.get("duplicate", "0")), float(opts.get("limit", "20")))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
