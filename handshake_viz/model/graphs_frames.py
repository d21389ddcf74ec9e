"""What the timeline does not keep but a graph needs from a few packets, re-read from the
capture: the ack field of packets sent without the ACK flag, and a SYN's options.

tshark's ack walk reads the ack field of every packet, the ACK flag set or not. A SYN's is
zero in practice, and that zero, read as a sequence number, is compared with the other end's
segments: it drops a SYN-ACK captured before its SYN from the list, so the ACK that follows
acknowledges nothing (tshark shows no ack_rtt there). The timeline keeps no ack for such
packets, so the few of a connection (its SYNs, a RST) are re-read and decoded here.
"""

from __future__ import annotations

from typing import Any

from handshake_viz.core.decode import FrameDecoder, Packet
from handshake_viz.core.events import ACK
from handshake_viz.core.source import FrameSource
from handshake_viz.core.tcpoptions import parse_tcp_options
from handshake_viz.model.graphs_columns import flag_mask, ones, without
from handshake_viz.model.timeline import Timeline

M32 = 0xFFFFFFFF
MAX_REREAD = 1000
"""At most this many packets of one connection are re-read (a flood of SYNs in one stream
would otherwise read the whole file again); the rest keep no ack, as without a capture."""


class FrameReader:
    """Decodes single frames of a timeline's capture, remembering what it read."""

    def __init__(self, timeline: Timeline, frames: FrameSource) -> None:
        self.timeline = timeline
        self.frames = frames
        self._packets: dict[int, Packet | None] = {}

    def packet(self, row: int) -> Packet | None:
        """The decoded TCP header of timeline row `row`, None where it cannot be had."""
        if row in self._packets:
            return self._packets[row]
        got = self.frames.raw_frame(self.timeline.frame[row])
        packet = None
        if got is not None:
            decoded = FrameDecoder().decode(0, 0.0, got[0], got[1])
            if isinstance(decoded, Packet) and decoded.proto == 6:
                packet = decoded
        self._packets[row] = packet
        return packet

    def options(self, row: int) -> dict[str, Any] | None:
        """The TCP options of the packet at `row` (a SYN whose options were not kept)."""
        p = self.packet(row)
        return None if p is None else parse_tcp_options(p.options)


def ackless_acks(
    reader: FrameReader, rows: Any, dirs: Any, flags: Any, seqs: Any
) -> dict[int, int]:
    """For a connection's packets without the ACK flag (index i of its columns): their ack
    field as a sequence number relative to the other end's, as the timeline's acks are.

    The other end's base is its first packet's raw sequence number less its relative one.
    Packets that cannot be re-read are left out.
    """
    out: dict[int, int] = {}
    base: dict[int, int | None] = {}
    todo = ones(without(bytes([1]) * len(flags), flag_mask(flags, ACK)))[:MAX_REREAD]
    for i in todo:
        other = 1 - dirs[i]
        if other not in base:
            base[other] = _base(reader, rows, dirs, seqs, other)
        b = base[other]
        p = reader.packet(rows[i])
        if b is not None and p is not None:
            out[i] = (p.ack - b) & M32
    return out


def _base(reader: FrameReader, rows: Any, dirs: Any, seqs: Any, d: int) -> int | None:
    """Raw minus relative sequence number of direction `d`'s first packet."""
    for i, di in enumerate(dirs):
        if di == d:
            p = reader.packet(rows[i])
            return None if p is None else (p.seq - seqs[i]) & M32
    return None
