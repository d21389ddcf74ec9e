"""How one event becomes one row of the timeline's columns, in this process or a worker's.

Why columns: a million `PacketEvent` objects (with their option dicts) cost well over a
gigabyte, and the ladder only ever draws the rows on screen. So each event becomes one entry in
a dozen `array` columns (about 60 bytes a row): this module says which columns, what their
codes mean, and builds the row tuples (`RowBuilder`), keeping one `StreamInfo` per
conversation for the connections view. Index workers send their rows as `RowBatch`es.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from handshake_viz.core.events import ACK, FIN, RST, SYN, ConnectionSummary, Phase, TcpState

PHASES: tuple[Phase, ...] = tuple(Phase)
"""Phase by its code in the `phase` column."""
PHASE_CODE = {p: i for i, p in enumerate(PHASES)}
STATES: tuple[TcpState, ...] = tuple(TcpState)
"""TCP state by its code in the state columns (-1: none)."""
STATE_CODE = {s: i for i, s in enumerate(STATES)}

KIND_TCP, KIND_UDP, KIND_SOCKET = 0, 1, 2
"""Codes of the `kind` column."""
C2S, S2C = 0, 1
"""Codes of the `dir` column (for socket calls: 0 the client side, 1 the server side)."""
NONE = -1
"""Stands for None in integer columns (seq, ack, window, states)."""

CLIENT_CHANGED, SERVER_CHANGED = 1, 2
"""Bits of the `changed` column: this row is where that end's TCP state changed."""
CLIENT_DIFFERS, SERVER_DIFFERS = 4, 8
"""Bits of the `changed` column: the state shown is the kernel's, and the tracker inferred
another from the packets (a mark on the ladder)."""

ANALYSIS_NAMES: tuple[str, ...] = (
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "previous_segment_not_captured", "ack_lost_segment", "duplicate_ack", "zero_window",
    "zero_window_probe", "zero_window_probe_ack", "keep_alive", "keep_alive_ack",
    "window_update", "port_reused",
    "kernel_retransmit_timeout", "kernel_retransmit_fast", "kernel_reset_sent",
    "kernel_reset_received",
)  # fmt: skip
"""The tracker's analysis marks, by their bit in the `analysis` column (fixed, so that rows
indexed in several processes agree)."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "b"), ("frame", "q"), ("time", "d"), ("sid", "l"), ("dir", "b"), ("flags", "H"),
    ("seq", "q"), ("ack", "q"), ("length", "l"), ("window", "l"), ("phase", "b"),
    ("client_state", "b"), ("server_state", "b"), ("changed", "b"), ("analysis", "L"),
)  # fmt: skip
"""The timeline's columns and their array type codes, in the order of a row tuple."""

MAX_KEPT_OPTIONS = 20_000
"""TCP options are kept for SYN segments only, and only this many: enough for the detail view
of a small capture without a file to re-read, bounded for a huge one."""


@dataclass(slots=True)
class StreamInfo:
    """What the connections view shows for one conversation, kept up to date while indexing.

    One object per stream, not per packet: 100,000 streams cost about 20 MB.
    """

    sid: int
    """Dense index in `Timeline.streams` (tcp and udp streams share this numbering)."""
    proto: str
    stream: int
    """tshark's tcp.stream / udp.stream number."""
    client: str
    cport: int
    server: str
    sport: int
    first_row: int
    last_row: int = 0
    packets: int = 0
    bytes_c2s: int = 0
    bytes_s2c: int = 0
    completeness: int = 0
    """tshark's bits: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST."""
    t_syn: float = math.nan
    t_synack: float = math.nan
    t_ack: float = math.nan
    client_state: int = NONE
    server_state: int = NONE
    summary: ConnectionSummary | None = None
    """The engine's own summary, once it arrives (end of a replay)."""
    client_program: str | None = None
    """ "curl 4711": the program at the client's end, where the kernel's view said."""
    server_program: str | None = None

    def fields(self) -> tuple[Any, ...]:
        """Every field but the summary, in order: `StreamInfo(*info.fields())` copies one."""
        return (self.sid, self.proto, self.stream, self.client, self.cport, self.server,
                self.sport, self.first_row, self.last_row, self.packets, self.bytes_c2s,
                self.bytes_s2c, self.completeness, self.t_syn, self.t_synack, self.t_ack,
                self.client_state, self.server_state)  # fmt: skip

    @property
    def handshake(self) -> str:
        """ "complete", "partial" or "none", as ConnectionSummary says it."""
        if self.summary is not None:
            return self.summary.handshake
        if self.completeness & 7 == 7:
            return "complete"
        return "partial" if self.completeness & 3 else "none"

    @property
    def handshake_rtt(self) -> float | None:
        if self.summary is not None:
            return self.summary.handshake_rtt
        rtt = self.t_ack - self.t_syn
        return None if math.isnan(rtt) else rtt

    @property
    def ended(self) -> str:
        if self.summary is not None:
            return self.summary.ended
        if self.completeness & 32:
            return "rst"
        return "fin" if self.completeness & 16 else "open"


class RowBuilder:
    """Turns packet events into row tuples (in `COLUMNS` order), keeping each stream's info.

    Shared by the timeline, which appends rows as events arrive, and by the index workers,
    which build the rows of their share of the streams in other processes (`index_worker`).
    Stream infos get `sid` = `offset` + `step` x (streams so far): dense in one process; in a
    worker, numbers that tell the workers apart, which `Timeline.merge` turns into dense ones.
    """

    def __init__(self, step: int = 1, offset: int = 0) -> None:
        self.step = step
        self.offset = offset
        self.streams: list[StreamInfo] = []
        """Stream infos in order of first appearance (their sid: see above)."""
        self._tcp: dict[int, StreamInfo] = {}
        self._udp: dict[int, StreamInfo] = {}
        self.options: dict[int, dict[str, Any]] = {}
        """TCP options of SYN segments by row (a worker empties it after each batch)."""
        self.options_budget = MAX_KEPT_OPTIONS
        """How many more SYN segments' options to keep."""
        self._interned: dict[str, str] = {}
        self._masks: dict[tuple[str, ...], int] = {}

    def info(self, proto: str, stream: int) -> StreamInfo | None:
        """The info of tshark's stream `stream` of `proto`, if it has been seen."""
        return (self._tcp if proto == "tcp" else self._udp).get(stream)

    def packet_row(self, ev: Any, row: int) -> tuple[Any, ...]:
        """The row of one packet event at timeline row `row`; updates its stream's info."""
        tcp = ev.proto == "tcp"
        info = (self._tcp if tcp else self._udp).get(ev.stream)
        c2s = ev.dir == "c2s"
        if info is None:
            info = self._new_stream(row, ev, c2s)
        cs = ev.client_state
        cs = NONE if cs is None else STATE_CODE[cs]
        ss = ev.server_state
        ss = NONE if ss is None else STATE_CODE[ss]
        kernel = ev.kernel if tcp else None
        differs = 0
        if kernel is not None:  # the kernel's own states, where it said them
            cs, ss, differs = self._kernel_states(kernel, cs, ss, info)
        changed = differs  # a mark shows its state even where it did not change
        if cs != info.client_state or differs & CLIENT_DIFFERS:
            changed |= CLIENT_CHANGED
        if ss != info.server_state or differs & SERVER_DIFFERS:
            changed |= SERVER_CHANGED
        info.client_state = cs
        info.server_state = ss
        info.last_row = row
        info.packets += 1
        length = ev.len
        if c2s:
            info.bytes_c2s += length
        else:
            info.bytes_s2c += length
        flags = ev.flags
        if flags & 0x07 or (flags & ACK and info.completeness & 7 == 3):
            self._note_flags(info, row, ev)  # SYN, FIN, RST, or the handshake's ACK
        if length:
            info.completeness |= 8
        seq, ack, window, marks = ev.seq, ev.ack, ev.window, ev.analysis
        if kernel is not None and kernel.note:
            marks = (*marks, f"kernel_{kernel.note}")
        return (
            KIND_TCP if tcp else KIND_UDP, ev.frame, ev.time, info.sid, C2S if c2s else S2C,
            flags, NONE if seq is None else seq, NONE if ack is None else ack, length,
            NONE if window is None else window, PHASE_CODE[ev.phase], cs, ss, changed,
            self._mask(marks) if marks else 0,
        )  # fmt: skip

    @staticmethod
    def _kernel_states(kernel: Any, cs: int, ss: int, info: StreamInfo) -> tuple[int, int, int]:
        """Both ends' states as the kernel said them (else as inferred), with the marks of
        where the two differ; the stream learns its programs."""
        differs = 0
        if kernel.client is not None:
            code = STATE_CODE[kernel.client]
            differs |= CLIENT_DIFFERS if code != cs else 0
            cs = code
        if kernel.server is not None:
            code = STATE_CODE[kernel.server]
            differs |= SERVER_DIFFERS if code != ss else 0
            ss = code
        if kernel.client_program and info.client_program is None:
            info.client_program = kernel.client_program
        if kernel.server_program and info.server_program is None:
            info.server_program = kernel.server_program
        return cs, ss, differs

    def _new_stream(self, row: int, ev: Any, c2s: bool) -> StreamInfo:
        if c2s:
            cl, cp, sv, sp = ev.src, ev.sport, ev.dst, ev.dport
        else:
            cl, cp, sv, sp = ev.dst, ev.dport, ev.src, ev.sport
        intern = self._interned.setdefault
        info = StreamInfo(
            self.offset + self.step * len(self.streams), ev.proto, ev.stream, intern(cl, cl), cp,
            intern(sv, sv), sp, row,
        )  # fmt: skip
        self.streams.append(info)
        (self._tcp if ev.proto == "tcp" else self._udp)[ev.stream] = info
        return info

    def _mask(self, names: tuple[str, ...]) -> int:
        mask = self._masks.get(names)
        if mask is None:
            mask = 0
            for name in names:
                if name in ANALYSIS_NAMES:
                    mask |= 1 << ANALYSIS_NAMES.index(name)
            self._masks[names] = mask
        return mask

    def _note_flags(self, info: StreamInfo, row: int, ev: Any) -> None:
        """Handshake times and completeness bits, from one segment's flags."""
        flags = ev.flags
        if flags & SYN:
            if self.options_budget and ev.raw_options:
                options = ev.options
                if options:
                    self.options[row] = options
                    self.options_budget -= 1
            if flags & ACK:
                info.completeness |= 2
                if math.isnan(info.t_synack):
                    info.t_synack = ev.time
            else:
                info.completeness |= 1
                if math.isnan(info.t_syn):
                    info.t_syn = ev.time
        elif flags & ACK and info.completeness & 7 == 3:
            info.completeness |= 4
            info.t_ack = ev.time
        if flags & FIN:
            info.completeness |= 16
        if flags & RST:
            info.completeness |= 32


@dataclass(slots=True)
class RowBatch:
    """The rows one index worker built for a run of frames (see `index_worker`).

    Every worker of an index reads the same frames and numbers the same rows; each fills the
    rows of its own streams and leaves the others' all zero, so `Timeline.merge` can OR them.
    """

    rows: int
    columns: tuple[bytes, ...]
    """One buffer per column of `COLUMNS`, `rows` items each."""
    streams: list[tuple[Any, ...]]
    """The infos of this worker's streams that these rows touched (new ones included), as
    `StreamInfo` fields without the summary (tuples pickle several times faster)."""
    options: dict[int, dict[str, Any]]
    summaries: list[tuple[Any, ...]] = field(default_factory=list)
    """At the end: the engine's summary of each stream as the worker's sid followed by the
    `ConnectionSummary` fields."""


@runtime_checkable
class Indexed(Protocol):
    """A source that can build the timeline's rows itself, faster than events would (a big
    file indexed by worker processes: `sources.parallel.index_worker`)."""

    def index_rows(self) -> Generator[list[RowBatch], None, None] | None:
        """Batches for `Timeline.merge`, one per worker; None where `events` should be read
        instead (a small file, a pipe, one core)."""
        ...
