"""Snapshots of the time-true ladder (pytest-textual-snapshot) at 120x35: a SYN sent four
times, its timer's waits between; a replay stepped through the start of the loopback capture
(a handshake a few microseconds long, a zero window and its probes), in Chinese.

Nothing depends on the clock: playback starts paused and the times are the capture's own.
Update with `pytest tests/tui/test_time_true_snapshots.py --snapshot-update` after a
deliberate change, and look at the pictures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import make_app
from tests.helpers.fakes import wait_indexed
from tests.helpers.graphs import LOOPBACK, SYN_RETRIES

SIZE = (120, 35)


def replay(capture: Path, lang: str = "en") -> Any:
    source = ReplaySource(capture)
    source.description = capture.name
    return make_app(source, autoplay=False, lang=lang)


def test_syn_sent_four_times(snap_compare: Any) -> None:
    app = replay(SYN_RETRIES)

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("end", "d")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_loopback_stepped_in_chinese(snap_compare: Any) -> None:
    app = replay(LOOPBACK, "zh")

    async def run_before(pilot: Any) -> None:
        await wait_indexed(app, pilot)
        await pilot.press("d", *["right"] * 12, "b")  # b: the ladder takes the whole width

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
