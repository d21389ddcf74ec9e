"""``handshake-viz classroom`` as a teacher types it: --predict, --handout, --save, in a real
terminal or as a plain command, and the one-line errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import run_cli
from tests.helpers.tmux import Pane, command

pytestmark = pytest.mark.e2e


def packets(path: Path) -> list[PacketEvent]:
    return [e for e in ReplaySource(path).events() if isinstance(e, PacketEvent)]


def test_help_says_predict_handout_and_save() -> None:
    out = run_cli("classroom", "--help").stdout.decode()
    for flag in ("--predict", "--handout PATH", "--save PATH"):
        assert flag in out
    assert "answer key" in out and "Wireshark" in out
    assert "--predict" in run_cli("serve", "--help").stdout.decode()
    assert "--handout" in run_cli("--help").stdout.decode()


def test_a_handout_needs_a_lesson_and_says_so_in_one_line(tmp_path: Path) -> None:
    for args in (["--free"], ["nosuch"]):
        done = run_cli("classroom", *args, "--handout", str(tmp_path))
        assert done.returncode == 2
        lines = done.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("handshake-viz: "), lines
    done = run_cli("classroom", "basic", "--handout", str(tmp_path), "--save", "x.pcap")
    assert done.returncode == 2 and b"not allowed with" in done.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_handout_command_writes_the_page_and_the_capture(
    need_capture: None, tmp_path: Path, lang: str
) -> None:
    done = run_cli("classroom", "basic", "--lang", lang, "--handout", str(tmp_path))
    assert done.returncode == 0, done.stderr
    html, pcap = tmp_path / f"handout-basic-{lang}.html", tmp_path / f"handout-basic-{lang}.pcap"
    assert str(html) in done.stdout.decode() and str(pcap) in done.stdout.decode()
    assert len(packets(pcap)) == 10 and {p.dport for p in packets(pcap)} >= {9000}
    assert pcap.name in html.read_text(encoding="utf-8")


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    p = Pane(cwd=tmp_path)
    try:
        yield p
    finally:
        p.close()


@pytest.mark.parametrize("how", [("classroom", "basic"), ("demo", "basic", "--step")])
def test_save_keeps_the_lessons_capture(
    need_capture: None, pane: Pane, tmp_path: Path, how: tuple[str, ...]
) -> None:
    saved = tmp_path / "lesson.pcap"
    pane.send(command(*how, "--save", str(saved)) + "; echo EXIT=$?", "Enter")
    pane.wait_for(lambda t: "step" in t and "introduction" in t.lower(), timeout=60)
    for _ in range(2):  # listen, then connect
        pane.send("Space")
    pane.wait_for(lambda t: "SYN,ACK" in t, timeout=30)
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=30)
    flags = [p.flag_list for p in packets(saved)]
    assert flags[:3] == [("SYN",), ("SYN", "ACK"), ("ACK",)]  # then q closes the sockets


def test_predict_in_a_real_terminal(need_capture: None, pane: Pane) -> None:
    pane.send(command("classroom", "basic", "--predict") + "; echo EXIT=$?", "Enter")
    pane.wait_for(lambda t: "predict: on" in t, timeout=60)
    pane.send("Space")  # listen, then: how many packets?
    pane.wait_for(lambda t: "How many packets" in t, timeout=30)
    pane.send("1")  # none
    pane.wait_for(lambda t: "✓ Right: packets: 0" in t, timeout=30)
    pane.send("Space")  # connect: asked how many packets
    pane.wait_for(lambda t: "How many packets" in t, timeout=30)
    assert "seq=0" not in pane.text()  # no arrow on the ladder yet
    pane.send("q")
    pane.wait_for(lambda t: "EXIT=0" in t, timeout=30)


def test_serve_predict_starts_every_lesson_tab_in_predict_mode(tmp_path: Path) -> None:
    import shutil as sh

    from handshake_viz.classroom.session import SessionFolder
    from handshake_viz.classroom.web import ClassroomServer
    from handshake_viz.cli.serve import bind_listener

    sock = bind_listener("127.0.0.1", 0)
    server = ClassroomServer("basic", "zh", sock, "http://127.0.0.1", predict=True)
    try:
        session = SessionFolder(tmp_path / "tab")
        for mode in ("lesson", "teach"):
            argv = server.tab_command(mode, session)
            assert "--predict" in argv and argv[-1] == "basic"
        assert "--predict" not in server.tab_command("follow", None)  # followers are told
    finally:
        sock.close()
        sh.rmtree(server.root, ignore_errors=True)
