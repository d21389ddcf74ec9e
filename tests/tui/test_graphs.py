"""The graph pane, driven with Pilot: `g` opens the chosen connection's graph under the
ladder, t r i w switch kinds, the ladder's cursor is a marker on the graph, a click or an
arrow on the graph selects its packet on the ladder, e exports the graph beside the ladder
exports."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from handshake_viz.core.events import Event, PacketEvent
from handshake_viz.model.graphs_series import GraphKind
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.graphs import LOOK, GraphPane, GraphPlot
from handshake_viz.words.catalog import load
from tests.helpers.fakes import FakeSource, wait_indexed
from tests.helpers.graphs import (
    LOOPBACK,
    LOSS_STREAM,
    SYN_RETRANSMISSION_STREAM,
    ZERO_WINDOW_STREAM,
    open_graph,
    wait_graph,
)
from tests.helpers.paths import TSHARK_DATA

SIZE = (140, 44)


def loopback_app(**kw: object) -> TimelineApp:
    source = ReplaySource(LOOPBACK)
    source.description = LOOPBACK.name
    return make_app(source, autoplay=False, **kw)  # type: ignore[arg-type]


def selected_row(app: TimelineApp) -> int | None:
    index = app.ladder.selected
    return None if index is None else app.view.row_at(index)


async def test_g_opens_the_chosen_connections_time_sequence() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, LOSS_STREAM)
        graph = pane.plot.graph
        assert graph.kind is GraphKind.TSG
        assert app.timeline.streams[graph.sid].stream == LOSS_STREAM
        legend = str(pane.query_one("#graph-legend").render())
        assert "client→server retransmissions" in legend
        assert "Time-sequence · tcp stream 3" in pane.plot.render().plain
        await pilot.press("g")
        assert not pane.display and app.ladder.has_focus
        await pilot.press("g")
        assert pane.display and pane.has_focus


async def test_t_r_i_w_switch_the_kind() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, LOSS_STREAM)
        for key, kind, words in (("r", GraphKind.RTT, "RTT of client→server data"),
                                 ("i", GraphKind.INFLIGHT, "client→server bytes in flight"),
                                 ("w", GraphKind.WINDOW, "window the server advertises"),
                                 ("t", GraphKind.TSG, "client→server segments")):  # fmt: skip
            await pilot.press(key)
            await wait_graph(app, pilot)
            assert pane.plot.graph.kind is kind
            assert words in str(pane.query_one("#graph-legend").render())


async def test_the_ladders_cursor_is_a_marker_on_the_graph() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, LOSS_STREAM)
        app.ladder.focus()
        await pilot.press("up", "up", "up")
        await pilot.pause(LOOK * 2)
        row = selected_row(app)
        assert pane.plot.marker_row == row
        assert pane.plot.graph.points_of(row)  # the marker has its points
        plain = pane.plot.render().plain
        assert "●" in plain


async def test_clicking_a_point_selects_its_packet_on_the_ladder() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, LOSS_STREAM)
        plot = pane.query_one(GraphPlot)
        plot.render()
        resent = next(s for s in plot.graph.series if s.key == "retransmission" and len(s))
        target = resent.rows[len(resent) // 2]
        i = len(resent) // 2
        col, line = plot.area.cell_of(resent.xs[i], resent.ys[i], plot._box)
        await pilot.click(GraphPlot, offset=(col, line))
        await pilot.pause(0.1)
        chosen = selected_row(app)
        # The nearest point to that cell: the retransmission, or a packet drawn in the same
        # cell (a terminal cell holds several microseconds of a loopback transfer).
        assert chosen is not None and plot.graph.points_of(chosen)
        assert abs(app.timeline.time[chosen] - app.timeline.time[target]) < 0.001
        assert plot.marker_row == chosen


async def test_arrows_on_the_graph_step_through_its_packets() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, SYN_RETRANSMISSION_STREAM)
        rows = sorted({r for s in pane.plot.graph.series for r in s.rows})
        assert selected_row(app) == rows[-1] == pane.plot.marker_row  # the connection's last
        await pilot.press("left")
        assert selected_row(app) == rows[-2]
        await pilot.press("left", "left")
        assert selected_row(app) == rows[-4]
        await pilot.press("right")
        assert selected_row(app) == rows[-3] == pane.plot.marker_row


async def test_zoom_around_the_marker_and_back() -> None:
    app = loopback_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, ZERO_WINDOW_STREAM, "w")
        whole = pane.plot.graph.x_range()
        await pilot.press("plus", "plus")
        a, b = pane.plot.view
        assert abs((b - a) - (whole[1] - whole[0]) / 4) < 1e-9
        await pilot.press("minus")
        assert abs((pane.plot.view[1] - pane.plot.view[0]) - (whole[1] - whole[0]) / 2) < 1e-9
        await pilot.press("0")
        assert pane.plot.view is None


async def test_e_exports_the_graph_as_svg_and_csv(tmp_path: Path) -> None:
    app = loopback_app(export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_graph(app, pilot, ZERO_WINDOW_STREAM, "w")
        await pilot.press("e")
        for _ in range(100):
            await pilot.pause(0.05)
            if len(list(tmp_path.glob("*-window.*"))) == 2:
                break
    svg = next(tmp_path.glob("handshake-viz-*-window.svg")).read_text()
    assert svg.startswith("<svg") and "zero" in svg
    lines = next(tmp_path.glob("handshake-viz-*-window.csv")).read_text().splitlines()
    assert lines[0].startswith("frame,time,epoch,dir,window_field,scale,window,zero_window")
    assert sum(line.endswith(",1") for line in lines) == 2  # its two zero windows


async def test_no_tcp_connection_says_so() -> None:
    source = ReplaySource(TSHARK_DATA / "zeek__pcapng-multi-interface.pcapng")
    app = make_app(source, autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "g")
        await pilot.pause(0.3)
        assert "No TCP connection to graph yet" in str(app.query_one("#graph-head").render())


async def test_a_live_graph_grows_with_the_capture(http_events: list[Event]) -> None:
    packets = [e for e in http_events if isinstance(e, PacketEvent)]
    source = FakeSource(packets[:5], live=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("g")
        pane = await wait_graph(app, pilot)

        def last_row() -> int:
            return max(r for s in pane.plot.graph.series for r in s.rows)

        assert last_row() == 4  # the five packets captured so far
        source.push(*packets[5:])
        for _ in range(60):
            await pilot.pause(0.1)
            if last_row() == 13:
                break
        assert last_row() == 13  # the last packet is on the graph
        source.close()


def test_the_panes_keys_are_described_by_catalog_keys() -> None:
    en = load("en")
    for b in GraphPane.BINDINGS:
        assert isinstance(b, Binding) and en.has(b.description), b


async def test_the_graph_speaks_chinese() -> None:
    app = loopback_app(lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_graph(app, pilot, LOSS_STREAM)
        head = str(pane.query_one("#graph-head").render())
        assert "时间-序号图（Stevens）" in head and "往返时间" in head
        assert "客户端→服务器 重传" in str(pane.query_one("#graph-legend").render())
        assert "时间-序号图 · tcp 流 3" in pane.plot.render().plain
        keys = {b.key: b.description for b in pane._bindings.key_to_bindings.get("r", [])}
        assert keys == {"r": "图：往返时间"}
