"""The backlog demo's time-true ladder in a real terminal (tmux, 120x35): the SYNs the full
accept queue dropped are sent again a second apart, and the ladder shows that second as gap
lines saying "the SYN retransmission timer" between them."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from handshake_viz.sources.live.privileges import can_capture
from tests.helpers.tmux import Pane, command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.capture,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not can_capture(), reason="the demo captures: needs root or CAP_NET_RAW"),
]

ROW = re.compile(r"^\s*(\d+\.\d{6}) .*●(\d+)\s")
"""A ladder row: its time since the first event, its connection."""
TIMER = re.compile(r"(\d+\.\d\d) s: the SYN retransmission timer")


@pytest.fixture
def pane() -> Iterator[Pane]:
    p = Pane(width=120, height=35)
    try:
        yield p
    finally:
        p.close()


def resent_syns(text: str) -> dict[str, list[tuple[int, float]]]:
    """The SYNs sent again on screen, by connection: (line, time)."""
    out: dict[str, list[tuple[int, float]]] = {}
    for n, line in enumerate(text.splitlines()):
        m = ROW.match(line)
        if m and "SYN seq=0" in line and "retrans" in line:
            out.setdefault(m.group(2), []).append((n, float(m.group(1))))
    return out


@pytest.mark.timeout(180)
def test_the_backlog_demos_syns_sent_again_stand_a_second_apart(pane: Pane) -> None:
    pane.send(command("demo", "backlog", "--no-save") + "; echo EXIT=$?", "Enter")
    # both clients the queue had no room for give up: connect() fails, the demo ends
    pane.wait_for(lambda t: t.count("ETIMEDOUT") == 2 and "RST" in t, timeout=90)
    pane.send("b")  # the ladder takes the whole width
    pane.send("d")
    pane.wait_for(lambda t: "the SYN retransmission timer" in t, timeout=10)
    text = pane.text()
    lines = text.splitlines()
    pairs = [syns for syns in resent_syns(text).values() if len(syns) >= 2]
    assert pairs, text  # a connection's SYN sent again twice, both on screen
    for syns in pairs:
        (a, ta), (b, tb) = syns[:2]
        assert 0.9 < tb - ta < 1.3, text  # the timer's second
        gap = lines[a + 1 : b]
        assert sum(line.lstrip().startswith("⋮") for line in gap) >= 4, text
        said = [m for line in gap if (m := TIMER.search(line))]
        assert said and all(0.9 < float(m.group(1)) < 1.3 for m in said), text
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=15)
