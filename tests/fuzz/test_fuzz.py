"""The fuzzer, on every run: mutated captures of the project's own (`mutations`) through the
reader, the real command and, for a sample, tshark.

Each run draws a new campaign seed, printed with any failure; to run the same files again:

    HANDSHAKE_VIZ_FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/fuzz
    .venv/bin/python -m tests.fuzz.runner --seed <seed> --only <index> --write bad.pcap

For every file: exit 0, or one clean line and exit 2; no traceback, no internal error, no hang
(5 s a file in-process, 20 s through the command), memory under 1 GiB of address space. For
the files tshark reads cleanly, the same frames as tshark, or a documented reason
(`oracle.documented_reason`).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fuzz.mutations import CLASSES, mutant
from tests.fuzz.oracle import documented_reason, our_frames, tshark_frames
from tests.helpers.live import cli_env
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.fuzz

SEED = int(os.environ.get("HANDSHAKE_VIZ_FUZZ_SEED") or random.SystemRandom().randrange(10**9))
IN_PROCESS = 40_000
"""Mutated files through the reader in one process (about 0.3 ms each)."""
THROUGH_THE_COMMAND = 36
"""Files through ``handshake-viz replay`` itself (a third of a second each, start-up)."""
AGAINST_TSHARK = 60
"""Files given to tshark too (a quarter of a second each)."""
MEMORY_MB = 1024

REPLAY = f"HANDSHAKE_VIZ_FUZZ_SEED={SEED} .venv/bin/python -m pytest tests/fuzz"


def sample(count: int, offset: int) -> list[int]:
    """`count` file indexes of this campaign, every class alike, none of the in-process ones."""
    return [IN_PROCESS + offset + i for i in range(count)]


def test_mutated_files_through_the_reader() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.runner", "--seed", str(SEED),
         "--files", str(IN_PROCESS), "--memory-mb", str(MEMORY_MB)],
        capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=600, check=False,
    )  # fmt: skip
    assert r.returncode == 0, f"seed {SEED}: the runner failed ({REPLAY}):\n{r.stderr[-3000:]}"
    summary = json.loads(r.stdout)
    print(f"seed {SEED}: {summary['files']} files in {summary['seconds']} s, "
          f"peak {summary['peak_rss_mb']} MB, slowest {summary['slowest']}")  # fmt: skip
    assert summary["files"] == IN_PROCESS and set(summary["by_class"]) == set(CLASSES)
    assert all(sum(outcomes.values()) >= IN_PROCESS // len(CLASSES) for outcomes in
               summary["by_class"].values())  # fmt: skip
    assert summary["failed"] == 0, (
        f"seed {SEED}: {summary['failed']} files failed ({REPLAY}); the first:\n"
        + json.dumps(summary["failures"][:3], indent=1)
    )


def through_the_command(index: int, folder: Path) -> str | None:
    """Run file `index` through ``replay`` (from a path, or from stdin for odd indexes)."""
    kind, seed_file, data = mutant(SEED, index)
    path = folder / f"mutant-{index}.pcap"
    path.write_bytes(data)
    args = ["replay", "-" if index % 2 else str(path), "--print", "--format", "jsonl"]
    try:
        r = subprocess.run(
            [sys.executable, "-m", "handshake_viz", *args], input=data if index % 2 else None,
            capture_output=True, cwd=ROOT, env=cli_env(), timeout=20, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"file {index} ({kind} of {seed_file}): still running after 20 s"
    err = r.stderr.decode(errors="replace")
    said = err.splitlines()
    notes = all(line.startswith("handshake-viz: ") for line in said)  # exit 0: notices only
    clean = r.returncode == 0 and notes or r.returncode == 2 and len(said) == 1 and notes
    if not clean or "Traceback" in err or "internal error" in err:
        return f"file {index} ({kind} of {seed_file}): exit {r.returncode}, stderr {err[-1500:]!r}"
    return None


@pytest.mark.e2e
def test_a_sample_through_the_real_command(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(lambda i: through_the_command(i, tmp_path),
                                        sample(THROUGH_THE_COMMAND, 0)) if p]  # fmt: skip
    assert not problems, f"seed {SEED} ({REPLAY}):\n" + "\n".join(problems)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_a_sample_reads_the_frames_tshark_reads(tmp_path: Path) -> None:
    def compare(index: int) -> str | None:
        kind, seed_file, data = mutant(SEED, index)
        path = tmp_path / f"mutant-{index}.pcap"
        path.write_bytes(data)
        clean, theirs = tshark_frames(path)
        if not clean:
            return None  # tshark refuses it, or warns: no oracle
        error, ours = our_frames(data)
        if (error, ours) == (None, theirs) or documented_reason(data, error, ours, theirs):
            return None
        return (f"file {index} ({kind} of {seed_file}): tshark reads {len(theirs)} frames "
                f"{theirs[:4]}..., the reader {len(ours)} {ours[:4]}... and {error!r}")  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(compare, sample(AGAINST_TSHARK, THROUGH_THE_COMMAND)) if p]
    assert not problems, f"seed {SEED} ({REPLAY}):\n" + "\n".join(problems)
