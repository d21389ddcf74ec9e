"""Every process the project starts ends with its parent, whatever ends the parent, and none
prints a traceback when the terminal's Ctrl-C comes while it starts.

Each test runs the real command in a session of its own, kills the parent with SIGKILL (which
nothing can catch), and looks in /proc for anything of that session still running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.captures import write_loopback_capture
from tests.helpers.live import cli_env, needs_capture
from tests.helpers.paths import ROOT
from tests.helpers.processes import left_after_kill, wait_for_child

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def start(*args: str, stdout: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """``handshake-viz ARGS`` in a session of its own (as a terminal's job would be)."""
    return subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", *args],
        stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        cwd=ROOT, env=cli_env(), start_new_session=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture big enough (over 16 MB) to be read by worker processes."""
    path = tmp_path_factory.mktemp("big") / "big.pcap"
    write_loopback_capture(path, 26_000)
    return path


@pytest.mark.capture
@needs_capture
def test_the_capture_process_ends_when_live_is_killed(tmp_path: Path) -> None:
    proc = start("live", "--port", "9", "--print", "--save", str(tmp_path / "live.pcap"))
    wait_for_child(proc, "capture_worker")
    time.sleep(0.5)  # past its start-up: the capture loop runs
    assert left_after_kill(proc) == []


@pytest.mark.capture
@needs_capture
def test_the_capture_process_ends_when_killed_while_it_starts(tmp_path: Path) -> None:
    proc = start("live", "--port", "9", "--print", "--no-save")
    wait_for_child(proc, "capture_worker")  # still importing
    assert left_after_kill(proc) == []


def test_the_decoding_process_ends_when_replay_is_killed(big_capture: Path) -> None:
    # stdout is a pipe nobody reads: the parent blocks writing, mid-file, with its child busy
    proc = start("replay", str(big_capture), "--print", stdout=subprocess.PIPE)
    wait_for_child(proc, "multiprocessing")
    time.sleep(0.5)
    assert left_after_kill(proc) == []


def test_the_index_processes_end_when_their_reader_is_killed(big_capture: Path) -> None:
    """The TUI's indexing: worker processes building the timeline's rows."""
    script = (
        "import sys, time\n"
        "from handshake_viz.sources.replay import ReplaySource\n"
        "rows = ReplaySource(sys.argv[1], parallel=True).index_rows()\n"
        "next(rows)\n"
        "print('indexing', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(big_capture)],
                            stdout=subprocess.PIPE, cwd=ROOT, env=cli_env(),
                            start_new_session=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == b"indexing\n"
    assert left_after_kill(proc) == []


@pytest.mark.capture
@needs_capture
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06, 0.1, 0.2])
def test_ctrl_c_while_the_capture_process_starts_prints_no_traceback(delay: float) -> None:
    """The terminal's Ctrl-C reaches the whole foreground group, the capture process too,
    while it is still importing (0.6 to 1.2 s after ``demo basic`` starts)."""
    proc = start("demo", "basic", "--print", "--no-save")
    wait_for_child(proc, "capture_worker")
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode in (0, 130)


@pytest.mark.capture
@needs_capture
def test_after_ctrl_c_the_demo_shows_no_more_socket_calls() -> None:
    """backlog's clients wait seconds for the full queue; stopped, their calls are not shown."""
    proc = start("demo", "backlog", "--print", "--format", "jsonl", "--no-save",
                 stdout=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None
    while b'"type": "packet"' not in proc.stdout.readline():
        pass
    time.sleep(0.3)
    sent = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    calls = [e for line in out.splitlines() if (e := json.loads(line))["type"] == "socket"]
    assert proc.returncode == 0, err
    assert calls == [c for c in calls if c["time"] <= sent]
