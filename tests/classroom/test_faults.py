"""Lessons where the kernel really loses a packet: nftables rules in the lesson's own network,
and the kernel's own timers and recovery on the ladder, explained from its sysctls.

Each lesson runs as the CLI runs it, in a process and a network namespace of its own
(`tests.helpers.lesson_probe`), so its rules never touch the suite's network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handshake_viz.classroom.faults import FAULTS, FaultError, install
from handshake_viz.classroom.lessons import SCRIPTS
from tests.helpers.live import cli, cli_env, needs_capture
from tests.helpers.paths import ROOT

pytestmark = [needs_capture, pytest.mark.capture, pytest.mark.e2e, pytest.mark.timeout(90)]


def probe(lesson: str, lang: str = "en", env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.lesson_probe", lesson, "--lang", lang],
        capture_output=True, text=True, cwd=ROOT, env=env or cli_env(), timeout=80,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def packets(out: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in out["rows"] if r["type"] == "packet"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_first_syn_lost_the_kernel_sends_it_again_on_its_timer(lang: str) -> None:
    out = probe("lost-syn", lang)
    assert out["private"] and out["port"] == 9000
    first, again = [p for p in packets(out) if p["flags"] == ["SYN"]][:2]
    assert first["analysis"] == [] and again["analysis"][0] == "retransmission"
    # with the kernel's view on, the kernel says it too: its retransmission timer ran out
    assert again["analysis"][1:] in ([], ["kernel_retransmit_timeout"])
    assert again["time"] - first["time"] >= 0.9, "the kernel's initial retransmission timeout"
    after = packets(out)[packets(out).index(again) + 1 :]
    assert [p["flags"] for p in after[:2]] == [["SYN", "ACK"], ["ACK"]]
    # the explanation reads the sysctls of the lesson's own network
    sysctls = out["sysctls"]
    text = again["explain"]
    assert f"tcp_syn_retries = {sysctls['tcp_syn_retries']}" in text
    if sysctls["tcp_syn_linear_timeouts"] is not None:
        assert f"tcp_syn_linear_timeouts = {sysctls['tcp_syn_linear_timeouts']}" in text
    look = out["steps"][1]["look"]
    assert f"tcp_syn_retries = {sysctls['tcp_syn_retries']}" in look
    assert {"en": "ETIMEDOUT", "zh": "ETIMEDOUT"}[lang] in look


def test_the_synack_lost_the_server_sends_it_again() -> None:
    ps = packets(probe("lost-synack"))
    synacks = [p for p in ps if p["flags"] == ["SYN", "ACK"]]
    assert synacks[0]["analysis"] == [] and "retransmission" in synacks[1]["analysis"]
    assert synacks[1]["time"] - synacks[0]["time"] >= 0.9
    assert any(p["flags"] == ["ACK"] and p["dir"] == "c2s" for p in ps[ps.index(synacks[1]) :])


def test_a_data_segment_lost_duplicate_acks_then_a_fast_retransmission() -> None:
    ps = packets(probe("lost-data"))
    data = [p for p in ps if p["dir"] == "c2s" and p["len"] > 0]
    assert len(data) >= 9 and max(p["len"] for p in data) <= 200
    fast = next(p for p in data if "fast_retransmission" in p["analysis"])
    dups = [p for p in ps[: ps.index(fast)] if "duplicate_ack" in p["analysis"]]
    assert len(dups) >= 2 and all(p["dir"] == "s2c" for p in dups)


def test_the_last_ack_lost_the_server_sends_its_fin_again_and_time_wait_answers() -> None:
    out = probe("lost-ack")
    ps = packets(out)
    fins = [p for p in ps if "FIN" in p["flags"] and p["dir"] == "s2c"]
    assert len(fins) == 2 and "retransmission" in fins[1]["analysis"]
    assert ps[-1]["dir"] == "c2s" and ps[-1]["flags"] == ["ACK"]
    assert "TIME-WAIT" in out["kernel"]


def test_every_lossy_lesson_names_a_fault_that_exists() -> None:
    for script in SCRIPTS.values():
        assert script.fault is None or script.fault in FAULTS


def test_a_lossy_lesson_refuses_the_shared_network(tmp_path: Path) -> None:
    with pytest.raises(FaultError, match="network of its own"):
        install(FAULTS["first-syn"], 9000, private=False)
    env = cli_env()
    env["HANDSHAKE_VIZ_SHARED_NET"] = "1"
    handout = tmp_path / "lost-syn.html"  # the lesson without a terminal: the same refusal
    done = cli("classroom", "lost-syn", "--handout", str(handout), env=env)
    assert done.returncode == 2 and not handout.exists()
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("handshake-viz: ") and "network of its own" in lines[-1]
    assert "Traceback" not in done.stderr
    assert os.environ.get("HANDSHAKE_VIZ_SHARED_NET") is None
