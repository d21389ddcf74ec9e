"""Every message exists in every language, with the same placeholders."""

from __future__ import annotations

import pytest

from handshake_viz.core.events import Phase, TcpState
from handshake_viz.words import catalog
from handshake_viz.words.explain import PACKET_KINDS, SOCKET_KINDS


def test_en_and_zh_exist() -> None:
    assert {"en", "zh"} <= set(catalog.languages())


@pytest.mark.parametrize("lang", catalog.languages())
def test_same_keys_and_placeholders_as_english(lang: str) -> None:
    en, other = catalog.load("en"), catalog.load(lang)
    assert other.keys() == en.keys(), f"{lang}: keys differ from en"
    for key in en.keys():
        assert catalog.placeholders(other.messages[key]) == catalog.placeholders(
            en.messages[key]
        ), f"{lang}: {key} uses other placeholders"


@pytest.mark.parametrize("lang", catalog.languages())
def test_every_phase_state_call_and_packet_has_a_message(lang: str) -> None:
    cat = catalog.load(lang)
    for p in Phase:
        assert cat.has(f"phase.{p.value}")
    for s in TcpState:
        assert cat.has(f"state.{s.value}")
    for k in PACKET_KINDS:
        assert cat.has(f"packet.{k}")
    for k in SOCKET_KINDS:
        assert cat.has(f"call.{k}")


def test_chinese_phase_names() -> None:
    zh = catalog.load("zh")
    assert [zh.text(f"phase.{p}") for p in ("listen", "request", "confirm", "data", "teardown",
                                            "reset")] == [
        "服务器监听", "客户端请求", "连接确认", "数据传输", "连接释放", "连接重置"
    ]  # fmt: skip


def test_unknown_language_is_one_clear_error() -> None:
    with pytest.raises(catalog.CatalogError, match="choose one of"):
        catalog.load("xx")


def test_missing_placeholder_value_stays_visible() -> None:
    assert "{port}" in catalog.load("en").text("reason.listening")


ESPERANTO = """\
[meta]
language = "Esperanto"

[word]
client = "kliento"
server = "servilo"

[scenario]
basic = "konekti, resendi unu linion, fermi"
"""


@pytest.fixture
def third_language(tmp_path, monkeypatch):
    """A tiny Esperanto catalog (a few keys) in a folder of HANDSHAKE_VIZ_MESSAGES."""
    (tmp_path / "eo.toml").write_text(ESPERANTO, encoding="utf-8")
    monkeypatch.setenv(catalog.MESSAGES_ENV, str(tmp_path))
    yield tmp_path
    catalog.load.cache_clear()  # "eo" is gone with the variable


def test_a_third_language_is_one_file(third_language) -> None:
    from handshake_viz.cli.main import build_parser

    assert catalog.languages() == ["en", "eo", "zh"]
    parser = build_parser()
    assert parser.parse_args(["--lang", "eo", "demo", "--list"]).lang == "eo"
    assert parser.parse_args(["demo", "--list", "--lang", "eo"]).lang == "eo"  # per command
    assert "en (default), eo (Esperanto) or zh (中文)" in " ".join(parser.format_help().split())
    eo = catalog.load("eo")
    assert eo.text("word.client") == "kliento"
    # what it lacks, English says
    assert eo.text("ui.explanation") == "Explanation"
    assert eo.text("packet.synack", sender="servilo", ack=1).startswith("SYN-ACK from the servilo")


@pytest.mark.e2e
def test_a_third_language_in_the_command(third_language) -> None:
    from tests.helpers.live import cli, cli_env

    env = cli_env() | {catalog.MESSAGES_ENV: str(third_language)}
    r = cli("--lang", "eo", "demo", "--list", env=env)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(None, 1) for line in r.stdout.splitlines())
    assert lines["basic"].strip() == "konekti, resendi unu linion, fermi"
    assert lines["refused"].startswith("connect where nothing listens")  # English fallback
    del env[catalog.MESSAGES_ENV]
    r = cli("--lang", "eo", "demo", "--list", env=env)  # without the folder: no such language
    assert r.returncode == 2 and "invalid choice: 'eo'" in r.stderr


@pytest.mark.e2e
def test_a_catalog_that_does_not_parse_is_one_line(third_language) -> None:
    from tests.helpers.live import cli, cli_env

    (third_language / "eo.toml").write_text("[meta\n", encoding="utf-8")
    env = cli_env() | {catalog.MESSAGES_ENV: str(third_language)}
    r = cli("--lang", "eo", "demo", "--list", env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("handshake-viz: eo.toml:") and len(r.stderr.splitlines()) == 1
