"""The `/` filter's full language on real captures: or, and, not, parentheses, addresses,
analysis marks, a time range; a bad word named; simple filters unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from handshake_viz.core.events import ACK, FIN, SYN
from handshake_viz.model.query import FilterError, matching_rows, parse_filter
from handshake_viz.model.rows import KIND_SOCKET
from handshake_viz.model.timeline import Timeline
from tests.helpers.fakes import read_events
from tests.helpers.paths import DATA, LAB_DATA, TSHARK_DATA


def timeline(path: Path) -> Timeline:
    tl = Timeline()
    tl.extend(read_events(path))
    return tl


def rows(tl: Timeline, text: str) -> list[int]:
    return list(matching_rows(tl, parse_filter(text), 0, tl.count))


@pytest.fixture(scope="module")
def backlog() -> Timeline:
    return timeline(DATA / "demo" / "backlog.pcapng")


def test_or_keeps_either(backlog: Timeline) -> None:
    fin_or_rst = rows(backlog, "fin or rst")
    assert fin_or_rst and all(backlog.flags[r] & (FIN | 4) for r in fin_or_rst)
    assert fin_or_rst == sorted(set(rows(backlog, "fin")) | set(rows(backlog, "rst")))


def test_not_and_parentheses(backlog: Timeline) -> None:
    every = set(range(backlog.count))
    assert set(rows(backlog, "not syn")) == every - set(rows(backlog, "syn"))
    assert set(rows(backlog, "!syn")) == set(rows(backlog, "not syn"))
    kept = rows(backlog, "(stream:2 or stream:3) and not retrans")
    assert kept and all(backlog.kind[r] == KIND_SOCKET or backlog.flags[r] == SYN for r in kept)
    assert not set(kept) & set(rows(backlog, "retrans"))


def test_words_side_by_side_mean_what_they_meant(backlog: Timeline) -> None:
    """Same kind: alternatives; different kinds: all hold; flags: all of them."""
    assert rows(backlog, "stream:0 stream:1") == rows(backlog, "stream:0 or stream:1")
    assert rows(backlog, "syn ack") == [r for r in range(backlog.count)
                                        if backlog.flags[r] & (SYN | ACK) == SYN | ACK]  # fmt: skip
    # the same rows whether the simple filter's fast path or the expression reads them
    simple = rows(backlog, "9000 syn request")
    assert simple == rows(backlog, "(9000 syn request)") and simple


def test_analysis_marks_by_short_and_tshark_names() -> None:
    tl = timeline(LAB_DATA / "lab__http-loss.pcap")
    names = {n: b for b, n in enumerate(tl.analysis_names)}
    retrans = rows(tl, "retrans")
    assert retrans and all(tl.analysis[r] >> names["retransmission"] & 1 for r in retrans)
    assert rows(tl, "dupack") == rows(tl, "duplicate_ack") != []
    assert set(rows(tl, "analysis")) >= set(retrans) | set(rows(tl, "dupack"))


def test_an_address_keeps_its_connections() -> None:
    tl = timeline(TSHARK_DATA / "zeek__http_get.pcap")
    assert len(rows(tl, "192.150.187.43")) == tl.count
    assert rows(tl, "host:10.0.0.1") == [] and rows(tl, "not 141.142.228.5") == []


def test_a_time_range_in_seconds_since_the_first_event(backlog: Timeline) -> None:
    t0 = backlog.first_time or 0.0
    late = rows(backlog, "time:1-")
    assert late and all(backlog.time[r] - t0 >= 1 for r in late)
    early = rows(backlog, "time:-0.5")
    assert sorted(early + late + rows(backlog, "time:0.5-1")) == list(range(backlog.count))


@pytest.mark.parametrize("text,word", [("syn or", "or"), ("(syn", "("), ("syn )", ")"),
                                       ("retrnas", "retrnas"), ("time:x-2", "time:x-2"),
                                       ("not", "not")])  # fmt: skip
def test_a_bad_word_is_named(text: str, word: str) -> None:
    with pytest.raises(FilterError) as err:
        parse_filter(text)
    assert err.value.values["word"] == word
