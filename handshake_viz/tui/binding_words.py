"""Bindings whose descriptions come from the catalog, in the app's language.

Textual takes a binding's description as a plain string, fixed when the class is defined,
before any language is known. So our bindings are declared with a catalog key as their
description (``Binding("space", "toggle_play", "key.play")``), and each node that declares
bindings says them in its language when it is built: ``speak_bindings(self, lang)`` in its
``__init__``. That is enough because of where Textual 8 reads a description:

- the footer (``Footer.compose``) and Textual's key panel read ``screen.active_bindings``,
  which walks each node's ``_bindings``: a per-instance copy of the class's merged BINDINGS,
  made in ``DOMNode.__init__``. Replacing the bindings of that copy (they are frozen
  dataclasses) changes what this node shows and nothing else: the class keeps the keys, so
  two apps in two languages (a test, or ``serve``'s browser tabs) do not meet.
- the help screen and the command palette are ours (`tui.keys`): they read the classes'
  BINDINGS and say each with `localized`.

The other ways cost more: a Footer subclass would copy Textual's ``compose``; classes built
per language would change every ``isinstance`` and every subclass (the classroom).

A description is a catalog key when the English catalog has it; any other description stays as
it is, except Textual's own command-palette binding (added by ``App.__init__`` as "palette"),
which shows at the footer's right end and gets ``key.palette``.
"""

from __future__ import annotations

import dataclasses

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from handshake_viz.words.catalog import DEFAULT_LANG, Catalog, load

_TEXTUAL_KEYS = {"command_palette": "key.palette"}
"""Textual's own bindings that show, by action, and the catalog key that names them."""


def localized(binding: Binding, cat: Catalog) -> Binding:
    """`binding` with its description said in `cat`'s language (see the module doc)."""
    key = binding.description
    if not load(DEFAULT_LANG).has(key):
        key = _TEXTUAL_KEYS.get(binding.action, "")
        if not key:
            return binding
    return dataclasses.replace(binding, description=cat.text(key))


def speak_bindings(node: DOMNode, lang: str) -> None:
    """Say `node`'s bindings in `lang`, in the footer and the key panel (see the module doc).

    Call it in the node's ``__init__``, after ``super().__init__()`` (which makes the copy,
    and for an app adds the palette's binding): the footer reads them from its first refresh.
    """
    cat = load(lang)
    node._bindings = BindingsMap.from_keys(
        {key: [localized(b, cat) for b in bindings]
         for key, bindings in node._bindings.key_to_bindings.items()}
    )  # fmt: skip
