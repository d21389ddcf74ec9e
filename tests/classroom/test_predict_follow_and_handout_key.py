"""What predict mode and the handout key do beyond the teacher's screen: a student following
the teacher sees no packet the class has not predicted yet; h writes the handout of what the
class has seen, beside the teacher."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from handshake_viz.classroom.app import make_classroom_app
from handshake_viz.classroom.follow import FollowApp, FollowSource
from handshake_viz.classroom.session import SessionFolder, StreamWriter, name_teacher
from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.fakes import read_events
from tests.helpers.paths import ROOT

BASIC = ROOT / "captures" / "basic.pcap"


async def wait(pilot, check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        await pilot.pause(0.05)


async def test_a_follower_holds_back_what_the_teachers_class_has_not_predicted(
    tmp_path: Path,
) -> None:
    session = SessionFolder(tmp_path / "tab-1")
    session.path.mkdir()
    writer = StreamWriter(session.stream)
    name_teacher(tmp_path, session)
    packets = [e for e in read_events(BASIC) if isinstance(e, PacketEvent)][:3]
    writer.panels(step="step 2 of 5", words="", keys="", kernel="", hold=None)
    writer.panels(step="How many packets?", words="", keys="", kernel="", hold=0)
    for ev in packets:
        writer.event(ev)
    app = FollowApp(FollowSource(tmp_path, "en"), "en")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait(pilot, lambda: app.timeline.count == 3)
        await pilot.pause(0.4)
        assert app.view.visible_count == 0  # three packets came, none is shown
        writer.panels(step="✓ packets: 3", words="", keys="", kernel="", hold=1)
        await wait(pilot, lambda: app.view.visible_count == 1)
        writer.panels(step="Say: ...", words="", keys="", kernel="", hold=None)
        await wait(pilot, lambda: app.view.visible_count == 3)
        writer.close()
        await pilot.press("q")


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_h_writes_the_handout_of_what_the_class_has_seen(
    need_capture: None, port: int, tmp_path: Path, lang: str
) -> None:
    app = make_classroom_app("basic", lang, port=port, export_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        for n in (1, 2):  # listen, connect
            await pilot.press("space")
            await wait(pilot, lambda n=n: app.steps_done >= n)
        await wait(pilot, lambda: sum(1 for r in range(app.timeline.count)
                                      if app.timeline.sid[r] >= 0) >= 3)  # fmt: skip
        await pilot.press("h")
        html = tmp_path / f"handout-basic-{lang}.html"
        await wait(pilot, html.exists)
        await pilot.press("q")
    pcap = html.with_suffix(".pcap")
    flags = [e.flag_list for e in ReplaySource(pcap).events() if isinstance(e, PacketEvent)]
    assert flags[:3] == [("SYN",), ("SYN", "ACK"), ("ACK",)]
    page = html.read_text(encoding="utf-8")
    assert page.count('<tr class="packet">') == 2 * 3  # the worksheet and the answer key
    assert page.count(app.cat.text("handout.nothing_yet")) == 3  # accept, send, close
    assert app.cat.text("handout.written", html=html, pcap=pcap) in [
        n.message for n in app._notifications
    ]
