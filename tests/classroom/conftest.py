"""Fixtures for the classroom tests: free loopback ports, and a live capture when we may.

Ports come from a range of their own (below 32768, away from the demo's 9000) so that these
tests can run while other suites use theirs.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

import pytest

from handshake_viz.classroom.lesson import Collector, LessonSource
from handshake_viz.demo.scenarios import free_port
from handshake_viz.sources.live.privileges import can_capture

PORT_BASE = 17000


def pick_port() -> int:
    """A port free for TCP and UDP on both 127.0.0.1 and ::1."""
    start = PORT_BASE + random.randrange(0, 4000, 7)
    for _ in range(20):
        p = free_port("127.0.0.1", socket.AF_INET, "tcp", start)
        if free_port("::1", socket.AF_INET6, "tcp", p) == p:
            return p
        start = p + 1
    raise OSError("no port free on both 127.0.0.1 and ::1")


@pytest.fixture
def port() -> int:
    return pick_port()


@pytest.fixture
def need_capture() -> None:
    if not can_capture():
        pytest.skip("capturing needs root or CAP_NET_RAW (CI runs as root)")


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Sockets a test opens: all closed at the end, whatever happens."""
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


@pytest.fixture
def lesson(need_capture: None, port: int) -> Iterator[tuple[LessonSource, Collector]]:
    """A live capture of `port` with its events collected; stopped at the end."""
    source = LessonSource([port], name=f"test lesson port {port}")
    collector = Collector(source).start()
    yield source, collector
    collector.stop()
