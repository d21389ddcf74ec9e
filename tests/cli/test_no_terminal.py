"""A command that opens the TUI, with stdout a file or a pipe: one line naming --print, exit 2,
and nothing written to the file (no escape codes, no waiting for keys)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.live import cli_env
from tests.helpers.paths import HTTP_GET, ROOT

pytestmark = [pytest.mark.timeout(60), pytest.mark.e2e]


def run_to_file(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    with out.open("w") as stdout:
        return subprocess.run(
            [sys.executable, "-m", "handshake_viz", *args], stdout=stdout,
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env=cli_env(), timeout=30, check=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [["replay", str(HTTP_GET)], ["demo", "basic"], ["live", "--port", "8000"], [],
     ["--lang", "zh", "replay", str(HTTP_GET)]],
    ids=["replay", "demo", "live", "bare", "replay-zh"],
)  # fmt: skip
def test_the_tui_with_stdout_in_a_file_names_print_and_exits_2(args: list[str], tmp_path: Path):
    r = run_to_file(args, tmp_path / "out.txt")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("handshake-viz: "), r.stderr
    assert "--print" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "out.txt").read_text() == ""


def test_a_lesson_with_stdout_in_a_file_names_the_handout(tmp_path: Path):
    r = run_to_file(["classroom", "basic"], tmp_path / "out.txt")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--handout" in r.stderr
    assert (tmp_path / "out.txt").read_text() == ""


def test_print_into_a_file_still_works(tmp_path: Path):
    r = run_to_file(["replay", str(HTTP_GET), "--print"], tmp_path / "out.txt")
    assert r.returncode == 0, r.stderr
    assert "SYN" in (tmp_path / "out.txt").read_text()
