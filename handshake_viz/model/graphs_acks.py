"""Which segment each ACK acknowledges, and what is in flight: tshark's unacked-segment lists.

tshark 4.0 keeps, for each direction of a connection, the segments sent and not yet
acknowledged (every segment with data, a SYN or a FIN, newest first, at most 10,000). Each
packet then walks the other direction's list (``tcp_analyze_sequence_number``):

- a segment whose next sequence number equals the packet's ack is acknowledged by it:
  ``tcp.analysis.acks_frame`` is that segment's frame and ``tcp.analysis.ack_rtt`` the time
  between the two (shown only when not zero); when several such segments are listed (a
  segment and its retransmission), the oldest one is the one reported;
- a segment the ack reaches into is cut to its unacknowledged part;
- a segment wholly below the ack is dropped.

``tcp.analysis.bytes_in_flight`` of a segment with data is then the span of its own
direction's list, from the lowest sequence number to the highest next one, less one for a SYN
or FIN, unless a segment was missing before it (until an ACK comes back). tshark also
subtracts the SACK blocks of the last ACK; the timeline keeps no SACK blocks, so this does
not (the graph says so where SACK was offered).

The walk runs on the relative numbers of the timeline, which differ from tshark's absolute
ones by a constant per direction, so every comparison comes out the same. Packets without the
ACK flag walk too where their ack field could be re-read (`graphs_frames`): tshark reads it
anyway; without it they are left out.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from itertools import count

from handshake_viz.core.events import ACK, FIN, SYN
from handshake_viz.model.graphs_columns import mask, ones
from handshake_viz.model.rows import ANALYSIS_NAMES

M32 = 0xFFFFFFFF
HALF = 0x80000000
MAX_UNACKED = 10_000
"""tshark's TCP_MAX_UNACKED_SEGMENTS: a direction whose ACKs are not seen stops growing."""
LOST = 1 << ANALYSIS_NAMES.index("previous_segment_not_captured")
"""The timeline's analysis bit of a segment after a gap (tshark then stops counting bytes in
flight until an ACK comes back)."""


def _gt(a: int, b: int) -> bool:
    """tshark's GT_SEQ: a after b in 32-bit sequence space."""
    return 0 < ((a - b) & M32) < HALF


@dataclass(slots=True)
class AckFigures:
    """Per packet of a connection (index i of its rows): what tshark's analysis adds."""

    ack_rtt: array[float]
    """Seconds from the acknowledged segment to this packet; NaN where tshark shows none."""
    acked_frame: array[int]
    """The frame of the segment this packet acknowledges; 0 where none."""
    in_flight: array[int]
    """Bytes in flight after this segment; -1 where tshark shows none."""


def analyse_acks(
    dirs: array[int],
    flags: array[int],
    seqs: array[int],
    acks: array[int],
    lengths: array[int],
    times: array[float],
    frames: array[int],
    analysis: array[int],
    ackless: dict[int, int] | None = None,
) -> AckFigures:
    """Walk one connection's packets (its columns, in capture order) as tshark does.

    `ackless` holds the ack field of packets sent without the ACK flag, by index, where it
    could be had (see `graphs_frames.ackless_acks`).
    """
    ackless = ackless or {}
    n = len(dirs)
    rtt = array("d", [math.nan]) * n
    acked = array("q", bytes(8 * n))
    flight = array("q", [-1]) * n
    unacked: tuple[list[list[int]], list[list[int]]] = ([], [])
    """Per direction, oldest first: [seq, nextseq, index of the segment]."""
    clean = [True, True]
    """The list is in sequence order without overlaps: acks only ever drop a prefix."""
    valid_bif = [True, True]
    lost = set(ones(mask(analysis, LOST.__and__)))
    for i, d, fl, seq, ack, ln in zip(count(), dirs, flags, seqs, acks, lengths):
        fwd = unacked[d]
        sf = 1 if fl & (SYN | FIN) else 0
        if fl & ACK:
            valid_bif[1 - d] = True
        else:
            ack = ackless.get(i)
        if lost and i in lost:
            valid_bif[d] = False
        if (ln or sf) and len(fwd) < MAX_UNACKED:
            if fwd and clean[d] and 0 < ((fwd[-1][1] - seq) & M32) < HALF:
                clean[d] = False  # it overlaps what is listed: a retransmission
            fwd.append([seq, (seq + ln + sf) & M32, i])
        if ack is not None:
            other = 1 - d
            rev = unacked[other]
            if rev:
                if clean[other]:
                    hit = _ack_clean(rev, ack)
                else:
                    hit = _ack_any(rev, ack)
                    clean[other] = _is_clean(rev)
                if hit is not None:
                    j = hit[2]
                    acked[i] = frames[j]
                    delta = times[i] - times[j]
                    if delta:
                        rtt[i] = delta
        if ln and fwd and valid_bif[d]:
            if clean[d]:
                span = (fwd[-1][1] - fwd[0][0]) & M32
            else:
                span = (max(e[1] for e in fwd) - min(e[0] for e in fwd)) & M32
            if 0 < span < 2_000_000_000:
                flight[i] = span - sf
    return AckFigures(rtt, acked, flight)


def _ack_clean(rev: list[list[int]], ack: int) -> list[int] | None:
    """The ack walk on a list in sequence order without overlaps: it drops a prefix (the
    last of which may be the acknowledged segment) and may cut the next segment."""
    k = 0
    hit = None
    for e in rev:
        nxt = e[1]
        if nxt == ack:
            hit = e
        elif 0 < ((nxt - ack) & M32) < HALF:  # the segment ends after the ack: kept
            if 0 < ((ack - e[0]) & M32) < HALF:
                e[0] = ack  # the ack reaches into it: only the rest is unacknowledged
            break
        k += 1
    if k:
        del rev[:k]
    return hit


def _ack_any(rev: list[list[int]], ack: int) -> list[int] | None:
    """tshark's loop as written, newest first: the oldest acknowledged segment wins."""
    hit = None
    i = len(rev) - 1
    while i >= 0:
        e = rev[i]
        nxt = e[1]
        if ack == nxt:
            hit = e
            del rev[i]
        elif _gt(ack, e[0]) and not _gt(ack, nxt):
            e[0] = ack
        elif not _gt(nxt, ack):
            del rev[i]
        i -= 1
    return hit


def _is_clean(rev: list[list[int]]) -> bool:
    return all(not _gt(a[1], b[0]) for a, b in zip(rev, rev[1:], strict=False))
