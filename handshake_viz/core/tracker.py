"""Connection tracking: packets in, events out, numbered and analysed as tshark does.

For each TCP segment the tracker finds its conversation (``tcp.stream``: numbered in order of
first appearance; a new SYN on a 4-tuple whose connection ended starts a new one), its
direction, relative sequence numbers, tshark's sequence analysis (retransmissions and the
rest), the phase of the connection's life it belongs to, and the TCP state of both ends after
it. UDP datagrams get a ``udp.stream`` and the ``datagram`` phase.

Pure code: no UI, no sockets, no files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from handshake_viz.core.analysis import M32, Flow, analyse
from handshake_viz.core.decode import Packet
from handshake_viz.core.events import (
    ACK,
    SYN,
    ConnectionSummary,
    PacketEvent,
    Phase,
    TcpState,
)
from handshake_viz.core.tcpoptions import options_layout, parse_tcp_options
from handshake_viz.core.tcpstates import transition

COMPLETENESS_SYN = 1
COMPLETENESS_SYNACK = 2
COMPLETENESS_ACK = 4
COMPLETENESS_DATA = 8
COMPLETENESS_FIN = 16
COMPLETENESS_RST = 32

S = TcpState

_RESET, _CONFIRM, _REQUEST, _TEARDOWN, _DATA = (
    Phase.RESET,
    Phase.CONFIRM,
    Phase.REQUEST,
    Phase.TEARDOWN,
    Phase.DATA,
)
_ESTABLISHED = TcpState.ESTABLISHED


class _Conversation:
    """One TCP stream: both flows, roles, and counts for its summary."""

    __slots__ = (
        "stream",
        "a_addr",
        "a_port",
        "b_addr",
        "b_port",
        "fa",
        "fb",
        "client_is_a",
        "completeness",
        "fin_seen",
        "handshake_ack_seen",
        "syn_time",
        "synack_time",
        "ts_mru_syn",
        "first_rtt",
        "packets",
        "bytes_a",
        "bytes_b",
        "first_frame",
        "first_time",
        "last_frame",
        "last_time",
        "ended",
        "syn_options",
        "synack_options",
        "hs_ack_time",
        "first_bits",
    )

    def __init__(self, stream: int, p: Packet) -> None:
        self.stream = stream
        self.a_addr, self.a_port = p.src, p.sport
        """The end that sent the conversation's first packet."""
        self.b_addr, self.b_port = p.dst, p.dport
        syn = p.flags & (SYN | ACK)
        if syn == SYN | ACK:
            # Caught from its SYN-ACK: the other end is the client, this one listened.
            self.fa, self.fb = Flow(S.LISTEN), Flow(S.SYN_SENT)
        elif syn == SYN:
            self.fa, self.fb = Flow(S.CLOSED), Flow(S.LISTEN)
        else:
            # Caught mid-stream: both ends are already connected.
            self.fa, self.fb = Flow(S.ESTABLISHED), Flow(S.ESTABLISHED)
        self.client_is_a = syn != SYN | ACK
        """Roles: the client sent the first SYN; with no SYN, the first packet's sender."""
        self.completeness = 0
        self.first_bits = 0
        """Completeness bits of the first packet, had it not been the first (tshark -2)."""
        self.fin_seen = False
        self.handshake_ack_seen = False
        self.syn_time: float | None = None
        self.synack_time: float | None = None
        self.ts_mru_syn = 0.0
        """Time of the latest pure SYN (tshark's ts_mru_syn)."""
        self.first_rtt = 0.0
        """SYN to first ACK: tshark's out-of-order threshold once known."""
        self.packets = 0
        self.bytes_a = 0
        self.bytes_b = 0
        self.first_frame = self.last_frame = p.frame
        self.first_time = self.last_time = p.time
        self.ended = "open"
        self.syn_options = b""
        self.synack_options = b""
        self.hs_ack_time: float | None = None
        """When the client's ACK completed the handshake."""

    def summary(self) -> ConnectionSummary:
        if self.client_is_a:
            c, cp, s, sp, bc, bs = (
                self.a_addr,
                self.a_port,
                self.b_addr,
                self.b_port,
                self.bytes_a,
                self.bytes_b,
            )
        else:
            c, cp, s, sp, bc, bs = (
                self.b_addr,
                self.b_port,
                self.a_addr,
                self.a_port,
                self.bytes_b,
                self.bytes_a,
            )
        # tshark -2 reads the first packet again in its second pass, as an old stream's, and
        # shows each frame the value from before that frame's own update.
        comp = self.completeness | (self.first_bits if self.packets > 1 else 0)
        return ConnectionSummary(
            "tcp",
            self.stream,
            c,
            cp,
            s,
            sp,
            self.first_frame,
            self.last_frame,
            self.first_time,
            self.last_time,
            self.packets,
            bc,
            bs,
            handshake="complete" if comp & 7 == 7 else "partial" if comp & 3 else "none",
            rtt_syn_synack=(
                self.synack_time - self.syn_time
                if self.synack_time is not None
                and self.syn_time is not None
                and self.syn_time <= self.synack_time
                else None
            ),
            rtt_synack_ack=(
                self.hs_ack_time - self.synack_time
                if self.hs_ack_time is not None and self.synack_time is not None
                else None
            ),
            ended=self.ended,
            syn_options=_summary_options(self.syn_options),
            synack_options=_summary_options(self.synack_options),
            completeness=comp,
            listen_inferred=bool(comp & COMPLETENESS_SYNACK),
        )


def _completeness_bits(flags: int, length: int) -> int:
    """What a packet adds to tshark's tcp.completeness (for any but a stream's first)."""
    c = 0
    syn_ack = flags & 0x12
    if syn_ack == 0x12:
        c = COMPLETENESS_SYNACK
    elif syn_ack == 0x10:
        c = COMPLETENESS_DATA if length else COMPLETENESS_ACK
    if flags & 0x11 == 0x11:
        c |= COMPLETENESS_FIN
    if flags & 0x04:
        c |= COMPLETENESS_RST
    return c


def _summary_options(layout: bytes) -> dict[str, object]:
    """A SYN's options for its summary: timestamps say only whether they were used."""
    options = parse_tcp_options(layout)
    if "ts" in options:
        options["ts"] = True
    return options


class ConnectionTracker:
    """Turn decoded packets into `PacketEvent`s and per-connection summaries.

    Packets must come in capture order. Everything is one pass: each event is final when
    returned, so a stream (stdin, a live capture) is shown as it arrives.
    """

    def __init__(self, listening: Callable[[str, int, float], bool] | None = None) -> None:
        """`listening(addr, port, time)`, where known (traced sockets: `ListenerLog`), says
        whether anything listened where a SYN went; without it the server end of a SYN is
        taken to be in LISTEN until a RST says otherwise."""
        self._listening = listening
        self._tcp: dict[tuple[str, int, str, int], _Conversation] = {}
        self._udp: dict[tuple[str, int, str, int], ConnectionSummary] = {}
        self._convs: list[_Conversation] = []
        self._udp_summaries: list[ConnectionSummary] = []

    def _feed_udp(self, p: Packet) -> PacketEvent:
        key = (p.src, p.sport, p.dst, p.dport)
        s = self._udp.get(key)
        if s is None:
            s = ConnectionSummary(
                "udp",
                len(self._udp_summaries),
                p.src,
                p.sport,
                p.dst,
                p.dport,
                p.frame,
                p.frame,
                p.time,
                p.time,
            )
            self._udp[key] = self._udp[(p.dst, p.dport, p.src, p.sport)] = s
            self._udp_summaries.append(s)
        c2s = p.sport == s.cport and p.src == s.client
        s.packets += 1
        s.last_frame, s.last_time = p.frame, p.time
        if c2s:
            s.bytes_c2s += p.length
        else:
            s.bytes_s2c += p.length
        return PacketEvent(
            p.frame,
            p.time,
            "udp",
            s.stream,
            p.src,
            p.sport,
            p.dst,
            p.dport,
            "c2s" if c2s else "s2c",
            0,
            None,
            None,
            p.length,
            None,
            b"",
            Phase.DATAGRAM,
            None,
            None,
        )

    def feed(self, p: Packet) -> PacketEvent:
        """Track one packet and return its event.

        The hot path: flag tests use literal bits (0x01 FIN, 0x02 SYN, 0x04 RST, 0x10 ACK).
        """
        if p.proto != 6:
            return self._feed_udp(p)
        flags = p.flags
        raw_seq = p.seq
        raw_ack = p.ack
        length = p.length
        syn_ack = flags & 0x12
        sport = p.sport
        dport = p.dport
        # One key per conversation, whichever way the packet goes (half the memory of two).
        if sport < dport or (sport == dport and p.src <= p.dst):
            key = (p.src, sport, p.dst, dport)
        else:
            key = (p.dst, dport, p.src, sport)
        conv = self._tcp.get(key)
        reused = False
        if conv is None:
            conv = self._new_conversation(p, key)
            if syn_ack == 0x02:
                conv.completeness = COMPLETENESS_SYN | (COMPLETENESS_DATA if length else 0)
            else:
                conv.first_bits = _completeness_bits(flags, length)
            from_a = True
            fwd, rev = conv.fa, conv.fb
        else:
            from_a = sport == conv.a_port and p.src == conv.a_addr
            fwd, rev = (conv.fa, conv.fb) if from_a else (conv.fb, conv.fa)
            if syn_ack == 0x02 and fwd.base is not None:
                if raw_seq != fwd.base:
                    # A new connection on a used 4-tuple (loopback does this within seconds).
                    conv = self._new_conversation(p, key)
                    conv.completeness = COMPLETENESS_SYN
                    from_a = True
                    fwd, rev = conv.fa, conv.fb
                    reused = True
                else:
                    fwd.nextseq = fwd.maxseqtobeacked
            else:
                conv.completeness |= _completeness_bits(flags, length)
                if syn_ack == 0x12 and fwd.base is not None and raw_seq != fwd.base:
                    fwd.base = raw_seq  # tshark: a SYN-ACK with a new ISN moves the base
                    reused = True

        # Relative sequence numbers: the SYN's seq, else one before the first seq seen.
        base = fwd.base
        if base is None:
            base = fwd.base = raw_seq if flags & 0x02 else (raw_seq - 1) & M32
        seq = (raw_seq - base) & M32
        if flags & 0x10:
            rbase = rev.base
            if rbase is None:
                rbase = rev.base = (raw_ack - 1) & M32
            ack: int | None = (raw_ack - rbase) & M32
        else:
            ack = None

        # Handshake timing and roles.
        now = p.time
        if flags & 0x02:
            if flags & 0x10:
                if conv.synack_time is None:
                    conv.synack_time = now
                    if conv.syn_time is None:  # a simultaneous open keeps the first SYN's roles
                        conv.client_is_a = not from_a
                    conv.synack_options = options_layout(p.options)
            else:
                conv.ts_mru_syn = now
                if conv.syn_time is None:
                    conv.syn_time = now
                    conv.client_is_a = from_a
                    conv.syn_options = options_layout(p.options)

        # tshark's sequence analysis, on absolute numbers.
        marks = analyse(flags, raw_seq, raw_ack, length, p.window, now, fwd, rev, conv.first_rtt)
        if reused:
            marks = ("port_reused",) + marks
        if p.options_cut:
            marks = ()  # tshark prints no analysis for a header cut short
        if syn_ack == 0x10 and conv.first_rtt == 0.0 and conv.ts_mru_syn:
            conv.first_rtt = now - conv.ts_mru_syn

        # Phase.
        c2s = from_a == conv.client_is_a
        if flags & 0x04:
            phase = _RESET
            conv.ended = "rst"
        elif flags & 0x02:
            phase = _CONFIRM if flags & 0x10 else _REQUEST
        elif flags & 0x01 or conv.fin_seen:
            phase = _TEARDOWN
            if flags & 0x01:
                conv.fin_seen = True
                if conv.ended == "open":
                    conv.ended = "fin"
        elif conv.handshake_ack_seen or conv.synack_time is None or not c2s or not flags & 0x10:
            phase = _DATA
        else:
            # The client's first ACK after the SYN-ACK completes the handshake.
            conv.handshake_ack_seen = True
            if length:
                phase = _DATA
            else:
                phase = _CONFIRM
                conv.hs_ack_time = now

        # TCP states of both ends.
        if flags & 0x07 or fwd.state is not _ESTABLISHED or rev.state is not _ESTABLISHED:
            transition(fwd, rev, flags, seq, ack, length)
            if (syn_ack == 0x02 and rev.state is S.LISTEN and self._listening is not None
                    and not self._listening(p.dst, dport, now)):  # fmt: skip
                rev.state = S.CLOSED  # nothing listens there: the kernel will answer RST

        conv.packets += 1
        conv.last_frame = p.frame
        conv.last_time = now
        if from_a:
            conv.bytes_a += length
        else:
            conv.bytes_b += length
        return PacketEvent(
            p.frame,
            now,
            "tcp",
            conv.stream,
            p.src,
            p.sport,
            p.dst,
            p.dport,
            "c2s" if c2s else "s2c",
            flags,
            seq,
            ack,
            length,
            p.window,
            p.options,
            phase,
            fwd.state if c2s else rev.state,
            rev.state if c2s else fwd.state,
            marks,
            p.options_cut,
        )

    def _new_conversation(self, p: Packet, key: tuple[str, int, str, int]) -> _Conversation:
        conv = _Conversation(len(self._convs), p)
        self._tcp[key] = conv
        self._convs.append(conv)
        return conv

    def summaries(self) -> list[ConnectionSummary]:
        """One summary per TCP stream, then one per UDP stream, in stream order."""
        return [conv.summary() for conv in self._convs] + self._udp_summaries

    def finish(self) -> Iterator[ConnectionSummary]:
        """End of the capture: yield the summaries while freeing each stream's state.

        For a capture of a million packets this keeps the peak memory that of the tracking,
        not tracking plus every summary at once. The tracker takes no packets afterwards.
        """
        self._tcp.clear()
        self._udp.clear()
        convs = self._convs
        for i, conv in enumerate(convs):
            yield conv.summary()
            convs[i] = None  # type: ignore[call-overload]
        convs.clear()
        yield from self._udp_summaries
