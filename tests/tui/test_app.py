"""Every control and view of the app, driven with Pilot (App.run_test)."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from textual.binding import Binding
from textual.widgets import Input, Static, TabbedContent

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.binding_words import localized
from handshake_viz.tui.connections import ConnectionsView, connection_text
from handshake_viz.tui.detail import PacketDetail
from handshake_viz.tui.help import HelpScreen
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import load
from tests.helpers.fakes import FakeSource, wait_dissection, wait_indexed
from tests.helpers.paths import DATA, HTTP_GET

SIZE = (140, 36)


def ladder_lines(app: TimelineApp) -> list[str]:
    ladder = app.query_one(LadderView)
    return [ladder.render_line(y).text for y in range(ladder.size.height)]


def working_bindings(app: TimelineApp) -> list[Binding]:
    """The app's bindings whose keys do something here (`check_action`), described in English
    (the classes declare catalog keys)."""
    en = load("en")
    return [localized(b, en) for b in app.BINDINGS if isinstance(b, Binding)
            and app.check_action(b.action.split("(")[0], ()) is not False]  # fmt: skip


def status(app: TimelineApp) -> str:
    return str(app.query_one("#status", Static).render())


async def test_replay_opens_on_first_event_and_plays(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), pause=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        assert "SYN seq=0" in ladder_lines(app)[1]
        assert 1 <= app.view.visible_count < 14 and "▶ 1x" in status(app)
        left, t0 = 14 - app.view.visible_count, time.monotonic()
        while app.view.playing and time.monotonic() - t0 < 5:
            await pilot.pause(0.05)
        # 0.1 s per event: a person's pace, not all at once
        assert time.monotonic() - t0 > 0.1 * (left - 1)
        assert app.view.visible_count == 14 and "⏸ 1x" in status(app)  # stopped at the end


async def test_space_pauses_and_steps(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        assert app.view.visible_count == 1 and "⏸" in status(app)
        await pilot.press("right", "n")
        assert app.view.visible_count == 3
        assert "SYN,ACK" in ladder_lines(app)[2]
        await pilot.press("left")
        assert app.view.visible_count == 2
        await pilot.press("p")
        assert app.view.visible_count == 1
        await pilot.press("space")
        assert app.view.playing and "▶" in status(app)
        await pilot.press("space")
        assert not app.view.playing


async def test_speed_keys_and_step_mode(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("plus")
        assert app.view.speed == 2.0 and "2x" in status(app)
        for _ in range(7):
            await pilot.press("minus")
        assert app.view.speed == 0.01
        await pilot.press("minus")
        assert app.view.speed is None and "step" in status(app)
        await pilot.press("space")
        await pilot.pause(0.3)
        assert app.view.visible_count == 1  # step mode: nothing moves until a key
        await pilot.press("right")
        assert app.view.visible_count == 2


async def test_home_and_end(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        assert app.view.visible_count == 14
        assert "ACK seq=138 ack=5009" in ladder_lines(app)[14]
        await pilot.press("home")
        assert app.view.visible_count == 1


async def test_end_shows_the_last_row_of_a_file_longer_than_the_screen() -> None:
    # 39 packets on a 26-line ladder: the vertical scrollbar shows, and once made a horizontal
    # one appear too (lines one column wider than the room left), which covered the last row.
    app = make_app(
        ReplaySource(DATA / "tshark" / "zeek__tcp_retransmit-fast009.pcap"), autoplay=False
    )
    async with app.run_test(size=(150, 32)) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        await pilot.pause()
        ladder, connections = app.query_one(LadderView), app.query_one(ConnectionsView)
        assert ladder.show_vertical_scrollbar
        assert not ladder.show_horizontal_scrollbar
        assert not connections.show_horizontal_scrollbar
        assert "RST,ACK seq=475 ack=23784" in ladder_lines(app)[-1]
        assert connections.render_line(0).text.startswith(" 1 connection ·")


async def test_ladder_shows_states_phases_and_socket_calls(demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=(190, 36)) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        lines = ladder_lines(app)
        assert "141.142.228.5:59856" in lines[0] and "192.150.187.43:80" in lines[0]
        assert "listen() → ok ●" in lines[3] and "▌listen" in lines[3]
        assert "● connect()" in lines[4]
        assert "SYN-SENT" in lines[5] and "▌request" in lines[5]
        assert "ESTABLISHED" in lines[6] and "▌confirm" in lines[6]
        assert "TIME-WAIT" in lines[17] and "LAST-ACK" in lines[17]
        assert "+0.069740" in lines[6]  # time since the row before
        legend = str(app.query_one("#legend", Static).render())
        for word in ("listen", "request", "confirm", "data", "teardown", "reset"):
            assert word in legend


async def test_selection_and_packet_detail(http_events: list[Event]) -> None:
    source = ReplaySource(HTTP_GET)
    app = make_app(source, autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", *["up"] * 12)  # the SYN-ACK is selected
        await pilot.press("enter")
        side = app.query_one("#side", TabbedContent)
        assert side.active == "packet"
        detail = app.query_one(PacketDetail)
        assert detail.row == 1
        summary = str(detail.query_one("#summary", Static).render())
        assert "frame 2" in summary and "SYN,ACK" in summary and "mss=" in summary
        explanation = str(detail.query_one("#explanation", Static).render())
        assert "ISN + 1" in explanation
        text = await wait_dissection(detail, pilot, "###[ TCP ]###")
        assert "###[ TCP ]###" in text and "flags     = SA" in text
        assert detail.has_focus  # Enter gave it the keys; Esc gives them back to the ladder
        await pilot.press("escape", "down", "down")  # a data segment: payload as hex and text
        text = await wait_dissection(detail, pilot, "payload")
        assert "payload, 136 bytes" in text and "GET" in text
        assert "136 bytes" in str(app.query_one("#explain", Static).render())


async def test_mouse_click_selects_a_row(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        await pilot.click(LadderView, offset=(20, 4))
        assert app.query_one(LadderView).selected == 3
        assert app.query_one(PacketDetail).row == 3


async def test_filter(demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash")
        box = app.query_one("#filter", Input)
        assert box.display and box.has_focus
        await pilot.press(*"fin", "enter")
        assert not box.display
        assert app.view.visible_count == 2 and "filter 'fin'" in status(app)
        assert "FIN,ACK" in ladder_lines(app)[1]
        said: list[str] = []
        app.notify = lambda message, **kw: said.append(message)  # type: ignore[method-assign]
        await pilot.press("slash", *["ctrl+a"], *"nonsense", "enter")  # before "fin"
        assert box.display and app.view.filter.text == "fin"  # a bad filter keeps the old one
        assert len(said) == 1 and said[0].startswith(
            "not understood: 'nonsensefin'; words side by side: of one kind, either (80 443)"
        )
        await pilot.press("escape")
        assert not box.display
        await pilot.press("escape")  # clears the filter
        assert app.view.filter.empty and app.view.visible_count == 18


async def test_connections_choose_one_then_all(http_events: list[Event]) -> None:
    events = list(http_events)
    # a second, short connection on another stream: a SYN answered by a RST
    syn = next(e for e in events if isinstance(e, PacketEvent))
    from dataclasses import replace

    from handshake_viz.core.events import Phase, TcpState

    second = [
        replace(syn, frame=100, stream=1, sport=40000, time=syn.time + 1),
        replace(syn, frame=101, stream=1, src=syn.dst, dst=syn.src, sport=80, dport=40000,
                dir="s2c", flags=0x14, ack=1, phase=Phase.RESET, time=syn.time + 1.001,
                client_state=TcpState.CLOSED, server_state=TcpState.LISTEN),
    ]  # fmt: skip
    app = make_app(FakeSource([*events[:14], *second, *events[14:]]), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "1")
        conns = app.query_one(ConnectionsView)
        assert conns.has_focus
        lines = [conns.render_line(y).text for y in range(4)]
        assert "2 connections" in lines[0] and "all connections" in lines[1]
        assert "✓" in lines[2] and "fin" in lines[2] and lines[2].rstrip().endswith(":80")
        assert "↑136B ↓5007B" in connection_text(app.timeline.streams[0])  # where room allows
        assert "tcp 1" in lines[3] and "rst" in lines[3]
        await pilot.press("down", "down", "enter")
        assert app.view.visible_count == 2 and "tcp stream 1" in status(app)
        await pilot.press("up", "up", "enter")
        assert app.view.filter.empty and app.view.visible_count == 16
        await pilot.click(ConnectionsView, offset=(5, 2))
        assert app.view.visible_count == 14


async def test_live_follows_freezes_and_counts_new(http_events: list[Event]) -> None:
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    source = FakeSource(live=True)
    app = make_app(source)
    async with app.run_test(size=(140, 12)) as pilot:
        ladder = app.query_one(LadderView)
        await pilot.pause(0.3)  # started and idle, as a live capture waiting for traffic
        t0 = time.monotonic()
        source.push(packets[0])
        while app.view.visible_count < 1 and time.monotonic() - t0 < 2:
            await pilot.pause(0.005)
        assert time.monotonic() - t0 < 0.2  # on screen within a tick or two
        assert "live" in status(app)
        source.push(*packets[1:10])
        await pilot.pause(0.2)
        assert ladder.following and ladder.selected == 9
        assert ladder.scroll_y > 0  # the newest row stays at the bottom
        await pilot.press("up")
        assert not ladder.following
        source.push(*packets[10:13])
        await pilot.pause(0.2)
        assert "frozen, 3 new" in status(app)
        await pilot.press("f")
        assert ladder.following and ladder.selected == 12
        assert "frozen" not in status(app)
        await pilot.press("home")
        assert not ladder.following
        await pilot.press("end")
        assert ladder.following
        await pilot.press("q")
    assert source.stopped


async def test_mouse_scroll_up_freezes_live(http_events: list[Event]) -> None:
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    source = FakeSource(packets, live=True)
    app = make_app(source)
    async with app.run_test(size=(140, 10)) as pilot:
        await pilot.pause(0.2)
        ladder = app.query_one(LadderView)
        assert ladder.following
        # what the wheel does (Pilot has no wheel): Widget._on_mouse_scroll_up
        ladder._scroll_up_for_pointer(animate=False)
        await pilot.pause(0.1)
        assert not ladder.following
        source.close()


async def test_help_lists_every_key(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        for b in working_bindings(app):
            assert b.description in text
        assert "Follow newest" not in text  # a replay: nothing to follow
        for desc in ("Previous row", "Show this connection", "Every action by name"):
            assert desc in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_holds_every_action(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for b in working_bindings(app):
            assert b.description in titles
        assert {"Export timeline as Mermaid", "Export screenshot (SVG)"} <= titles
        assert any("theme" in t.lower() for t in titles)
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        await pilot.press(*"Step forward")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.view.visible_count == 2


async def test_export_svg_text_mermaid(tmp_path: Path, demo_events: list[Event]) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "e")
        await pilot.pause(0.1)
    svg = next(tmp_path.glob("*.svg")).read_text()
    assert svg.startswith("<svg") and "SYN" in svg
    text = next(tmp_path.glob("*.txt")).read_text()
    assert "listen() → ok" in text and "SYN,ACK seq=0 ack=1 len=0" in text
    mmd = next(tmp_path.glob("*.mmd")).read_text()
    assert mmd.startswith("sequenceDiagram")
    assert "C1->>S0: SYN seq=0 len=0" in mmd
    assert "Note over S0: listen() → ok" in mmd


async def test_toggle_side_panel_and_theme(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        wide_before = app.query_one(LadderView).size.width
        await pilot.press("b")
        await pilot.pause()
        assert not app.query_one("#side").display
        assert app.query_one(LadderView).size.width > wide_before
        app.theme = "textual-light"
        await pilot.pause()
        assert app.query_one(LadderView).rich_style.bgcolor is not None


async def test_quit_stops_the_source(http_events: list[Event]) -> None:
    source = FakeSource(http_events, live=True)  # never ends by itself
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("q")
    assert source.stopped
    assert app.ingest_finished.wait(1.0)
    assert app.return_code == 0


def test_status_bar_says_how_much_of_a_file_is_read() -> None:
    from handshake_viz.core.events import CaptureStats
    from handshake_viz.tui.statusbar import status_text

    def line(done: bool = False, progress: float | None = None, live: bool = False) -> str:
        text = status_text(
            "big.pcap",
            CaptureStats(source="big.pcap"),
            shown=1,
            indexed=5000,
            streams=500,
            mode="⏸ 1x",
            done=done,
            progress=progress,
            live=live,
        )
        return str(text)

    assert "1/5,000 events (reading… 45%)" in line(progress=0.456)
    assert "1/5,000 events (reading…) ·" in line()  # stdin: no size to compare with
    assert "reading" not in line(done=True, progress=1.0)
    assert "reading" not in line(live=True)  # a capture going on is not a file being read


async def test_source_error_is_shown(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(HTTP_GET.read_bytes()[:-20])
    app = make_app(ReplaySource(cut), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.pause(0.1)
        assert app.error and "cut short" in app.error
        assert "cut short" in status(app)
        assert app.timeline.count == 13


async def test_big_file_is_indexed_by_worker_processes(monkeypatch, tmp_path: Path) -> None:
    from handshake_viz.sources.parallel import decode_worker
    from tests.helpers.captures import write_loopback_capture

    path = tmp_path / "big.pcap"
    packets = write_loopback_capture(path, 2_000)
    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)  # "big" from 0 bytes
    decode_worker.prepare()  # as run_replay does before the TUI takes the standard streams
    app = make_app(ReplaySource(path, parallel=True), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot, timeout=30)
        assert gc.isenabled()  # paused while the rows came in, and only then
        assert app.timeline.count == packets and len(app.timeline.streams) == packets // 10
        assert "SYN seq=0" in ladder_lines(app)[1]
        await pilot.press("end")
        assert app.view.visible_count == packets
        await pilot.press("slash", *"port:32778", "enter")  # one stream (the 6th), in its span
        await pilot.pause(0.1)
        assert app.view.matched == 10
        await pilot.press("2")  # the detail view re-reads the selected frame from the file
        assert await wait_dissection(app.detail, pilot, "TCP")


async def test_quit_while_workers_index_leaves_no_process(monkeypatch, tmp_path: Path) -> None:
    import multiprocessing

    from handshake_viz.sources.parallel import decode_worker
    from tests.helpers.captures import write_loopback_capture

    path = tmp_path / "big.pcap"
    write_loopback_capture(path, 30_000)
    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)
    decode_worker.prepare()
    app = make_app(ReplaySource(path, parallel=True), autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        while not app.timeline.count:
            await pilot.pause(0.02)
        await pilot.press("q")
    assert app.ingest_finished.wait(5.0)
    assert app.timeline.count < 300_000  # it quit before the end
    assert multiprocessing.active_children() == []


def _footer_keys(app: TimelineApp) -> set[str]:
    return {b.binding.key_display or b.binding.key for b in app.active_bindings.values()
            if b.binding.show}  # fmt: skip


async def test_playback_keys_in_a_replay_follow_in_a_live_capture(http_events: list[Event]) -> None:
    replay = make_app(FakeSource(http_events), autoplay=False)
    async with replay.run_test(size=SIZE) as pilot:
        await wait_indexed(replay, pilot)
        assert {"space", "→/n", "+", "-"} <= _footer_keys(replay) and "f" not in _footer_keys(
            replay
        )
        help_keys = {b.action for _, bs in replay.key_sections() for b in bs}
        assert "toggle_play" in help_keys and "follow" not in help_keys
    source = FakeSource(live=True)
    live = make_app(source)
    async with live.run_test(size=SIZE) as pilot:
        source.push(*http_events[:3])
        await pilot.pause(0.2)
        keys = _footer_keys(live)
        assert "f" in keys and not {"space", "→/n", "←/p", "+", "-"} & keys
        help_keys = {b.action for _, bs in live.key_sections() for b in bs}
        assert "follow" in help_keys and not {"toggle_play", "step(1)", "faster"} & help_keys
        await pilot.press("space", "plus")  # inert: nothing to play in a live capture
        assert live.view.speed == 1.0
        source.close()


async def test_a_narrow_screen_shows_the_side_panel_instead_of_the_ladder(
    http_events: list[Event],
) -> None:
    app = make_app(FakeSource(http_events), autoplay=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_indexed(app, pilot)
        pane, side = app.query_one("#ladder-pane"), app.query_one("#side")
        assert pane.display and not side.display  # 80 columns: the ladder alone
        await pilot.press("end", "enter")  # the packet detail of the last row
        assert side.display and not pane.display and side.has_class("alone")
        assert side.size.width == 80
        await pilot.press("escape")  # back, with the keys on the ladder again
        assert pane.display and not side.display and app.ladder.has_focus
        await pilot.press("1", "down", "enter")  # a connection chosen: its ladder shows
        await pilot.pause()
        assert pane.display and not side.display
        assert app.view.filter.sids == frozenset({0})
        await pilot.press("b")
        assert not pane.display
        await pilot.resize_terminal(140, 30)  # wide enough: side by side
        await pilot.pause()
        assert pane.display and side.display and not side.has_class("alone")


async def test_the_explanations_speak_the_apps_language(http_events: list[Event]) -> None:
    app = make_app(FakeSource(http_events), autoplay=False, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("right")  # the SYN-ACK
        words = str(app.query_one("#explain", Static).render())
        assert "SYN-ACK" in words and "客户端的 ISN + 1" in words


async def test_a_long_explanation_is_cut_to_its_box_and_points_to_the_rest() -> None:
    from handshake_viz.tui.app import EXPLAIN_LINES

    app = make_app(ReplaySource(DATA / "tshark" / "zeek__tcp_retransmit-fast009.pcap"),
                   autoplay=False)  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", *["up"] * 7)  # the fast retransmission: four lines at 78
        await pilot.pause()
        lines = str(app.query_one("#explain", Static).render()).splitlines()
        assert len(lines) == EXPLAIN_LINES and lines[-1].endswith("… (Enter: all of it)")
        assert all(len(line) <= 78 for line in lines)
        await pilot.press("enter")  # the whole of it, in the packet detail
        detail = str(app.query_one(PacketDetail).query_one("#explanation", Static).render())
        assert "did not wait for its timer" in detail


def test_fit_lines_counts_cells_not_characters() -> None:
    from rich.console import Console

    from handshake_viz.tui.app import fit_lines

    zh = "服务器发出 1430 字节数据：第 12871 到第 14300 字节。" * 4  # two cells a character
    text = fit_lines(zh, 40, 3, " …（更多）", Console(width=40))
    lines = text.plain.splitlines()
    assert len(lines) == 3 and lines[-1].endswith("…（更多）")
    assert fit_lines("short", 40, 3, " …", Console()).plain == "short"
