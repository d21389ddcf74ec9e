"""The whole command line, so that ``--help`` teaches, in the user's language.

Every description, example and option's help is a catalog message (``cli.*``); the names of
commands, options, scenarios and files stay as they are, in every language.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from handshake_viz.cli.argwords import CatalogParser
from handshake_viz.words.catalog import (
    DEFAULT_LANG,
    Catalog,
    CatalogError,
    default_language,
    languages,
    load,
)


def _add_output_options(p: argparse.ArgumentParser, cat: Catalog) -> None:
    p.add_argument("--print", dest="print_", action="store_true",
                   help=cat.text("cli.option.print"))  # fmt: skip
    p.add_argument("--format", choices=("text", "jsonl"), default="text",
                   help=cat.text("cli.option.format"))  # fmt: skip
    p.add_argument("--time-true", action="store_true", help=cat.text("cli.option.time_true"))


def _add_save_options(p: argparse.ArgumentParser, cat: Catalog) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--save", metavar="PATH", type=Path, help=cat.text("cli.option.save"))
    g.add_argument("--no-save", action="store_true", help=cat.text("cli.option.no_save"))


def _add_export_dir(p: argparse.ArgumentParser, cat: Catalog, default_key: str) -> None:
    help_ = cat.text("cli.option.export_dir", default=cat.text(default_key))
    p.add_argument("--export-dir", metavar="DIR", type=Path, help=help_)


def _add_trace(p: argparse.ArgumentParser, cat: Catalog) -> None:
    p.add_argument("--no-trace", action="store_true", help=cat.text("cli.option.no_trace"))


def _lang_name(lang: str, cat: Catalog) -> str:
    """A language's code, with its own name for itself (``zh (中文)``)."""
    if lang == DEFAULT_LANG:
        return cat.text("cli.lang_default", lang=lang)
    try:
        return cat.text("cli.lang_named", lang=lang, name=load(lang).text("meta.language"))
    except CatalogError:
        return lang  # a catalog that does not parse says so when it is chosen, not here


def _lang_help(langs: list[str], cat: Catalog) -> str:
    """--lang's help: each language by its code and its name, and where the default comes
    from."""
    named = [_lang_name(lang, cat) for lang in langs]
    listed = (
        cat.text("cli.list_or", first=", ".join(named[:-1]), last=named[-1])
        if len(named) > 1
        else named[0]
    )
    return cat.text("cli.lang", languages=listed)


def _add_lang(p: argparse.ArgumentParser, langs: list[str], cat: Catalog, top: bool = False
              ) -> None:  # fmt: skip
    """--lang, before the command or after it. Only the top level has a default: a command's
    own default would overwrite a `--lang zh` given before the command. The choices are the
    catalogs present (`words.catalog.languages`): a language is one file."""
    p.add_argument(
        "--lang",
        choices=langs,
        default=default_language() if top else argparse.SUPPRESS,
        help=_lang_help(langs, cat),
    )


class _Version(argparse.Action):
    """--version, reading the installed version only when asked (importlib.metadata is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import handshake_viz

        print(f"handshake-viz {handshake_viz.__version__}")
        parser.exit()


def _command(
    sub: argparse._SubParsersAction[CatalogParser], cat: Catalog, name: str
) -> CatalogParser:
    """The parser of command `name`, its words from ``cli.NAME.*`` (an epilog where English
    has one)."""
    key = f"cli.{name}.epilog"
    epilog = cat.text(key) if load(DEFAULT_LANG).has(key) else None
    description = cat.text(f"cli.{name}.description")
    return sub.add_parser(name, cat=cat, help=cat.text(f"cli.{name}.help"),
                          description=description, epilog=epilog)  # fmt: skip


def build_parser(lang: str | None = None) -> CatalogParser:
    """The whole command line, its words in `lang` (default: the environment's language,
    English if that has no catalog)."""
    lang = lang or default_language()
    cat = load(lang if lang in languages() else DEFAULT_LANG)
    parser = CatalogParser(prog="handshake-viz", cat=cat, description=cat.text("cli.description"),
                           epilog=cat.text("cli.epilog"))  # fmt: skip
    parser.add_argument("--version", action=_Version, nargs=0, help=cat.text("cli.version"))
    langs = languages()
    _add_lang(parser, langs, cat, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _command(sub, cat, "replay")
    p.add_argument("file", metavar="FILE|-", help=cat.text("cli.replay.file"))
    _add_output_options(p, cat)
    p.add_argument("--mermaid", action="store_true", help=cat.text("cli.replay.mermaid"))
    p.add_argument("--stream", type=int, metavar="N", help=cat.text("cli.replay.stream"))
    _add_export_dir(p, cat, "cli.option.export_here")
    p.add_argument("--pause", type=float, default=0.6, metavar="SECONDS",
                   help=cat.text("cli.replay.pause"))  # fmt: skip
    p.add_argument("--speed", type=float, default=1.0, help=cat.text("cli.replay.speed"))
    _add_lang(p, langs, cat)

    p = _command(sub, cat, "demo")
    p.add_argument("scenario", nargs="?", default="basic", help=cat.text("cli.demo.scenario"))
    p.add_argument("--list", action="store_true", help=cat.text("cli.demo.list"))
    _add_output_options(p, cat)
    _add_save_options(p, cat)
    _add_export_dir(p, cat, "cli.option.export_capture")
    _add_lang(p, langs, cat)
    p.add_argument("--step", action="store_true", help=cat.text("cli.demo.step"))
    _add_trace(p, cat)

    p = _command(sub, cat, "live")
    p.add_argument("--port", type=int, action="append", default=[], metavar="P",
                   help=cat.text("cli.live.port"))  # fmt: skip
    p.add_argument("--all", action="store_true", help=cat.text("cli.live.all"))
    p.add_argument("--iface", default="lo", help=cat.text("cli.live.iface"))
    p.add_argument("--count", type=int, metavar="N", help=cat.text("cli.live.count"))
    p.add_argument("--duration", type=float, metavar="S", help=cat.text("cli.live.duration"))
    _add_output_options(p, cat)
    _add_save_options(p, cat)
    _add_export_dir(p, cat, "cli.option.export_capture")
    _add_lang(p, langs, cat)
    _add_trace(p, cat)

    p = _command(sub, cat, "classroom")
    p.add_argument("scenario", nargs="?", default="basic",
                   help=cat.text("cli.classroom.scenario"))  # fmt: skip
    p.add_argument("--free", action="store_true", help=cat.text("cli.classroom.free"))
    p.add_argument("--predict", action="store_true", help=cat.text("cli.classroom.predict"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--save", metavar="PATH", type=Path, help=cat.text("cli.classroom.save"))
    g.add_argument("--no-save", action="store_true", help=cat.text("cli.classroom.no_save"))
    g.add_argument("--handout", metavar="PATH", type=Path,
                   help=cat.text("cli.classroom.handout"))  # fmt: skip
    _add_export_dir(p, cat, "cli.classroom.export_here")
    _add_lang(p, langs, cat)
    _add_trace(p, cat)

    p = _command(sub, cat, "serve")
    p.add_argument("--host", default="127.0.0.1", help=cat.text("cli.serve.host"))
    p.add_argument("--port", type=int, default=8008, help=cat.text("cli.serve.port"))
    p.add_argument("scenario", nargs="?", default="basic", help=cat.text("cli.serve.scenario"))
    p.add_argument("--predict", action="store_true", help=cat.text("cli.serve.predict"))
    _add_lang(p, langs, cat)

    p = _command(sub, cat, "graph")
    p.add_argument("file", metavar="FILE", help=cat.text("cli.graph.file"))
    p.add_argument("--stream", type=int, metavar="N", help=cat.text("cli.graph.stream"))
    p.add_argument("--kind", default="tsg", metavar="KIND", help=cat.text("cli.graph.kind"))
    p.add_argument("--output", metavar="PATH", help=cat.text("cli.graph.output"))
    p.add_argument("--width", type=int, default=120, help=cat.text("cli.graph.width"))
    p.add_argument("--height", type=int, default=34, help=cat.text("cli.graph.height"))
    _add_lang(p, langs, cat)
    return parser
