"""explain() on real packets (from committed captures) and on socket calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent, SocketEvent
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.explain import explain, packet_kind, socket_kind

DATA = Path(__file__).resolve().parents[1] / "data"


def packets(name: str) -> list[PacketEvent]:
    return [e for e in ReplaySource(DATA / name).events() if isinstance(e, PacketEvent)]


def test_http_get_capture_kinds() -> None:
    evs = packets("zeek__http_get.pcap")
    kinds = [packet_kind(e) for e in evs]
    assert kinds[:4] == ["syn", "synack", "handshake_ack", "data"]
    assert "fin" in kinds and "data_ack" in kinds and "fin_ack" in kinds


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_handshake_numbers_are_filled_in(lang: str) -> None:
    syn, synack, ack = packets("zeek__http_get.pcap")[:3]
    assert "{" not in explain(syn, lang)
    assert "ack = 1" in explain(synack, lang)
    text = explain(ack, lang)
    assert "ack = 1" in text and "ESTABLISHED" in text


def test_english_wording() -> None:
    evs = packets("zeek__http_get.pcap")
    assert "ack = 1 = the server's ISN + 1: the SYN-ACK used one sequence number" in explain(
        evs[2], "en"
    )
    data = evs[3]
    assert f"{data.len} bytes of data from the client" in explain(data, "en")
    assert f"acknowledge {data.seq + data.len}" in explain(data, "en")
    assert "客户端发出" in explain(data, "zh")


def test_every_packet_of_the_capture_explains_without_gaps() -> None:
    for ev in packets("zeek__http_get.pcap"):
        for lang in ("en", "zh"):
            text = explain(ev, lang)
            assert text and "{" not in text, (ev.frame, lang, text)


def _sock(call: str, result: str, errno: int | None = None, side: str = "client") -> SocketEvent:
    return SocketEvent(0.0, side, call, "127.0.0.1:40000", "127.0.0.1:9000", result, errno)


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (_sock("connect", "ECONNREFUSED", 111), "connect_refused"),
        (_sock("connect", "waiting"), "connect_waiting"),
        (_sock("connect", "ok"), "connect"),
        (_sock("close", "ok (SO_LINGER 0: RST instead of FIN)"), "abort"),
        (_sock("recv", "0 bytes (end of stream)", side="server"), "recv_eof"),
        (_sock("recv", "ECONNRESET", 104, side="server"), "failed_reset"),
        (_sock("recv", "EAGAIN", 11, side="server"), "failed"),
        (_sock("connect", "ETIMEDOUT"), "failed_timeout"),
        (_sock("connect", "ETIMEDOUT", 110), "failed_kernel_timeout"),
        (SocketEvent(0.0, "server", "close", "127.0.0.1:9000", None, "ok"), "close_listener"),
        (
            SocketEvent(
                0.0, "client", "close", "127.0.0.1:40000", "127.0.0.1:9000", "ok", proto="udp"
            ),
            "close_udp",
        ),  # fmt: skip
        (_sock("listen", "backlog 5", side="server"), "listen"),
    ],
)
def test_socket_kinds(event: SocketEvent, kind: str) -> None:
    assert socket_kind(event) == kind
    for lang in ("en", "zh"):
        assert "{" not in explain(event, lang)


def test_socket_call_sides_are_translated() -> None:
    ev = _sock("socket", "ok", side="server")
    assert "server" in explain(ev, "en")
    assert "服务器" in explain(ev, "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tsharks_marks_and_psh_add_a_sentence(lang: str) -> None:
    evs = packets("tshark/zeek__tcp_retransmit-fast009.pcap")
    dup = next(e for e in evs if "duplicate_ack" in e.analysis)
    fast = next(e for e in evs if "fast_retransmission" in e.analysis)
    psh = next(e for e in evs if e.flags & 0x08 and e.len and not e.analysis)
    words = {"en": ("duplicate ACK", "fast retransmission", "PSH", "A retransmission"),
             "zh": ("重复 ACK", "快速重传", "PSH", "重传：这些字节")}[lang]  # fmt: skip
    assert words[0] in explain(dup, lang) and f"{dup.ack}" in explain(dup, lang)
    assert words[1] in explain(fast, lang) and words[3] not in explain(fast, lang)
    assert words[2] in explain(psh, lang)
    assert "After it" not in explain(psh, "en", states=False)
    if lang == "zh":
        assert "。 " not in explain(dup, lang)  # Chinese sentences follow without a space
