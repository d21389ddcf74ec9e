"""Indexing in several processes builds exactly the timeline that one process builds.

The TUI indexes a big file with worker processes, each tracking a share of the streams
(`index_worker`); `Timeline.merge` ORs their rows together. Every column, stream and kept
option must come out as `Timeline.extend` makes them from the engine's events.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
from collections import Counter
from pathlib import Path

import pytest

from handshake_viz.core.decode import FrameDecoder, Packet, fast_tcp_ports
from handshake_viz.core.frames import FrameIndex
from handshake_viz.core.pcapfile import CaptureFileError, read_records
from handshake_viz.core.source import SourceError
from handshake_viz.model.rows import COLUMNS
from handshake_viz.model.timeline import Timeline
from handshake_viz.sources.parallel import decode_worker
from handshake_viz.sources.parallel.index_worker import ShardedIndex, shard_of, worker_batches
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.captures import write_loopback_capture
from tests.helpers.paths import TSHARK_DATA

CAPTURES = sorted(p for p in TSHARK_DATA.iterdir() if p.suffix in (".pcap", ".pcapng"))


def timeline_of_events(path: Path) -> tuple[Timeline, str | None]:
    """The one-process timeline, as the TUI builds it (rows up to an error, then the error)."""
    events, error = [], None
    try:
        events.extend(ReplaySource(path, keep_index=False).events())
    except SourceError as e:
        error = str(e)
    tl = Timeline()
    tl.extend(events)
    return tl, error


def timeline_of_workers(path: Path, workers: int) -> tuple[Timeline, str | None]:
    """The workers' timeline, run in this process; tiny batches, so that streams span many."""
    tl = Timeline()
    runs = [worker_batches(str(path), str(path), w, workers, first=3, batch=7)
            for w in range(workers)]  # fmt: skip
    while True:
        # pickled on the way, as between processes: merge adopts what it is given
        messages = [pickle.loads(pickle.dumps(next(run))) for run in runs]
        if messages[0][0] != "batch":
            return tl, None if messages[0][0] == "end" else messages[0][1]
        tl.merge([m[1] for m in messages])


def assert_same(a: Timeline, b: Timeline) -> None:
    for name, _ in COLUMNS:
        assert getattr(a, name) == getattr(b, name), name
    assert a.count == b.count
    assert [_comparable(s) for s in a.streams] == [_comparable(s) for s in b.streams]
    assert a._sid_of == b._sid_of
    assert a.options == b.options
    assert a.first_time == b.first_time
    every = range(len(a.streams))
    assert [a.stream_rows([s], 0, a.count) for s in every] == [
        b.stream_rows([s], 0, b.count) for s in every
    ]


def _comparable(info: object) -> str:
    return repr(info)  # NaN times (no SYN seen) are unequal to themselves, not to their repr


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_workers_build_the_same_timeline_as_one_process(capture: Path, workers: int) -> None:
    one, one_error = timeline_of_events(capture)
    many, many_error = timeline_of_workers(capture, workers)
    assert_same(one, many)
    if one_error is not None:  # a bad or cut file: the same rows before the same problem
        assert many_error is not None and many_error in one_error
    else:
        assert many_error is None


def test_fast_ports_only_for_frames_decode_reads_as_tcp() -> None:
    seen = 0
    for capture in CAPTURES:
        decode = FrameDecoder().decode
        try:
            with open(capture, "rb") as f:
                for frame, time, linktype, data, _wirelen, _offset in read_records(f):
                    ports = fast_tcp_ports(linktype, data)
                    p = decode(frame, time, linktype, data)
                    if ports >= 0:
                        seen += 1
                        assert type(p) is Packet and p.proto == 6
                        assert ports == p.sport + p.dport
        except CaptureFileError:
            pass  # bad files are the reader's business, tested elsewhere
    assert seen > 100


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_the_streams_of_one_server_spread_evenly_over_the_workers(shards: int) -> None:
    # Linux gives connect() even ephemeral ports, so the port sums of every client of one
    # server port share a parity: plain modulo 2 would give every stream to one worker.
    sums = [cport + 8000 for cport in range(32768, 61000, 2)]
    counts = Counter(shard_of(s, shards) for s in sums)
    assert sorted(counts) == list(range(shards))
    assert min(counts.values()) > 0.95 * len(sums) / shards


def test_worker_processes_index_a_big_file_as_one_process_does(tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    packets = write_loopback_capture(path, 3_000)
    one, _ = timeline_of_events(path)
    many = Timeline()
    index = FrameIndex()
    sharded = ShardedIndex(str(path), path.name, 2, index)
    assert sharded.start()
    shares = [0, 0]
    for batches in sharded:
        for worker, batch in enumerate(batches):
            shares[worker] += len({fields[0] for fields in batch.streams})
        many.merge(batches)
    assert_same(one, many)
    # Linux's even client ports to one server port: the workers still share the streams
    assert min(shares) > 0.4 * sum(shares)
    assert many.count == sharded.rows == packets
    assert len(index) == packets  # where every frame lies, for the packet detail view
    assert all(s.summary is not None for s in many.streams)
    assert not math.isnan(many.streams[-1].t_ack)


def test_replay_source_uses_workers_for_a_big_file_and_counts(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    packets = write_loopback_capture(path, 500)
    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)
    source = ReplaySource(path, parallel=True)
    rows = source.index_rows()
    assert rows is not None
    assert source.progress() is None  # nothing read yet
    tl = Timeline()
    seen = []
    for batches in rows:
        tl.merge(batches)
        seen.append(source.progress())
    assert tl.count == source.stats.packets == packets
    assert seen == sorted(seen) and 0 < seen[0] < 1 and seen[-1] == 1.0  # the status bar's %
    assert source.raw_frame(packets) is not None  # the detail view can re-read the last one
    assert ReplaySource(path, parallel=False).index_rows() is None


def test_a_cut_big_file_gives_its_rows_then_one_error(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    write_loopback_capture(path, 200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # the last record loses its end
    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)
    source = ReplaySource(path, parallel=True)
    tl = Timeline()
    rows = source.index_rows()
    assert rows is not None
    with pytest.raises(SourceError, match="cut short.*1999 packets before the cut"):
        for batches in rows:
            tl.merge(batches)
    assert tl.count == 1999


def test_stopping_ends_the_workers(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    write_loopback_capture(path, 3_000)
    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)
    source = ReplaySource(path, parallel=True)
    rows = source.index_rows()
    assert rows is not None
    first = next(rows)
    assert first[0].rows == 256  # a small first batch: the first screen comes at once
    assert len(multiprocessing.active_children()) == 2
    source.stop()  # as `q` does, from the UI thread
    assert list(rows) == []
    assert multiprocessing.active_children() == []
