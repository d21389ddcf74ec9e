"""The ``demo``, ``live`` and bare commands as a user runs them: exit codes, one-line errors,
JSONL on stdout, the capture file, privileges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handshake_viz.demo.scenarios import SCENARIOS
from tests.helpers.live import ROOT, cli, cli_env, needs_capture, pcap_frames

pytestmark = [pytest.mark.timeout(60), pytest.mark.e2e]

NO_NET_RAW = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--"]
"""Run a command as root but without CAP_NET_RAW: what a user without sudo has."""
needs_setpriv = pytest.mark.skipif(
    shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="dropping CAP_NET_RAW for a child needs root and setpriv (util-linux)",
)


def run_without_net_raw(*python_args: str) -> subprocess.CompletedProcess[str]:
    """Run this Python with `python_args`, as root but without CAP_NET_RAW."""
    return subprocess.run(
        [*NO_NET_RAW, sys.executable, *python_args],
        capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=30, check=False,
    )  # fmt: skip


def test_demo_list_names_each_scenario_with_one_line():
    r = cli("demo", "--list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)
    assert all(len(line.split()) > 4 for line in lines)


def test_unknown_scenario_is_one_line_and_exit_2():
    r = cli("demo", "nosuch", "--print")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "basic" in r.stderr and "Traceback" not in r.stderr


def test_live_without_ports_asks_for_them():
    r = cli("live", "--print")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--port" in r.stderr


@needs_capture
def test_demo_print_jsonl_streams_events_and_saves_the_capture(tmp_path):
    save = tmp_path / "basic.pcap"
    r = cli("demo", "basic", "--print", "--format", "jsonl", "--save", str(save))
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = {e["type"] for e in events}
    assert {"socket", "packet", "connection", "stats"} <= kinds
    packets = [e for e in events if e["type"] == "packet"]
    assert len(pcap_frames(save)) == len(packets) == 10
    assert events[-1] == {**events[-1], "type": "stats", "drops": 0, "saved_to": str(save)}
    replayed = cli("replay", str(save), "--print", "--format", "jsonl")
    again = [json.loads(x) for x in replayed.stdout.splitlines() if '"packet"' in x]
    assert [(p["frame"], p["flags"], p["seq"], p["len"]) for p in again] == [
        (p["frame"], p["flags"], p["seq"], p["len"]) for p in packets
    ]


@needs_capture
def test_default_capture_name_has_date_and_scenario(tmp_path):
    r = cli("demo", "udp", "--print", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (saved,) = (tmp_path / "captures").iterdir()
    # pcapng: a demo's capture keeps its socket calls beside its packets
    assert saved.name.startswith("live-") and saved.name.endswith("-udp.pcapng")
    assert len(pcap_frames(saved)) == 2


@needs_capture
def test_no_save_writes_nothing(tmp_path):
    r = cli("demo", "refused", "--print", "--no-save", cwd=tmp_path)
    assert r.returncode == 0 and not (tmp_path / "captures").exists()


@needs_setpriv
def test_without_net_raw_demo_names_the_fix_and_exits_2():
    r = run_without_net_raw("-m", "handshake_viz", "demo", "basic", "--print")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1
    assert "sudo" in r.stderr
    assert "setcap" not in r.stderr  # a capability on the interpreter is every program's
    assert r.stdout == ""


@needs_setpriv
def test_without_net_raw_the_bare_command_replays_the_bundled_capture():
    code = (
        "import argparse, sys; from handshake_viz.cli.live import run_default; "
        "sys.exit(run_default(argparse.Namespace(command=None, print_=True, format='jsonl')))"
    )
    r = run_without_net_raw("-c", code)
    assert r.returncode == 0, r.stderr
    assert "replaying the bundled capture basic.pcap, not live" in r.stderr
    packets = [json.loads(x) for x in r.stdout.splitlines() if '"packet"' in x]
    assert [p["phase"] for p in packets[:3]] == ["request", "confirm", "confirm"]


@needs_capture
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to play sudo")
def test_under_sudo_root_is_dropped_and_the_file_belongs_to_the_user(shared_dir):
    save = shared_dir / "sub" / "basic.pcap"
    env = {**cli_env(), "SUDO_UID": "65534", "SUDO_GID": "65534"}
    code = (
        "import argparse, os, sys; from handshake_viz.sources.live.scenario import ScenarioSource; "
        f"s = ScenarioSource('basic', __import__('pathlib').Path({str(save)!r})); s.open(); "
        "n = sum(1 for e in s.events() if e.type == 'packet'); "
        "print(n, os.getuid(), os.geteuid(), os.getgid())"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=30,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["10", "65534", "65534", "65534"]
    assert (save.stat().st_uid, save.stat().st_gid) == (65534, 65534)
    assert save.parent.stat().st_uid == 65534
    assert len(pcap_frames(save)) == 10


def test_lang_works_before_or_after_the_command():
    from handshake_viz.cli.main import build_parser

    parse = build_parser().parse_args
    assert parse(["--lang", "zh", "classroom", "basic"]).lang == "zh"
    assert parse(["classroom", "basic", "--lang", "zh"]).lang == "zh"
    assert parse(["replay", "x.pcap"]).lang == "en"
    r = cli("--lang", "zh", "demo", "--list")
    assert r.returncode == 0 and "三次握手" in r.stdout  # the scenarios, in Chinese


def test_classroom_accepts_no_save_as_demo_does():
    from handshake_viz.cli.main import build_parser

    args = build_parser().parse_args(["classroom", "basic", "--no-save"])
    assert args.no_save and args.save is None


def test_export_dir_reaches_the_tui_options():
    from handshake_viz.cli.main import build_parser
    from handshake_viz.cli.tui import tui_options

    for argv in (["replay", "x.pcap"], ["demo", "basic"], ["live", "--port", "80"],
                 ["classroom", "basic"]):  # fmt: skip
        args = build_parser().parse_args([*argv, "--export-dir", "out"])
        assert tui_options(args).export_dir == Path("out")
    assert tui_options(build_parser().parse_args(["replay", "x.pcap"])).export_dir is None


def test_a_captures_exports_go_beside_it_unless_told(monkeypatch):
    """The TUI of live and demo writes `e`'s files in the capture's folder by default."""
    import argparse

    import handshake_viz.tui.app as tui_app
    from handshake_viz.cli.live import _show
    from handshake_viz.sources.live.source import LiveSource

    seen = []
    monkeypatch.setattr(tui_app, "run_tui", lambda source, options: seen.append(options) or 0)
    source = LiveSource("lo", [9000], save=Path("captures/sub/live.pcap"), trace=False)
    _show(source, argparse.Namespace(print_=False, export_dir=None))
    _show(source, argparse.Namespace(print_=False, export_dir=Path("mine")))
    assert [o.export_dir for o in seen] == [Path("captures/sub"), Path("mine")]
