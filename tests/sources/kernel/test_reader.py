"""The reader process's half: bpftrace's lines in, the timeline's events out, through a pipe."""

from __future__ import annotations

import marshal
import os
import threading

from handshake_viz.core.events import SocketEvent, StateEvent
from handshake_viz.sources.kernel.clock import MonotonicClock
from handshake_viz.sources.kernel.reader import Replayer, _Batch, decode, encode, serve
from handshake_viz.sources.kernel.view import KernelView
from tests.sources.kernel.test_view import LINES, Recorder, viewed


def through_reader(shed_allowed: bool) -> tuple[Recorder, Replayer]:
    """`LINES` through `serve` (as the reader process runs it) and back via `Replayer`."""
    src_r, src_w = os.pipe()
    dst_r, dst_w = os.pipe()
    batch = _Batch()
    view = KernelView(batch, [8000], MonotonicClock())
    server = threading.Thread(target=serve, args=(src_r, dst_w, view, batch, shed_allowed))
    server.start()
    os.write(src_w, LINES.read_bytes())  # a few kB: fits the pipe
    os.close(src_w)
    data = b""
    server.join(10)
    os.close(dst_w)
    while chunk := os.read(dst_r, 1 << 16):
        data += chunk
    sink = Recorder()
    replayer = Replayer(sink, None)
    while data:
        size = int.from_bytes(data[:4], "little")
        replayer.apply(marshal.loads(data[4 : 4 + size]))
        data = data[4 + size :]
    for fd in (src_r, dst_r):
        os.close(fd)
    return sink, replayer


def vars_of(e: object) -> dict:
    return {k: getattr(e, k) for k in e.__slots__}  # type: ignore[attr-defined]


def same(a: object, b: object) -> bool:
    """The same event, but for the clock's offset (each view measures its own)."""
    va, vb = vars_of(a), vars_of(b)
    return type(a) is type(b) and abs(va.pop("time") - vb.pop("time")) < 0.01 and va == vb


def test_the_reader_process_makes_the_events_the_view_makes_in_process():
    sink, replayer = through_reader(shed_allowed=False)
    ours = sorted(sink.events, key=lambda e: e.time)
    theirs, _ = viewed()
    assert replayer.ready and replayer.shed == 0
    assert len(ours) == len(theirs) > 20
    assert all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    assert any(isinstance(e, StateEvent) and e.comm == "curl" for e in ours)


def test_records_read_too_late_are_shed_and_counted_not_shown():
    sink, replayer = through_reader(shed_allowed=True)  # recorded long ago: all behind
    assert replayer.shed > 20
    assert not [e for e in sink.events if isinstance(e, StateEvent)]


def test_every_kind_of_event_crosses_the_pipe_unchanged():
    theirs, _ = viewed()
    kinds = {type(e) for e in theirs}
    assert SocketEvent in kinds and StateEvent in kinds
    for event in theirs:
        assert vars_of(decode(marshal.loads(marshal.dumps(encode(event))))) == vars_of(event)


class Behind(Recorder):
    """A timeline two seconds behind the packets."""

    def lag(self) -> float:
        return 2.0


def test_the_kernels_events_are_dropped_and_counted_while_the_consumer_is_behind():
    theirs, _ = viewed()
    ops = [("a", encode(e)) for e in theirs] + [("@", 1.0)]
    sink = Behind()
    replayer = Replayer(sink, None)
    replayer.apply(ops)  # type: ignore[arg-type]
    assert not sink.events and replayer.dropped == len(theirs)
    assert sink.ticks == [1.0]  # the tracer's ticks still pass: packets need not wait


def test_a_demos_events_are_never_dropped_however_slow_its_consumer():
    theirs, _ = viewed()
    sink = Behind()
    replayer = Replayer(sink, None, may_drop=False)
    replayer.apply([("a", encode(e)) for e in theirs])
    assert len(sink.events) == len(theirs) and replayer.dropped == 0
