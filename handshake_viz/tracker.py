"""Connection tracking: packets in, events out, numbered and analysed as tshark does.

For each TCP segment the tracker finds its conversation (``tcp.stream``: numbered in order of
first appearance; a new SYN on a 4-tuple whose connection ended starts a new one), its
direction, relative sequence numbers, tshark's sequence analysis (retransmissions and the
rest), the phase of the connection's life it belongs to, and the TCP state of both ends after
it. UDP datagrams get a ``udp.stream`` and the ``datagram`` phase.

Pure code: no UI, no sockets, no files.
"""

from __future__ import annotations

from handshake_viz.decode import Packet, parse_tcp_options
from handshake_viz.events import (
    ACK,
    FIN,
    RST,
    SYN,
    ConnectionSummary,
    PacketEvent,
    Phase,
    TcpState,
)

M32 = 0xFFFFFFFF
OOO_THRESHOLD = 0.003
"""tshark's default out-of-order threshold (seconds), used when no RTT is known."""

COMPLETENESS_SYN = 1
COMPLETENESS_SYNACK = 2
COMPLETENESS_ACK = 4
COMPLETENESS_DATA = 8
COMPLETENESS_FIN = 16
COMPLETENESS_RST = 32

S = TcpState

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
)
"""Analysis bits and the names the JSONL gives them (tshark's field names)."""
_MARKS: dict[int, tuple[str, ...]] = {}


def _lt(a: int, b: int) -> bool:
    """a < b in 32-bit sequence space."""
    return ((a - b) & M32) > 0x80000000


def _gt(a: int, b: int) -> bool:
    return ((b - a) & M32) > 0x80000000


class _Flow:
    """One direction of a TCP conversation: what its sender has sent and acknowledged."""

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
        "syn_seen",
        "bytes",
        "state",
    )

    def __init__(self) -> None:
        self.base: int | None = None
        """Absolute sequence number that shows as 0."""
        self.nextseq = 0
        """Absolute sequence number expected next from this sender (0: unknown, as tshark)."""
        self.nextseq_time = 0.0
        self.maxseqtobeacked = 0
        self.lastack = 0
        """Absolute ack field this sender last sent (even with the ACK flag off, as tshark)."""
        self.lastack_time = 0.0
        self.window = 0xFFFFFFFF
        self.dupacks = 0
        self.last_flags = 0
        """Analysis bits of this sender's previous segment (keep-alive detection)."""
        self.fin_end: int | None = None
        """Relative sequence number just past this sender's FIN."""
        self.syn_seen = False
        self.bytes = 0
        self.state: TcpState | None = None


class _Conversation:
    """One TCP stream: both flows, roles and the summary being built."""

    __slots__ = ("stream", "a", "flows", "client", "summary", "completeness", "fin_seen",
                 "handshake_ack_seen", "syn_time", "synack_time", "ts_mru_syn", "first_rtt")

    def __init__(self, stream: int, a: tuple[str, int], summary: ConnectionSummary) -> None:
        self.stream = stream
        self.a = a
        """The endpoint that sent the conversation's first packet."""
        self.flows: dict[tuple[str, int], _Flow] = {}
        self.client: tuple[str, int] = a
        self.summary = summary
        self.completeness = 0
        self.fin_seen = False
        self.handshake_ack_seen = False
        self.syn_time: float | None = None
        self.synack_time: float | None = None
        self.ts_mru_syn = 0.0
        """Time of the latest pure SYN (tshark's ts_mru_syn)."""
        self.first_rtt = 0.0
        """SYN to first ACK: tshark's out-of-order threshold once known."""


class ConnectionTracker:
    """Turn decoded packets into `PacketEvent`s and per-connection summaries."""

    def __init__(self) -> None:
        self._tcp: dict[tuple[str, int, str, int], _Conversation] = {}
        self._udp: dict[tuple[str, int, str, int], tuple[int, str, int]] = {}
        self._convs: list[_Conversation] = []
        self._udp_summaries: list[ConnectionSummary] = []
        self.tcp_streams = 0
        self.udp_streams = 0

    # ------------------------------------------------------------------ UDP
    def _feed_udp(self, p: Packet) -> PacketEvent:
        key = (p.src, p.sport, p.dst, p.dport)
        entry = self._udp.get(key)
        if entry is None:
            entry = (self.udp_streams, p.src, p.sport)
            self.udp_streams += 1
            self._udp[key] = entry
            self._udp[(p.dst, p.dport, p.src, p.sport)] = entry
            self._udp_summaries.append(
                ConnectionSummary("udp", entry[0], p.src, p.sport, p.dst, p.dport, p.frame,
                                  p.frame, p.time, p.time)
            )
        stream, csrc, cport = entry
        c2s = p.src == csrc and p.sport == cport
        s = self._udp_summaries[stream]
        s.packets += 1
        s.last_frame, s.last_time = p.frame, p.time
        if c2s:
            s.bytes_c2s += p.length
        else:
            s.bytes_s2c += p.length
        return PacketEvent(p.frame, p.time, "udp", stream, p.src, p.sport, p.dst, p.dport,
                           "c2s" if c2s else "s2c", 0, None, None, p.length, None, {},
                           Phase.DATAGRAM, None, None)

    # ------------------------------------------------------------------ TCP
    def feed(self, p: Packet) -> PacketEvent:
        """Track one packet and return its event."""
        if p.proto != 6:
            return self._feed_udp(p)
        src = (p.src, p.sport)
        dst = (p.dst, p.dport)
        flags = p.flags
        raw_seq = p.seq
        raw_ack = p.ack
        length = p.length
        conv = self._tcp.get((p.src, p.sport, p.dst, p.dport))
        analysis: tuple[str, ...] = ()
        reused = False
        if conv is None:
            conv = self._new_conversation(p, src, dst)
            conv.completeness = (
                COMPLETENESS_SYN | (COMPLETENESS_DATA if length else 0)
                if flags & (SYN | ACK) == SYN
                else 0
            )
            fwd = conv.flows[src]
            rev = conv.flows[dst]
        else:
            fwd = conv.flows[src]
            rev = conv.flows[dst]
            if flags & (SYN | ACK) == SYN and fwd.base is not None:
                if raw_seq != fwd.base:
                    # A new connection on a used 4-tuple (loopback does this within seconds).
                    conv = self._new_conversation(p, src, dst)
                    conv.completeness = COMPLETENESS_SYN
                    fwd = conv.flows[src]
                    rev = conv.flows[dst]
                    reused = True
                else:
                    fwd.nextseq = fwd.maxseqtobeacked
            else:
                c = conv.completeness
                if flags & (SYN | ACK) == SYN | ACK:
                    c |= COMPLETENESS_SYNACK
                elif flags & (SYN | ACK) == ACK:
                    c |= COMPLETENESS_DATA if length else COMPLETENESS_ACK
                if flags & (FIN | ACK) == FIN | ACK:
                    c |= COMPLETENESS_FIN
                if flags & RST:
                    c |= COMPLETENESS_RST
                conv.completeness = c
            if flags & (SYN | ACK) == SYN | ACK and fwd.base is not None and raw_seq != fwd.base:
                fwd.base = raw_seq
                reused = True
        summary = conv.summary

        # Relative sequence numbers: the SYN's seq, else one before the first seq seen.
        if fwd.base is None:
            fwd.base = raw_seq if flags & SYN else (raw_seq - 1) & M32
        if rev.base is None and flags & ACK:
            rev.base = (raw_ack - 1) & M32
        seq = (raw_seq - fwd.base) & M32
        ack = (raw_ack - rev.base) & M32 if rev.base is not None else raw_ack

        # Roles and handshake timing.
        if flags & SYN:
            if flags & ACK:
                if conv.synack_time is None:
                    conv.synack_time = p.time
                    conv.client = dst
                    if conv.syn_time is not None:
                        summary.rtt_syn_synack = p.time - conv.syn_time
                    summary.synack_options = parse_tcp_options(p.options)
            else:
                conv.ts_mru_syn = p.time
                if conv.syn_time is None:
                    conv.syn_time = p.time
                    conv.client = src
                    summary.syn_options = parse_tcp_options(p.options)

        # tshark's sequence analysis, on absolute numbers.
        marks = self._analyse(p, fwd, rev, conv.first_rtt)
        if reused:
            marks = ("port_reused",) + marks
        if not p.options_cut:
            analysis = marks
        if flags & (SYN | ACK) == ACK and conv.first_rtt == 0.0 and conv.ts_mru_syn:
            conv.first_rtt = p.time - conv.ts_mru_syn

        # Phase.
        c2s = src == conv.client
        if flags & RST:
            phase = Phase.RESET
        elif flags & SYN:
            phase = Phase.CONFIRM if flags & ACK else Phase.REQUEST
        elif flags & FIN or conv.fin_seen:
            phase = Phase.TEARDOWN
        elif (
            not conv.handshake_ack_seen
            and conv.synack_time is not None
            and c2s
            and flags & ACK
            and length == 0
        ):
            phase = Phase.CONFIRM
            conv.handshake_ack_seen = True
            if summary.rtt_synack_ack is None:
                summary.rtt_synack_ack = p.time - conv.synack_time
        else:
            phase = Phase.DATA
            if conv.synack_time is not None and c2s and flags & ACK:
                conv.handshake_ack_seen = True
        if flags & FIN:
            conv.fin_seen = True

        # TCP states of both ends.
        self._transition(fwd, rev, flags, seq, ack, length)

        # Summary.
        summary.packets += 1
        summary.last_frame, summary.last_time = p.frame, p.time
        if c2s:
            summary.bytes_c2s += length
        else:
            summary.bytes_s2c += length
        if flags & RST:
            summary.ended = "rst"
        elif flags & FIN and summary.ended == "open":
            summary.ended = "fin"

        client_flow = fwd if c2s else rev
        server_flow = rev if c2s else fwd
        return PacketEvent(
            p.frame,
            p.time,
            "tcp",
            conv.stream,
            p.src,
            p.sport,
            p.dst,
            p.dport,
            "c2s" if c2s else "s2c",
            flags,
            seq,
            ack if flags & ACK else None,
            length,
            p.window,
            parse_tcp_options(p.options) if p.options else {},
            phase,
            client_flow.state,
            server_flow.state,
            analysis,
            p.options_cut,
        )

    def _new_conversation(
        self, p: Packet, src: tuple[str, int], dst: tuple[str, int]
    ) -> _Conversation:
        stream = self.tcp_streams
        self.tcp_streams += 1
        summary = ConnectionSummary("tcp", stream, p.src, p.sport, p.dst, p.dport, p.frame,
                                    p.frame, p.time, p.time)
        conv = _Conversation(stream, src, summary)
        fa, fb = _Flow(), _Flow()
        conv.flows[src] = fa
        conv.flows[dst] = fb
        if p.flags & SYN and p.flags & ACK:
            conv.client = dst
        if p.flags & SYN:
            # A handshake from the start: the client is closed, the server listens.
            if p.flags & ACK:
                fa.state, fb.state = S.LISTEN, S.SYN_SENT
            else:
                fa.state, fb.state = S.CLOSED, S.LISTEN
        else:
            fa.state = fb.state = S.ESTABLISHED
        self._tcp[(p.src, p.sport, p.dst, p.dport)] = conv
        self._tcp[(p.dst, p.dport, p.src, p.sport)] = conv
        self._convs.append(conv)
        return conv

    @staticmethod
    def _analyse(p: Packet, F: _Flow, R: _Flow, first_rtt: float) -> tuple[str, ...]:
        """tshark 4.0's tcp_analyze_sequence_number, check for check, on absolute numbers.

        Returns the analysis marks of this segment and updates both flows.
        """
        flags = p.flags
        seq = p.seq
        ack = p.ack
        seglen = p.length
        window = p.window
        now = p.time
        ta = 0
        sfr = flags & (SYN | FIN | RST)
        nextseq0 = F.nextseq
        done = False
        if seglen == 1 and seq == nextseq0 and R.window == 0:
            ta |= A_ZERO_WINDOW_PROBE
            done = True
        if not done:
            if window == 0 and not sfr:
                ta |= A_ZERO_WINDOW
            if nextseq0 and _gt(seq, nextseq0) and not flags & RST:
                ta |= A_LOST_PACKET
            if seglen <= 1 and seq == ((nextseq0 - 1) & M32) and not sfr:
                ta |= A_KEEP_ALIVE
            if (seglen == 0 and window and window != F.window and seq == nextseq0
                    and ack == F.lastack and not sfr):
                ta |= A_WINDOW_UPDATE
            if (seglen == 0 and window and window == F.window and seq == nextseq0
                    and ack == F.lastack and R.last_flags & A_KEEP_ALIVE and not sfr):
                ta |= A_KEEP_ALIVE_ACK
                done = True
            elif (seglen == 0 and window == 0 and F.window == 0 and seq == nextseq0
                    and ack == F.lastack and R.last_flags & A_ZERO_WINDOW_PROBE and not sfr):
                ta |= A_ZERO_WINDOW_PROBE_ACK
                done = True
            elif (seglen == 0 and window and window == F.window and seq == nextseq0
                    and ack == F.lastack and not sfr):
                F.dupacks = 1 if F.dupacks == -1 else F.dupacks + 1
                ta |= A_DUPLICATE_ACK
        # finished_fwd:
        if ack != F.lastack:
            F.dupacks = 0
        if R.maxseqtobeacked and _gt(ack, R.maxseqtobeacked) and flags & ACK:
            if _lt(R.maxseqtobeacked, R.nextseq):
                R.maxseqtobeacked = R.nextseq
                ta |= A_ACK_LOST_PACKET
            else:
                if R.dupacks == 0:
                    ta |= A_ACK_LOST_PACKET
                R.dupacks = -1
        if seglen > 0 or flags & (SYN | FIN):
            not_adv = nextseq0 != 0 and _lt(seq, nextseq0)
            if not ta & A_KEEP_ALIVE:
                if seglen > 1 and ((nextseq0 - 1) & M32) == seq:
                    not_adv = False
                if seglen > 0 and R.lastack and not _gt((seq + seglen) & M32, R.lastack):
                    ta |= A_SPURIOUS_RETRANSMISSION
                else:
                    t = now - R.lastack_time
                    syn_fin = 1 if flags & (SYN | FIN) else 0
                    if not_adv and R.dupacks >= 2 and R.lastack == seq and 0 <= t < 0.020:
                        ta |= A_FAST_RETRANSMISSION
                    elif (
                        not_adv
                        and 0 <= now - F.nextseq_time < (first_rtt or OOO_THRESHOLD)
                        and nextseq0 != ((seq + seglen + syn_fin) & M32)
                    ):
                        ta |= A_OUT_OF_ORDER
                    elif not_adv:
                        ta |= A_RETRANSMISSION
        # done:
        nextseq = (seq + seglen + (1 if flags & (SYN | FIN) else 0)) & M32
        if (F.nextseq == 0 or _gt(nextseq, F.nextseq)) and not ta & A_ZERO_WINDOW_PROBE:
            F.nextseq = nextseq
            F.nextseq_time = now
        if (seq == F.maxseqtobeacked or F.maxseqtobeacked == 0) and not ta & A_ZERO_WINDOW_PROBE:
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
                name for bit, names in _MARK_NAMES for name in names if ta & bit
            )
        return marks

    @staticmethod
    def _transition(fwd: _Flow, rev: _Flow, flags: int, seq: int, ack: int, length: int) -> None:
        """Move both ends' TCP states for one packet from `fwd`'s end to `rev`'s end."""
        if flags & RST:
            fwd.state = rev.state = S.CLOSED
            return
        if flags & SYN:
            if flags & ACK:
                fwd.state = S.SYN_RECEIVED
                if rev.state is S.SYN_SENT:
                    rev.state = S.ESTABLISHED
            else:
                fwd.state = S.SYN_SENT
                if rev.state in (None, S.CLOSED):
                    rev.state = S.LISTEN
            fwd.syn_seen = True
        elif flags & ACK:
            if fwd.state is S.SYN_SENT:
                fwd.state = S.ESTABLISHED  # it got the SYN-ACK, even if we did not see it
            if rev.state is S.SYN_RECEIVED:
                rev.state = S.ESTABLISHED
            if rev.fin_end is not None and not _lt(ack, rev.fin_end):
                if rev.state is S.FIN_WAIT_1:
                    rev.state = S.FIN_WAIT_2
                elif rev.state is S.CLOSING:
                    rev.state = S.TIME_WAIT
                elif rev.state is S.LAST_ACK:
                    rev.state = S.CLOSED
        if flags & FIN:
            fin_end = (seq + length + 1) & M32
            if fwd.fin_end is None:
                fwd.fin_end = fin_end
            if fwd.state in (S.ESTABLISHED, S.SYN_RECEIVED, S.SYN_SENT):
                fwd.state = S.FIN_WAIT_1
            elif fwd.state is S.CLOSE_WAIT:
                fwd.state = S.LAST_ACK
            if rev.state in (S.ESTABLISHED, S.SYN_RECEIVED, S.SYN_SENT):
                rev.state = S.CLOSE_WAIT
            elif rev.state is S.FIN_WAIT_1:
                rev.state = S.CLOSING
            elif rev.state is S.FIN_WAIT_2:
                rev.state = S.TIME_WAIT

    def summaries(self) -> list[ConnectionSummary]:
        """One summary per TCP stream, then one per UDP stream, in stream order."""
        out = []
        for conv in self._convs:
            s = conv.summary
            s.completeness = conv.completeness
            out.append(s)
            if (s.client, s.cport) != conv.client:
                s.client, s.cport, s.server, s.sport = s.server, s.sport, s.client, s.cport
            s.handshake = (
                "complete"
                if s.completeness & 7 == 7
                else "partial"
                if s.completeness & 3
                else "none"
            )
            s.listen_inferred = bool(s.completeness & COMPLETENESS_SYNACK)
        return out + self._udp_summaries
