"""tshark's TCP sequence analysis, check for check: retransmissions, out-of-order, lost and
duplicate segments, zero windows, keep-alives, window updates, full windows.

`analyse` is tshark 4.0's ``tcp_analyze_sequence_number`` on absolute sequence numbers, over
the two `Flow`s of a conversation. It is the hot path of replay, written for speed: sequence
comparisons are spelled out as tshark's ``LT_SEQ`` in 32-bit arithmetic.
"""

from __future__ import annotations

from handshake_viz.core.events import TcpState

M32 = 0xFFFFFFFF
OOO_THRESHOLD = 0.003
"""tshark's default out-of-order threshold (seconds), used when no RTT is known."""

A_RETRANSMISSION = 0x0001
A_LOST_PACKET = 0x0002
A_ACK_LOST_PACKET = 0x0004
A_KEEP_ALIVE = 0x0008
A_DUPLICATE_ACK = 0x0010
A_ZERO_WINDOW = 0x0020
A_ZERO_WINDOW_PROBE = 0x0040
A_ZERO_WINDOW_PROBE_ACK = 0x0080
A_KEEP_ALIVE_ACK = 0x0100
A_OUT_OF_ORDER = 0x0200
A_FAST_RETRANSMISSION = 0x0400
A_WINDOW_UPDATE = 0x0800
A_WINDOW_FULL = 0x1000
A_SPURIOUS_RETRANSMISSION = 0x2000

_MARK_NAMES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (A_RETRANSMISSION, ("retransmission",)),
    (A_FAST_RETRANSMISSION, ("fast_retransmission", "retransmission")),
    (A_SPURIOUS_RETRANSMISSION, ("spurious_retransmission", "retransmission")),
    (A_OUT_OF_ORDER, ("out_of_order",)),
    (A_LOST_PACKET, ("previous_segment_not_captured",)),
    (A_ACK_LOST_PACKET, ("ack_lost_segment",)),
    (A_DUPLICATE_ACK, ("duplicate_ack",)),
    (A_ZERO_WINDOW, ("zero_window",)),
    (A_ZERO_WINDOW_PROBE, ("zero_window_probe",)),
    (A_ZERO_WINDOW_PROBE_ACK, ("zero_window_probe_ack",)),
    (A_KEEP_ALIVE, ("keep_alive",)),
    (A_KEEP_ALIVE_ACK, ("keep_alive_ack",)),
    (A_WINDOW_UPDATE, ("window_update",)),
    (A_WINDOW_FULL, ("window_full",)),
)
"""Analysis bits and the names the JSONL gives them (tshark's field names)."""
_MARKS: dict[int, tuple[str, ...]] = {}


def seq_lt(a: int, b: int) -> bool:
    """a < b in 32-bit sequence space (tshark's LT_SEQ)."""
    return ((a - b) & M32) > 0x7FFFFFFF


class Flow:
    """One direction of a TCP conversation: what its sender has sent and acknowledged.

    The analysis fields keep tshark's names and, like tshark, hold absolute numbers.
    """

    __slots__ = (
        "base",
        "nextseq",
        "nextseq_time",
        "maxseqtobeacked",
        "lastack",
        "lastack_time",
        "window",
        "dupacks",
        "last_flags",
        "fin_end",
        "state",
        "win_scale",
        # Zeek's view of this end (core.zeek): its state, sequence numbers and counts.
        "z_state",
        "z_prev",
        "z_start",
        "z_last",
        "z_syn",
        "z_fin",
        "z_rst",
        "z_fin_cnt",
        "z_fin_seq",
        "z_rx",
        "z_win0",
        "z_gap",
        "z_reass",
        "z_trim",
        "z_blocks",
    )

    def __init__(self, state: TcpState) -> None:
        self.base: int | None = None
        """Absolute sequence number that shows as 0."""
        self.nextseq = 0
        """Sequence number expected next from this sender (0: unknown, as in tshark)."""
        self.nextseq_time = 0.0
        self.maxseqtobeacked = 0
        self.lastack = 0
        """Ack field this sender last sent (kept even with the ACK flag off, as tshark)."""
        self.lastack_time = 0.0
        self.window = 0xFFFFFFFF
        self.dupacks = 0
        self.last_flags = 0
        """Analysis bits of this sender's previous segment (keep-alive detection)."""
        self.fin_end: int | None = None
        """Relative sequence number just past this sender's FIN."""
        self.state = state
        """This end's TCP state after the latest packet."""
        self.win_scale = -1
        """tshark's window scaling of this sender: -1 not known, -2 none (the handshake did not
        agree on it), else the shift its SYN offered."""
        self.z_state = self.z_prev = 0
        """Zeek's endpoint state (core.zeek: INACTIVE...RESET) and the one before it."""
        self.z_start = self.z_last = 0
        """Zeek's start_seq (the ISN, or one before the first sequence number) and last_seq."""
        self.z_syn = self.z_fin = self.z_rst = -1
        """Sequence numbers of this end's latest SYN, FIN (its end) and RST."""
        self.z_fin_cnt = self.z_fin_seq = 0
        self.z_rx = self.z_win0 = self.z_gap = 0
        """How many retransmissions, zero windows and content gaps (Zeek's t, w, g)."""
        self.z_reass = self.z_trim = 1
        """Relative sequence numbers: data seen in order up to, acknowledged by the peer up to."""
        self.z_blocks: list[tuple[int, int]] | None = None
        """Data seen beyond `z_reass` (relative start, end), if any."""


def analyse(
    flags: int,
    seq: int,
    ack: int,
    seglen: int,
    window: int,
    now: float,
    F: Flow,
    R: Flow,
    first_rtt: float,
) -> tuple[str, ...]:
    """tshark 4.0's tcp_analyze_sequence_number, check for check, on absolute numbers.

    `F` is the sender's flow, `R` the other one. Returns the marks of this segment (tshark's
    field names) and updates both flows as tshark does. The hot path of replay: sequence
    comparisons are written out (``(a - b) & M32 > 0x7FFFFFFF`` is tshark's ``LT_SEQ(a, b)``),
    each preceded by the cheap equality that settles the common in-order case.
    """
    ta = 0
    sfr = flags & 0x07  # SYN, FIN or RST
    nextseq0 = F.nextseq
    if seglen > 1:
        # A data segment: of the first checks only these two can apply.
        if window == 0 and not sfr:
            ta = A_ZERO_WINDOW
        if (
            nextseq0
            and seq != nextseq0
            and ((nextseq0 - seq) & M32) > 0x7FFFFFFF
            and not flags & 0x04
        ):
            ta |= A_LOST_PACKET
        shift = R.win_scale
        if (
            shift != -1
            and not sfr
            and ((seq + seglen) & M32)
            == (R.lastack + ((R.window << (shift if shift > 0 else 0)) & M32)) & M32
        ):
            ta |= A_WINDOW_FULL  # the segment reaches the right edge of the receiver's window
    elif seglen == 1 and seq == nextseq0 and R.window == 0:
        ta = A_ZERO_WINDOW_PROBE
    else:
        if window == 0 and not sfr:
            ta = A_ZERO_WINDOW
        if (
            nextseq0
            and seq != nextseq0
            and ((nextseq0 - seq) & M32) > 0x7FFFFFFF
            and not flags & 0x04
        ):
            ta |= A_LOST_PACKET
        if seq == ((nextseq0 - 1) & M32) and not sfr:
            ta |= A_KEEP_ALIVE
        shift = R.win_scale
        if (
            seglen
            and shift != -1
            and not sfr
            and ((seq + seglen) & M32)
            == (R.lastack + ((R.window << (shift if shift > 0 else 0)) & M32)) & M32
        ):
            ta |= A_WINDOW_FULL
        if seglen == 0 and seq == nextseq0 and ack == F.lastack and not sfr:
            fwin = F.window
            if window and window != fwin:
                ta |= A_WINDOW_UPDATE
            elif window and R.last_flags & A_KEEP_ALIVE:
                ta |= A_KEEP_ALIVE_ACK
            elif window == 0 and fwin == 0 and R.last_flags & A_ZERO_WINDOW_PROBE:
                ta |= A_ZERO_WINDOW_PROBE_ACK
            elif window:
                F.dupacks = 1 if F.dupacks == -1 else F.dupacks + 1
                ta |= A_DUPLICATE_ACK
    # finished_fwd:
    if ack != F.lastack:
        F.dupacks = 0
    rmax = R.maxseqtobeacked
    if rmax and ack != rmax and flags & 0x10 and ((rmax - ack) & M32) > 0x7FFFFFFF:
        if ((rmax - R.nextseq) & M32) > 0x7FFFFFFF:
            R.maxseqtobeacked = R.nextseq
            ta |= A_ACK_LOST_PACKET
        else:
            if R.dupacks == 0:
                ta |= A_ACK_LOST_PACKET
            R.dupacks = -1
    syn_fin = 1 if flags & 0x03 else 0
    if (seglen or syn_fin) and not ta & A_KEEP_ALIVE:
        not_adv = nextseq0 != 0 and seq != nextseq0 and ((seq - nextseq0) & M32) > 0x7FFFFFFF
        if not_adv and seglen > 1 and ((nextseq0 - 1) & M32) == seq:
            not_adv = False
        rlastack = R.lastack
        if seglen and rlastack and ((seq + seglen - rlastack - 1) & M32) >= 0x7FFFFFFF:
            ta |= A_SPURIOUS_RETRANSMISSION  # every byte was acknowledged already
        elif not_adv:
            if R.dupacks >= 2 and rlastack == seq and 0 <= now - R.lastack_time < 0.020:
                ta |= A_FAST_RETRANSMISSION
            elif 0 <= now - F.nextseq_time < (first_rtt or OOO_THRESHOLD) and nextseq0 != (
                (seq + seglen + syn_fin) & M32
            ):
                ta |= A_OUT_OF_ORDER
            else:
                ta |= A_RETRANSMISSION
    # done:
    if not ta & A_ZERO_WINDOW_PROBE:
        nextseq = (seq + seglen + syn_fin) & M32
        if nextseq0 == 0 or (nextseq != nextseq0 and ((nextseq0 - nextseq) & M32) > 0x7FFFFFFF):
            F.nextseq = nextseq
            F.nextseq_time = now
        if seq == F.maxseqtobeacked or F.maxseqtobeacked == 0:
            F.maxseqtobeacked = F.nextseq
    F.window = window
    F.lastack = ack
    F.lastack_time = now
    F.last_flags = ta
    if not ta:
        return ()
    marks = _MARKS.get(ta)
    if marks is None:
        marks = _MARKS[ta] = tuple(
            dict.fromkeys(name for bit, names in _MARK_NAMES for name in names if ta & bit)
        )
    return marks
