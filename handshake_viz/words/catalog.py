"""Message catalogs: the words of the classroom mode live in TOML files, not in code.

One file per language in ``messages/`` (``en.toml``, ``zh.toml``); a third language is one
more file with the same keys. Keys are dotted paths (``packet.synack``); values are plain
sentences with ``{placeholders}`` filled from the event being explained.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
DEFAULT_LANG = "en"


class CatalogError(ValueError):
    """A language with no catalog, or a catalog that does not parse (one line)."""


def languages() -> list[str]:
    """The languages that have a catalog, by file name (``en``, ``zh``, ...)."""
    return sorted(p.stem for p in MESSAGES_DIR.glob("*.toml"))


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path + "."))
        else:
            out[path] = str(value)
    return out


class _Keep(dict[str, Any]):
    """format_map mapping that leaves an unknown placeholder as it is: a missing value shows
    as ``{name}`` on screen rather than crashing a lesson."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalog:
    """The messages of one language, looked up by dotted key."""

    def __init__(self, lang: str, messages: dict[str, str]) -> None:
        self.lang = lang
        self.messages = messages

    def has(self, key: str) -> bool:
        return key in self.messages

    def text(self, key: str, **values: Any) -> str:
        """The message `key` with its placeholders filled; the English one if this language
        lacks it, the key itself if no catalog has it."""
        template = self.messages.get(key)
        if template is None and self.lang != DEFAULT_LANG:
            template = load(DEFAULT_LANG).messages.get(key)
        if template is None:
            return key
        return template.format_map(_Keep(values))

    def keys(self) -> set[str]:
        return set(self.messages)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a message uses (for the test that all languages agree)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def load(lang: str) -> Catalog:
    """The catalog of `lang`, read once.

    Raises:
        CatalogError: no such language, or the file does not parse.
    """
    path = MESSAGES_DIR / f"{lang}.toml"
    if not path.is_file():
        raise CatalogError(
            f"no messages for language {lang!r}: choose one of {', '.join(languages())}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from None
    return Catalog(lang, _flatten(data))
