"""Zeek's ``history`` and ``conn_state`` of a TCP connection, packet by packet.

Written from Zeek's documentation of conn.log and its TCP analyzer (``TCPSessionAdapter``:
``update_history``, ``update_window``, ``update_last_seq``, the endpoint state machine, and the
reassembler's content gaps; ``conn_state`` from ``base/protocols/conn/main.zeek``), without
Zeek itself, which this project cannot install. Where Zeek's outcome depends on things this
reader does not model, the nearest reading is taken; the README lists the differences.

History letters: ``s`` SYN, ``h`` SYN-ACK, ``a`` pure ACK, ``d`` data, ``f`` FIN, ``r`` RST,
``t`` retransmitted data, ``w`` zero window, ``g`` content gap, ``i`` FIN and RST together,
``q`` SYN with FIN or RST, ``^`` the roles were flipped; upper case when Zeek's originator sent
the packet. ``a d i q`` count once per side; ``s h f r`` again when their sequence number
changes; ``t w g`` at the 1st, 10th, 100th... time.

Pure code, on the tracker's hot path: the in-order case of an established connection is a few
comparisons. The state lives in the tracker's own objects, to stay small for a million
connections: each end's in its `Flow` (the ``z_`` fields), the connection's in its
`Conversation` (``z_orig_a``, ``z_partial``, ``z_history``, ``z_seen``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handshake_viz.core.zeekgaps import acked, data_seen, merge_blocks

if TYPE_CHECKING:
    from handshake_viz.core.analysis import Flow
    from handshake_viz.core.conversation import Conversation

from handshake_viz.core.zeekgaps import CLOSED, ESTABLISHED, M32, POWERS_OF_TEN, RESET

INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL = range(4)

LIKELY_SERVER_PORTS = frozenset(
    (21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 389, 443, 445, 465, 502, 514, 563, 585,
     587, 614, 631, 636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306,
     3389, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000)
)  # fmt: skip
"""The TCP ports Zeek's default scripts register an analyzer for (``likely_server_ports``):
Zeek takes the sender of a connection's first packet as the originator unless that packet is
not a plain SYN and comes from one of these ports."""
LIKELY_SERVER_UDP_PORTS = frozenset(
    (53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 784, 853, 1812, 3389, 3544, 4011, 4754,
     4789, 5060, 5072, 5353, 5355, 6081, 20000)
)  # fmt: skip
"""The same for UDP (application analyzers and tunnels)."""

_HIST_SYN, _HIST_FIN, _HIST_RST, _HIST_FIN_RST, _HIST_DATA, _HIST_ACK, _HIST_MULTI = (
    1, 2, 4, 8, 16, 32, 64,
)  # fmt: skip
_TOO_LARGE_SEQ_DELTA = 1048576
_POWERS_OF_TEN = POWERS_OF_TEN
_DATA_O, _DATA_R, _ACK_O, _ACK_R = _HIST_DATA, _HIST_DATA << 16, _HIST_ACK, _HIST_ACK << 16
_HIST_SYN_R, _FIN_O, _FIN_R = _HIST_SYN << 16, _HIST_FIN, _HIST_FIN << 16
IN_ORDER_LETTERS = (((_ACK_R, "a"), (_ACK_O, "A")), ((_DATA_R, "d"), (_DATA_O, "D")))
"""What an ACK (``[False]``) or a segment with data (``[True]``) of an established connection
writes the first time, by whether the originator sent it (``[orig]``): its bit in
`Conversation.z_seen` and its letter."""


def _delta(a: int, b: int) -> int:
    """a - b in 32-bit sequence space, signed."""
    d = (a - b) & M32
    return d - 0x100000000 if d > 0x7FFFFFFF else d


def udp_flips(sport: int, dport: int) -> bool:
    """Whether Zeek makes the receiver of a UDP conversation's first datagram its originator."""
    return sport in LIKELY_SERVER_UDP_PORTS and dport not in LIKELY_SERVER_UDP_PORTS


def zeek_flips(flags: int, sport: int, dport: int) -> bool:
    """Whether Zeek makes the receiver of a connection's first packet its originator."""
    if flags & 0x12 == 0x02 or sport not in LIKELY_SERVER_PORTS:
        return False
    if dport in LIKELY_SERVER_PORTS:
        return not flags & 0x02 and sport < dport
    return True


def _check(conv: Conversation, orig: bool, mask: int, code: str) -> bool:
    """Zeek's CheckHistory: write `code` the first time; True if seen before."""
    if not orig:
        mask <<= 16
    if conv.z_seen & mask:
        return True
    conv.z_seen |= mask
    conv.z_history += code if orig else code.lower()
    return False


def _letter(conv: Conversation, orig: bool, code: str) -> None:
    conv.z_history += code if orig else code.lower()


def _set(e: Flow, state: int) -> None:
    if state != e.z_state:
        e.z_prev, e.z_state = e.z_state, state


def packet(conv: Conversation, e: Flow, p: Flow, from_a: bool, flags: int, seq: int, ack: int,
           length: int, window: int) -> None:  # fmt: skip
    """One packet from `e`'s end to `p`'s: Zeek's TCPSessionAdapter::Process.

    The common packets (a segment past the handshake, a first SYN, its SYN-ACK, a FIN) take
    the shortcuts below, each what `_slow` would do for it in that state, with the history
    check (`_check`), the state change (`_set`) and the acknowledgement (`_ack`) written out
    where they run most; `_slow` takes the rest. A test runs every capture both ways.
    """
    orig = from_a == conv.z_orig_a
    state = e.z_state
    if window and p.z_state != INACTIVE and (state == ESTABLISHED or state == CLOSED):
        if not flags & 0x07:
            # No SYN, FIN or RST past the handshake: no state changes, only what moves.
            if length:
                bit = _DATA_O if orig else _DATA_R
                if not conv.z_seen & bit:
                    conv.z_seen |= bit
                    conv.z_history += "D" if orig else "d"
                # update_last_seq: data that does not move last_seq on is retransmitted.
                end = (seq + length) & M32
                d = (end - e.z_last) & M32
                if d and d < 0x80000000:
                    e.z_last = end
                else:
                    _retransmitted(conv, e, orig)
                rel = (seq - e.z_start) & M32
                if rel <= e.z_reass < rel + length:
                    e.z_reass = rel + length
                    if e.z_blocks:
                        merge_blocks(e)
                else:
                    data_seen(e, rel, length)
            else:
                if flags & 0x10:
                    bit = _ACK_O if orig else _ACK_R
                    if not conv.z_seen & bit:
                        conv.z_seen |= bit
                        conv.z_history += "A" if orig else "a"
                # A pure ACK's sequence number may move last_seq on too.
                d = (seq - e.z_last) & M32
                if d and d < 0x80000000:
                    e.z_last = seq
            if flags & 0x10:
                # `_ack`: the peer's data acknowledged up to here (negative: never past z_trim).
                up = (ack - p.z_start) & M32
                if up > p.z_trim and up < 0x80000000:
                    if up <= p.z_reass and not p.z_fin_cnt:
                        p.z_trim = up
                    else:
                        acked(conv, p, e, not orig, up)
            return
        if flags & 0x17 == 0x11:  # FIN-ACK: the end closes
            end = (seq + length) & M32
            bit = _FIN_O if orig else _FIN_R
            if not conv.z_seen & bit:
                conv.z_seen |= bit
                conv.z_history += "F" if orig else "f"
            elif end != e.z_fin:
                conv.z_history += "F" if orig else "f"
            e.z_fin = end
            e.z_fin_cnt += 1
            start = e.z_start
            e.z_fin_seq = ((end - start) & M32) + 1
            past = (end + 1) & M32
            if e.z_last == (start + 1) & M32:
                e.z_last = past
            else:
                _advance(conv, e, orig, past, length)
            if state == ESTABLISHED:
                e.z_prev, e.z_state = ESTABLISHED, CLOSED
                if p.z_state == RESET and p.z_prev == CLOSED:
                    _set(p, CLOSED)
            up = (ack - p.z_start) & M32  # `_ack`, as above
            if up > p.z_trim and up < 0x80000000:
                if up <= p.z_reass and not p.z_fin_cnt:
                    p.z_trim = up
                else:
                    acked(conv, p, e, not orig, up)
            if length:
                data_seen(e, (seq - e.z_start) & M32, length)
            return
    elif state == INACTIVE and window:
        kind = flags & 0x17
        if kind == 0x02 and orig:  # the originator's first SYN
            e.z_start, e.z_last = seq, (seq + length + 1) & M32
            if conv.z_seen & _HIST_SYN:
                if seq != e.z_syn:
                    conv.z_history += "S"
            else:
                conv.z_seen |= _HIST_SYN
                conv.z_history += "S"
            e.z_syn = seq
            e.z_prev, e.z_state = INACTIVE, SYN_SENT
            if length:  # Zeek counts a SYN's data as retransmitted (it does not move last_seq)
                _retransmitted(conv, e, orig)
                data_seen(e, 1, length)
            return
        if kind == 0x12 and not orig and p.z_state == SYN_SENT:  # the SYN-ACK answering it
            e.z_start, e.z_last = seq, (seq + length + 1) & M32
            if conv.z_seen & _HIST_SYN_R:
                if seq != e.z_syn:
                    conv.z_history += "h"
            else:
                conv.z_seen |= _HIST_SYN_R
                conv.z_history += "h"
            e.z_syn = seq
            p.z_prev, p.z_state = SYN_SENT, ESTABLISHED
            e.z_prev, e.z_state = INACTIVE, ESTABLISHED
            if length:
                _retransmitted(conv, e, orig)
            _ack(conv, p, e, True, ack)
            if length:
                data_seen(e, 1, length)
            return
    _slow(conv, e, p, orig, flags, seq, ack, length, window)


def _advance(conv: Conversation, e: Flow, orig: bool, past: int, length: int) -> None:
    """Zeek's update_last_seq for a segment without SYN or RST, its end at `past`."""
    d = (past - e.z_last) & M32
    if d and d < 0x80000000:
        e.z_last = past
    elif length:
        _retransmitted(conv, e, orig)


def _retransmitted(conv: Conversation, e: Flow, orig: bool) -> None:
    e.z_rx += 1
    if e.z_rx in _POWERS_OF_TEN:
        _letter(conv, orig, "T")


def _ack(conv: Conversation, e: Flow, p: Flow, orig: bool, ack: int) -> None:
    """`p` acknowledged `e`'s data up to `ack`: the common case (all of it seen) here."""
    up = _delta(ack, e.z_start)
    if up > e.z_trim:
        if up <= e.z_reass and not e.z_fin_cnt:
            e.z_trim = up
        else:
            acked(conv, e, p, orig, up)


def _slow(conv: Conversation, e: Flow, p: Flow, orig: bool, flags: int, seq: int, ack: int,
          length: int, window: int) -> None:  # fmt: skip
    """Every other packet, step by step as Zeek takes it, written out in one function: this
    runs for half the packets of short connections (the tracker's hot path)."""
    syn, fin, rst, has_ack = flags & 0x02, flags & 0x01, flags & 0x04, flags & 0x10
    past = (seq + length + (1 if syn else 0) + (1 if fin else 0) - (length if rst else 0)) & M32
    shift = 0 if orig else 16
    # init_endpoint: the first packet of an end, or a SYN that starts it again.
    state = e.z_state
    if state == INACTIVE:
        if syn:
            e.z_start, e.z_last = seq, past
        else:
            e.z_start, e.z_last = (seq - 1) & M32, seq
    elif syn and (
        (state in (SYN_SENT, SYN_ACK_SENT) and seq != e.z_start)
        or state in (ESTABLISHED, PARTIAL)
        or (state == RESET and e.z_prev == INACTIVE)
    ):
        e.z_start, e.z_last = seq, past
    # update_history (sequence numbers compared absolute: only equality counts).
    bits = (1 if syn else 0) + (1 if fin else 0) + (1 if rst else 0)
    if bits == 1:
        if syn:
            code = "H" if has_ack else "S"
            if _check(conv, orig, _HIST_SYN, code) and seq != e.z_syn:
                _letter(conv, orig, code)
            e.z_syn = seq
        elif fin:
            end = (seq + length) & M32
            if _check(conv, orig, _HIST_FIN, "F") and end != e.z_fin:
                _letter(conv, orig, "F")
            e.z_fin = end
        else:
            if _check(conv, orig, _HIST_RST, "R") and seq != e.z_rst:
                _letter(conv, orig, "R")
            e.z_rst = seq
    elif bits:
        if fin and rst:
            _check(conv, orig, _HIST_FIN_RST, "I")
        else:
            _check(conv, orig, _HIST_MULTI, "Q")
    elif length:
        if not conv.z_seen & (_HIST_DATA << shift):
            _check(conv, orig, _HIST_DATA, "D")
    elif has_ack and not conv.z_seen & (_HIST_ACK << shift):
        _check(conv, orig, _HIST_ACK, "A")
    # update_window: a zero window (not with or after a RST, nor after the peer closed).
    if window == 0 and not rst and p.z_state != CLOSED and state != RESET:
        e.z_win0 += 1
        if e.z_win0 in _POWERS_OF_TEN:
            _letter(conv, orig, "W")
    start = e.z_start
    rel_seq = (seq - start) & M32
    if rel_seq > 0x7FFFFFFF:
        rel_seq -= 0x100000000
    if fin:
        e.z_fin_cnt += 1
        e.z_fin_seq = rel_seq + ((past - seq) & M32)
    rel_ack = 0
    if has_ack:
        if p.z_state == INACTIVE:
            rel_ack = 1
            p.z_start = p.z_last = (ack - 1) & M32
        else:
            rel_ack = _delta(ack, p.z_start)
    # update_last_seq: data that does not move last_seq on is retransmitted.
    delta = _delta(past, e.z_last)
    if (syn or rst) and abs(delta) > _TOO_LARGE_SEQ_DELTA:
        pass
    elif fin and e.z_last == (start + 1) & M32:
        e.z_last = past
    elif state == RESET:
        pass
    elif delta > 0:
        e.z_last = past
    elif length:
        e.z_rx += 1
        if e.z_rx in _POWERS_OF_TEN:
            _letter(conv, orig, "T")
    # UpdateStateMachine: each end's state after this packet (its events left out).
    if state == INACTIVE:
        if syn:
            if orig:
                _set(e, SYN_ACK_SENT if has_ack else SYN_SENT)
            else:
                if not has_ack and p.z_state == SYN_ACK_SENT and seq == e.z_start:
                    conv.z_orig_a = not conv.z_orig_a  # Zeek's FlipRoles, mid-connection
                    conv.z_history += "^"
                    _set(p, ESTABLISHED)
                if p.z_state == SYN_SENT:
                    _set(p, ESTABLISHED)
                _set(e, ESTABLISHED)
        if fin:
            _set(e, CLOSED)
        if rst:
            _set(e, RESET)
        if e.z_state == INACTIVE:
            o = conv.fa if conv.z_orig_a else conv.fb
            if not orig and length == 0 and o.z_state == SYN_SENT:
                pass  # an ACK of the SYN before the SYN-ACK
            elif has_ack and p.z_state == ESTABLISHED:
                _set(e, ESTABLISHED)
            else:
                _set(e, PARTIAL)
    elif state == SYN_SENT or state == SYN_ACK_SENT:
        if fin:
            _set(e, CLOSED)
        if rst:
            _set(e, RESET)
    elif state == ESTABLISHED or state == PARTIAL:
        if syn and state == PARTIAL and p.z_state == INACTIVE and not has_ack:
            _set(e, SYN_SENT)
        if fin and not rst:
            _set(e, CLOSED)
            if p.z_state == RESET and p.z_prev == CLOSED:
                _set(p, CLOSED)
        if rst:
            _set(e, RESET)
    elif state == CLOSED and rst and p.z_state != CLOSED:
        _set(e, RESET)
    # The peer's data acknowledged, then this end's data taken in.
    if has_ack and rel_ack > p.z_trim:
        acked(conv, p, e, (p is conv.fa) == conv.z_orig_a, rel_ack)
    if length and not rst:
        data_seen(e, rel_seq + 1 if syn else rel_seq, length)
