"""The app's keys: its bindings, the help screen's sections and the command palette's
commands, generated from the same bindings in the app's language (see `binding_words` for how
a binding's description comes from the catalog).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from handshake_viz.tui.binding_words import localized
from handshake_viz.tui.connections import ConnectionsView
from handshake_viz.tui.detail import PacketDetail
from handshake_viz.tui.exports import EXPORT_KINDS
from handshake_viz.tui.ladder import LadderView
from handshake_viz.words.catalog import DEFAULT_LANG, Catalog, load

if TYPE_CHECKING:
    from handshake_viz.tui.app import TimelineApp

TIMELINE_BINDINGS: list[BindingType] = [
    Binding("space", "toggle_play", "key.play"),
    Binding("right,n", "step(1)", "key.step_forward", key_display="→/n"),
    Binding("left,p", "step(-1)", "key.step_back", key_display="←/p"),
    Binding("plus,equals_sign", "faster", "key.faster", key_display="+"),
    Binding("minus", "slower", "key.slower", key_display="-"),
    Binding("home", "home", "key.first", show=False),
    Binding("end", "end", "key.last", show=False),
    Binding("f", "follow", "key.follow"),
    Binding("slash", "filter", "key.filter", key_display="/"),
    Binding("escape", "clear_filter", "key.clear_filter", show=False),
    Binding("1", "tab('connections')", "key.connections", show=False),
    Binding("2", "tab('packet')", "key.packet", show=False),
    Binding("b", "toggle_side", "key.side", show=False),
    Binding("e", "export", "key.export"),
    Binding("g", "graphs", "key.graphs", show=False),
    Binding("d", "time_true", "key.time_true"),
    Binding("tab", "app.focus_next", "key.next_pane", show=False),
    Binding("v", "app_data", "key.app_data", show=False),
    Binding("question_mark", "help", "key.help", key_display="?"),
    Binding("q", "quit", "key.quit"),
    # Ctrl-C quits, as `live --help` says and as a terminal user expects (Textual's own
    # ctrl+c only says to press ctrl+q)
    Binding("ctrl+c", "quit", "key.quit", show=False, priority=True),
]
"""The timeline app's own keys (`TimelineApp.BINDINGS`)."""

PALETTE_BINDING = Binding("ctrl+p", "command_palette", "key.every_action")
"""The command palette's key as the help screen lists it."""


def _bindings(declared: Iterable[BindingType], cat: Catalog) -> list[Binding]:
    return [localized(b, cat) for b in declared if isinstance(b, Binding)]


def key_sections(app: TimelineApp) -> list[tuple[str, list[Binding]]]:
    """Every key that works here, by where it works, in the app's language (the help
    screen's content, and the command palette's)."""
    cat = load(app.lang)
    everywhere = [
        b for b in _bindings(type(app).BINDINGS, cat)
        if app.check_action(b.action.split("(")[0], ()) is not False
    ]  # fmt: skip
    return [
        (cat.text("help.everywhere"), everywhere),
        (cat.text("help.ladder"), _bindings(LadderView.BINDINGS, cat)),
        (cat.text("help.connections"), _bindings(ConnectionsView.BINDINGS, cat)),
        (cat.text("help.detail"), _bindings(PacketDetail.BINDINGS, cat)),
        (cat.text("help.palette"), [localized(PALETTE_BINDING, cat)]),
    ]


def palette_commands(app: TimelineApp, textual: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """The command palette: Textual's own commands (`textual`) in the app's language, the
    exports, then every key of the first three help sections by its description."""
    cat = load(app.lang)
    for command in textual:
        yield _textual_command(command, cat)
    for kind in EXPORT_KINDS:
        yield SystemCommand(cat.text(f"palette.export_{kind}"),
                            cat.text(f"palette.export_{kind}_help"),
                            partial(app.export_one, kind))  # fmt: skip
    for n, (section, bindings) in enumerate(key_sections(app)[:3]):
        for b in bindings:
            action = b.action if n == 0 or b.action.startswith("app.") else f"focused.{b.action}"
            where = cat.text("palette.where", section=section.lower(), keys=b.key_display or b.key)
            yield SystemCommand(b.description, where, partial(app.run_action, action))


def _textual_command(command: SystemCommand, cat: Catalog) -> SystemCommand:
    """One of Textual's commands (English) in `cat`'s language, by its title."""
    key = f"textual.{command.title.lower()}"
    if cat.lang == DEFAULT_LANG or not cat.has(key):
        return command  # Textual's own words, whatever its version says
    return command._replace(title=cat.text(key), help=cat.text(f"{key}_help"))
