"""One TCP conversation as the tracker keeps it, and the summary it comes to.

The summary's handshake timing follows tshark's ``tcp.analysis.initial_rtt``: from the most
recent SYN to the first packet that acknowledges without SYN (the ACK that completes the
handshake, with or without data). Its Zeek fields (`history`, `conn_state`) come from
`zeek.ZeekConnection`, fed packet by packet.
"""

from __future__ import annotations

from handshake_viz.core import zeek
from handshake_viz.core.analysis import Flow
from handshake_viz.core.events import ConnectionSummary, TcpState
from handshake_viz.core.segments import Packet
from handshake_viz.core.tcpoptions import parse_tcp_options
from handshake_viz.core.zeekstate import conn_state

COMPLETENESS_SYN = 1
COMPLETENESS_SYNACK = 2
COMPLETENESS_ACK = 4
COMPLETENESS_DATA = 8
COMPLETENESS_FIN = 16
COMPLETENESS_RST = 32

S = TcpState


class Conversation:
    """One TCP stream: both flows, roles, and what its summary needs."""

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
        "rtt_by_rst",
        "rtt_synack",
        "syn_data",
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
        "first_bits",
        "z_orig_a",
        "z_partial",
        "z_history",
        "z_seen",
    )

    def __init__(self, stream: int, p: Packet) -> None:
        self.stream = stream
        self.a_addr, self.a_port = p.src, p.sport
        """The end that sent the conversation's first packet."""
        self.b_addr, self.b_port = p.dst, p.dport
        syn = p.flags & 0x12
        if syn == 0x12:
            # Caught from its SYN-ACK: the other end is the client, this one listened.
            self.fa, self.fb = Flow(S.LISTEN), Flow(S.SYN_SENT)
        elif syn == 0x02:
            self.fa, self.fb = Flow(S.CLOSED), Flow(S.LISTEN)
        else:
            # Caught mid-stream: both ends are already connected.
            self.fa, self.fb = Flow(S.ESTABLISHED), Flow(S.ESTABLISHED)
        self.client_is_a = syn != 0x12
        """Roles: the client sent the first SYN; with no SYN, the first packet's sender."""
        self.completeness = 0
        self.first_bits = 0
        """Completeness bits of the first packet, had it not been the first (tshark -2)."""
        self.fin_seen = False
        self.handshake_ack_seen = False
        self.syn_time: float | None = None
        self.synack_time: float | None = None
        self.ts_mru_syn = 0.0
        """Time of the latest SYN without ACK (tshark's ts_mru_syn)."""
        self.first_rtt = 0.0
        """tshark's initial RTT (ts_first_rtt): the latest SYN to the first packet with ACK
        and without SYN after it; also tshark's out-of-order threshold once known."""
        self.rtt_by_rst = False
        """The packet that set `first_rtt` was a RST: a refusal, not a round trip."""
        self.rtt_synack: float | None = None
        """From the SYN `first_rtt` counts from to the first SYN-ACK after it."""
        self.syn_data = False
        """A SYN carried data (tshark's TCP Fast Open check of the SYN-ACK)."""
        self.packets = 0
        self.bytes_a = 0
        self.bytes_b = 0
        self.first_frame = self.last_frame = p.frame
        self.first_time = self.last_time = p.time
        self.ended = "open"
        self.syn_options = b""
        self.synack_options = b""
        flipped = zeek.zeek_flips(p.flags, p.sport, p.dport)
        self.z_orig_a = not flipped
        """Zeek's originator is "a", unless Zeek flips the roles (core.zeek keeps these four)."""
        self.z_partial = p.flags & 0x12 != 0x02
        """No SYN began it: Zeek ignores gaps in its first two bytes."""
        self.z_history = "^" if flipped else ""
        self.z_seen = 0

    def summary(self) -> ConnectionSummary:
        if self.client_is_a:
            c, cp, s, sp, bc, bs = (self.a_addr, self.a_port, self.b_addr, self.b_port,
                                    self.bytes_a, self.bytes_b)  # fmt: skip
        else:
            c, cp, s, sp, bc, bs = (self.b_addr, self.b_port, self.a_addr, self.a_port,
                                    self.bytes_b, self.bytes_a)  # fmt: skip
        # tshark -2 reads the first packet again in its second pass, as an old stream's, and
        # shows each frame the value from before that frame's own update.
        comp = self.completeness | (self.first_bits if self.packets > 1 else 0)
        rtt = self.first_rtt if self.first_rtt > 0 and not self.rtt_by_rst else None
        orig_bytes, resp_bytes = (
            (self.bytes_a, self.bytes_b) if self.z_orig_a else (self.bytes_b, self.bytes_a)
        )
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
            rtt_syn_synack=self.rtt_synack,
            rtt_synack_ack=(
                rtt - self.rtt_synack if rtt is not None and self.rtt_synack is not None else None
            ),
            ended=self.ended,
            syn_options=_summary_options(self.syn_options),
            synack_options=_summary_options(self.synack_options),
            completeness=comp,
            listen_inferred=bool(comp & COMPLETENESS_SYNACK),
            handshake_rtt=rtt,
            history=self.z_history,
            conn_state=conn_state(self, orig_bytes, resp_bytes),
        )


def completeness_bits(flags: int, length: int) -> int:
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


COMPLETENESS_OF_EMPTY = tuple(completeness_bits(f, 0) for f in range(0x18))
COMPLETENESS_OF_DATA = tuple(completeness_bits(f, 1) for f in range(0x18))
"""`completeness_bits` by ``flags & 0x17`` (the bits it reads), for segments without data and
with: the tracker's per-packet lookup."""


_SUMMARY_OPTIONS: dict[bytes, dict[str, object]] = {}
"""Parsed summary options per layout: a capture has a handful of layouts for its many SYNs."""


def _summary_options(layout: bytes) -> dict[str, object]:
    """A SYN's options for its summary: timestamps say only whether they were used.

    Parsed once per layout; each summary gets a dict of its own.
    """
    options = _SUMMARY_OPTIONS.get(layout)
    if options is None:
        options = parse_tcp_options(layout)
        if "ts" in options:
            options["ts"] = True
        if any(type(v) is list for v in options.values()) or len(_SUMMARY_OPTIONS) >= 4096:
            return options  # SACK blocks (lists) are not shared between summaries
        _SUMMARY_OPTIONS[layout] = options
    return dict(options)
