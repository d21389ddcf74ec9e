"""Handouts: a lesson's steps and ladder on one printable HTML page, its capture beside it, in
English and Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handshake_viz.classroom.guided import SCRIPTS, GuidedRun
from handshake_viz.classroom.handout import (
    Handout,
    export_handout,
    handout_paths,
    timeline_of,
    write_handout,
)
from handshake_viz.classroom.handout_fonts import EMBEDDED, needs_cjk
from handshake_viz.classroom.handout_html import handout_html
from handshake_viz.classroom.stepper import Stepper
from handshake_viz.core.events import PacketEvent
from handshake_viz.demo.tracing import ListRecorder
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.catalog import load
from tests.helpers.paths import ROOT

BASIC = ROOT / "captures" / "basic.pcap"


def basic_handout(lang: str) -> Handout:
    """The basic lesson's words over the bundled capture of the basic demo: its handshake
    under the connect step, its data under send, its close under close."""
    tl = timeline_of(ReplaySource(BASIC).events())
    run = GuidedRun(SCRIPTS["basic"], Stepper(ListRecorder(), 9000, lang=lang), lang)
    begun = {2: tl.time[0], 4: tl.time[3], 5: tl.time[7]}  # when each step's calls began
    return Handout.from_timeline(tl, run, begun, lang, "basic.pcap")


def test_each_event_goes_under_the_step_begun_before_it() -> None:
    sections = basic_handout("en").sections
    flags = [[r.event.flag_list for r in s.rows if isinstance(r.event, PacketEvent)]
             for s in sections]  # fmt: skip
    assert flags == [
        [], [], [("SYN",), ("SYN", "ACK"), ("ACK",)], [],
        [("PSH", "ACK"), ("ACK",), ("PSH", "ACK"), ("ACK",)],
        [("FIN", "ACK"), ("FIN", "ACK"), ("ACK",)],
    ]  # fmt: skip


def packets(path: Path) -> list[PacketEvent]:
    return [e for e in ReplaySource(path).events() if isinstance(e, PacketEvent)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_has_every_step_a_blank_for_each_number_and_an_answer_key(lang: str) -> None:
    h = basic_handout(lang)
    page = handout_html(h, embed_fonts=False)
    cat = load(lang)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">' in page
    for section in h.sections:
        assert section.say.replace("“", "&ldquo;") in page or section.say in page.replace(
            "&#x27;", "'"
        ).replace("&quot;", '"')
    # ten packets: two states each and a seq blank, an ack blank for the nine with ACK
    assert page.count('<td class="blank">') == 10 * 3 + 9
    answers = page.split('<section class="answers">')[1]
    for ev in packets(BASIC):
        assert f'<td class="num">{ev.seq}</td>' in answers
    assert "SYN-RECEIVED" in answers and "TIME-WAIT" in answers
    assert cat.text("handout.worksheet") in page and cat.text("handout.answers") in page
    assert "basic.pcap" in page
    assert "background: #ffffff" in page  # printed on white


def test_a_chinese_page_carries_the_glyphs_it_uses_and_names_its_fonts() -> None:
    page = handout_html(basic_handout("zh"))
    assert "@font-face" in page and "data:font/woff;base64," in page
    fonts = re.search(r'<meta name="fonts" content="([^"]+)"', page)
    assert fonts is not None and "Noto Sans CJK SC" in fonts.group(1)
    assert EMBEDDED in page and "Noto Sans CJK SC" in page.split("<footer>")[1]
    english = handout_html(basic_handout("en"))
    assert "@font-face" not in english and not needs_cjk(english.split("<style>")[0])


def test_paths_beside_each_other_in_a_folder_or_as_named(tmp_path: Path) -> None:
    assert handout_paths(tmp_path, "basic", "zh") == (
        tmp_path / "handout-basic-zh.html",
        tmp_path / "handout-basic-zh.pcap",
    )
    assert handout_paths(tmp_path / "x.html", "basic", "en")[1] == tmp_path / "x.pcap"
    pcap = write_handout(basic_handout("en"), tmp_path / "out" / "b.html", BASIC)
    assert pcap == tmp_path / "out" / "b.pcap" and pcap.read_bytes() == BASIC.read_bytes()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_basic_lesson_handout_runs_the_lesson_for_real(
    need_capture: None, port: int, tmp_path: Path, lang: str
) -> None:
    html, pcap = export_handout("basic", tmp_path / f"basic-{lang}.html", lang, port=port)
    assert html.exists() and pcap == tmp_path / f"basic-{lang}.pcap"
    captured = packets(pcap)
    assert [p.flag_list for p in captured[:3]] == [("SYN",), ("SYN", "ACK"), ("ACK",)]
    assert captured[-1].flag_list == ("ACK",) and len(captured) == 10
    page = html.read_text(encoding="utf-8")
    assert pcap.name in page
    for p in captured:  # the # column is the capture's frame number, as Wireshark's No.
        assert f'<td class="n">{p.frame}</td>' in page
    calls = re.findall(r'<div class="call (\w+)">(\w+)\(\)', page)
    assert calls.count(("server", "listen")) == 2  # the worksheet and the answer key
    assert ("client", "connect") in calls and ("server", "accept") in calls
    # run again: the earlier handout and capture are replaced
    html2, pcap2 = export_handout("basic", html, lang, port=port)
    assert (html2, pcap2) == (html, pcap) and len(packets(pcap)) == 10


def test_refused_handout(need_capture: None, port: int, tmp_path: Path) -> None:
    html, pcap = export_handout("refused", tmp_path / "refused.html", port=port)
    assert [p.flag_list for p in packets(pcap)] == [("SYN",), ("RST", "ACK")]
    page = html.read_text(encoding="utf-8")
    assert "connect()" in page and "RST,ACK" in page
