"""The JSONL's `window_size` is tshark's tcp.window_size, on every TCP packet of the public,
lab and crafted captures: the window field shifted by its sender's scale, the field as sent
where scaling is off, and null where tshark's scale factor is -1 (the sender's SYN, or its
options, not seen)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.core.source import SourceError
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import LAB_DATA, TSHARK_DATA

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle")

CAPTURES = sorted(p for folder in (TSHARK_DATA, LAB_DATA) for p in folder.iterdir()
                  if p.suffix in (".pcap", ".pcapng"))  # fmt: skip


def tshark_windows(path: Path) -> dict[int, int | None]:
    """frame -> tshark's tcp.window_size (one pass, as the reader reads), None for scale -1;
    the innermost TCP header's where a tunnel carries one."""
    r = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "frame.number",
         "-e", "tcp.window_size", "-e", "tcp.window_size_scalefactor"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    found: dict[int, int | None] = {}
    for line in r.stdout.splitlines():
        frame, size, factor = (line.split("\t") + ["", ""])[:3]
        if size:
            found[int(frame)] = None if factor.rsplit(",", 1)[-1] == "-1" else int(
                size.rsplit(",", 1)[-1])  # fmt: skip
    return found


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_window_size_is_tsharks(path: Path) -> None:
    want = tshark_windows(path)
    try:
        events = [e for e in ReplaySource(path).events() if isinstance(e, PacketEvent)]
    except SourceError:
        return  # a file the reader refuses (its own tests say why)
    tcp = [e for e in events if e.proto == "tcp" and not e.truncated and e.frame in want]
    checked = [(e.frame, e.window_size, want[e.frame]) for e in tcp]
    assert [c for c in checked if c[1] != c[2]] == []


def test_the_scaled_windows_are_checked_somewhere() -> None:
    """Scaling on, off and unknown all occur in these captures."""
    sizes = {(e.window_size is None, e.window_size == e.window)
             for p in (LAB_DATA / "lab__snaplen70.pcap", TSHARK_DATA / "zeek__http_get.pcap",
                       LAB_DATA / "lab__http-loss.pcap")
             if p.exists()
             for e in ReplaySource(p).events() if isinstance(e, PacketEvent)}  # fmt: skip
    assert {(True, False), (False, True), (False, False)} <= sizes  # unknown, as sent, scaled
