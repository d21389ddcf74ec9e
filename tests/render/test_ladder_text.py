"""The ladder as text in another language: the same columns, other words."""

from __future__ import annotations

from rich.cells import cell_len

from handshake_viz.core.events import Event, PacketEvent, SocketEvent
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.export import export_text
from handshake_viz.render.ladder_text import ladder_text, pad


def bars(line: str) -> list[int]:
    """The cells where a line's column rules (│) stand."""
    return [cell_len(line[:i]) for i, ch in enumerate(line) if ch == "│"]


def view_of(events: list[Event]) -> TimelineView:
    tl = Timeline()
    tl.extend(events)
    view = TimelineView(tl, live=True)
    view.sync()
    return view


def test_chinese_keeps_every_column_where_english_has_it(demo_events: list[Event]) -> None:
    first = next(e for e in demo_events if isinstance(e, PacketEvent))
    sent = SocketEvent(first.time + 0.0705, "client", "send", result="136 bytes")
    view = view_of([*demo_events, sent])
    for width in (80, 100, 160):
        en, zh = ladder_text(view, width, lang="en"), ladder_text(view, width, lang="zh")
        assert [bars(line) for line in en] == [bars(line) for line in zh], width
    assert "时间" in zh[0] and "客户端 141.142.228.5:59856" in zh[0]
    assert any("listen() → 成功 ●" in line for line in zh)
    assert any("● send() → 136 字节" in line for line in zh)
    assert any("● send() → 136 bytes" in line for line in en)


def test_the_text_export_speaks_the_apps_language(demo_events: list[Event]) -> None:
    view = view_of(demo_events)
    assert export_text(view, lang="zh").splitlines()[0].split()[:2] == ["时间", "Δ"]
    assert export_text(view).splitlines()[0].split()[:3] == ["time", "Δ", "prev"]
    assert export_text(view, limit=3, lang="zh").rstrip().endswith("另有 15 行未导出")


def test_pad_counts_cells() -> None:
    assert pad("状态", 8) == "状态    " and pad("状态", 8, right=True) == "    状态"
    assert cell_len(pad("服务器监听", 5)) == 5  # cut at a wide character: a space fills it
    assert pad("state", 3) == "sta" and pad("ok", 4, True) == "  ok"


def test_the_time_since_the_row_above_is_rounded_never_cut() -> None:
    from handshake_viz.render.ladder_text import fmt_delta

    # microseconds under a second (loopback's scale), milliseconds above, hours beyond
    assert fmt_delta(0.000031) == "+0.000031"
    assert fmt_delta(0.0) == "+0.000000"
    assert fmt_delta(0.9999996) == "+1.000"
    assert fmt_delta(12.405888) == "+12.406"  # not "+12.40588"
    assert fmt_delta(9999.9) == "+9999.900"
    assert fmt_delta(100000.0) == "+27.8h"
    for d in (0.000031, 0.5, 1.25, 12.405888, 999.9995, 9999.9994, 86400.0, 3.6e7):
        assert len(fmt_delta(d)) <= 9  # the column's width


def test_a_server_call_too_long_for_its_room_keeps_its_side(demo_events: list[Event]) -> None:
    first = next(e for e in demo_events if isinstance(e, PacketEvent))
    result = "new socket from 141.142.228.5:59856"
    accept = SocketEvent(first.time + 0.072, "server", "accept", local="192.150.187.43:80",
                         result=result, pid=4702, comm="python3")  # fmt: skip
    view = view_of([*demo_events, accept])
    for width in (80, 100, 120):
        line = next(li for li in ladder_text(view, width) if "accept()" in li)
        middle = line.split("│")[1]
        assert middle.rstrip().endswith(" ●") and middle.startswith(" "), line
        assert "python3 4702: accept()" in middle or width < 100, line  # who, where room allows
