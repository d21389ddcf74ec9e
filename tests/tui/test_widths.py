"""What each terminal width keeps, at 80x24, 120x35 and 200x50 (Pilot).

In order of importance: a socket call keeps its side's marker (a server's call never reads
as the client's), an arrow keeps its flags and ack before its seq, length and marks, the
ladder's header keeps the server's port (with several connections too) and cuts no address
in its middle, the connections list shows every connection's server port, and a stream
number is never cut (stream 20000 is not 2000).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handshake_viz.core.events import Event, PacketEvent, SocketEvent, flag_names
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import TimelineApp, make_app
from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.ladder import LadderView
from tests.helpers.craft import syns_from_ports
from tests.helpers.fakes import FakeSource, wait_indexed
from tests.helpers.graphs import LOOPBACK

SIZES = [(80, 24), (120, 35), (200, 50)]
SERVER = "192.150.187.43:80"
CLIENT = "141.142.228.5:59856"


def ladder_lines(app: TimelineApp) -> list[str]:
    ladder = app.query_one(LadderView)
    return [ladder.render_line(y).text for y in range(ladder.size.height)]


def middle(line: str) -> str:
    """The part of a ladder line between the two ends' columns."""
    return line.split("│")[1]


def with_long_server_calls(events: list[Event]) -> list[Event]:
    """The HTTP capture with the demo's calls, and the server's long ones where they go."""
    packets = [e for e in events if isinstance(e, PacketEvent)]
    third, fin = packets[2], next(p for p in packets if "FIN" in flag_names(p.flags))
    extra = [
        SocketEvent(third.time + 1e-6, "server", "accept", local=SERVER, remote=CLIENT,
                    result=f"new socket from {CLIENT}"),
        SocketEvent(fin.time + 1e-6, "server", "recv", local=SERVER, remote=CLIENT,
                    result="0 bytes (end of stream)"),
    ]  # fmt: skip
    timed = [e for e in events if isinstance(e, (PacketEvent, SocketEvent))]
    rest = [e for e in events if not isinstance(e, (PacketEvent, SocketEvent))]
    return [*sorted([*timed, *extra], key=lambda e: e.time), *rest]


async def see_every_row(app: TimelineApp, pilot: object) -> list[str]:
    """Every ladder line the user sees, moving the cursor from the first row to the last."""
    seen: list[str] = []
    await pilot.press("home")  # type: ignore[attr-defined]
    for _ in range(app.view.matched):
        seen += ladder_lines(app)[1:]
        await pilot.press("right")  # type: ignore[attr-defined]
    return [line for line in seen if "│" in line]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_calls_keep_their_side_and_fin_arrows_keep_their_ack(
    demo_events: list[Event], size: tuple[int, int]
) -> None:
    app = make_app(FakeSource(with_long_server_calls(demo_events)), autoplay=False)
    async with app.run_test(size=size) as pilot:
        await wait_indexed(app, pilot)
        lines = await see_every_row(app, pilot)
        calls = [middle(line) for line in lines if "()" in line]
        server = [c for c in calls if re.search(r"(accept|listen|bind|recv)\(", c)
                  and "●" not in c[:3]]  # fmt: skip
        assert any("accept()" in c for c in server) and any("recv()" in c for c in server)
        for call in calls:
            assert call.rstrip().endswith("●") != call.lstrip().startswith("●"), call
        for call in server:
            assert call.rstrip().endswith(" ●"), call  # the server's side, never the client's
            assert not call.startswith(("accept", "recv")), call  # not from the client's edge
        fins = [middle(line) for line in lines if "FIN" in line]
        assert fins and all("ack=" in f for f in fins), fins
        header = ladder_lines(app)[0]
        assert SERVER in header  # whole, never "…2.150.187.43:80"
        assert ("…:59856" in header or CLIENT in header) and ".142.228" not in header.replace(
            CLIENT, ""
        )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_connections_server_port_shows_in_the_list_and_the_header(
    size: tuple[int, int],
) -> None:
    app = make_app(ReplaySource(LOOPBACK), autoplay=False)
    async with app.run_test(size=size) as pilot:
        await wait_indexed(app, pilot, timeout=20)
        streams = app.timeline.streams
        assert {s.sport for s in streams} == {5001, 5002, 5003}
        header = ladder_lines(app)[0]
        assert all(f":{p}" in header for p in (5001, 5002, 5003)), header
        await pilot.press("1")
        await pilot.pause(0.2)
        view = app.query_one(ConnectionsView)
        lines = [view.render_line(y).text for y in range(len(streams) + 2)]
        for s, line in zip(streams, lines[2:], strict=True):
            assert f" {s.stream} " in line and f":{s.sport}" in line, line
            assert line.rstrip().endswith(f":{s.sport}"), line


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_stream_20000_is_shown_whole(tmp_path: Path, size: tuple[int, int]) -> None:
    capture = tmp_path / "syns.pcap"
    capture.write_bytes(syns_from_ports(20001))
    app = make_app(ReplaySource(capture), autoplay=False)
    async with app.run_test(size=size) as pilot:
        await wait_indexed(app, pilot, timeout=60)
        await pilot.press("end")
        await pilot.pause(0.1)
        lines = ladder_lines(app)
        last = next(line for line in reversed(lines) if "SYN" in line)
        assert re.search(r"[^\d]20000 +SYN-SENT│", last), last
        assert re.search(r"[^\d]19999 +SYN-SENT│", lines[lines.index(last) - 1])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_chinese_legend_keeps_every_phase_and_the_keys_hint(
    demo_events: list[Event], size: tuple[int, int]
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False, lang="zh")
    async with app.run_test(size=size) as pilot:
        await wait_indexed(app, pilot)
        legend = str(app.query_one("#legend").render())
        assert "datagram" in legend and legend.rstrip().endswith("? 按键"), legend
        assert ("服务器监听" in legend) == (size[0] >= 140)  # full names where they fit
        if size[0] >= 120:
            assert "监听" in legend and "数据报" in legend  # short names at 120
