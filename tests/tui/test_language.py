"""The app speaks its language: every word of the footer, the help, the status bar and the
ladder's headers comes from the catalog (`--lang zh` leaves no English word there)."""

from __future__ import annotations

import re
from typing import Any

from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Footer, Input, Static

from handshake_viz.classroom.screen import ClassroomApp
from handshake_viz.core.events import Event
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.help import HelpScreen
from handshake_viz.tui.keys import PALETTE_BINDING
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load
from tests.helpers.fakes import FakeSource, wait_indexed

SIZE = (150, 34)

KEY_NAMES = {"space", "home", "end", "escape", "up", "down", "pageup", "pagedown", "enter",
             "ctrl", "tab"}  # fmt: skip
"""Keys as the help names them: the keyboard's words, in every language."""
FILTER_WORDS = {"port", "syn", "ack", "fin", "rst", "psh", "listen", "request", "confirm",
                "data", "teardown", "reset", "datagram", "stream", "tcp", "udp", "host", "time",
                "retrans", "dupack", "zerowin", "ooo", "lost", "keepalive", "winupdate",
                "analysis", "and", "or", "not", "tshark"}  # fmt: skip
"""What the filter understands, typed as it is in every language."""


async def footer_words(app: TimelineApp, pilot: Any) -> list[str]:
    """What the footer says each key does, once it has drawn them (after a refresh)."""
    for _ in range(100):
        words = [k.description for k in app.screen.query_one(Footer).query("FooterKey")]
        if words:
            return words
        await pilot.pause(0.02)
    return []


def latin_words(text: str) -> set[str]:
    """Words of two Latin letters or more: English left on a Chinese screen."""
    return set(re.findall(r"[A-Za-z]{2,}", text))


async def test_chinese_footer_help_status_and_column_headers(http_events: list[Event]) -> None:
    source = FakeSource(http_events)
    app = make_app(source, autoplay=False, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("right")

        footer = await footer_words(app, pilot)
        assert "播放/暂停" in footer and "命令面板" in footer and len(footer) >= 10
        assert latin_words(" ".join(footer)) == set()

        status = str(app.query_one("#status", Static).render())
        assert "个事件" in status and "丢包" in status
        assert latin_words(status.replace(source.description, "")) == set()

        await pilot.press("b")  # the whole width: every column, and both ends named
        await pilot.pause()
        header = app.query_one(LadderView).render_line(0).text
        for word in ("时间", "Δ 间隔", "阶段", "连接", "状态", "客户端", "服务器", "帧"):
            assert word in header
        assert latin_words(header) == set()

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        title, keys, filter_help, mouse = (str(w.render()) for w in app.screen.query(Static))
        assert latin_words(title) <= {"handshake", "viz", "escape"}
        for line in keys.splitlines():
            if line.startswith("  "):  # a key, then what it does
                key, what = line[:18], line[18:]
                assert latin_words(key) <= KEY_NAMES and what and not latin_words(what), line
            else:  # a section's title
                assert not latin_words(line), line
        assert "任何位置" in keys and "时序图" in keys and "命令面板" in keys
        assert latin_words(filter_help) <= FILTER_WORDS
        assert "鼠标" in mouse and not latin_words(mouse)


async def test_the_command_palette_speaks_chinese(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        commands = list(app.get_system_commands(app.screen))
        titles = {c.title for c in commands}
        assert {"前进一步", "把时序图导出为 Mermaid", "主题", "退出"} <= titles
        words = latin_words(" ".join(f"{c.title} {c.help}" for c in commands))
        formats = {"SVG", "Mermaid", "sequenceDiagram", "pcap", "Wireshark"}  # their own names
        assert words <= KEY_NAMES | formats
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one(Input).placeholder == "搜索命令…"


def test_every_binding_is_declared_by_a_catalog_key() -> None:
    en = load("en")
    for node in (TimelineApp, LadderView, ConnectionsView, HelpScreen, ClassroomApp):
        for b in node.BINDINGS:
            assert isinstance(b, Binding) and en.has(b.description), (node.__name__, b)
    assert en.has(PALETTE_BINDING.description)


async def test_two_apps_in_two_languages_do_not_meet(http_events: list[Event]) -> None:
    # Built first: saying its bindings in Chinese must leave the class's own as they are.
    zh = make_app(FakeSource(http_events), autoplay=False, lang="zh")
    en = make_app(FakeSource(http_events), autoplay=False)
    async with en.run_test(size=SIZE) as pilot:
        await wait_indexed(en, pilot)
        footer = await footer_words(en, pilot)
        assert "Play/pause" in footer and "palette" in footer
    assert zh.lang == "zh"


async def test_a_filter_error_in_chinese(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        said: list[str] = []
        app.notify = lambda message, **kw: said.append(message)  # type: ignore[method-assign]
        await pilot.press("slash", *"banana", "enter")
        assert len(said) == 1 and said[0].startswith("无法理解：'banana'；并列的词")
        assert app.query_one("#filter", Input).placeholder.startswith("过滤：")
