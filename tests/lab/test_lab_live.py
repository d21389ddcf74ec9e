"""The lab itself, live: namespaces made and removed, real programs recorded through
impairments, and the reader agreeing with tshark on what was just recorded."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.oracle import compare, compare_marks, read_oracle, write_oracles
from tests.lab.scenarios import SCENARIOS

pytestmark = pytest.mark.capture


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("name", ["lab__http-loss", "lab__vxlan"])
def test_a_scenario_recorded_now_reads_as_tshark_reads_it(lab, tmp_path: Path, name: str) -> None:
    capture = tmp_path / f"{name}.pcap"
    SCENARIOS[name](lab, capture)
    write_oracles(capture)
    events = list(ReplaySource(capture).events())
    checked, bad = compare(read_oracle(Path(f"{capture}.oracle.tsv")), events)
    assert checked > 30 and not bad, "\n".join(bad)
    _, bad = compare_marks(read_oracle(Path(f"{capture}.analysis.tsv")), events)
    assert not bad, "\n".join(bad)
    assert any(e.analysis for e in events if isinstance(e, PacketEvent))  # the loss shows


def test_the_lab_leaves_no_namespace_behind(lab) -> None:
    lab.ns("a")
    made = set(lab.namespaces)
    assert made <= namespaces()
    lab.close()
    assert not made & namespaces()
