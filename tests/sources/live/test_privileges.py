"""What the capture promises about privileges and files: no link followed, no file reused,
files created by the sudo user, nothing left after ``kill -9``, no capability kept after the
capture socket is open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.live import ROOT, cli, cli_env, needs_capture, pcap_frames

pytestmark = [pytest.mark.timeout(60), needs_capture]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="playing sudo needs root")
NOBODY = 65534


def sudo_env(uid: int = NOBODY) -> dict[str, str]:
    return {**cli_env(), "SUDO_UID": str(uid), "SUDO_GID": str(uid)}


def plant_links(captures: Path, name: str, victim: Path, seconds: int = 40) -> None:
    """Links under the default capture names of the next `seconds`, all to `victim`."""
    captures.mkdir(exist_ok=True)
    captures.chmod(0o1777)
    now = time.time()
    for s in range(-2, seconds):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now + s))
        for suffix in (".pcap", ".pcapng"):  # pcapng where socket calls are kept too
            (captures / f"live-{stamp}-{name}{suffix}").symlink_to(victim)


@needs_root
@pytest.mark.parametrize("as_sudo", [True, False], ids=["sudo", "plain-root"])
def test_a_link_planted_under_the_next_capture_names_is_never_followed(shared_dir, as_sudo):
    victim = shared_dir / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o600)
    plant_links(shared_dir / "captures", "basic", victim)
    env = sudo_env() if as_sudo else cli_env()
    r = cli("demo", "basic", "--print", cwd=shared_dir, env=env)
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious\n"
    assert victim.stat().st_uid == 0
    saved = [p for p in (shared_dir / "captures").iterdir() if not p.is_symlink()]
    assert len(saved) == 1 and saved[0].name.startswith("live-")
    assert len(pcap_frames(saved[0])) == 10
    assert saved[0].stat().st_uid == (NOBODY if as_sudo else 0)
    assert f"saved to captures/{saved[0].name}" in r.stderr


def test_an_explicit_save_path_that_exists_is_refused_and_left_alone(tmp_path):
    existing = tmp_path / "mine.pcap"
    existing.write_text("keep me\n")
    r = cli("demo", "basic", "--print", "--save", str(existing))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "already exists" in r.stderr
    assert existing.read_text() == "keep me\n"


def test_a_save_path_that_is_a_link_is_refused(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep me\n")
    (tmp_path / "link.pcap").symlink_to(target)
    r = cli("demo", "basic", "--print", "--save", str(tmp_path / "link.pcap"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert target.read_text() == "keep me\n"


@needs_root
def test_a_captures_folder_that_is_another_users_link_is_refused(shared_dir):
    elsewhere = shared_dir / "elsewhere"
    elsewhere.mkdir()
    (shared_dir / "captures").symlink_to(elsewhere)
    os.lchown(shared_dir / "captures", 4242, 4242)
    r = cli("demo", "basic", "--print", cwd=shared_dir)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "link owned by another user" in r.stderr
    assert list(elsewhere.iterdir()) == []


@needs_root
def test_under_sudo_the_folders_and_file_are_created_by_the_user(shared_dir):
    r = cli("demo", "udp", "--print", cwd=shared_dir, env=sudo_env())
    assert r.returncode == 0, r.stderr
    captures = shared_dir / "captures"
    (saved,) = captures.iterdir()
    assert captures.stat().st_uid == NOBODY
    assert (saved.stat().st_uid, saved.stat().st_gid) == (NOBODY, NOBODY)


def status_of(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 15) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
    raise AssertionError(f"no line with {needle!r}")


def start_live(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "live", "--port", "9", "--print",
         "--duration", "20", *extra],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def comm_of(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


@needs_root
@pytest.mark.parametrize("as_sudo", [True, False], ids=["sudo", "plain-root"])
@pytest.mark.parametrize("trace", [False, True], ids=["no-trace", "kernel-view"])
def test_after_the_socket_opens_no_process_keeps_a_capability(shared_dir, as_sudo, trace):
    """But the kernel's tracer, which must stay root to read tracepoints: it is in a process
    group of its own and ends with the command (tests/sources/kernel)."""
    extra = () if trace else ("--no-trace",)
    proc = start_live(shared_dir, sudo_env() if as_sudo else cli_env(), *extra)
    try:
        wait_for_line(proc, "capturing on")
        time.sleep(0.5)
        children = children_of(proc.pid)
        tracers = [pid for pid in children if comm_of(pid) == "bpftrace"]
        assert len(tracers) == (1 if trace else 0)
        pids = [proc.pid, *(pid for pid in children if pid not in tracers)]
        # the command, its capture process and (with the kernel's view) bpftrace's reader
        assert len(pids) == (3 if trace else 2)
        for pid in pids:
            status = status_of(pid)
            assert int(status["CapEff"], 16) == 0, (pid, status["CapEff"])
            assert int(status["CapPrm"], 16) == 0
            assert int(status["CapBnd"], 16) == 0 or as_sudo
            uids = status["Uid"].split()
            assert uids == [str(NOBODY if as_sudo else 0)] * 4
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert proc.returncode == 0


def test_no_save_leaves_nothing_on_disk_after_kill_9(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**cli_env(), "TMPDIR": str(tmpdir)}
    proc = start_live(tmp_path, env, "--no-save")
    try:
        wait_for_line(proc, "capturing on")
        assert list(tmpdir.iterdir()) == []
        proc.kill()
        proc.wait(10)
        time.sleep(0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmpdir.iterdir()) == []
    assert not list(tmp_path.glob("captures/*"))


def listening_addresses(pid: int) -> list[str]:
    """The local addresses of the TCP sockets in LISTEN that process `pid` holds."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
        tables = [Path(f"/proc/{pid}/net/{t}").read_text() for t in ("tcp", "tcp6")]
    except OSError:  # the process has just ended
        return []
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in tables:
        for line in table.splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:
                found.append(f[1])
    return found


def test_every_listening_socket_of_a_demo_binds_loopback():
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc shows
    proc = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "demo", "backlog", "--print", "--no-save"],
        cwd=ROOT, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            seen += listening_addresses(proc.pid)
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert seen, "the backlog demo's server was never seen listening"
    assert {addr.split(":")[0] for addr in seen} <= loopback
