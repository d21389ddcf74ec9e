"""argparse in the user's language: its headings, its ``-h``, its usage line and its errors.

argparse takes its own words from gettext (``_('usage: ')``, ``_('options')``, ...), which
reads compiled ``.mo`` files and not our catalogs. So `CatalogParser` names its groups and
its ``-h`` from the catalog, `CatalogFormatter` says "usage:" from it, and `CatalogParser.error`
recognises each of argparse's English error sentences and says it again from the catalog
(``cli.argparse.*``); a sentence it does not recognise is shown as argparse wrote it.
`CatalogFormatter` also wraps help by terminal columns (`wrap_cells`): a Chinese character
takes two, and Chinese lines break between characters, not only at spaces.

The language is known before parsing (`words_language`: ``--lang`` anywhere in the
arguments, else ``HANDSHAKE_VIZ_LANG``, else the locale), so ``--help`` itself can be in it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from handshake_viz.render.cells import cells, wide
from handshake_viz.words.catalog import LANG_ENV, Catalog, languages, locale_language

LANG_OPTION = "--lang"


def argv_language(argv: Sequence[str]) -> str | None:
    """The last ``--lang X`` or ``--lang=X`` of `argv` (before the command or after it, as
    argparse takes it), or None; what follows ``--`` is a file name, not an option."""
    found: str | None = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == LANG_OPTION and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(LANG_OPTION + "="):
            found = arg.split("=", 1)[1]
    return found


def words_language(argv: Sequence[str]) -> str:
    """The language of the command line's own words (--help, argparse's errors), known
    before parsing: --lang's, else HANDSHAKE_VIZ_LANG's, else the locale's; a language with
    no catalog gives way to the next."""
    for lang in (argv_language(argv), os.environ.get(LANG_ENV)):
        if lang in languages():
            return lang
    return locale_language()


def _pattern(english: str) -> re.Pattern[str]:
    """A regular expression matching argparse's English sentence `english`, whose ``{name}``
    placeholders each match one value."""
    parts = re.split(r"\{(\w+)\}", english)
    regex = "".join(
        f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )
    return re.compile(regex + r"\Z", re.DOTALL)


ARGPARSE_ENGLISH = {
    "argument": "argument {argument}: {message}",
    "required": "the following arguments are required: {names}",
    "one_required": "one of the arguments {names} is required",
    "unrecognized": "unrecognized arguments: {names}",
    "not_allowed": "not allowed with argument {name}",
    "ignored": "ignored explicit argument {value}",
    "expected_one": "expected one argument",
    "expected_at_most_one": "expected at most one argument",
    "expected_at_least_one": "expected at least one argument",
    "ambiguous": "ambiguous option: {option} could match {matches}",
    "invalid_value": "invalid {type} value: {value}",
    "invalid_choice": "invalid choice: {value} (choose from {choices})",
}
"""argparse's error sentences (Python 3.11's gettext message ids, placeholders renamed), by
the catalog key under ``cli.argparse`` that says them in the user's language."""
_PATTERNS = {key: _pattern(english) for key, english in ARGPARSE_ENGLISH.items()}


def translate_error(message: str, cat: Catalog) -> str:
    """argparse's English error `message`, said by `cat`; unchanged if not recognised."""
    for key, pattern in _PATTERNS.items():
        match = pattern.match(message)
        if match is None:
            continue
        values = match.groupdict()
        if key == "argument":  # the sentence inside says the problem: translate it too
            values["message"] = translate_error(values["message"], cat)
        return cat.text(f"cli.argparse.{key}", **values)
    return message


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns: broken at spaces, and in Chinese text
    between two wide characters (Chinese has no spaces between words), never before closing
    or after opening punctuation; a word longer than a line stays whole."""
    tokens: list[tuple[bool, str]] = []  # (a space before it, the token)
    word, space = "", False
    # Chinese text breaks between any two characters; a Chinese word quoted in English
    # (zh (中文)) stays whole.
    visible = [c for c in text if not c.isspace()]
    chinese = 4 * sum(map(wide, visible)) >= len(visible)
    for char in text:
        if char.isspace():
            if word:
                tokens.append((space, word))
            word, space = "", True
        elif chinese and wide(char):
            if word:
                tokens.append((space, word))
                space = False
            tokens.append((space, char))
            word, space = "", False
        else:
            word += char
    if word:
        tokens.append((space, word))
    lines: list[str] = []
    line = ""
    for space_before, token in _glued(tokens):
        candidate = line + (" " if space_before and line else "") + token
        if cells(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = token
    if line:
        lines.append(line)
    return lines


OPENING = "（「『《“‘(["
"""Punctuation that never ends a line: it stays with the word after it."""
CLOSING = "）」』》”’，。、；：！？).,;:]"
"""Punctuation that never starts a line: it stays with the word before it."""


def _glued(tokens: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
    """`tokens` with opening punctuation glued to the next token and closing punctuation to
    the previous one, where no space separates them."""
    out: list[tuple[bool, str]] = []
    for space_before, token in tokens:
        if out and not space_before and (token[0] in CLOSING or out[-1][1][-1] in OPENING):
            out[-1] = (out[-1][0], out[-1][1] + token)
        else:
            out.append((space_before, token))
    return out


def _paragraphs(text: str) -> list[tuple[bool, str]]:
    """`text` as (wrap it, line): a run of unindented lines is one paragraph to wrap; an
    indented line (a table's, an example's) or a blank one is kept as written."""
    out: list[tuple[bool, str]] = []
    paragraph: list[str] = []
    for line in text.strip("\n").splitlines():
        if line.strip() and not line[0].isspace():
            paragraph.append(line.strip())
            continue
        if paragraph:
            out.append((True, _join(paragraph)))
            paragraph = []
        out.append((False, line.rstrip()))
    if paragraph:
        out.append((True, _join(paragraph)))
    return out


def _join(lines: list[str]) -> str:
    """One paragraph of several lines; no space is put between two wide characters."""
    text = lines[0]
    for line in lines[1:]:
        text += ("" if wide(text[-1]) and wide(line[0]) else " ") + line
    return text


class CatalogFormatter(argparse.HelpFormatter):
    """Help laid out for the terminal in any language: paragraphs wrapped by columns (two for
    a Chinese character), indented lines (the description's table, the examples) as written,
    and "usage:" from the catalog the parser gives it."""

    usage_prefix: str | None = None
    heading: str = "{title}:"
    """A section's heading line, from the catalog (Chinese puts a full-width colon)."""

    def start_section(self, heading: str | None) -> None:
        """argparse's section, its heading line said as the catalog says it: argparse writes
        ``{title}:``, so the section's text is given that line again."""
        super().start_section(heading)
        said = self.heading.replace("{title}", heading) if heading else None
        if said is None or said == f"{heading}:":
            return
        written = self._current_section.format_help

        def format_help() -> str:
            return written().replace(f"{heading}:\n", said + "\n", 1)

        parent = self._current_section.parent
        if parent is not None:  # always: the root section is never started
            parent.items[-1] = (format_help, [])  # the item start_section just added

    def _format_usage(
        self, usage: str | None, actions: Any, groups: Any, prefix: str | None
    ) -> str:
        """argparse's usage lines, after the catalog's "usage:"; argparse lines up the
        continuation lines by the prefix's length in characters, so a prefix of wide
        characters (用法：) is measured by a stand-in as wide as it is on the terminal."""
        if prefix is None:
            prefix = self.usage_prefix
        if prefix is None or cells(prefix) == len(prefix):
            return super()._format_usage(usage, actions, groups, prefix)
        stand_in = "\0" * cells(prefix)
        text = super()._format_usage(usage, actions, groups, stand_in)
        return text.replace(stand_in, prefix, 1)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_cells(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        for wrap, part in _paragraphs(text):
            if wrap:
                lines.extend(indent + line for line in wrap_cells(part, width - len(indent)))
            else:
                lines.append(indent + part if part else "")
        return "\n".join(lines)


class CatalogParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words come from `cat`; its commands' parsers (made by
    ``add_parser(..., cat=cat)``) are of this class too."""

    def __init__(self, *args: Any, cat: Catalog, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", CatalogFormatter)
        kwargs["add_help"] = False  # our own -h, its help in the catalog's words
        super().__init__(*args, **kwargs)
        self.cat = cat
        self._positionals.title = cat.text("cli.argparse.positionals")
        self._optionals.title = cat.text("cli.argparse.options")
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS,
            help=cat.text("cli.argparse.help"),
        )  # fmt: skip

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter = super()._get_formatter()
        if isinstance(formatter, CatalogFormatter):
            formatter.usage_prefix = self.cat.text("cli.argparse.usage")
            formatter.heading = self.cat.text("cli.argparse.heading", title="{title}")
        return formatter

    def error(self, message: str) -> NoReturn:
        """Usage and the problem on stderr, exit 2, as argparse does, in the catalog's words."""
        self.print_usage(sys.stderr)
        said = self.cat.text(
            "cli.argparse.error", prog=self.prog, message=translate_error(message, self.cat)
        )
        self.exit(2, said + "\n")
