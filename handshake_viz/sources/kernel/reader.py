"""The reader of bpftrace's lines, a process of its own: lines in, the timeline's events out.

A busy loopback (thousands of connections a second) makes tens of thousands of lines a
second, and parsing them and turning them into events (`view.KernelView`) costs about 20 us
each: in the capturing process that is the GIL taken from the packets. Here it runs apart
(``python -m handshake_viz.sources.kernel.reader``, started by `tracer.KernelTracer` with
bpftrace's output as its stdin), and hands the parent, for each chunk it read, what the view
asked of its sink, as plain tuples (`marshal`: a microsecond an event, where pickling the
events themselves costs 20). The parent replays them into the timeline (`Replayer`).

It sheds what it cannot read in time, counting it: more than `BEHIND_NS` behind the kernel,
it skips all but the ticks until it reads one within `CAUGHT_UP_NS` (the packets, captured
apart, never wait for it). A parent too slow to take its batches makes it fall behind too.
It ends with bpftrace's output, or when the parent stops reading (its next write fails) or
dies (the parent-death signal).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import marshal
import os
import signal
import sys
import time
from collections.abc import Callable
from itertools import count
from typing import Any

from handshake_viz.core.events import KernelEvent, SideEvent, SocketEvent, StateEvent, TcpState
from handshake_viz.render.output import side_text
from handshake_viz.sources.children import die_with_parent
from handshake_viz.sources.kernel.clock import MonotonicClock
from handshake_viz.sources.kernel.journal import event_block
from handshake_viz.sources.kernel.lines import Tick, parse
from handshake_viz.sources.kernel.view import KernelView, SideSink
from handshake_viz.sources.live.privileges import drop_privileges
from handshake_viz.words.catalog import load

BEHIND_NS = 500_000_000
"""A reader this far behind the kernel sheds records ..."""
CAUGHT_UP_NS = 100_000_000
"""... until it reads a tick this recent."""
CONSUMER_BEHIND = 1.0
"""Seconds the timeline may be behind the packets before the kernel's events are dropped
(the packets must not wait for them) ..."""
CONSUMER_CAUGHT_UP = 0.4
"""... until it is this close again (more than the quarter second the timeline holds packets
for the tracer's ticks at most)."""
F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20
"""Room in the pipe to the parent: a burst's batches wait there, not in the reader."""

Op = tuple[Any, ...]


def encode(event: SideEvent) -> tuple[Any, ...]:
    """An event as a tuple of plain values (`decode` undoes it)."""
    if type(event) is SocketEvent:
        e = event
        return ("s", e.time, e.side, e.call, e.local, e.remote, e.result, e.errno, e.proto,
                e.pid, e.comm)  # fmt: skip
    if type(event) is StateEvent:
        s = event
        return ("t", s.time, s.local, s.remote, s.old and str(s.old), str(s.new), s.pid,
                s.comm, s.side, s.timewait)  # fmt: skip
    assert type(event) is KernelEvent
    k = event
    return ("k", k.time, k.event, k.local, k.remote, k.state and str(k.state), k.reason, k.pid,
            k.comm, k.side)  # fmt: skip


def decode(data: tuple[Any, ...]) -> SideEvent:
    kind = data[0]
    if kind == "s":
        return SocketEvent(*data[1:])
    if kind == "t":
        t, local, remote, old, new, *rest = data[1:]
        return StateEvent(t, local, remote, old and TcpState(old), TcpState(new), *rest)
    t, name, local, remote, state, *rest = data[1:]
    return KernelEvent(t, name, local, remote, state and TcpState(state), *rest)


class _Batch:
    """A `SideSink` that writes down what it is asked, for the parent; and, given `journal`
    (the ladder's words for an event), each event's journal block for the capture file."""

    def __init__(self, journal: Callable[[SideEvent], str] | None = None) -> None:
        self.ops: list[Op] = []
        self.blocks: list[bytes] = []
        self._journal = journal
        self._tokens = count()

    def _keep(self, event: SideEvent) -> None:
        if self._journal is not None:
            self.blocks.append(event_block(event, self._journal(event)))

    def add_side(self, event: SideEvent) -> None:
        self.ops.append(("a", encode(event)))
        self._keep(event)

    def add_sides(self, events: list[SideEvent], saved: bool = False) -> None:
        for event in events:
            self.add_side(event)

    def begin(self, provisional: SocketEvent) -> int:
        token = next(self._tokens)
        self.ops.append(("b", token, encode(provisional)))
        return token

    def end(
        self, token: int, build: Callable[[bool], SocketEvent | None], saved: bool = False
    ) -> None:
        """Both outcomes: as if not shown yet, and the time to take if it was. The file
        keeps the first (a replay has no calls to show waiting)."""
        event, shown = build(False), build(True)
        self.ops.append(("e", token, event and encode(event), shown and shown.time))
        if event is not None:
            self._keep(event)

    def tracer_ready(self) -> None:
        self.ops.append(("r",))

    def tracer_at(self, t: float) -> None:
        self.ops.append(("@", t))

    def tracer_gone(self) -> None:
        pass

    def lag(self) -> float:
        return 0.0


def serve(
    src: int,
    dst: int,
    view: KernelView,
    batch: _Batch,
    shed_allowed: bool = True,
    journal_fd: int | None = None,
) -> None:
    """Read lines from `src` until it ends; write batches to `dst` (length, then marshal),
    and their events' journal blocks to `journal_fd` (the capture file, appending).

    `shed_allowed` False: never shed, however far behind (a demo's few dozen records, which
    the agreement of its states with the tracker's must all have)."""
    rest = b""
    clock = time.monotonic_ns
    shedding, shed, told = False, 0, 0
    while True:
        chunk = os.read(src, 1 << 16)
        if not chunk:
            return
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        feed = view.feed
        for text in b"\n".join(lines).decode("utf-8", "replace").split("\n"):
            if shedding and text[:1] != "T":
                shed += 1  # not even parsed: shedding must cost next to nothing
                continue
            record = parse(text)
            if record is None:
                continue
            if shedding:
                assert type(record) is Tick
                shedding = clock() - record.t > CAUGHT_UP_NS
            elif shed_allowed and clock() - record.t > BEHIND_NS:
                shedding = True
                shed += 1
                view.abandon()
                continue
            feed(record)
        if shed != told:
            batch.ops.append(("c", shed))
            told = shed
        if batch.blocks:
            if journal_fd is not None:
                _write_all(journal_fd, b"".join(batch.blocks))
            batch.blocks.clear()
        if batch.ops:
            data = marshal.dumps(batch.ops)
            batch.ops.clear()
            _write_all(dst, len(data).to_bytes(4, "little") + data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Replayer:
    """In the parent: what the reader's view asked of its sink, done to the real one."""

    def __init__(
        self,
        sink: SideSink,
        on_state: Callable[[StateEvent], None] | None,
        saved: bool = False,
        may_drop: bool = True,
    ) -> None:
        self.sink = sink
        self.may_drop = may_drop
        """False: never drop (a demo's few events; its consumer may pause between steps)."""
        self.saved = saved
        """The reader writes the events into the capture file itself."""
        self.on_state = on_state
        self.ready = False
        self.shed = 0
        """Records the reader shed ..."""
        self.dropped = 0
        """... and events dropped here, the timeline's consumer being behind (`CONSUMER_BEHIND`)."""
        self.dropping = False
        self._tokens: dict[int, int] = {}

    def apply(self, ops: list[Op]) -> None:
        sink, on_state = self.sink, self.on_state
        if self.may_drop:
            lag = sink.lag()
            if self.dropping:
                self.dropping = lag > CONSUMER_CAUGHT_UP
            elif lag > CONSUMER_BEHIND:
                self.dropping = True
        events: list[SideEvent] = []
        """Consecutive additions, handed over at once (one lock)."""
        for op in ops:
            kind = op[0]
            if self.dropping and kind in ("a", "b"):
                self.dropped += 1  # a call begun and dropped: its end finds no token
                continue
            if kind == "a":
                event = decode(op[1])
                if on_state is not None and type(event) is StateEvent:
                    on_state(event)
                events.append(event)
                continue
            if events:
                sink.add_sides(events, self.saved)
                events = []
            if kind == "@":
                sink.tracer_at(op[1])
            elif kind == "b":
                self._tokens[op[1]] = sink.begin(decode(op[2]))  # type: ignore[arg-type]
            elif kind == "e":
                token = self._tokens.pop(op[1], None)
                if token is not None:
                    sink.end(token, _builder(op[2], op[3]), self.saved)
            elif kind == "r":
                self.ready = True
                sink.tracer_ready()
            elif kind == "c":
                self.shed = op[1]
        if events:
            sink.add_sides(events, self.saved)

    def abandon(self) -> None:
        """The reader ended: no call still waiting for its return will get it."""
        for token in self._tokens.values():
            self.sink.end(token, lambda announced: None)
        self._tokens.clear()


def _builder(
    data: tuple[Any, ...] | None, shown_time: float | None
) -> Callable[[bool], SocketEvent | None]:
    def build(announced: bool) -> SocketEvent | None:
        if data is None:
            return None
        event = decode(data)
        if announced and shown_time is not None:
            event.time = shown_time
        return event  # type: ignore[return-value]

    return build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="handshake_viz.sources.kernel.reader")
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("--config", required=True, help="JSON: ports, default_owner, owners, shed")
    ap.add_argument("--journal-fd", type=int, help="the capture file, to append events to")
    args = ap.parse_args(argv)
    words = load("en")  # the file's messages are in English, as tshark's own words are
    with contextlib.suppress(OSError):  # else the default 64 KiB: bursts shed sooner
        fcntl.fcntl(1, F_SETPIPE_SZ, PIPE_BYTES)
    drop_privileges()  # it reads what it was given: nothing here needs root
    die_with_parent(args.parent)
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(0))
    config = json.loads(args.config)
    journal = None if args.journal_fd is None else (lambda e: side_text(e, words))
    batch = _Batch(journal)
    owner = config.get("default_owner")
    view = KernelView(batch, config["ports"], MonotonicClock(), None,
                      tuple(owner) if owner else None)  # fmt: skip
    for port, pid, comm in config.get("owners", []):
        view.seed_owner(port, pid, comm)
    try:
        serve(0, 1, view, batch, config.get("shed", True), args.journal_fd)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent stopped reading
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
