"""Message catalogs: every sentence and label a user sees lives in TOML files, not in code.

One file per language (``en.toml``, ``zh.toml`` in ``messages/``); a third language is one
more file with the same keys, and the list of languages (``--lang``'s choices) is the list of
files. Keys are dotted paths (``packet.synack``); values are plain sentences with
``{placeholders}`` filled from the event being explained. A key a catalog lacks falls back to
English.

Folders named in the environment variable ``HANDSHAKE_VIZ_MESSAGES`` (``os.pathsep``
between several) are searched before the built-in one: a teacher can try a new language, or
fix a word, without touching the installed package. A file there replaces the built-in file
of the same name.
"""

from __future__ import annotations

import os
import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
"""The built-in catalogs."""
MESSAGES_ENV = "HANDSHAKE_VIZ_MESSAGES"
"""Environment variable: more folders of catalogs, searched before `MESSAGES_DIR`."""
DEFAULT_LANG = "en"
"""The language when nothing else names one, and the one every other falls back to."""
LANG_ENV = "HANDSHAKE_VIZ_LANG"
"""Environment variable: the language when ``--lang`` does not name one (before the locale)."""
LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")
"""The locale's variables, in the order POSIX reads them for messages: the first set wins."""


class CatalogError(ValueError):
    """A language with no catalog, or a catalog that does not parse (one line)."""


def search_path() -> list[Path]:
    """The folders catalogs are read from, first match wins: `MESSAGES_ENV`'s, then ours."""
    extra = os.environ.get(MESSAGES_ENV, "")
    return [Path(p) for p in extra.split(os.pathsep) if p] + [MESSAGES_DIR]


def languages() -> list[str]:
    """The languages that have a catalog, by file name (``en``, ``zh``, ...)."""
    return sorted({p.stem for folder in search_path() for p in folder.glob("*.toml")})


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of the user's locale when a catalog speaks it, else `DEFAULT_LANG`.

    ``zh_CN.UTF-8`` is ``zh_CN`` if a catalog has that name, else ``zh``; ``C``, ``POSIX``,
    an unset locale or a language no catalog speaks are English.
    """
    env = os.environ if environ is None else environ
    value = next((env[name] for name in LOCALE_ENVS if env.get(name)), "")
    tag = value.split(".", 1)[0].split("@", 1)[0]
    if tag in ("", "C", "POSIX"):
        return DEFAULT_LANG
    known = languages()
    for candidate in (tag, tag.split("_", 1)[0].lower()):
        if candidate in known:
            return candidate
    return DEFAULT_LANG


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """The language when ``--lang`` names none: `LANG_ENV` if set (checked where it is used,
    so a wrong value is named), else the locale's (`locale_language`)."""
    env = os.environ if environ is None else environ
    return env.get(LANG_ENV) or locale_language(env)


def _catalog_file(lang: str) -> Path | None:
    for folder in search_path():
        path = folder / f"{lang}.toml"
        if path.is_file():
            return path
    return None


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
    path = _catalog_file(lang)
    if path is None:
        raise CatalogError(
            f"no messages for language {lang!r}: choose one of {', '.join(languages())}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from None
    return Catalog(lang, _flatten(data))
