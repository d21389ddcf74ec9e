"""Captures made for tests: big loopback files written as the TUI bench writes them."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.helpers.paths import ROOT


def write_loopback_capture(path: Path, connections: int) -> int:
    """Connections of 10 packets on loopback, as the TUI bench writes them; returns packets."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from tui_bench import write_capture
    finally:
        sys.path.remove(str(ROOT / "bench"))
    write_capture(path, connections * 10)
    return connections * 10
