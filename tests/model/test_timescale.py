"""The time-true ladder's layout on real captures: gap lines grow a line a decade, the waits
that mean something say so (the SYN retransmission timer, a round trip, a delayed ACK), and
the line <-> row mapping holds as rows are revealed and filtered."""

from __future__ import annotations

import pytest

from handshake_viz.core.events import ACK, SYN
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.query import parse_filter
from handshake_viz.model.timeline import Timeline
from handshake_viz.model.timescale import (
    MAX_GAP_LINES,
    GapKind,
    TimeTrueLayout,
    gap_lines,
    gap_meaning,
)
from tests.helpers.graphs import LOOPBACK, SYN_RETRANSMISSION_STREAM, SYN_RETRIES, load
from tests.helpers.paths import TSHARK_DATA

DELAYED_ACKS = TSHARK_DATA / "zeek__tcp_truncated-header.pcap"
"""Zeek's capture of connections whose receiver holds its ACK back about 200 ms."""


def laid_out(timeline: Timeline, flt: str = "") -> tuple[TimelineView, TimeTrueLayout]:
    view = TimelineView(timeline, live=True)
    if flt:
        view.set_filter(parse_filter(flt))
    view.sync()
    layout = TimeTrueLayout(view)
    layout.sync()
    return view, layout


@pytest.mark.parametrize(
    ("seconds", "lines"),
    [(-1.0, 0), (float("nan"), 0), (0.0, 0), (3e-5, 0), (0.00099, 0), (0.001, 1), (0.04, 2),
     (0.2, 3), (1.0, 4), (2.0, 4), (10.0, 5), (3600.0, MAX_GAP_LINES)],
)  # fmt: skip
def test_a_gap_takes_a_line_a_decade_above_a_millisecond(seconds: float, lines: int) -> None:
    assert gap_lines(seconds) == lines


def test_each_syn_sent_again_comes_after_its_timer_with_lines_and_the_time_since_the_last() -> None:
    timeline, _ = load(SYN_RETRIES)  # one SYN sent four times, never answered
    view, layout = laid_out(timeline)
    assert view.visible_count == 4 and all(timeline.flags[r] == SYN for r in range(4))
    for i in range(1, 4):
        waited = timeline.time[i] - timeline.time[i - 1]
        assert waited > 1.0 and layout.gap_before(i) == gap_lines(waited) >= 4
        meaning = gap_meaning(view, i)
        assert meaning is not None and meaning.kind is GapKind.SYN_TIMER
        assert meaning.row == i and meaning.seconds == pytest.approx(waited)
    assert layout.total == 4 + sum(layout.gap_before(i) for i in range(4))


def test_the_handshakes_round_trip_gets_a_line_however_short() -> None:
    timeline, _ = load(LOOPBACK)
    view, layout = laid_out(timeline)
    synack = SYN | ACK
    synacks = [i for i in range(view.visible_count)
               if timeline.flags[i] & synack == synack and not timeline.analysis[i]]  # fmt: skip
    assert len(synacks) == 4
    for i in synacks:
        syn = max(r for r in range(i) if timeline.sid[r] == timeline.sid[i]
                  and timeline.flags[r] == SYN)  # the last one sent, if sent again  # fmt: skip
        rtt = timeline.time[i] - timeline.time[syn]
        assert rtt < 1e-3  # loopback: microseconds, yet one line
        assert layout.gap_before(i) == 1
        meaning = gap_meaning(view, i)
        assert meaning is not None and meaning.kind is GapKind.RTT
        assert meaning.seconds == pytest.approx(rtt)


def test_a_syn_waiting_in_a_full_accept_queue_is_sent_again_a_second_later() -> None:
    timeline, _ = load(LOOPBACK)
    view, layout = laid_out(timeline, f"stream:{SYN_RETRANSMISSION_STREAM}")
    syns = [i for i in range(view.visible_count) if timeline.flags[view.row_at(i)] == SYN]
    assert len(syns) == 2
    meaning = gap_meaning(view, syns[1])
    assert meaning is not None and meaning.kind is GapKind.SYN_TIMER
    assert 0.9 < meaning.seconds < 1.3
    assert layout.gap_before(syns[1]) == 4  # a second: four lines


def test_an_ack_held_back_200_ms_is_a_delayed_ack() -> None:
    timeline, _ = load(DELAYED_ACKS)
    view, layout = laid_out(timeline)
    found = [m for i in range(1, view.visible_count) if layout.gap_before(i)
             for m in [gap_meaning(view, i)] if m and m.kind is GapKind.DELAYED_ACK]  # fmt: skip
    assert found
    for m in found:
        assert 0.19 < m.seconds < 0.25
        assert timeline.flags[m.row] == ACK and timeline.length[m.row] == 0


def test_every_line_maps_to_its_row_and_back() -> None:
    timeline, _ = load(LOOPBACK)
    view, layout = laid_out(timeline)
    seen_rows = []
    for line in range(layout.total):
        index, k = layout.at(line)
        if k < 0:
            assert layout.line_of(index) == line
            seen_rows.append(index)
        else:
            assert 0 <= k < layout.gap_before(index)
            assert layout.line_of(index) - layout.gap_before(index) + k == line
    assert seen_rows == list(range(view.visible_count))
    assert layout.at(layout.total) == (view.visible_count, -1)


def test_revealing_rows_one_by_one_lays_them_out_as_all_at_once() -> None:
    timeline, _ = load(LOOPBACK)
    _, whole = laid_out(timeline)
    view = TimelineView(timeline, speed=None)
    view.sync()
    layout = TimeTrueLayout(view)  # a replay opens on its first row
    for _ in range(299):
        view.step(1)
        layout.sync()
    assert layout.rows == view.visible_count == 300
    assert [layout.line_of(i) for i in range(300)] == [whole.line_of(i) for i in range(300)]
    view.step(-100)  # stepping back shows fewer rows on the same lines
    assert layout.rows == 200 and layout.total == whole.line_of(199) + 1


def test_a_new_filter_lays_the_rows_out_again() -> None:
    timeline, _ = load(LOOPBACK)
    view, layout = laid_out(timeline)
    every = layout.total
    view.set_filter(parse_filter(f"stream:{SYN_RETRANSMISSION_STREAM}"))
    layout.sync()
    assert layout.rows == view.visible_count < 20 and layout.total < every
    assert layout.line_of(0) == 0
