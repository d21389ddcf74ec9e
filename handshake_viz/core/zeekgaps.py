"""Zeek's content gaps (history letter ``g``): data one end sent that the capture never
showed, found when the other end acknowledges it, as Zeek's TCP reassembler finds them.

Part of `zeek`, on the same state (each end's `Flow`: ``z_reass``, ``z_trim``, ``z_blocks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handshake_viz.core.analysis import Flow
    from handshake_viz.core.conversation import Conversation

M32 = 0xFFFFFFFF
ESTABLISHED, CLOSED, RESET = 4, 5, 6
"""Zeek's endpoint states that matter here (all of them are in `zeek`)."""
POWERS_OF_TEN = frozenset(10**i for i in range(12))
"""Zeek's scaled history letters (t, w, g) are written on these counts."""


def data_seen(e: Flow, rel: int, length: int) -> None:
    """Data `e`'s end sent, as Zeek's reassembler takes it in."""
    end = rel + length
    if rel <= e.z_reass < end:
        e.z_reass = end
        if e.z_blocks:
            merge_blocks(e)
    elif rel > e.z_reass:
        if e.z_blocks is None:
            e.z_blocks = []
        e.z_blocks.append((rel, end))


def merge_blocks(e: Flow) -> None:
    assert e.z_blocks is not None
    e.z_blocks.sort()
    keep = []
    for start, end in e.z_blocks:
        if start <= e.z_reass:
            e.z_reass = max(e.z_reass, end)
        else:
            keep.append((start, end))
    e.z_blocks = keep or None


def acked(conv: Conversation, e: Flow, p: Flow, orig: bool, up: int) -> None:
    """The peer acknowledged `e`'s data up to `up`: what was never seen is a content gap
    (written only while both ends are established, or closed after being so)."""
    if e.z_fin_cnt and up >= e.z_fin_seq:
        up = e.z_fin_seq - 1
    if up <= e.z_trim or (up <= 2 and conv.z_partial):
        return
    e.z_trim = up
    if up <= e.z_reass:
        return
    gaps = 0
    if e.z_blocks:
        e.z_blocks.sort()
        for start, end in e.z_blocks:
            if start >= up:
                break
            if start > e.z_reass:
                gaps += 1
            e.z_reass = max(e.z_reass, end)
        e.z_blocks = [b for b in e.z_blocks if b[0] >= up] or None
    if up > e.z_reass:
        gaps += 1
        e.z_reass = up
    if _clean(e) and _clean(p):
        for _ in range(gaps):
            e.z_gap += 1
            if e.z_gap in POWERS_OF_TEN:
                conv.z_history += "G" if orig else "g"


def _clean(e: Flow) -> bool:
    return e.z_state == ESTABLISHED or (e.z_state == CLOSED and e.z_prev == ESTABLISHED)
