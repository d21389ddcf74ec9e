"""Where the test data lives, and how to run the real command as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
TSHARK_DATA = DATA / "tshark"


def run_cli(
    *args: str, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
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


HTTP_GET = DATA / "zeek__http_get.pcap"
"""One HTTP connection: handshake, data, FIN teardown (14 packets)."""
HANDSHAKE_NANO = DATA / "tcpdump__tcp-handshake-nano.pcap"
LAB_DATA = DATA / "lab"
"""Captures the lab made (scripts/lab), each with tshark's reading beside it."""
