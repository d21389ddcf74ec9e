"""`serve`: a lesson per browser tab, a teacher followed by students, and nothing left behind.

The real command runs in a process group of its own; headless Chromium opens its pages over
the DevTools protocol (`tests.helpers.chromium`). Each tab's lesson runs in a process and a
network namespace of its own; the test reads what each one captured, what the follow tab
drew, and which processes and folders are left once a tab closes and once serve stops.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.chromium import CHROMIUM, Chromium
from tests.helpers.live import cli, cli_env
from tests.helpers.paths import ROOT

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (scripts/bootstrap.sh installs it)"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="served lessons capture: needs root")
BASIC_STEPS = 5
pytestmark = pytest.mark.e2e


@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str
    teacher: str
    banner: str

    def children(self) -> list[tuple[int, str]]:
        """(pid, command line) of each process serve started for a tab."""
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                out.append((int(entry.name), args))
        return out


def _group_members(pgids: set[int]) -> list[int]:
    """Processes still in any of these process groups."""
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) in pgids:
                left.append(int(entry.name))
    return left


def _netns(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


@pytest.fixture
def served(port: int) -> Iterator[Served]:
    """``handshake-viz serve`` on 127.0.0.1:`port`, its banner read; ended at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(),
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = "".join(proc.stdout.readline() for _ in range(4))
    teacher = re.search(r"(http://\S+/teach\?key=\S+)", banner)
    assert teacher, (banner, proc.stderr.read() if proc.poll() is not None else "")
    try:
        yield Served(proc, f"http://127.0.0.1:{port}", teacher[1], banner)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_serve_answers_on_loopback(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/", timeout=5) as resp:
        body = resp.read().decode()
    assert resp.status == 200
    assert "handshake-viz classroom" in body and "textual.js" in body
    assert "/follow" in served.banner and served.url in served.banner


def test_the_teachers_page_needs_its_key(served: Served) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(served.url + "/teach?key=guess", timeout=5)
    assert err.value.code == 403
    with urllib.request.urlopen(served.teacher, timeout=5) as resp:
        assert resp.status == 200


def test_no_warning_on_loopback_and_a_warning_elsewhere() -> None:
    from handshake_viz.cli.serve import LOOPBACK

    assert "127.0.0.1" in LOOPBACK and "0.0.0.0" not in LOOPBACK


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("serve", "--port", "80000"), "a port is a number from 1 to 65535"),
        (("serve", "nosuch"), "no lesson 'nosuch'"),
        (("classroom", "nosuch"), "no lesson 'nosuch'"),
    ],
)
def test_command_errors_are_one_line(args: tuple[str, ...], says: str) -> None:
    done = cli(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "internal error" not in done.stderr


@pytest.mark.e2e
def test_a_busy_port_is_one_line_before_any_banner(served: Served, port: int) -> None:
    done = cli("serve", "--port", str(port))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "choose another with --port" in done.stderr


def _streams(capture: Path) -> dict[int, list[PacketEvent]]:
    out: dict[int, list[PacketEvent]] = {}
    for ev in ReplaySource(capture).events():
        if isinstance(ev, PacketEvent):
            out.setdefault(ev.stream, []).append(ev)
    return out


@needs_chromium
@needs_root
@pytest.mark.e2e
@pytest.mark.capture
@pytest.mark.timeout(180)
def test_two_tabs_two_lessons_a_follower_and_nothing_left(served: Served, tmp_path: Path) -> None:
    """The teacher's tab and a student's own tab each run the whole basic lesson on port
    9000 in networks of their own; a follow tab shows the teacher's packets; a closed tab
    and then serve leave no process and no folder behind; export is a download."""

    async def lesson() -> dict[str, object]:
        browser = Chromium()
        try:
            teacher = await browser.tab(served.teacher)
            student = await browser.tab(served.url + "/")
            follower = await browser.tab(served.url + "/follow")
            for tab in (teacher, student, follower):
                await tab.wait_for_app()
            await asyncio.sleep(1.5)  # the lessons' captures start
            tabs = {args: pid for pid, args in served.children()}
            nets = {pid: _netns(pid) for pid in tabs.values()}
            for tab in (teacher, student):
                await tab.focus()
            for _ in range(BASIC_STEPS):
                for tab in (teacher, student):
                    await tab.press("Space")
                await asyncio.sleep(1.5)
            await asyncio.sleep(1.5)  # the follower is at most a second behind
            sessions = sorted(Path(p) for p in re.findall(r"--session (\S+)", "\n".join(tabs)))
            result: dict[str, object] = {
                "tabs": tabs,
                "nets": nets,
                "sessions": sessions,
                "captures": {s.name: _streams(s / "capture.pcap") for s in sessions},
                "teacher_session": next(
                    Path(a.split("--session ")[1].split()[0]) for a in tabs if "--teach" in a
                ),  # fmt: skip
                "follower_text": await follower.text(),
            }
            # export from the student's tab reaches the browser as a download
            await student.call("Browser.setDownloadBehavior", behavior="allow",
                               downloadPath=str(tmp_path))  # fmt: skip
            await student.press("e")
            deadline = time.monotonic() + 20
            while not list(tmp_path.glob("*.zip")) and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
            # the student closes the tab: its processes and its folder go
            student_pid = next(pid for a, pid in tabs.items() if "--teach" not in a
                               and "--follow" not in a)  # fmt: skip
            student_session = next(s for s in sessions
                                   if s != result["teacher_session"])  # fmt: skip
            await student.close()
            browser.tabs.remove(student)
            deadline = time.monotonic() + 15
            while _group_members({student_pid}) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            result["after_close"] = (_group_members({student_pid}), student_session.exists())
            return result
        finally:
            await browser.close()

    out = asyncio.run(lesson())
    tabs: dict[str, int] = out["tabs"]  # type: ignore[assignment]
    assert len(tabs) == 3, tabs
    lesson_pids = [pid for a, pid in tabs.items() if "--follow" not in a]
    # two lessons, two networks of their own (and not serve's)
    nets = {out["nets"][pid] for pid in lesson_pids}  # type: ignore[index]
    assert len(nets) == 2 and _netns(served.proc.pid) not in nets
    # each captured exactly its own whole basic lesson, on port 9000
    captures: dict[str, dict[int, list[PacketEvent]]] = out["captures"]  # type: ignore[assignment]
    assert len(captures) == 2
    clients = {}
    for name, streams in captures.items():
        assert list(streams) == [0], (name, streams.keys())
        packets = streams[0]
        assert len(packets) == 10 and {p.dport for p in packets if p.dir == "c2s"} == {9000}
        assert [p.flag_list for p in packets[:3]] == [("SYN",), ("SYN", "ACK"), ("ACK",)]
        assert any(p.len for p in packets) and "FIN" in packets[-3].flag_list
        clients[name] = packets[0].sport
    # the follow tab drew the teacher's connection (its client port), not the student's
    teacher_name = out["teacher_session"].name  # type: ignore[attr-defined]
    text = out["follower_text"]
    assert isinstance(text, str) and "SYN" in text and f"127.0.0.1:{clients[teacher_name]}" in text
    student_name = next(n for n in captures if n != teacher_name)
    if clients[student_name] != clients[teacher_name]:
        assert f":{clients[student_name]}" not in text
    # the download
    (zipped,) = tmp_path.glob("*.zip")
    assert {n.rsplit(".", 1)[1] for n in zipfile.ZipFile(zipped).namelist()} >= {
        "svg",
        "txt",
        "mmd",
        "pcap",
    }
    # a closed tab leaves nothing
    assert out["after_close"] == ([], False)
    # serve stops on Ctrl-C (SIGINT) and leaves nothing: no process of its tabs, no folder
    serve_folder = Path(str(out["sessions"][0])).parent  # type: ignore[index]
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(30) == 0
    deadline = time.monotonic() + 10
    while _group_members(set(tabs.values())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_members(set(tabs.values())) == []
    assert not serve_folder.exists()


@needs_root
@pytest.mark.e2e
@pytest.mark.capture
def test_serve_killed_its_lessons_end_by_themselves_and_a_new_serve_sweeps(
    served: Served, port: int
) -> None:
    """SIGKILL gives serve no chance to clean up: each tab's lesson notices its parent is
    gone, quits and removes its folder; the next serve removes the empty folder left."""
    import aiohttp

    async def open_tab() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"ws://127.0.0.1:{port}/ws?width=100&height=30")
            drawn = 0
            while drawn < 10_000:
                msg = await ws.receive(timeout=20)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                drawn += len(msg.data)
            ((pid, args),) = served.children()
            folder = Path(args.split("--session ")[1].split()[0])
            assert folder.exists()
            os.kill(served.proc.pid, signal.SIGKILL)
            served.proc.wait(5)  # reaped, as a shell would: a zombie's pid still answers
            deadline = time.monotonic() + 15
            while (_group_members({pid}) or folder.exists()) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert _group_members({pid}) == [] and not folder.exists()
            assert folder.parent.exists(), "serve's own folder stays, with nobody to remove it"
            again = cli("serve", "--port", "80000")  # fails at once, before any sweep
            assert again.returncode == 2
            proc = subprocess.Popen(
                [sys.executable, "-m", "handshake_viz", "serve", "--port", str(port + 1)],
                stdout=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(),
                start_new_session=True,
            )  # fmt: skip
            try:
                assert proc.stdout is not None and "serving" in proc.stdout.readline()
                assert not folder.parent.exists()
            finally:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(20)

    asyncio.run(open_tab())
