"""The TUI's model: every event of a capture in compact columns, without any UI.

Why columns: a million `PacketEvent` objects (with their option dicts) cost well over a
gigabyte, and the ladder only ever draws the rows on screen. So each event becomes one entry in
a dozen `array` columns (about 60 bytes a row), socket calls (a handful) are kept as objects,
and the packet detail re-reads the one selected frame from its capture by frame number.

Threading: one thread (the source's worker) appends with `extend`; the UI thread reads. Rows are
published by bumping `count` *after* every column has grown, so a reader that stays below
`count` never sees a half-written row. Filters and playback live here too, as plain objects the
tests drive without a terminal.

This module must not import textual (the core stays UI-free; see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from handshake_viz.core.events import (
    ACK,
    FIN,
    FLAG_NAMES,
    RST,
    SYN,
    ConnectionSummary,
    PacketEvent,
    Phase,
    SocketEvent,
    TcpState,
    flag_names,
    split_endpoint,
)

PHASES: tuple[Phase, ...] = tuple(Phase)
"""Phase by its code in the `phase` column."""
_PHASE_CODE = {p: i for i, p in enumerate(PHASES)}
STATES: tuple[TcpState, ...] = tuple(TcpState)
"""TCP state by its code in the state columns (-1: none)."""
_STATE_CODE = {s: i for i, s in enumerate(STATES)}

KIND_TCP, KIND_UDP, KIND_SOCKET = 0, 1, 2
"""Codes of the `kind` column."""
C2S, S2C = 0, 1
"""Codes of the `dir` column (for socket calls: 0 the client side, 1 the server side)."""
NONE = -1
"""Stands for None in integer columns (seq, ack, window, states)."""

CLIENT_CHANGED, SERVER_CHANGED = 1, 2
"""Bits of the `changed` column: this row is where that end's TCP state changed."""

SOCKET_PHASE: dict[str, Phase] = {
    "socket": Phase.LISTEN,
    "bind": Phase.LISTEN,
    "listen": Phase.LISTEN,
    "connect": Phase.REQUEST,
    "accept": Phase.CONFIRM,
    "send": Phase.DATA,
    "recv": Phase.DATA,
    "sendto": Phase.DATAGRAM,
    "recvfrom": Phase.DATAGRAM,
    "shutdown": Phase.TEARDOWN,
    "close": Phase.TEARDOWN,
}
"""The phase band a socket call is drawn in (client connect() starts the request...)."""

ANALYSIS_NAMES: tuple[str, ...] = (
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "previous_segment_not_captured", "ack_lost_segment", "duplicate_ack", "zero_window",
    "zero_window_probe", "zero_window_probe_ack", "keep_alive", "keep_alive_ack",
    "window_update", "port_reused",
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


def _port_of(endpoint: str | None) -> int | None:
    """The port of an "addr:port" or "[addr]:port" string, None if there is none."""
    if not endpoint or ":" not in endpoint:
        return None
    tail = endpoint.rsplit(":", 1)[1]
    return int(tail) if tail.isdigit() else None


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
        cs = NONE if cs is None else _STATE_CODE[cs]
        ss = ev.server_state
        ss = NONE if ss is None else _STATE_CODE[ss]
        changed = (CLIENT_CHANGED if cs != info.client_state else 0) | (
            SERVER_CHANGED if ss != info.server_state else 0
        )
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
        return (
            KIND_TCP if tcp else KIND_UDP, ev.frame, ev.time, info.sid, C2S if c2s else S2C,
            flags, NONE if seq is None else seq, NONE if ack is None else ack, length,
            NONE if window is None else window, _PHASE_CODE[ev.phase], cs, ss, changed,
            self._mask(marks) if marks else 0,
        )  # fmt: skip

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

    def index_rows(self) -> Iterator[list[RowBatch]] | None:
        """Batches for `Timeline.merge`, one per worker; None where `events` should be read
        instead (a small file, a pipe, one core)."""
        ...


class Timeline:
    """Every event of a source, in arrival order, as columns of small integers.

    Row `i` of every column describes the same event. Packet rows carry the tracker's fields;
    socket rows carry the side in `dir`, the call's phase in `phase`, and the event itself in
    `sockets`.
    """

    def __init__(self) -> None:
        self.kind = array("b")
        self.frame = array("q")
        """Frame number in the capture (0 for socket calls): the key to re-read the packet."""
        self.time = array("d")
        self.sid = array("l")
        """Dense stream index (see `streams`), -1 for socket calls."""
        self.dir = array("b")
        self.flags = array("H")
        self.seq = array("q")
        self.ack = array("q")
        self.length = array("l")
        self.window = array("l")
        self.phase = array("b")
        self.client_state = array("b")
        self.server_state = array("b")
        self.changed = array("b")
        self.analysis = array("L")
        """Bitmask over `analysis_names`."""
        self.sockets: dict[int, SocketEvent] = {}
        """Socket calls by row."""
        self.analysis_names: list[str] = list(ANALYSIS_NAMES)
        self._builder = RowBuilder()
        self.streams: list[StreamInfo] = self._builder.streams
        """By sid: tcp and udp streams in order of first appearance."""
        self.options: dict[int, dict[str, Any]] = self._builder.options
        """TCP options of SYN segments by row (bounded by MAX_KEPT_OPTIONS)."""
        self._sid_of: dict[tuple[str, int], int] = {}
        self._gsid: dict[int, int] = {}
        """`merge`: our sid of each worker's sid (worker sids differ between workers)."""
        self._next_stream = {"tcp": 0, "udp": 0}
        self._by_client: dict[tuple[str, str, int], list[int]] = {}
        """(proto, client address, client port): the sids of the streams from that end."""
        self._by_client_upto = 0
        """How many of `streams` `_by_client` has taken in."""
        self.count = 0
        """Rows published to readers (every column holds at least this many)."""
        self.first_time: float | None = None
        self.done = False
        """The source has ended: no row will be added."""

    @property
    def columns(self) -> tuple[array[Any], ...]:
        """The column arrays in `COLUMNS` order."""
        return tuple(getattr(self, name) for name, _ in COLUMNS)

    # -- writing (one thread) -------------------------------------------------------------

    def extend(self, events: Iterable[Any]) -> int:
        """Append events (packets, socket calls, summaries; others are ignored).

        Returns the number of rows added; they become visible to readers, through `count`,
        when this returns. Runs of packets become row tuples, appended column by column.
        """
        start = len(self.kind)
        run: list[Any] = []
        for ev in events:
            t = ev.type
            if t == "packet":
                run.append(ev)
                continue
            if run:
                self._add_packets(run)
                run = []
            if t == "socket":
                self._add_socket(len(self.kind), ev)
            elif t == "connection":
                sid = self._sid_of.get((ev.proto, ev.stream))
                if sid is not None:
                    self.streams[sid].summary = ev
        if run:
            self._add_packets(run)
        self.count = len(self.kind)
        return self.count - start

    def _add_packets(self, pk: list[Any]) -> None:
        """Append a run of packet events."""
        row0 = len(self.kind)
        known = len(self.streams)
        row = self._builder.packet_row
        rows = [row(ev, i) for i, ev in enumerate(pk, row0)]
        for info in self.streams[known:]:
            self._sid_of[(info.proto, info.stream)] = info.sid
        self._append_rows(row0, [array(tc, col) for (_, tc), col in zip(COLUMNS, zip(*rows))])

    def _append_rows(self, row0: int, cols: list[array[Any]]) -> None:
        """Extend every column with rows from `row0` on."""
        if self.first_time is None and cols[2]:
            self.first_time = cols[2][0]
        for col, new in zip(self.columns, cols, strict=True):
            col.extend(new)

    def merge(self, batches: list[RowBatch]) -> int:
        """Append the rows index workers built for the same frames (one batch per worker).

        ORs the workers' columns together (each left the others' rows zero), gives the new
        streams dense sids and tshark's numbers in order of first appearance, and updates the
        infos of the streams the rows touched. Returns the number of rows added.
        """
        row0 = len(self.kind)
        n = batches[0].rows
        cols: list[array[Any]] = []
        for i, (_, tc) in enumerate(COLUMNS):
            acc = 0
            for b in batches:
                acc |= int.from_bytes(b.columns[i], "little")
            col = array(tc)
            col.frombytes(acc.to_bytes(n * col.itemsize, "little"))
            cols.append(col)
        gsid, streams = self._gsid, self.streams
        touched = [(f[0], StreamInfo(*f)) for b in batches for f in b.streams]
        fresh = sorted((p for p in touched if p[0] not in gsid), key=lambda p: p[1].first_row)
        for worker_sid, info in fresh:
            gsid[worker_sid] = info.sid = len(streams)
            info.stream = self._next_stream[info.proto]
            self._next_stream[info.proto] += 1
            streams.append(info)
            self._sid_of[(info.proto, info.stream)] = info.sid
        for worker_sid, info in touched:  # the worker's latest figures replace ours
            sid = gsid[worker_sid]
            mine = streams[sid]
            if mine is not info:
                info.sid, info.stream = sid, mine.stream
                streams[sid] = info
        for b in batches:
            for worker_sid, *fields in b.summaries:
                mine = streams[gsid[worker_sid]]
                mine.summary = ConnectionSummary(*fields)
                mine.summary.stream = mine.stream
        if n:
            cols[3] = array("l", map(gsid.__getitem__, cols[3]))
        options = self.options
        offered = {r: o for b in batches for r, o in b.options.items()}
        for r in sorted(offered):
            if len(options) >= MAX_KEPT_OPTIONS:
                break
            options[r] = offered[r]
        self._append_rows(row0, cols)
        self.count = len(self.kind)
        return n

    def _add_socket(self, row: int, ev: SocketEvent) -> None:
        if self.first_time is None:
            self.first_time = ev.time
        self.sockets[row] = ev
        self.kind.append(KIND_SOCKET)
        self.frame.append(0)
        self.time.append(ev.time)
        self.sid.append(NONE)
        self.dir.append(C2S if ev.side == "client" else S2C)
        self.flags.append(0)
        self.seq.append(NONE)
        self.ack.append(NONE)
        self.length.append(0)
        self.window.append(NONE)
        self.phase.append(_PHASE_CODE[SOCKET_PHASE.get(ev.call, Phase.DATA)])
        self.client_state.append(NONE)
        self.server_state.append(NONE)
        self.changed.append(0)
        self.analysis.append(0)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.count

    def sid_of(self, proto: str, stream: int) -> int | None:
        """The dense index of tshark's stream `stream` of `proto`, if it has been seen."""
        return self._sid_of.get((proto, stream))

    def socket_sid(self, row: int) -> int | None:
        """The stream a socket call's row belongs to, None for the listening socket's calls
        and calls made before their socket had an address.

        The client's end names it: the call's own address on the client side, its peer's on
        the server side (accept(), and the accepted socket's send, recv and close). Where a
        client port served several streams, the latest one begun by this row; else the first
        one after it (connect() comes before its SYN).
        """
        ev = self.sockets.get(row)
        if ev is None:
            return None
        end = split_endpoint((ev.local if ev.side == "client" else ev.remote) or "")
        if end is None:
            return None
        streams = self.streams
        for info in streams[self._by_client_upto :]:
            self._by_client.setdefault((info.proto, info.client, info.cport), []).append(info.sid)
        self._by_client_upto = len(streams)
        sids = self._by_client.get((ev.proto, *end))
        if not sids:
            return None
        begun = [sid for sid in sids if streams[sid].first_row <= row]
        return begun[-1] if begun else sids[0]

    def stream_rows(self, sids: Iterable[int], start: int, stop: int) -> list[int]:
        """The rows in [start, stop) of the streams `sids`, ascending.

        Looks only between each stream's first and last row; where those spans add up to more
        than [start, stop), one pass over the `sid` column instead (~50 ms a million rows).
        """
        spans = []
        for s in sids:
            info = self.streams[s]
            lo, hi = max(start, info.first_row), min(stop, info.last_row + 1)
            if lo < hi:
                spans.append((s, lo, hi))
        col = self.sid
        if sum(hi - lo for _, lo, hi in spans) > stop - start:
            keep = {s for s, _, _ in spans}
            return [start + i for i, s in enumerate(col[start:stop]) if s in keep]
        rows: list[int] = []
        for s, lo, hi in spans:
            rows.extend([lo + i for i, v in enumerate(col[lo:hi]) if v == s])
        rows.sort()
        return rows

    def row(self, i: int) -> Row:
        """One row as an object, for the detail view and exports (not for bulk use)."""
        sid = self.sid[i]
        return Row(
            index=i,
            kind=self.kind[i],
            frame=self.frame[i],
            time=self.time[i],
            since_first=self.time[i] - (self.first_time or 0.0),
            stream=None if sid < 0 else self.streams[sid],
            dir=self.dir[i],
            flags=self.flags[i],
            seq=None if self.seq[i] == NONE else self.seq[i],
            ack=None if self.ack[i] == NONE else self.ack[i],
            length=self.length[i],
            window=None if self.window[i] == NONE else self.window[i],
            phase=PHASES[self.phase[i]],
            client_state=_state(self.client_state[i]),
            server_state=_state(self.server_state[i]),
            changed=self.changed[i],
            analysis=tuple(
                name for b, name in enumerate(self.analysis_names) if self.analysis[i] >> b & 1
            ),
            socket=self.sockets.get(i),
            options=self.options.get(i),
        )

    def memory_bytes(self) -> int:
        """Bytes held by the columns (buffers only; a figure for the bench)."""
        return sum(c.buffer_info()[1] * c.itemsize for c in self.columns)


def _state(code: int) -> TcpState | None:
    return None if code == NONE else STATES[code]


@dataclass(frozen=True, slots=True)
class Row:
    """One timeline row rebuilt as an object (see `Timeline.row`)."""

    index: int
    kind: int
    frame: int
    time: float
    since_first: float
    stream: StreamInfo | None
    dir: int
    flags: int
    seq: int | None
    ack: int | None
    length: int
    window: int | None
    phase: Phase
    client_state: TcpState | None
    server_state: TcpState | None
    changed: int
    analysis: tuple[str, ...]
    socket: SocketEvent | None
    options: dict[str, Any] | None

    @property
    def is_socket(self) -> bool:
        return self.kind == KIND_SOCKET

    @property
    def flag_text(self) -> str:
        return ",".join(flag_names(self.flags))

    def event(self) -> PacketEvent | SocketEvent:
        """The event this row shows, rebuilt (the timeline keeps columns, not events); a
        packet's options and payload are not kept, so it has none."""
        if self.socket is not None:
            return self.socket
        s = self.stream
        assert s is not None
        c2s = self.dir == C2S
        return PacketEvent(
            frame=self.frame, time=self.time, proto=s.proto, stream=s.stream,
            src=s.client if c2s else s.server, sport=s.cport if c2s else s.sport,
            dst=s.server if c2s else s.client, dport=s.sport if c2s else s.cport,
            dir="c2s" if c2s else "s2c", flags=self.flags, seq=self.seq, ack=self.ack,
            len=self.length, window=self.window, raw_options=b"", phase=self.phase,
            client_state=None if self.kind == KIND_UDP else self.client_state,
            server_state=None if self.kind == KIND_UDP else self.server_state,
            analysis=self.analysis,
        )  # fmt: skip


# -- filters ----------------------------------------------------------------------------------

_FLAG_BY_NAME = {name.lower(): bit for bit, name in FLAG_NAMES}
_PHASE_BY_NAME = {p.value: p for p in Phase}


class FilterError(ValueError):
    """A filter text that cannot be read; the message says what would be understood."""


@dataclass(frozen=True, slots=True)
class Filter:
    """What the `/` filter keeps: every given criterion must hold (an AND of them).

    Within one criterion the values are alternatives: `port:80 port:443` keeps either port;
    flags are the exception (`syn ack` keeps segments with both SYN and ACK).
    """

    ports: frozenset[int] = frozenset()
    flags: int = 0
    phases: frozenset[Phase] = frozenset()
    streams: frozenset[int] = frozenset()
    """tshark stream numbers (of either protocol unless `proto` is set)."""
    sids: frozenset[int] = frozenset()
    """Dense stream indices, as chosen in the connections view."""
    proto: str | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return not (self.ports or self.flags or self.phases or self.streams or self.sids) and (
            self.proto is None
        )


FILTER_HELP = (
    "words, all must hold: a port (80 or port:80), a flag (syn, ack, fin, rst, psh...), a phase "
    "(listen, request, confirm, data, teardown, reset, datagram), a stream (stream:3 or #3), "
    "tcp or udp"
)


def parse_filter(text: str) -> Filter:
    """Read the `/` filter's text. Raises FilterError naming the word it did not understand."""
    ports: set[int] = set()
    streams: set[int] = set()
    phases: set[Phase] = set()
    flags = 0
    proto: str | None = None
    for raw in text.replace(",", " ").split():
        word = raw.lower()
        key, _, value = word.partition(":")
        if not value:
            key, value = "", word
        if key in ("", "port") and value.isdigit():
            ports.add(int(value))
        elif key in ("stream", "s") and value.isdigit():
            streams.add(int(value))
        elif key == "" and value.startswith("#") and value[1:].isdigit():
            streams.add(int(value[1:]))
        elif key in ("", "flag", "flags") and all(v in _FLAG_BY_NAME for v in value.split("+")):
            for v in value.split("+"):
                flags |= _FLAG_BY_NAME[v]
        elif key in ("", "phase") and value in _PHASE_BY_NAME:
            phases.add(_PHASE_BY_NAME[value])
        elif key in ("", "proto") and value in ("tcp", "udp"):
            proto = value
        else:
            raise FilterError(f"not understood: {raw!r}; {FILTER_HELP}")
    return Filter(
        frozenset(ports), flags, frozenset(phases), frozenset(streams), frozenset(), proto,
        text.strip(),
    )  # fmt: skip


def matching_rows(tl: Timeline, flt: Filter, start: int, stop: int) -> array[int]:
    """The rows in [start, stop) that `flt` keeps, ascending.

    Each criterion is one pass of a comprehension over a column, about 50 ms per million rows;
    a stream-only filter looks only within the streams' spans (`Timeline.stream_rows`).
    """
    out = array("l")
    if start >= stop:
        return out
    sids: set[int] | None = None
    if flt.sids or flt.streams:
        sids = set(flt.sids)
        for n in flt.streams:
            for proto in ("tcp", "udp") if flt.proto is None else (flt.proto,):
                s = tl.sid_of(proto, n)
                if s is not None:
                    sids.add(s)
    socket_ok = not (flt.flags or sids is not None or flt.proto == "udp")
    if flt.ports:
        port_sids = {s.sid for s in tl.streams[:] if s.cport in flt.ports or s.sport in flt.ports}
        sids = port_sids if sids is None else sids & port_sids
    if flt.proto is not None:
        wanted = "tcp" if flt.proto == "tcp" else "udp"
        proto_sids = {s.sid for s in tl.streams[:] if s.proto == wanted}
        sids = proto_sids if sids is None else sids & proto_sids

    codes = {_PHASE_CODE[p] for p in flt.phases}
    # A stream's own socket calls (connect(), accept(), send() ...) stay with it.
    calls: list[int] = []
    if (flt.sids or flt.streams) and not flt.flags and sids:
        calls = [r for r in sorted(tl.sockets) if start <= r < stop
                 and tl.socket_sid(r) in sids and (not codes or tl.phase[r] in codes)]  # fmt: skip

    if sids is not None and not flt.flags and not flt.phases and not socket_ok:
        rows = tl.stream_rows(sids, start, stop)  # stream-only: within the streams' spans
        out.extend(sorted(rows + calls) if calls else rows)
        return out

    # The most selective criteria first; the first pass enumerates a slice of one column
    # (no per-row indexing), later passes only look at the survivors.
    cand: list[int] | None = None
    if flt.flags:  # socket rows have no flags: a flag filter drops them by itself
        m = flt.flags
        cand = [start + i for i, f in enumerate(tl.flags[start:stop]) if f & m == m]
    if codes:
        if cand is None:
            cand = [start + i for i, p in enumerate(tl.phase[start:stop]) if p in codes]
        else:
            ph = tl.phase
            cand = [i for i in cand if ph[i] in codes]
    if sids is not None:
        col = tl.sid
        keep = sids
        if socket_ok:  # socket calls naming one of the ports stay
            sock, ports = tl.sockets, flt.ports

            def kept(i: int, s: int) -> bool:
                return s in keep or (s == NONE and bool(_socket_ports(sock[i]) & ports))

            if cand is None:
                cand = [start + i for i, s in enumerate(col[start:stop]) if kept(start + i, s)]
            else:
                cand = [i for i in cand if kept(i, col[i])]
        elif cand is None:
            cand = [start + i for i, s in enumerate(col[start:stop]) if s in keep]
        else:
            cand = [i for i in cand if col[i] in keep]
    survivors: Iterable[int] = range(start, stop) if cand is None else cand
    out.extend(sorted({*survivors, *calls}) if calls else survivors)
    return out


def _socket_ports(ev: SocketEvent) -> set[int]:
    return {p for p in (_port_of(ev.local), _port_of(ev.remote)) if p is not None}


# -- the view: filter + playback --------------------------------------------------------------

SPEEDS: tuple[float, ...] = (
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
)
"""The speeds + and - walk through; below the slowest is step mode (nothing moves by itself)."""


@dataclass
class TimelineView:
    """Which rows the ladder shows: the filter's rows that playback has revealed so far.

    Replay reveals rows one by one at `pause / speed` seconds per row (a person's pace, since a
    loopback handshake takes under 4 ms); live capture reveals everything as it arrives.
    `revealed` counts timeline rows (not filtered rows), so changing the filter keeps the place.
    """

    timeline: Timeline
    live: bool = False
    pause: float = 0.6
    """Seconds per event at 1x."""
    speed: float | None = 1.0
    """None: step mode."""
    playing: bool = True
    revealed: int = 0
    filter: Filter = field(default_factory=Filter)
    _rows: array[int] | None = None
    _scanned: int = 0
    _credit: float = 0.0

    def __post_init__(self) -> None:
        if self.speed is not None:
            self.speed = min(max(self.speed, SPEEDS[0]), SPEEDS[-1])
        if self.live:
            self.playing = False

    # -- filtering

    def set_filter(self, flt: Filter) -> None:
        """Apply a filter (the empty Filter shows everything)."""
        self.filter = flt
        self._rows = None if flt.empty else array("l")
        self._scanned = 0
        self.sync()

    def sync(self) -> bool:
        """Take in rows the source added since the last call. Returns True if any were."""
        count = self.timeline.count
        grew = False
        if self._rows is not None and self._scanned < count:
            self._rows.extend(matching_rows(self.timeline, self.filter, self._scanned, count))
            self._scanned = count
            grew = True
        if self.live and self.revealed != count:
            self.revealed = count
            grew = True
        elif self.revealed == 0 and count:
            self.revealed = 1  # a replay opens on its first event
            grew = True
        return grew

    @property
    def matched(self) -> int:
        """Rows the filter keeps among all indexed rows (revealed or not)."""
        return self.timeline.count if self._rows is None else len(self._rows)

    @property
    def visible_count(self) -> int:
        """Rows the ladder shows."""
        if self._rows is None:
            return min(self.revealed, self.timeline.count)
        return bisect_left(self._rows, self.revealed)

    def row_at(self, i: int) -> int:
        """Timeline row of the i-th visible row."""
        return i if self._rows is None else self._rows[i]

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[int]:
        """Timeline rows of visible rows [start, stop)."""
        stop = self.visible_count if stop is None else min(stop, self.visible_count)
        for i in range(start, stop):
            yield self.row_at(i)

    def index_of(self, row: int) -> int | None:
        """Visible index of a timeline row, None if it is filtered out or not revealed."""
        if row >= self.revealed:
            return None
        if self._rows is None:
            return row if row < self.timeline.count else None
        k = bisect_left(self._rows, row)
        return k if k < len(self._rows) and self._rows[k] == row else None

    # -- playback

    def _reveal_to(self, k: int) -> None:
        """Reveal exactly k visible rows (clamped to what exists)."""
        total = self.matched
        k = max(1 if total else 0, min(k, total))
        if k == 0:
            return
        self.revealed = self.row_at(k - 1) + 1

    def step(self, n: int = 1) -> None:
        """Move n events forward (negative: back). Never hides the first row."""
        if self.live:
            return
        self._reveal_to(self.visible_count + n)

    def home(self) -> None:
        if not self.live:
            self._reveal_to(1)

    def end(self) -> None:
        """Reveal every row indexed so far."""
        if not self.live:
            self.revealed = max(self.revealed, self.timeline.count)

    @property
    def at_end(self) -> bool:
        return self.visible_count >= self.matched

    def toggle_play(self) -> None:
        if self.live:
            return
        if not self.playing and self.at_end and self.timeline.done:
            self.home()  # play again from the start, like a media player
        self.playing = not self.playing
        self._credit = 0.0

    def faster(self) -> None:
        if self.speed is None:
            self.speed = SPEEDS[0]
        else:
            self.speed = next((s for s in SPEEDS if s > self.speed + 1e-9), SPEEDS[-1])

    def slower(self) -> None:
        if self.speed is None:
            return
        lower = [s for s in SPEEDS if s < self.speed - 1e-9]
        self.speed = lower[-1] if lower else None

    @property
    def interval(self) -> float | None:
        """Seconds between two revealed events, None in step mode."""
        return None if self.speed is None else self.pause / self.speed

    def tick(self, elapsed: float) -> bool:
        """Advance playback by `elapsed` seconds of wall time. Returns True if rows appeared."""
        interval = self.interval
        if self.live or not self.playing or interval is None:
            return False
        if self.at_end:
            self._credit = 0.0
            if self.timeline.done:
                self.playing = False
            return False
        self._credit += elapsed
        n = int(self._credit / interval) if interval > 0 else self.matched
        if n <= 0:
            return False
        self._credit -= n * interval
        before = self.revealed
        self._reveal_to(self.visible_count + n)
        return self.revealed != before

    @property
    def mode_text(self) -> str:
        """The status bar's playback word."""
        if self.live:
            return "live"
        if self.speed is None:
            return "step"
        speed = f"{self.speed:g}x"
        return f"▶ {speed}" if self.playing else f"⏸ {speed}"
