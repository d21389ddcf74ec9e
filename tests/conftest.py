"""Fixtures shared by every test folder: tcpdump as the oracle, processes and folders that are
never left behind.

These tests capture for real (CI runs as root). Without CAP_NET_RAW they skip, saying so;
a machine without tcpdump or tshark skips the comparisons that need them, saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.sources.netns import NamespaceError, enter_private_network
from tests.helpers.fakes import read_events, socket_calls
from tests.helpers.live import Tcpdump
from tests.helpers.paths import HTTP_GET


def pytest_configure(config: pytest.Config) -> None:
    """Run the whole suite in a network of its own, where root may make one.

    The tests capture on loopback and bind ports: in a private network namespace nothing else
    on the machine (another test run, a developer's server, a lesson) can appear in their
    captures or hold their ports, and their traffic reaches nothing outside. Without the
    privilege, they share the machine's loopback and the capture tests skip, saying so.
    """
    if os.geteuid() == 0 and not os.environ.get("HANDSHAKE_VIZ_TEST_SHARED_NET"):
        try:
            enter_private_network()
        except NamespaceError as exc:
            print(f"tests share the machine's network: {exc}", file=sys.stderr)


def _default_language() -> None:
    """The tests speak English unless one asks for another language: the command, the TUI
    and the lessons take theirs from the locale (LANG=zh_CN.UTF-8 is Chinese), and a
    developer's locale must not change what the tests read. Their child processes inherit
    it."""
    for name in ("LC_ALL", "LC_MESSAGES", "HANDSHAKE_VIZ_LANG"):
        os.environ.pop(name, None)
    os.environ["LANG"] = "C.UTF-8"


_default_language()


CAPTURE_FIXTURES = frozenset({"tcpdump", "lesson", "need_capture"})
"""Fixtures that only make sense with real packets: a test using one captures."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that captures packets `capture`: those skipped without the privilege
    (`needs_capture`) and those using a capturing fixture; the rest of the markers are
    written where the tests are."""
    for item in items:
        skips = [m for m in item.iter_markers("skipif") if "capture" in str(m.kwargs.get("reason"))]
        fixtures = set(getattr(item, "fixturenames", ()))
        if skips or fixtures & CAPTURE_FIXTURES:
            item.add_marker(pytest.mark.capture)


@pytest.fixture
def tcpdump(tmp_path: Path) -> Iterator[Callable[..., Tcpdump]]:
    """Start tcpdump on ports; stopped (never left behind) at the end of the test."""
    started: list[Tcpdump] = []

    def start(ports: list[int], name: str = "tcpdump.pcap") -> Tcpdump:
        t = Tcpdump(tmp_path / name, ports)
        started.append(t)
        return t

    yield start
    for t in started:
        t.stop()


@pytest.fixture
def reap() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts: killed at the end if still running."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder anyone may write (mode 1777, like /tmp), reachable by every user.

    pytest's own tmp_path sits under a folder only root may enter, so a test that plays the
    sudo user (uid 65534) needs one of these instead.
    """
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="hv-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def http_events() -> list[Event]:
    return read_events(HTTP_GET)


@pytest.fixture
def demo_events(http_events: list[Event]) -> list[Event]:
    """Socket calls, then the HTTP connection's packets (as the demo would produce)."""
    first = next(e for e in http_events if isinstance(e, PacketEvent))
    return [*socket_calls(first.time), *http_events]
