"""The graph tests' captures and tshark's reading of them (the oracle ``*.graphs.tsv``
files of tests/data/graphs/, written by scripts/record_graph_captures.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from handshake_viz.model.timeline import Timeline
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import DATA, TSHARK_DATA

GRAPH_DATA = DATA / "graphs"
LOOPBACK = GRAPH_DATA / "selfmade__graphs_loopback.pcap"
"""Recorded in a network namespace: stream 0 a zero window, streams 1 and 2 a full accept
queue (stream 2's SYN is sent again a second later), stream 3 a transfer losing one data
segment in 40 (duplicate ACKs, SACK, retransmissions)."""
ZERO_WINDOW_STREAM, SYN_RETRANSMISSION_STREAM, LOSS_STREAM = 0, 2, 3
FAST009 = TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap"
"""Zeek's capture of a transfer with duplicate ACKs and fast retransmissions."""
SYN_RETRIES = TSHARK_DATA / "zeek__tcp_option-sack.pcap"
"""Zeek's capture of a SYN sent four times, never answered."""


def oracle_path(capture: Path) -> Path:
    return GRAPH_DATA / f"{capture.name}.graphs.tsv"


def read_graph_oracle(capture: Path) -> list[dict[str, str]]:
    """tshark's fields of each frame of `capture` (empty strings where tshark has none)."""
    with open(oracle_path(capture), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def oracle_captures() -> list[Path]:
    """Every capture that has a committed graph oracle."""
    out = []
    for tsv in sorted(GRAPH_DATA.glob("*.graphs.tsv")):
        name = tsv.name.removesuffix(".graphs.tsv")
        path = GRAPH_DATA / name
        out.append(path if path.exists() else TSHARK_DATA / name)
    return out


def load(capture: Path) -> tuple[Timeline, ReplaySource]:
    """The capture's timeline, and its source (which re-reads frames)."""
    source = ReplaySource(capture)
    timeline = Timeline()
    timeline.extend(source.events())
    timeline.done = True
    return timeline, source


async def open_graph(app: Any, pilot: Any, stream: int | None, *keys: str) -> Any:
    """Reveal every row, choose tcp stream `stream` among the connections (None: let the
    pane choose), open the graph pane with `g`, press `keys` in it, and wait for the graph;
    the pane."""
    from tests.helpers.fakes import wait_indexed

    await wait_indexed(app, pilot, timeout=10.0)
    await pilot.press("end")
    if stream is not None:
        sid = app.timeline.sid_of("tcp", stream)
        await pilot.press("1", *["down"] * (sid + 1), "enter")
        app.ladder.focus()
    await pilot.press("g", *keys)
    return await wait_graph(app, pilot)


async def wait_graph(app: Any, pilot: Any, timeout: float = 10.0) -> Any:
    """Wait until the graph pane shows the graph it last asked for; the pane."""
    from handshake_viz.tui.graphs import GraphPane

    waited = 0.0
    while waited < timeout:
        panes = app.query(GraphPane)
        if panes:
            pane = panes.first()
            if pane._asked is not None and pane._shown == pane._asked:
                await pilot.pause(0.05)
                return pane
        await pilot.pause(0.05)
        waited += 0.05
    raise AssertionError("the graph did not appear")
