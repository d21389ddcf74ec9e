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
