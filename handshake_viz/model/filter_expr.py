"""The `/` filter's full language: `or`, `and`, `not`, parentheses, addresses, tshark's
analysis marks and a time range, over the words of the simple filter.

Words side by side hold together, as in the simple filter: words of one kind are
alternatives (`80 443`: either port), words of different kinds must all hold (`80 syn`);
`and`, `or`, `not` (or `!`) and parentheses say otherwise, `not` binding tightest, then
`and`, then `or`. A filter that uses none of this, and none of the new words, stays a plain
`Filter` and keeps its fast paths (`model.query`); any other becomes a predicate on a row,
checked row by row (about a second per million rows and word).

New words:

- an address (`127.0.0.1`, `::1`, or `host:10.0.0.1`): packets of connections with that end,
  calls with that local or remote address;
- an analysis mark, by tshark's name (`duplicate_ack`) or short (`retrans`, `dupack`,
  `zerowin`, `ooo`, `lost`, `keepalive`, `winupdate`, `reused`), or `analysis` for any;
- `time:A-B`: seconds since the first event, either end left out (`time:2-`, `time:-0.5`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from handshake_viz.core.events import Phase, split_endpoint
from handshake_viz.model.rows import ANALYSIS_NAMES, NONE, PHASE_CODE
from handshake_viz.model.timeline import Timeline


class FilterError(ValueError):
    """A filter text that cannot be read.

    The model speaks no language: `key` names the catalog message (``filter.not_understood``)
    and `values` fill it (``word``: the word not understood); the interface says it in the
    reader's language, with the filter's help (``filter.help``) as ``{help}``.
    """

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(f"{key}: " + ", ".join(f"{k}={v!r}" for k, v in values.items()))
        self.key = key
        self.values = values


RowTest = Callable[[int], bool]
"""Whether the timeline row holds."""

MARK_WORDS: dict[str, tuple[str, ...]] = {
    "retrans": ("retransmission", "fast_retransmission", "spurious_retransmission"),
    "fastretrans": ("fast_retransmission",),
    "dupack": ("duplicate_ack",),
    "zerowin": ("zero_window",),
    "zwprobe": ("zero_window_probe", "zero_window_probe_ack"),
    "ooo": ("out_of_order",),
    "lost": ("previous_segment_not_captured", "ack_lost_segment"),
    "keepalive": ("keep_alive", "keep_alive_ack"),
    "winupdate": ("window_update",),
    "reused": ("port_reused",),
    "analysis": ANALYSIS_NAMES,
    **{name: (name,) for name in ANALYSIS_NAMES},
}
"""Each mark word and the marks it keeps."""

OPERATORS = ("and", "or", "not", "!", "(", ")")
_TOKEN = re.compile(r"\(|\)|!(?=\S)|[^\s(),!]+")


@dataclass(frozen=True, slots=True)
class Atom:
    """One word of the filter: its kind (`port`, `flag`, `phase`, `stream`, `proto`,
    `address`, `mark`, `time`) and its value."""

    kind: str
    value: object
    word: str


NEW_KINDS = frozenset({"address", "mark", "time"})
"""Kinds the simple filter has no column pass for."""


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace(",", " "))


def needs_expression(words: list[str], atoms: list[Atom | None]) -> bool:
    """Whether a filter needs the full language (an operator, or a new kind of word)."""
    return any(w.lower() in OPERATORS for w in words) or any(
        a is not None and a.kind in NEW_KINDS for a in atoms
    )


def read_time(value: str) -> tuple[float, float] | None:
    lo, sep, hi = value.replace("..", "-").partition("-")
    if not sep:
        return None
    try:
        return (float(lo) if lo else float("-inf"), float(hi) if hi else float("inf"))
    except ValueError:
        return None


def address_of(value: str) -> str | None:
    """The address a word names, in the form the timeline keeps it, or None."""
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return None


class Parser:
    """A recursive-descent reader of the tokens into a row test for one timeline."""

    def __init__(self, words: list[str], atom: Callable[[str], Atom], tl: Timeline) -> None:
        self.words = words
        self.at = 0
        self.atom = atom
        self.tl = tl

    def parse(self) -> RowTest:
        if not self.words:
            return lambda r: True
        test = self.either()
        if self.at < len(self.words):
            raise FilterError("filter.not_understood", word=self.words[self.at])
        return test

    def peek(self) -> str | None:
        return self.words[self.at].lower() if self.at < len(self.words) else None

    def either(self) -> RowTest:
        parts = [self.both()]
        while self.peek() == "or":
            self.at += 1
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def both(self) -> RowTest:
        parts = [self.side_by_side()]
        while self.peek() == "and":
            self.at += 1
            parts.append(self.side_by_side())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def side_by_side(self) -> RowTest:
        """Words and groups next to each other: atoms of one kind are alternatives."""
        groups: list[RowTest] = []
        atoms: dict[str, list[Atom]] = {}
        while (w := self.peek()) not in (None, "or", "and", ")"):
            if w in ("not", "!", "("):
                groups.append(self.primary())
            else:
                a = self.atom(self.words[self.at])
                self.at += 1
                atoms.setdefault("flag" if a.kind == "flag" else a.kind, []).append(a)
        if not groups and not atoms:
            word = self.words[self.at] if self.at < len(self.words) else self.words[-1]
            raise FilterError("filter.not_understood", word=word)
        for kind, same in atoms.items():
            groups.append(atom_test(self.tl, kind, same))
        return groups[0] if len(groups) == 1 else (lambda r: all(g(r) for g in groups))

    def primary(self) -> RowTest:
        w = self.peek()
        if w == "(":
            self.at += 1
            inner = self.either()
            if self.peek() != ")":
                raise FilterError("filter.not_understood", word="(")
            self.at += 1
            return inner
        if w in ("not", "!"):
            self.at += 1
            inner = self.primary()
            return lambda r: not inner(r)
        if w is None or w in OPERATORS:
            raise FilterError("filter.not_understood", word=w or self.words[-1])
        a = self.atom(self.words[self.at])
        self.at += 1
        return atom_test(self.tl, a.kind, [a])


def atom_test(tl: Timeline, kind: str, atoms: list[Atom]) -> RowTest:
    """The row test of words of one kind side by side (flags: all of them; others: any)."""
    sockets = tl.sockets
    sid_col = tl.sid
    streams = tl.streams

    def sid_of_row(r: int) -> int | None:
        s = sid_col[r]
        return s if s != NONE else tl.socket_sid(r)

    if kind == "flag":
        mask = 0
        for a in atoms:
            mask |= int(a.value)  # type: ignore[call-overload]
        flags = tl.flags
        return lambda r: flags[r] & mask == mask
    if kind == "phase":
        codes = {PHASE_CODE[a.value] for a in atoms if isinstance(a.value, Phase)}
        phase = tl.phase
        return lambda r: phase[r] in codes
    if kind == "mark":
        names = {n for a in atoms for n in MARK_WORDS[str(a.value)]}
        bits = 0
        for b, name in enumerate(tl.analysis_names):
            if name in names:
                bits |= 1 << b
        analysis = tl.analysis
        return lambda r: bool(analysis[r] & bits)
    if kind == "time":
        spans: list[tuple[float, float]] = [a.value for a in atoms]  # type: ignore[misc]
        times = tl.time

        def in_time(r: int) -> bool:
            t = times[r] - (tl.first_time or 0.0)
            return any(lo <= t <= hi for lo, hi in spans)

        return in_time
    if kind == "stream":
        numbers = {int(a.value) for a in atoms}  # type: ignore[call-overload]

        def in_stream(r: int) -> bool:
            s = sid_of_row(r)
            return s is not None and streams[s].stream in numbers

        return in_stream
    if kind == "proto":
        protos = {a.value for a in atoms}

        def of_proto(r: int) -> bool:
            s = sid_col[r]
            if s != NONE:
                return streams[s].proto in protos
            return sockets[r].proto in protos

        return of_proto
    if kind == "port":
        ports = {int(a.value) for a in atoms}  # type: ignore[call-overload]

        def on_port(r: int) -> bool:
            s = sid_col[r]
            if s != NONE:
                info = streams[s]
                return info.cport in ports or info.sport in ports
            ev = sockets[r]
            ends = (split_endpoint(ev.local or ""), split_endpoint(ev.remote or ""))
            return any(e is not None and e[1] in ports for e in ends)

        return on_port
    addresses = {str(a.value) for a in atoms}

    def at_address(r: int) -> bool:
        s = sid_col[r]
        if s != NONE:
            info = streams[s]
            return info.client in addresses or info.server in addresses
        ev = sockets[r]
        ends = (split_endpoint(ev.local or ""), split_endpoint(ev.remote or ""))
        return any(e is not None and address_of(e[0]) in addresses for e in ends)

    return at_address
