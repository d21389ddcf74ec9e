"""Packets crossing on a veth between two network namespaces, recorded now with tcpdump and
the kernel's view of both (tests/helpers/twonets.py): the tracker agrees with both kernels."""

from __future__ import annotations

import os
import shutil

import pytest

from handshake_viz.core.events import ACK, FIN, SYN, PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers import twonets
from tests.helpers.kernel import needs_tracer
from tests.helpers.live import needs_capture
from tests.sources.kernel import test_saved

pytestmark = [
    pytest.mark.capture,
    needs_capture,
    needs_tracer,
    pytest.mark.timeout(90),
    pytest.mark.skipif(
        os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("tc")),
        reason="namespaces and a veth need root, ip and tc",
    ),
]


def crossed(path, flag: int) -> bool:
    """Both ends sent `flag` before either had the other's: the recording made its point (a
    machine busy enough to hold one end back more than the bucket's 135 ms spoils it)."""
    firsts: dict[str, PacketEvent] = {}
    for p in ReplaySource(path).events():
        if isinstance(p, PacketEvent) and p.flags & flag and p.dir not in firsts:
            firsts[p.dir] = p
    if len(firsts) < 2:
        return False
    if flag == SYN:
        return all(not p.flags & ACK for p in firsts.values())
    a, b = firsts["c2s"], firsts["s2c"]
    return a.ack == 1 and b.ack == 1  # neither acknowledges the other's FIN


def record(make, path, flag: int, tries: int = 3) -> None:
    for _ in range(tries):
        make(path)
        if crossed(path, flag):
            return
        path.unlink()
    pytest.skip(f"the packets did not cross in {tries} recordings (a busy machine)")


def test_a_simultaneous_close_recorded_now_agrees_with_both_kernels(tmp_path, monkeypatch):
    path = tmp_path / "close.pcapng"
    record(twonets.simultaneous_close, path, FIN)
    monkeypatch.setattr(test_saved, "CLOSE", path)
    test_saved.test_a_simultaneous_close_between_two_namespaces_ends_in_time_wait_at_both_ends()


def test_a_simultaneous_open_recorded_now_agrees_with_both_kernels(tmp_path, monkeypatch):
    path = tmp_path / "open.pcapng"
    record(twonets.simultaneous_open, path, SYN)
    monkeypatch.setattr(test_saved, "OPEN", path)
    test_saved.test_a_simultaneous_open_keeps_each_senders_direction_and_agrees_with_both_kernels()
