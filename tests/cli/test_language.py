"""The command line speaks the user's language: --help, argparse's own words and the one-line
errors, in the language --lang, HANDSHAKE_VIZ_LANG or the locale names, known before parsing."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from handshake_viz.cli.argwords import (
    argv_language,
    translate_error,
    words_language,
    wrap_cells,
)
from handshake_viz.cli.main import build_parser, check_args, main
from handshake_viz.cli.tui import tui_options
from handshake_viz.render.cells import cells
from handshake_viz.words.catalog import default_language, languages, load, locale_language
from tests.helpers.live import cli, cli_env
from tests.helpers.paths import HTTP_GET

CJK = re.compile(r"[\u4e00-\u9fff]")


def parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """`parser` and every command's parser, by their prog."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


def helps(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str | None]]:
    """Every text --help shows that is not a name: each option's, each command's, the
    descriptions and the examples; with what it belongs to."""
    for prog, p in parsers(parser):
        yield f"{prog} description", p.description
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield f"{prog} {choice.dest}", choice.help
            else:
                yield f"{prog} {'/'.join(action.option_strings) or action.dest}", action.help


def english_sentences() -> set[str]:
    """The English catalog's command-line sentences (no placeholders), spaces normalised."""
    en = load("en")
    return {
        " ".join(text.split())
        for key, text in en.messages.items()
        if key.startswith("cli.") and "{" not in text and len(text) > 12
    }


@pytest.mark.parametrize("lang", languages())
def test_every_option_and_command_has_help_from_every_catalog(lang: str) -> None:
    from handshake_viz.cli.classroom import build_tab_parser

    english = english_sentences()
    everything = [*helps(build_parser(lang)), *helps(build_tab_parser(lang))]
    for where, text in everything:
        assert text, f"{where}: no help"
        if lang != "en":
            assert " ".join(text.split()) not in english, f"{where} is English in {lang}: {text}"


def test_chinese_help_has_chinese_headings_and_no_english_sentence() -> None:
    english = english_sentences()
    for prog, parser in parsers(build_parser("zh")):
        out = parser.format_help()
        assert out.startswith("用法：" + prog), out
        assert "\n选项：\n" in out and "显示此帮助信息并退出" in out
        assert ("\n位置参数：\n" in out) == bool(parser._positionals._group_actions)
        flat = " ".join(out.split())
        assert not [s for s in english if s in flat], prog
        assert "options:" not in out and "usage:" not in out


@pytest.mark.e2e
@pytest.mark.parametrize("args", [["--lang", "zh", "--help"], ["--lang", "zh", "replay", "--help"],
                                  ["graph", "--help", "--lang=zh"]], ids=" ".join)  # fmt: skip
def test_the_command_prints_its_help_in_chinese(args: list[str]) -> None:
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("用法：handshake-viz") and "位置参数：" in r.stdout
    assert "--lang {en,zh}" in r.stdout  # the names stay as they are


def test_chinese_help_lines_fit_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for _, parser in parsers(build_parser("zh")):
        for line in parser.format_help().splitlines():
            example = line.startswith(("  handshake-viz", "  tcpdump", "  sudo"))
            assert example or cells(line) <= 80, line
            assert not line.lstrip().startswith(("，", "。", "）", "：")), line


def test_wrapping_breaks_between_chinese_characters_and_at_spaces() -> None:
    lines = wrap_cells("回放速度是 0.01 到 100 之间的数（默认 1）", 12)
    assert all(cells(line) <= 12 for line in lines), lines
    assert "".join(lines).replace(" ", "") == "回放速度是0.01到100之间的数（默认1）"
    assert not any(line.startswith("）") or line.endswith("（") for line in lines), lines
    assert wrap_cells("a very-long-word b", 5) == ["a", "very-long-word", "b"]
    assert wrap_cells("en (default) or zh (中文).", 24) == ["en (default) or zh", "(中文)."]


def test_lang_is_found_before_parsing_anywhere_in_the_arguments() -> None:
    assert argv_language(["--lang", "zh", "replay", "x"]) == "zh"
    assert argv_language(["replay", "x", "--lang=zh"]) == "zh"
    assert argv_language(["--lang", "en", "replay", "--lang", "zh"]) == "zh"  # as argparse
    assert argv_language(["replay", "--", "--lang"]) is None
    assert argv_language(["replay", "--lang"]) is None


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW"}, "zh"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8", "HANDSHAKE_VIZ_LANG": "en"}, "en"),
        ({"LANG": "C", "HANDSHAKE_VIZ_LANG": "zh"}, "zh"),
    ],
)
def test_the_language_comes_from_the_variable_else_the_locale(
    env: dict[str, str], lang: str
) -> None:
    assert default_language(env) == lang


def test_a_chinese_locale_is_the_whole_programs_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert locale_language() == "zh" and words_language(["replay", "x"]) == "zh"
    assert build_parser().parse_args(["replay", "x"]).lang == "zh"
    assert tui_options(build_parser().parse_args([])).lang == "zh"  # the TUI's language too
    assert words_language(["--lang", "en", "replay", "x"]) == "en"
    monkeypatch.setenv("HANDSHAKE_VIZ_LANG", "en")
    assert build_parser().parse_args(["replay", "x"]).lang == "en"
    assert build_parser().parse_args(["replay", "x", "--lang", "zh"]).lang == "zh"
    monkeypatch.setenv("HANDSHAKE_VIZ_LANG", "xx")  # no such catalog: the locale's words
    assert words_language(["replay", "x"]) == "zh"


@pytest.mark.e2e
def test_the_locale_picks_chinese_and_the_variable_or_lang_overrides_it() -> None:
    env = cli_env() | {"LANG": "zh_CN.UTF-8"}
    assert cli("--help", env=env).stdout.startswith("用法：")
    assert cli("--help", env=env | {"HANDSHAKE_VIZ_LANG": "en"}).stdout.startswith("usage:")
    assert cli("demo", "--help", "--lang", "en", env=env).stdout.startswith("usage:")
    r = cli("demo", "--list", env=env)
    assert r.returncode == 0 and "三次握手" in r.stdout  # the scenarios, in Chinese


def test_argparse_errors_are_said_in_the_catalogs_words() -> None:
    zh = load("zh")
    said = translate_error("argument --speed: invalid float value: 'abc'", zh)
    assert said == "参数 --speed：无效的 float 值：'abc'"
    said = translate_error("the following arguments are required: FILE|-", zh)
    assert said == "缺少以下参数：FILE|-"
    said = translate_error("argument COMMAND: invalid choice: 'x' (choose from 'replay')", zh)
    assert said == "参数 COMMAND：无效的选择：'x'（可选：'replay'）"
    assert translate_error("something argparse never said", zh) == "something argparse never said"
    en = load("en")
    english = "argument --save: not allowed with argument --no-save"
    assert translate_error(english, en) == english


def test_a_range_error_is_one_chinese_line() -> None:
    args = build_parser("zh").parse_args(["--lang", "zh", "replay", "x", "--speed", "0"])
    assert check_args(args) == "--speed 0.0：回放速度是 0.01 到 100 之间的数"


def test_an_argparse_error_ends_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "zh", "replay", str(HTTP_GET), "--speed", "fast"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == "handshake-viz replay：错误：参数 --speed：无效的 float 值：'fast'"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lang", "zh", "live", "--print"], "live 需要要观看的端口"),
        (["live", "--port", "0", "--print", "--lang", "zh"], "--port 0：端口是 1 到 65535"),
        (["--lang", "zh", "serve", "nosuch"], "没有课程 'nosuch'"),
        (["--lang", "zh", "demo", "nosuch", "--print"], "没有场景 'nosuch'"),
        (["--lang", "zh", "replay", "nosuch.pcap", "--print"], '"nosuch.pcap"：没有这个文件'),
        (["--lang", "zh", "graph", "tests", "--output", "x.svg"], '"tests" 是一个文件夹'),
        (["--lang", "zh", "live", "--iface", "nosuch0", "--port", "80", "--print"],
         "没有网络接口 'nosuch0'"),
        (["--lang", "zh", "replay", str(HTTP_GET), "--print", "--format", "jsonl", "--time-true"],
         "--time-true 用于拉开文本时序图"),
    ],
)  # fmt: skip
def test_the_commands_one_line_errors_are_in_chinese(args: list[str], says: str) -> None:
    r = cli(*args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("handshake-viz: ") and says in r.stderr, r.stderr
