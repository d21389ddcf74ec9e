"""The TUI on input that never ends or is hostile: it says what is wrong and `q` quits."""

from __future__ import annotations

import os
import shutil
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.craft import idb, shb
from tests.helpers.paths import HTTP_GET
from tests.helpers.tmux import Pane, command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def pane() -> Iterator[Pane]:
    p = Pane(width=120)
    try:
        yield p
    finally:
        p.close()


def test_a_4_gib_block_then_endless_zeros_is_one_error_and_q_quits(pane: Pane, tmp_path: Path):
    header = tmp_path / "header.pcapng"
    header.write_bytes(shb() + idb() + struct.pack("<II", 6, 0xFFFFFFFC))
    pane.send(f"cat {header} /dev/zero | " + command("replay", "-") + "; echo EXIT=$?", "Enter")
    pane.wait_for(lambda t: '"stdin" appears to be damaged or corrupt (pcapng: total' in t)
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=2" in t, timeout=5)
    assert "Traceback" not in pane.text()


def test_q_quits_while_the_reader_waits_on_a_silent_fifo(pane: Pane, tmp_path: Path):
    """The writer keeps the FIFO open and sends nothing more: the read never returns."""
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    pane.send(f"(cat {HTTP_GET}; sleep 60) > {fifo} & "
              + command("replay", str(fifo), "--pause", "30") + "; echo EXIT=$?",
              "Enter")  # fmt: skip
    # each packet shown as it came, the pipe followed as a stream
    pane.wait_for(lambda t: "/14 events" in t and "streaming" in t)
    t0 = time.monotonic()
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=5)
    print(f"q to the shell: {time.monotonic() - t0:.2f} s")
    pane.send("kill %1", "Enter")
