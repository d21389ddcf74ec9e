"""The classroom app driven with Pilot: every guided scenario in both languages, with real
sockets and real capture, checking the packets that reach the ladder after each key."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static

from handshake_viz.classroom.app import make_classroom_app
from handshake_viz.classroom.guided import SCRIPTS, missing
from handshake_viz.classroom.screen import ClassroomApp
from handshake_viz.core.events import PacketEvent
from handshake_viz.model.rows import KIND_SOCKET
from tests.helpers.lessons import quiet_after

SIZE = (160, 48)


def ladder_packets(app: ClassroomApp) -> list[PacketEvent]:
    tl = app.timeline
    out = []
    for i in range(tl.count):
        if tl.kind[i] != KIND_SOCKET:
            ev = tl.row(i).event()
            assert isinstance(ev, PacketEvent)
            out.append(ev)
    return out


async def settle(app: ClassroomApp, pilot, steps: int, quiet: float = 0.15) -> list[PacketEvent]:
    """Wait for the step's call to finish, then for the packets to stop coming."""
    deadline = time.monotonic() + 10
    while app.steps_done < steps and time.monotonic() < deadline:
        await pilot.pause(0.02)
    assert app.steps_done >= steps, "the step did not finish"
    n, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        await pilot.pause(0.03)
        count = app.timeline.count
        if count != n:
            n, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return ladder_packets(app)


def unwrapped(text: str) -> str:
    """`text` without its spaces and line breaks (the panel wraps it to its width)."""
    return "".join(text.split())


def text_of(app: ClassroomApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", [n for n, s in SCRIPTS.items() if not s.fault])
async def test_guided_scenario_in_the_app(need_capture: None, port: int, name: str,
                                          lang: str) -> None:  # fmt: skip
    app = make_classroom_app(name, lang, port=port)
    script = SCRIPTS[name]
    async with app.run_test(size=SIZE) as pilot:
        seen = 0
        for i, step in enumerate(script.steps[1:]):
            await pilot.press(["space", "right", "pagedown"][i % 3])
            packets = await settle(app, pilot, i + 1, quiet_after(step))
            new, seen = packets[seen:], len(packets)
            assert missing(step.expect, new) == [], (
                name,
                lang,
                step.id,
                [(p.dir, p.flag_list) for p in new],
            )
            words = text_of(app, "#step-words")
            assert app.guided is not None and unwrapped(app.guided.text().say) in unwrapped(words)
        await pilot.press("pageup")
        assert app.guided.index == len(script.steps) - 2
        await pilot.press("q")
    if lang == "zh":
        assert "讲解" in words


@pytest.mark.capture
async def test_keys_disabled_with_reasons_then_each_key(need_capture: None, port: int) -> None:
    app = make_classroom_app(None, "en", port=port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z")  # the tall lesson panel: each reason in full under its key
        await pilot.pause(0.3)
        keys = text_of(app, "#keys")
        assert unwrapped("the server is not listening yet") in unwrapped(keys)
        await pilot.press("a")  # disabled: nothing happens, a notification says why
        await pilot.pause(0.1)
        assert app.steps_done == 0 and app.timeline.count == 0
        expected = {"l": ("none",), "c": ("c2s SYN", "s2c SYN-ACK", "c2s ACK"), "a": ("none",),
                    "s": ("c2s data", "s2c data"), "w": ("c2s FIN", "s2c data"),
                    "x": ("s2c FIN", "c2s ACK")}  # fmt: skip
        seen = 0
        for n, (key, expect) in enumerate(expected.items(), 1):
            await pilot.press(key)
            packets = await settle(app, pilot, n, 0.2 if expect == ("none",) else 0.12)
            new, seen = packets[seen:], len(packets)
            assert missing(expect, new) == [], (key, [(p.dir, p.flag_list) for p in new])
            if key == "l":
                app._refresh_panels()
                assert unwrapped("no connection is waiting yet") in unwrapped(text_of(app, "#keys"))
                assert "LISTEN" in text_of(app, "#kernel")
        app._refresh_panels()
        assert "TIME-WAIT" in text_of(app, "#kernel")
        # the explanation follows the selected ladder row
        await pilot.press("up")
        await pilot.pause(0.1)
        assert text_of(app, "#event-words")
        await pilot.press("q")


async def test_footer_names_the_arrows_for_the_lesson_and_no_playback_keys(port: int) -> None:
    # No capture needed: the footer and the key map are there before any socket call. The
    # lesson is a live capture: the timeline app's playback keys (→/n step, + faster) do
    # nothing there, and its "→/n" named an arrow that here moves through the lesson.
    app = make_classroom_app("basic", "en", port=port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        shown = {b.binding.key_display or b.binding.key: b.binding.action
                 for b in app.active_bindings.values()
                 if b.binding.show and b.enabled}  # fmt: skip
        assert shown["→"] == "forward" and shown["←"] == "previous_step"
        assert not {"→/n", "←/p", "+", "-", "space"} & set(shown)
        status = str(app.query_one("#status", Static).render())
        assert "reading" not in status and "live" in status  # a capture, not a file loading
        await pilot.press("q")


@pytest.mark.capture
async def test_keys_typed_during_a_call_wait_their_turn(need_capture: None, port: int) -> None:
    """l c a s w x typed at once: each waits for the call before it and runs, none lost."""
    app = make_classroom_app(None, "en", port=port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press(*"lcaswx")
        packets = await settle(app, pilot, 6, 0.3)
        assert app.steps_done == 6 and not app.queued
        expect = ("c2s SYN", "s2c SYN-ACK", "c2s ACK", "c2s data", "s2c data", "c2s FIN",
                  "s2c data", "s2c FIN")  # fmt: skip
        assert missing(expect, packets) == [], [(p.dir, p.flag_list) for p in packets]
        await pilot.press("q")


@pytest.mark.capture
async def test_a_queue_too_long_is_refused_with_a_word(need_capture: None, port: int) -> None:
    app = make_classroom_app(None, "en", port=port)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        app.busy = True  # a call that runs for a while
        await pilot.press(*"c" * 10)
        assert app.queued == ["c"] * 8
        assert "waiting: c c c" in text_of(app, "#keys")
        messages = [n.message for n in app._notifications]
        assert any("busy" in m for m in messages), messages
        app.busy = False
        app.queued.clear()
        await pilot.press("q")


def _lines(app: ClassroomApp, selector: str) -> list[str]:
    return text_of(app, selector).splitlines()


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_80x24_the_lesson_panel_is_small_says_what_is_cut_and_grows_with_z(
    need_capture: None, port: int, lang: str
) -> None:
    app = make_classroom_app("basic", lang, port=port)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "space")
        await settle(app, pilot, 2)
        await pilot.pause(0.3)
        panel = app.query_one("#classroom")
        small = panel.size.height
        words = _lines(app, "#step-words")
        hint = app.cat.text("ui.more_lesson")
        assert words[-1].strip() == hint.strip(), words  # cut, and says where the rest is
        assert app.ladder.size.height >= 10, "the ladder keeps most of the screen"
        explanation = _lines(app, "#event-words")
        assert explanation[-1].strip() == app.cat.text("ui.more").strip(), explanation
        await pilot.press("z")
        await pilot.pause(0.3)
        assert panel.size.height > small
        await pilot.press("z")
        await pilot.pause(0.3)
        step = app.guided.text() if app.guided else None
        assert step is not None
        assert unwrapped(step.look) in unwrapped(text_of(app, "#step-words"))
        await pilot.press("q")


@pytest.mark.capture
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_120x35_every_key_is_visible(need_capture: None, port: int, lang: str) -> None:
    app = make_classroom_app("basic", lang, port=port)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("space")
        await settle(app, pilot, 1)
        await pilot.pause(0.3)
        keys = [line.strip() for line in text_of(app, "#keys").splitlines()]
        for action in "lacswxr":
            label = app.cat.text(f"action.{action}")
            assert any(line.startswith(f"{action}  {label}") for line in keys), (action, keys)
        assert any(line.startswith("g  ") for line in keys)
        assert any(line.startswith("z  ") for line in keys)
        assert "… z" not in keys
        await pilot.press("q")
