"""Snapshots of each graph (pytest-textual-snapshot), on the loopback capture recorded for
them: retransmissions, a zero window, a SYN retransmission.

Nothing depends on the clock: playback starts paused, every row is revealed (End), the
times are the capture's own, and each picture waits for its graph's worker.
Update with `pytest tests/tui/test_graph_snapshots.py --snapshot-update` after a deliberate
change, and look at the pictures.
"""

from __future__ import annotations

from typing import Any

import pytest

from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import make_app
from tests.helpers.graphs import (
    LOOPBACK,
    LOSS_STREAM,
    SYN_RETRANSMISSION_STREAM,
    ZERO_WINDOW_STREAM,
    open_graph,
)

SIZE = (140, 44)


@pytest.mark.parametrize(
    ("stream", "keys"),
    [
        (LOSS_STREAM, ()),  # time-sequence: retransmissions, the ACK line and window edge
        (LOSS_STREAM, ("r",)),  # RTT of each acknowledged segment
        (LOSS_STREAM, ("i",)),  # bytes in flight and throughput
        (ZERO_WINDOW_STREAM, ("w",)),  # the receive window closing to zero and opening
        (SYN_RETRANSMISSION_STREAM, ()),  # the SYN, then the same SYN a second later
    ],
    ids=["tsg-retransmissions", "rtt", "inflight", "window-zero", "tsg-syn-retransmission"],
)
def test_graph(snap_compare: Any, stream: int, keys: tuple[str, ...]) -> None:
    source = ReplaySource(LOOPBACK)
    source.description = LOOPBACK.name  # the status bar would show this checkout's path
    app = make_app(source, autoplay=False)

    async def run_before(pilot: Any) -> None:
        await open_graph(app, pilot, stream, *keys)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
