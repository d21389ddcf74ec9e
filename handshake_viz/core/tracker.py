"""Connection tracking: packets in, events out, numbered and analysed as tshark does.

For each TCP segment the tracker finds its conversation (``tcp.stream``: numbered in order of
first appearance; a new SYN on a 4-tuple whose connection ended starts a new one), its
direction, relative sequence numbers, tshark's sequence analysis (retransmissions and the
rest), the phase of the connection's life it belongs to, and the TCP state of both ends after
it. UDP datagrams get a ``udp.stream`` and the ``datagram`` phase; the UDP datagrams of a VXLAN
or Geneve tunnel are conversations of their own too, numbered before what they carry.

Pure code: no UI, no sockets, no files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from handshake_viz.core.analysis import M32, Flow, analyse
from handshake_viz.core.conversation import (
    COMPLETENESS_DATA,
    COMPLETENESS_OF_DATA,
    COMPLETENESS_OF_EMPTY,
    COMPLETENESS_SYN,
    Conversation,
    completeness_bits,
)
from handshake_viz.core.events import ConnectionSummary, PacketEvent, Phase, TcpState
from handshake_viz.core.segments import Packet
from handshake_viz.core.tcpoptions import options_layout, syn_facts
from handshake_viz.core.tcpstates import transition
from handshake_viz.core.zeek import CLOSED as _ZEEK_CLOSED
from handshake_viz.core.zeek import ESTABLISHED as _ZEEK_ESTABLISHED
from handshake_viz.core.zeek import IN_ORDER_LETTERS as _ZEEK_LETTERS
from handshake_viz.core.zeek import acked as zeek_acked
from handshake_viz.core.zeek import packet as zeek_packet
from handshake_viz.core.zeek import udp_flips

S = TcpState

_RESET, _CONFIRM, _REQUEST, _TEARDOWN, _DATA = (
    Phase.RESET,
    Phase.CONFIRM,
    Phase.REQUEST,
    Phase.TEARDOWN,
    Phase.DATA,
)
_ESTABLISHED = TcpState.ESTABLISHED
_ZEEK_ON = (_ZEEK_ESTABLISHED, _ZEEK_CLOSED)
SHORTCUTS = True
"""Take the in-order shortcut of Zeek's history here (a test turns it off to compare)."""


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
        self._tcp: dict[tuple[str, int, str, int], Conversation] = {}
        self._udp: dict[tuple[str, int, str, int], ConnectionSummary] = {}
        self._convs: list[Conversation] = []
        self._udp_summaries: list[ConnectionSummary] = []

    def _udp_count(self, src: str, sport: int, dst: str, dport: int, length: int, frame: int,
                   time: float) -> tuple[ConnectionSummary, bool]:  # fmt: skip
        """Count one datagram in its UDP conversation (made on its first datagram, numbered in
        order as tshark's udp.stream); the summary, and whether it went client to server."""
        s = self._udp.get((src, sport, dst, dport))
        if s is None:
            s = ConnectionSummary(
                "udp", len(self._udp_summaries), src, sport, dst, dport, frame, frame, time, time,
                history="^" if udp_flips(sport, dport) else "",
            )  # fmt: skip
            self._udp[(src, sport, dst, dport)] = self._udp[(dst, dport, src, sport)] = s
            self._udp_summaries.append(s)
        c2s = sport == s.cport and src == s.client
        s.packets += 1
        s.last_frame, s.last_time = frame, time
        if c2s:
            s.bytes_c2s += length
        else:
            s.bytes_s2c += length
        # Zeek: D for the originator's first datagram, d for the responder's.
        letter = "D" if c2s != (s.history[:1] == "^") else "d"
        if letter not in s.history:
            s.history += letter
            orig, resp = "D" in s.history, "d" in s.history
            s.conn_state = ("SF" if resp else "S0") if orig else ("SHR" if resp else "OTH")
        return s, c2s

    def _carriers(self, p: Packet) -> None:
        """The UDP datagrams of the tunnels `p` came through: tshark counts them first."""
        for src, sport, dst, dport, length in p.outer:
            self._udp_count(src, sport, dst, dport, length, p.frame, p.time)

    def _feed_udp(self, p: Packet) -> PacketEvent:
        s, c2s = self._udp_count(p.src, p.sport, p.dst, p.dport, p.length, p.frame, p.time)
        return PacketEvent(
            p.frame, p.time, "udp", s.stream, p.src, p.sport, p.dst, p.dport,
            "c2s" if c2s else "s2c", 0, None, None, p.length, None, b"", Phase.DATAGRAM, None,
            None,
        )  # fmt: skip

    def feed(self, p: Packet) -> PacketEvent:
        """Track one packet and return its event.

        The hot path: flag tests use literal bits (0x01 FIN, 0x02 SYN, 0x04 RST, 0x10 ACK).
        """
        if p.outer:
            self._carriers(p)
        if p.proto != 6:
            return self._feed_udp(p)
        if p.partial:
            return self._feed_partial(p)
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
                conv.first_bits = completeness_bits(flags, length)
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
                bits = COMPLETENESS_OF_DATA if length else COMPLETENESS_OF_EMPTY
                conv.completeness |= bits[flags & 0x17]
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

        # tshark's sequence analysis, on absolute numbers.
        now = p.time
        marks = analyse(flags, raw_seq, raw_ack, length, p.window, now, fwd, rev, conv.first_rtt)
        if flags & 0x02:
            marks += self._handshake(conv, p, from_a, fwd, rev, ack, now)
        if reused:
            marks = ("port_reused",) + marks
        if p.options_cut:
            marks = ()  # tshark prints no analysis for a header cut short
        if syn_ack == 0x10 and conv.first_rtt == 0.0 and conv.ts_mru_syn:
            conv.first_rtt = now - conv.ts_mru_syn  # tshark's initial RTT
            conv.rtt_by_rst = bool(flags & 0x04)
        # Zeek's history: a segment or ACK of an established connection, in order, takes a
        # few comparisons here (what zeek.packet does for it, written out); the rest goes there.
        window = p.window
        if (SHORTCUTS and not flags & 0x07 and window and fwd.z_last == raw_seq
                and fwd.z_state in _ZEEK_ON and rev.z_state
                and (not length or ((raw_seq - fwd.z_start) & M32 == fwd.z_reass
                                    and not fwd.z_blocks))):  # fmt: skip
            if length or flags & 0x10:
                bit, letter = _ZEEK_LETTERS[length > 0][from_a == conv.z_orig_a]
                if not conv.z_seen & bit:
                    conv.z_seen |= bit
                    conv.z_history += letter
            if length:
                fwd.z_last = (raw_seq + length) & M32
                fwd.z_reass += length
            if flags & 0x10:
                up = (raw_ack - rev.z_start) & M32
                if up > rev.z_trim and up < 0x80000000:
                    if up <= rev.z_reass and not rev.z_fin_cnt:
                        rev.z_trim = up
                    else:
                        zeek_acked(conv, rev, fwd, from_a != conv.z_orig_a, up)
        else:
            zeek_packet(conv, fwd, rev, from_a, flags, raw_seq, raw_ack, length, window)

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
            phase = _DATA if length else _CONFIRM

        # TCP states of both ends.
        if flags & 0x07 or fwd.state is not _ESTABLISHED or rev.state is not _ESTABLISHED:
            transition(fwd, rev, flags, seq, ack, length)
            if (syn_ack == 0x02 and rev.state is S.LISTEN and self._listening is not None
                    and not self._listening(p.dst, dport, now)):  # fmt: skip
                rev.state = S.CLOSED  # nothing listens there: the kernel will answer RST

        # tshark's tcp.window_size: a SYN's window as sent, else shifted by the sender's scale
        # (-2: scaling off; -1: its SYN not seen, the size unknown).
        shift = fwd.win_scale
        window_size = window if flags & 0x02 or shift == -2 else None if shift < 0 else (
            window << shift)  # fmt: skip

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
            None,  # kernel: the kernel's view fills it in later, where it is on
            window_size,
        )

    @staticmethod
    def _handshake(conv: Conversation, p: Packet, from_a: bool, fwd: Flow, rev: Flow,
                   ack: int | None, now: float) -> tuple[str, ...]:  # fmt: skip
        """A SYN or SYN-ACK: roles, handshake timing, window scaling, TCP Fast Open marks.

        After the sequence analysis, as tshark reads a SYN's options after it.
        """
        marks: tuple[str, ...] = ()
        shift, cookie = syn_facts(p.options) if p.options else (-1, False)
        if p.flags & 0x10:
            if conv.synack_time is None:
                conv.synack_time = now
                if conv.syn_time is None:  # a simultaneous open keeps the first SYN's roles
                    conv.client_is_a = not from_a
                conv.synack_options = options_layout(p.options)
            if conv.first_rtt == 0.0 and conv.rtt_synack is None and conv.ts_mru_syn:
                conv.rtt_synack = now - conv.ts_mru_syn
            # tshark: a SYN-ACK acknowledging more than the SYN accepted data the SYN carried
            # (TCP Fast Open); one that does not, after a SYN with data, ignored it.
            if ack is not None and ack > 1:
                marks = ("tfo_ack",)
            elif conv.syn_data:
                marks = ("tfo_ignored",)
        else:
            conv.ts_mru_syn = now
            if conv.first_rtt == 0.0:
                conv.rtt_synack = None
            if p.length:
                conv.syn_data = True
            if conv.syn_time is None:
                conv.syn_time = now
                conv.client_is_a = from_a
                conv.syn_options = options_layout(p.options)
            if cookie:
                marks = ("tfo_syn",)
        # tshark's window scaling: the SYN's shift, unless the other SYN had none. Options cut
        # by the snaplen end tshark's dissection before it looks: the scales stay unknown.
        if p.options_cut:
            return marks
        if shift >= 0:
            fwd.win_scale = min(shift, 14)
        if fwd.win_scale == -1:
            fwd.win_scale = rev.win_scale = -2
        elif p.flags & 0x10 and rev.win_scale == -2:
            fwd.win_scale = -2
        return marks

    def _feed_partial(self, p: Packet) -> PacketEvent:
        """The first fragment of a datagram not all captured: tshark gives it a stream and
        shows its flags and its sequence numbers as they are (absolute), but no length and no
        analysis, and the conversation's numbering does not start from it."""
        flags = p.flags
        if p.sport < p.dport or (p.sport == p.dport and p.src <= p.dst):
            key = (p.src, p.sport, p.dst, p.dport)
        else:
            key = (p.dst, p.dport, p.src, p.sport)
        conv = self._tcp.get(key) or self._new_conversation(p, key)
        from_a = p.sport == conv.a_port and p.src == conv.a_addr
        fwd, rev = (conv.fa, conv.fb) if from_a else (conv.fb, conv.fa)
        if flags & 0x02 and fwd.base is not None and p.seq != fwd.base:
            if flags & 0x10:
                fwd.base = p.seq  # as in `feed`: a SYN-ACK with a new ISN moves the base
            else:
                conv = self._new_conversation(p, key)
                from_a, fwd, rev = True, conv.fa, conv.fb
        if flags & 0x12 == 0x02:
            conv.ts_mru_syn = p.time
        elif flags & 0x12 == 0x10 and conv.first_rtt == 0.0 and conv.ts_mru_syn:
            conv.first_rtt = p.time - conv.ts_mru_syn
            conv.rtt_by_rst = bool(flags & 0x04)
        c2s = from_a == conv.client_is_a
        if flags & 0x04:
            phase = _RESET
        elif flags & 0x02:
            phase = _CONFIRM if flags & 0x10 else _REQUEST
        elif flags & 0x01 or conv.fin_seen:
            phase = _TEARDOWN
        else:
            phase = _DATA
        conv.packets += 1
        conv.last_frame, conv.last_time = p.frame, p.time
        return PacketEvent(
            p.frame, p.time, "tcp", conv.stream, p.src, p.sport, p.dst, p.dport,
            "c2s" if c2s else "s2c", flags, p.seq, p.ack if flags & 0x10 else None, p.length,
            p.window, p.options, phase, fwd.state if c2s else rev.state,
            rev.state if c2s else fwd.state, (), True,
        )  # fmt: skip

    def _new_conversation(self, p: Packet, key: tuple[str, int, str, int]) -> Conversation:
        conv = Conversation(len(self._convs), p)
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
