"""`filter_rows` finds a filter's rows in chunks (for a thread that may be told to stop), and
`TimelineView.use_rows` applies rows found so, taking in the rows added since."""

from __future__ import annotations

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.model import query
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.query import filter_rows, matching_rows, parse_filter
from handshake_viz.model.timeline import Timeline
from tests.helpers.fakes import read_events
from tests.helpers.paths import DATA

FILTERS = ("fin", "fin or rst", "(syn or fin) and not retrans", "127.0.0.1", "time:0.01-", "80")


@pytest.fixture(scope="module")
def backlog() -> Timeline:
    tl = Timeline()
    tl.extend(read_events(DATA / "demo" / "backlog.pcapng"))
    return tl


@pytest.mark.parametrize("text", FILTERS)
def test_rows_found_in_chunks_are_the_rows_found_at_once(
    backlog: Timeline, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "CHUNK_ROWS", 7)  # chunks that cut connections anywhere
    flt = parse_filter(text)
    found = filter_rows(backlog, flt, backlog.count, lambda: False)
    assert found is not None
    assert list(found) == list(matching_rows(backlog, flt, 0, backlog.count))


def test_a_cancelled_search_stops_between_chunks(
    backlog: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "CHUNK_ROWS", 7)
    looks: list[int] = []

    def cancelled() -> bool:
        looks.append(1)
        return len(looks) > 3

    assert filter_rows(backlog, parse_filter("fin or rst"), backlog.count, cancelled) is None
    assert len(looks) == 4 and backlog.count > 4 * 7


def test_rows_found_elsewhere_are_applied_and_later_rows_taken_in() -> None:
    events = [e for e in read_events(DATA / "demo" / "backlog.pcapng")
              if isinstance(e, PacketEvent)]  # fmt: skip
    tl = Timeline()
    half = len(events) // 2
    tl.extend(events[:half])
    flt = parse_filter("syn or fin")
    found = filter_rows(tl, flt, tl.count, lambda: False)
    assert found is not None
    tl.extend(events[half:])  # rows the source added while the filter was being found
    view = TimelineView(tl, live=True)
    view.use_rows(flt, found, half)
    assert view.filter == flt
    assert list(view.rows()) == list(matching_rows(tl, flt, 0, tl.count))
