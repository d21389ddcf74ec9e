"""The TUI's model: every event of a capture in compact columns, without any UI.

Row `i` of every column describes the same event (see `rows` for the columns and their codes);
socket calls (a handful) are kept as objects, and the packet detail re-reads the one selected
frame from its capture by frame number.

Threading: one thread (the source's worker) appends with `extend` or `merge`; the UI thread
reads. Rows are published by bumping `count` *after* every column has grown, so a reader that
stays below `count` never sees a half-written row.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from handshake_viz.core.events import (
    ConnectionSummary,
    PacketEvent,
    Phase,
    SocketEvent,
    TcpState,
    flag_names,
    split_endpoint,
)
from handshake_viz.model.call_phases import call_phase
from handshake_viz.model.rows import (
    ANALYSIS_NAMES,
    C2S,
    COLUMNS,
    KIND_SOCKET,
    KIND_UDP,
    MAX_KEPT_OPTIONS,
    NONE,
    PHASE_CODE,
    PHASES,
    S2C,
    STATES,
    RowBatch,
    RowBuilder,
    StreamInfo,
)


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
        self._append_rows(
            row0,
            [array(tc, col) for (_, tc), col in zip(COLUMNS, zip(*rows, strict=True), strict=True)],
        )

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
        sid = self.socket_sid(row)
        seen = self.streams[sid].completeness if sid is not None else 0
        self.phase.append(PHASE_CODE[call_phase(ev, seen)])
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
