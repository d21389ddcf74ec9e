"""The `/` filter: its words, and the rows of a timeline they keep.

Each criterion is one pass of a comprehension over a column (about 50 ms per million rows);
a stream-only filter looks only within the streams' spans.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from handshake_viz.core.events import FLAG_NAMES, Phase, SocketEvent
from handshake_viz.model.filter_expr import (
    MARK_WORDS,
    Atom,
    FilterError,
    Parser,
    address_of,
    needs_expression,
    read_time,
    tokens,
)
from handshake_viz.model.rows import NONE, PHASE_CODE
from handshake_viz.model.timeline import Timeline

__all__ = ["Filter", "FilterError", "filter_rows", "matching_rows", "parse_filter"]

CHUNK_ROWS = 32_768
"""Rows `filter_rows` looks at between two looks at whether it should stop (an expression
takes about 60 ms for this many)."""


def _port_of(endpoint: str | None) -> int | None:
    """The port of an "addr:port" or "[addr]:port" string, None if there is none."""
    if not endpoint or ":" not in endpoint:
        return None
    tail = endpoint.rsplit(":", 1)[1]
    return int(tail) if tail.isdigit() else None


_FLAG_BY_NAME = {name.lower(): bit for bit, name in FLAG_NAMES}
_PHASE_BY_NAME = {p.value: p for p in Phase}


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
    expression: tuple[str, ...] | None = None
    """The words of a filter in the full language (`model.filter_expr`), which then replaces
    the fields above."""

    @property
    def empty(self) -> bool:
        return not (self.ports or self.flags or self.phases or self.streams or self.sids) and (
            self.proto is None and self.expression is None
        )


def read_atom(raw: str) -> Atom:
    """One word of the filter (FilterError naming it if it is none)."""
    word = raw.lower()
    address = address_of(word) if ":" in word or word[:1].isdigit() else None
    if address is not None and not word.isdigit():
        return Atom("address", address, raw)
    key, _, value = word.partition(":")
    if not value:
        key, value = "", word
    if key in ("", "port") and value.isdigit():
        return Atom("port", int(value), raw)
    if key in ("stream", "s") and value.isdigit():
        return Atom("stream", int(value), raw)
    if key == "" and value.startswith("#") and value[1:].isdigit():
        return Atom("stream", int(value[1:]), raw)
    if key in ("", "flag", "flags") and all(v in _FLAG_BY_NAME for v in value.split("+")):
        bits = 0
        for v in value.split("+"):
            bits |= _FLAG_BY_NAME[v]
        return Atom("flag", bits, raw)
    if key in ("", "phase") and value in _PHASE_BY_NAME:
        return Atom("phase", _PHASE_BY_NAME[value], raw)
    if key in ("", "proto") and value in ("tcp", "udp"):
        return Atom("proto", value, raw)
    if key in ("", "mark") and value in MARK_WORDS:
        return Atom("mark", value, raw)
    if key in ("host", "addr") and (address := address_of(value)) is not None:
        return Atom("address", address, raw)
    if key in ("time", "t") and (span := read_time(value)) is not None:
        return Atom("time", span, raw)
    raise FilterError("filter.not_understood", word=raw)


def parse_filter(text: str) -> Filter:
    """Read the `/` filter's text. Raises FilterError naming the word it did not understand.

    Words alone are the simple filter (`Filter`'s fields); with `or`, `not`, parentheses, an
    address, a mark or a time range it is an expression (`model.filter_expr`), read here once
    to find a bad word before any row is looked at.
    """
    words = tokens(text)
    atoms = [None if w.lower() in ("and", "or", "not", "!", "(", ")") else read_atom(w)
             for w in words]  # fmt: skip
    if needs_expression(words, atoms):
        Parser(words, read_atom, Timeline()).parse()
        return Filter(text=text.strip(), expression=tuple(words))
    ports: set[int] = set()
    streams: set[int] = set()
    phases: set[Phase] = set()
    flags = 0
    proto: str | None = None
    for a in atoms:
        assert a is not None
        if a.kind == "port":
            ports.add(int(a.value))  # type: ignore[call-overload]
        elif a.kind == "stream":
            streams.add(int(a.value))  # type: ignore[call-overload]
        elif a.kind == "flag":
            flags |= int(a.value)  # type: ignore[call-overload]
        elif a.kind == "phase":
            phases.add(a.value)  # type: ignore[arg-type]
        else:
            proto = str(a.value)
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
    if flt.expression is not None:
        test = Parser(list(flt.expression), read_atom, tl).parse()
        out.extend(r for r in range(start, stop) if test(r))
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

    codes = {PHASE_CODE[p] for p in flt.phases}
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


def filter_rows(
    tl: Timeline, flt: Filter, stop: int, cancelled: Callable[[], bool]
) -> array[int] | None:
    """The rows in [0, stop) that `flt` keeps, in chunks of `CHUNK_ROWS`, or None as soon as
    `cancelled()` says so: run in a thread, a slow filter can be abandoned for a newer one."""
    out = array("l")
    for start in range(0, stop, CHUNK_ROWS):
        if cancelled():
            return None
        out.extend(matching_rows(tl, flt, start, min(start + CHUNK_ROWS, stop)))
    return None if cancelled() else out


def _socket_ports(ev: SocketEvent) -> set[int]:
    return {p for p in (_port_of(ev.local), _port_of(ev.remote)) if p is not None}
