"""Shared fixtures: where the test data lives, and how to run the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TSHARK_DATA = DATA / "tshark"


def run_cli(*args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m handshake_viz ARGS`` as a user would, capturing both streams."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "handshake_viz", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture
def cli():
    return run_cli
