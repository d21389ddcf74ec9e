"""The `?` screen: every key of the app, generated from the bindings so none is forgotten."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from handshake_viz.tui.binding_words import speak_bindings
from handshake_viz.words.catalog import load


def key_text(sections: list[tuple[str, list[Binding]]]) -> Text:
    """Sections of "key  what it does" lines, each action once."""
    text = Text()
    for title, bindings in sections:
        text.append(f"\n{title}\n", style="bold underline")
        seen: set[str] = set()
        for b in bindings:
            desc = b.description or b.action
            if desc in seen:
                continue
            seen.add(desc)
            keys = b.key_display or " ".join(k.strip() for k in b.key.split(","))
            text.append(f"  {keys:<16}", style="bold")
            text.append(f"{desc}\n")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists every key; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "key.close_help")
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]], lang: str = "en") -> None:
        super().__init__()
        speak_bindings(self, lang)
        self.sections = sections
        """Titles and bindings, already in `lang` (`tui.keys.key_sections`)."""
        self.lang = lang

    def compose(self) -> ComposeResult:
        cat = load(self.lang)
        with VerticalScroll(id="help-body"):
            yield Static(Text(cat.text("help.title"), style="bold"))
            yield Static(key_text(self.sections))
            yield Static(Text(cat.text("help.filter", help=cat.text("filter.help"))))
            yield Static("\n" + cat.text("help.mouse"))
