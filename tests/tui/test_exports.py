"""The `e` key: what it writes, where, and that no folder, however unwritable, ends the app;
and Ctrl-C, which ends it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handshake_viz.core.events import Event
from handshake_viz.core.pcapfile import read_records
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.app import make_app
from tests.helpers.fakes import FakeSource, wait_indexed
from tests.helpers.paths import HTTP_GET

SIZE = (140, 36)
NOBODY = 65534


async def press_export(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("e")
    await pilot.pause(0.2)


def svg_text(svg: str) -> str:
    """An SVG screenshot's text with its spaces as spaces (Rich writes &#160;)."""
    return svg.replace("&#160;", " ")


def toasts(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(n.message) for n in app._notifications]


async def test_export_into_a_file_in_place_of_the_folder_is_a_toast(
    tmp_path: Path, demo_events: list[Event]
) -> None:
    blocker = tmp_path / "exports"
    blocker.write_text("a file where the folder should be")
    app = make_app(FakeSource(demo_events), autoplay=False, export_dir=blocker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await press_export(app, pilot)
        assert app.is_running
        [toast] = toasts(app)
        assert "export failed in" in toast and str(blocker) in toast and "--export-dir" in toast
        await pilot.press("end")  # and it goes on answering
        await pilot.pause()
        assert app.is_running
    assert blocker.read_text() == "a file where the folder should be"


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to nobody for the moment of the export")
async def test_export_into_a_folder_the_user_cannot_write_is_a_toast(
    tmp_path: Path, demo_events: list[Event]
) -> None:
    """A 0500 folder, written by a user who is not its owner (root ignores the mode, so the
    test becomes nobody while `e` runs; the real and saved uids stay root to come back)."""
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    os.chmod(tmp_path, 0o755)
    app = make_app(FakeSource(demo_events), autoplay=False, export_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        os.seteuid(NOBODY)
        try:
            await press_export(app, pilot)
        finally:
            os.seteuid(0)
        assert app.is_running
        [toast] = toasts(app)
        assert "Permission denied" in toast and str(folder) in toast
    assert list(folder.iterdir()) == []


async def test_export_names_its_folder_and_never_overwrites(
    tmp_path: Path, demo_events: list[Event]
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await press_export(app, pilot)
        await press_export(app, pilot)  # the same second: new names, not the same files
        assert str(tmp_path) in toasts(app)[-1]
    svgs = sorted(tmp_path.glob("*.svg"))
    assert len(svgs) == 2 and len(set(tmp_path.glob("*.mmd"))) == 2


async def test_the_svg_leaves_out_the_toast_on_screen(
    tmp_path: Path, demo_events: list[Event]
) -> None:
    app = make_app(FakeSource(demo_events), autoplay=False, export_dir=tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_indexed(app, pilot)
        app.notify("a toast that is not the app")
        await pilot.pause(0.2)
        assert "not the app" in svg_text(app.export_screenshot())
        await press_export(app, pilot)
    svg = svg_text(next(tmp_path.glob("*.svg")).read_text())
    assert "socket()" in svg and "not the app" not in svg


async def test_the_pcap_holds_the_filtered_packets_byte_for_byte(tmp_path: Path) -> None:
    source = ReplaySource(HTTP_GET)
    app = make_app(source, autoplay=False, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end", "slash", *"fin", "enter")
        await pilot.pause(0.1)
        shown = [app.timeline.frame[app.view.row_at(i)] for i in range(app.view.visible_count)]
        await press_export(app, pilot)
    with next(tmp_path.glob("*.pcap")).open("rb") as f:
        written = [(r[1], r[3]) for r in read_records(f)]
    with HTTP_GET.open("rb") as f:
        original = {r[0]: (r[1], r[3]) for r in read_records(f)}
    assert 0 < len(written) == len(shown) < len(original)
    for (t, data), frame in zip(written, shown, strict=True):
        assert data == original[frame][1] and abs(t - original[frame][0]) < 1e-6


async def test_ctrl_c_quits_as_live_help_says(demo_events: list[Event]) -> None:
    """`live --help` says a capture runs until Ctrl-C: in the TUI, Ctrl-C quits (with the
    filter line open too), the source stopped."""
    source = FakeSource(demo_events, live=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("slash", "ctrl+c")
        await pilot.pause(0.1)
    assert source.stopped and app.return_code == 0


async def test_v_puts_the_http_lines_on_their_arrows_and_takes_them_off() -> None:
    app = make_app(ReplaySource(HTTP_GET), autoplay=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_indexed(app, pilot)
        await pilot.press("end")
        await pilot.pause(0.1)
        ladder = app.query_one("#ladder")

        def lines() -> list[str]:
            return [ladder.render_line(y).text for y in range(ladder.size.height)]

        assert not any("GET /" in line for line in lines())
        await pilot.press("v")
        await pilot.pause(0.1)
        shown = lines()
        [get] = [line for line in shown if "«GET /download/CHANGES" in line]
        assert "len=136" in get  # beside the label's own words, on its one line
        assert any("«200 OK»" in line for line in shown)
        await pilot.press("v")
        await pilot.pause(0.1)
        assert not any("«" in line for line in lines())
