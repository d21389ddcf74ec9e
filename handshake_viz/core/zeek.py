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
comparisons.
"""

from __future__ import annotations

M32 = 0xFFFFFFFF
INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET = range(7)

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


class _End:
    """One endpoint as Zeek's TCP analyzer keeps it."""

    __slots__ = ("orig", "state", "prev_state", "start", "last", "last_syn", "last_fin",
                 "last_rst", "fin_cnt", "fin_seq", "counts", "thresholds", "reassembled", "blocks",
                 "trimmed")  # fmt: skip

    def __init__(self, orig: bool) -> None:
        self.orig = orig
        self.state = self.prev_state = INACTIVE
        self.start = self.last = 0
        """Zeek's start_seq (the ISN, or one before the first sequence number) and last_seq."""
        self.last_syn = self.last_fin = self.last_rst = -1
        self.fin_cnt = 0
        self.fin_seq = 0
        """Relative sequence number just past this endpoint's FIN."""
        self.counts = [0, 0, 0]
        """Retransmissions, zero windows, content gaps."""
        self.thresholds = [1, 1, 1]
        """The count at which each of them is written again (1, 10, 100...)."""
        self.reassembled = 1
        """Relative sequence number up to which this endpoint's data was seen, in order."""
        self.blocks: list[tuple[int, int]] = []
        """Data seen beyond `reassembled`: (start, end), relative."""
        self.trimmed = 1
        """Highest relative sequence number the peer has acknowledged (Zeek's trim_seq)."""

    def set_state(self, state: int) -> None:
        if state != self.state:
            self.prev_state, self.state = self.state, state


class ZeekConnection:
    """Zeek's view of one TCP connection: both endpoints, their states and the history."""

    __slots__ = ("o", "r", "a_is_orig", "partial", "history", "seen")

    def __init__(self, flags: int, sport: int, dport: int) -> None:
        """The connection's first packet decides the roles (its sender is "a")."""
        flipped = zeek_flips(flags, sport, dport)
        self.o = _End(True)
        self.r = _End(False)
        self.a_is_orig = not flipped
        self.partial = flags & 0x12 != 0x02
        """No SYN began it: Zeek ignores gaps of the first two bytes of such a connection."""
        self.history: list[str] = ["^"] if flipped else []
        self.seen = 0
        """Zeek's hist_seen: the once-only letters written, the originator's in the low half."""

    # History --------------------------------------------------------------------------------

    def _check(self, e: _End, mask: int, code: str) -> bool:
        """Zeek's CheckHistory: write `code` the first time; True if seen before."""
        if not e.orig:
            mask <<= 16
        if self.seen & mask:
            return True
        self.seen |= mask
        self.history.append(code if e.orig else code.lower())
        return False

    def _scaled(self, e: _End, which: int, code: str) -> None:
        """Zeek's ScaledHistoryEntry: the 1st, 10th, 100th... time."""
        e.counts[which] += 1
        if e.counts[which] == e.thresholds[which]:
            self.history.append(code if e.orig else code.lower())
            e.thresholds[which] *= 10

    # Packets --------------------------------------------------------------------------------

    def packet(self, from_a: bool, flags: int, seq: int, ack: int, length: int, window: int
               ) -> None:  # fmt: skip
        """One packet, from "a" if `from_a`: Zeek's TCPSessionAdapter::Process."""
        orig = from_a == self.a_is_orig
        e, p = (self.o, self.r) if orig else (self.r, self.o)
        if not flags & 0x07 and e.state == ESTABLISHED == p.state and window:
            # In order, established, nothing to record but what moves.
            end = (seq + length) & M32
            if length:
                if not self.seen & (_HIST_DATA if orig else _HIST_DATA << 16):
                    self._check(e, _HIST_DATA, "D")
                d = _delta(end, e.last)
                if d > 0:
                    e.last = end
                else:
                    self._scaled(e, 0, "T")
            elif flags & 0x10 and not self.seen & (_HIST_ACK if orig else _HIST_ACK << 16):
                self._check(e, _HIST_ACK, "A")
            if flags & 0x10:
                self._acked(p, _delta(ack, p.start))
            if length:
                self._data(e, _delta(seq, e.start), length)
            return
        self._slow(e, p, orig, flags, seq, ack, length, window)

    def _slow(self, e: _End, p: _End, orig: bool, flags: int, seq: int, ack: int, length: int,
              window: int) -> None:  # fmt: skip
        syn, fin, rst = flags & 0x02, flags & 0x01, flags & 0x04
        seg_len = length + (1 if syn else 0) + (1 if fin else 0) - (length if rst else 0)
        past = (seq + seg_len) & M32
        self._init_endpoint(e, syn, seq, past)
        self._history(e, flags, seq, length)
        if window == 0 and not rst and p.state != CLOSED and e.state != RESET:
            self._scaled(e, 1, "W")
        rel_seq = _delta(seq, e.start)
        if fin:
            e.fin_cnt += 1
            e.fin_seq = rel_seq + seg_len
        rel_ack = 0
        if flags & 0x10:
            if p.state == INACTIVE:
                rel_ack = 1
                p.start = p.last = (ack - 1) & M32
            else:
                rel_ack = _delta(ack, p.start)
        delta_last = self._last_seq(e, syn, fin, rst, past, length)
        self._state_machine(e, p, orig, flags, seq, length, delta_last)
        if flags & 0x10:
            self._acked(p, rel_ack)
        if length and not rst:
            self._data(e, rel_seq + 1 if syn else rel_seq, length)

    def _init_endpoint(self, e: _End, syn: int, seq: int, past: int) -> None:
        if e.state == INACTIVE:
            if syn:
                e.start, e.last = seq, past
            else:
                e.start, e.last = (seq - 1) & M32, seq
        elif syn and (
            (e.state in (SYN_SENT, SYN_ACK_SENT) and seq != e.start)
            or e.state in (ESTABLISHED, PARTIAL)
            or (e.state == RESET and e.prev_state == INACTIVE)
        ):
            e.start, e.last = seq, past

    def _history(self, e: _End, flags: int, seq: int, length: int) -> None:
        """Zeek's update_history (sequence numbers compared absolute: only equality counts)."""
        syn, fin, rst = flags & 0x02, flags & 0x01, flags & 0x04
        bits = (1 if syn else 0) + (1 if fin else 0) + (1 if rst else 0)
        if bits > 1:
            if fin and rst:
                self._check(e, _HIST_FIN_RST, "I")
            else:
                self._check(e, _HIST_MULTI, "Q")
        elif bits == 1:
            if syn:
                code = "H" if flags & 0x10 else "S"
                if self._check(e, _HIST_SYN, code) and seq != e.last_syn:
                    self.history.append(code if e.orig else code.lower())
                e.last_syn = seq
            elif fin:
                end = (seq + length) & M32
                if self._check(e, _HIST_FIN, "F") and end != e.last_fin:
                    self.history.append("F" if e.orig else "f")
                e.last_fin = end
            else:
                if self._check(e, _HIST_RST, "R") and seq != e.last_rst:
                    self.history.append("R" if e.orig else "r")
                e.last_rst = seq
        elif length:
            self._check(e, _HIST_DATA, "D")
        elif flags & 0x10:
            self._check(e, _HIST_ACK, "A")

    def _last_seq(self, e: _End, syn: int, fin: int, rst: int, past: int, length: int) -> int:
        """Zeek's update_last_seq: data that does not move last_seq on is retransmitted."""
        delta = _delta(past, e.last)
        if (syn or rst) and abs(delta) > _TOO_LARGE_SEQ_DELTA:
            pass
        elif fin and e.last == (e.start + 1) & M32:
            e.last = past
        elif e.state == RESET:
            pass
        elif delta > 0:
            e.last = past
        elif length:
            self._scaled(e, 0, "T")
        return delta

    def _state_machine(self, e: _End, p: _End, orig: bool, flags: int, seq: int, length: int,
                       delta_last: int) -> None:  # fmt: skip
        syn, fin, rst, ack = flags & 0x02, flags & 0x01, flags & 0x04, flags & 0x10
        state = e.state
        if state == INACTIVE:
            if syn:
                if orig:
                    e.set_state(SYN_ACK_SENT if ack else SYN_SENT)
                else:
                    if not ack and p.state == SYN_ACK_SENT and seq == e.start:
                        self._flip()
                        p.set_state(ESTABLISHED)
                    if p.state == SYN_SENT:
                        p.set_state(ESTABLISHED)
                    e.set_state(ESTABLISHED)
            if fin:
                e.set_state(CLOSED)
            if rst:
                e.set_state(RESET)
            if e.state == INACTIVE:
                if not orig and length == 0 and self.o.state == SYN_SENT:
                    pass  # an ACK of the SYN before the SYN-ACK
                elif ack and p.state == ESTABLISHED:
                    e.set_state(ESTABLISHED)
                else:
                    e.set_state(PARTIAL)
        elif state in (SYN_SENT, SYN_ACK_SENT):
            if fin:
                e.set_state(CLOSED)
            if rst:
                e.set_state(RESET)
        elif state in (ESTABLISHED, PARTIAL):
            if syn and state == PARTIAL and p.state == INACTIVE and not ack:
                e.set_state(SYN_SENT)
            if fin and not rst:
                e.set_state(CLOSED)
                if p.state == RESET and p.prev_state == CLOSED:
                    p.set_state(CLOSED)
            if rst:
                e.set_state(RESET)
        elif state == CLOSED:
            if rst and p.state != CLOSED:
                e.set_state(RESET)

    def _flip(self) -> None:
        """Zeek's FlipRoles in the middle of a connection: the endpoints swap, '^' is written."""
        self.o, self.r = self.r, self.o
        self.o.orig, self.r.orig = True, False
        self.a_is_orig = not self.a_is_orig
        self.history.append("^")

    # Content gaps ---------------------------------------------------------------------------

    def _data(self, e: _End, rel: int, length: int) -> None:
        """Data `e` sent, as Zeek's reassembler takes it in."""
        end = rel + length
        if rel <= e.reassembled < end:
            e.reassembled = end
            if e.blocks:
                self._merge(e)
        elif rel > e.reassembled:
            e.blocks.append((rel, end))

    @staticmethod
    def _merge(e: _End) -> None:
        e.blocks.sort()
        keep = []
        for start, end in e.blocks:
            if start <= e.reassembled:
                e.reassembled = max(e.reassembled, end)
            else:
                keep.append((start, end))
        e.blocks = keep

    def _acked(self, e: _End, up: int) -> None:
        """The peer acknowledged `e`'s data up to `up`: what was never seen is a content gap
        (written only while both ends are established, or closed after being so)."""
        if e.fin_cnt and up >= e.fin_seq:
            up = e.fin_seq - 1
        if up <= e.trimmed or (up <= 2 and self.partial):
            return
        e.trimmed = up
        if up <= e.reassembled:
            return
        gaps = 0
        if e.blocks:
            e.blocks.sort()
            for start, end in e.blocks:
                if start >= up:
                    break
                if start > e.reassembled:
                    gaps += 1
                e.reassembled = max(e.reassembled, end)
            e.blocks = [b for b in e.blocks if b[0] >= up]
        if up > e.reassembled:
            gaps += 1
            e.reassembled = up
        p = self.r if e is self.o else self.o
        if _clean(e) and _clean(p):
            for _ in range(gaps):
                self._scaled(e, 2, "G")

    # Results --------------------------------------------------------------------------------

    def history_string(self) -> str:
        return "".join(self.history)

    def conn_state(self, orig_bytes: int, resp_bytes: int) -> str:
        """conn.log's conn_state: Zeek's ``conn_state`` function on the final states."""
        os, rs = self.o.state, self.r.state
        o_inactive = os in (INACTIVE, PARTIAL)
        r_inactive = rs in (INACTIVE, PARTIAL)
        if rs == RESET:
            if os in (SYN_SENT, SYN_ACK_SENT) or (
                os == RESET and not orig_bytes and not resp_bytes
            ):
                return "REJ"
            return "RSTRH" if o_inactive else "RSTR"
        if os == RESET:
            if r_inactive:
                return "RSTOS0" if _syn_then_rst(self.history_string()) else "OTH"
            return "RSTO"
        if rs == CLOSED and os == CLOSED:
            return "SF"
        if os == CLOSED:
            return "SH" if r_inactive else "S2"
        if rs == CLOSED:
            return "SHR" if o_inactive else "S3"
        if os == SYN_SENT and rs == INACTIVE:
            return "S0"
        if os == ESTABLISHED and rs == ESTABLISHED:
            return "S1"
        return "OTH"


def _clean(e: _End) -> bool:
    return e.state == ESTABLISHED or (e.state == CLOSED and e.prev_state == ESTABLISHED)


def _syn_then_rst(history: str) -> bool:
    """Zeek's ``/\\^?S[^HAFGIQ]*R.*/``: a SYN, then a RST before any of H A F G I Q."""
    h = history[1:] if history.startswith("^") else history
    if not h.startswith("S"):
        return False
    for c in h[1:]:
        if c == "R":
            return True
        if c in "HAFGIQ":
            return False
    return False
