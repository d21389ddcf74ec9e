"""The time-true ladder as text: gap lines keep the rails where the rows have them, say what
a wait means in the reader's language, and the text export writes them."""

from __future__ import annotations

from rich.cells import cell_len

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timescale import GapKind, GapMeaning
from handshake_viz.render.export import export_text
from handshake_viz.render.ladder_gaps import format_seconds, gap_label, gap_segments, time_true_text
from handshake_viz.render.ladder_text import ladder_text
from tests.helpers.graphs import SYN_RETRIES, load


def bars(line: str) -> list[int]:
    return [cell_len(line[:i]) for i, ch in enumerate(line) if ch == "│"]


def retries_view() -> TimelineView:
    timeline, _ = load(SYN_RETRIES)  # one SYN sent four times, never answered
    view = TimelineView(timeline, live=True)
    view.sync()
    return view


def test_waits_read_as_a_person_says_them() -> None:
    assert [format_seconds(s) for s in (3e-5, 0.0042, 0.04, 0.2, 1.0, 6.4478)] == [
        "0.03 ms", "4.20 ms", "40 ms", "200 ms", "1.00 s", "6.45 s",
    ]  # fmt: skip


def test_a_gap_says_what_it_means_in_both_languages() -> None:
    timer = GapMeaning(GapKind.SYN_TIMER, 1.0, 3)
    assert gap_label(timer) == "1.00 s: the SYN retransmission timer"
    assert gap_label(GapMeaning(GapKind.RTT, 3e-5, 1)) == "RTT 0.03 ms"
    assert gap_label(GapMeaning(GapKind.DELAYED_ACK, 0.2, 1)) == "200 ms: delayed ACK"
    assert gap_label(timer, "zh") == "1.00 s：SYN 重传定时器"


def test_the_time_true_text_puts_the_timers_wait_between_the_syns() -> None:
    view = retries_view()
    lines = time_true_text(view, 120)
    plain = ladder_text(view, 120)
    rows = [n for n, line in enumerate(lines) if "SYN seq=0" in line]
    assert len(rows) == 4 and len(lines) >= len(plain) + 12  # four lines or more a gap
    for a, b in zip(rows, rows[1:], strict=False):
        gap = lines[a + 1 : b]
        assert len(gap) >= 4
        assert all(bars(g) == bars(lines[a]) for g in gap)  # the rails go on down
        said = [g for g in gap if "the SYN retransmission timer" in g]
        assert len(said) == 1 and " s: the SYN" in said[0]
    assert [line for line in lines if "SYN seq=0" in line] == plain[1:]


def test_the_text_export_writes_the_gaps_when_the_ladder_shows_them() -> None:
    view = retries_view()
    assert "retransmission timer" not in export_text(view)
    text = export_text(view, lang="zh", time_true=True)
    assert text.count("SYN 重传定时器") == 3 and "⋮" in text


def test_a_label_too_long_for_the_rails_goes_over_the_empty_state_column() -> None:
    label = "1.00 s: the SYN retransmission timer"
    line = "".join(s.text for s in gap_segments(72, 11, (34, 62), label))
    assert cell_len(line) == 72 and label in line
    narrow = "".join(s.text for s in gap_segments(40, 11, (20, 30), label))
    assert cell_len(narrow) == 40 and narrow.rstrip().endswith("…")
