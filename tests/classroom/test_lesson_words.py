"""The lessons say what is true, in English and in Chinese: each correction a teacher asked
for, pinned on the catalogs, on the explanations of real events, and on lessons run for real
(`tests.helpers.lesson_probe`: the kernel panel at each step)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from handshake_viz.classroom.lessons import SCRIPTS
from handshake_viz.classroom.wrap import wrap
from handshake_viz.core.events import SocketEvent
from handshake_viz.words.catalog import languages, load
from handshake_viz.words.explain import explain
from tests.helpers.live import cli_env, needs_capture
from tests.helpers.paths import ROOT

LANGS = ("en", "zh")


def texts(lang: str, prefix: str = "") -> dict[str, str]:
    return {k: v for k, v in load(lang).messages.items() if k.startswith(prefix)}


def _sock(call: str, result: str, errno: int | None = None, remote: str | None = "127.0.0.1:9000",
          proto: str = "tcp", side: str = "client") -> SocketEvent:  # fmt: skip
    return SocketEvent(0.0, side, call, "127.0.0.1:40000", remote, result, errno, proto)


# -- the catalogs ----------------------------------------------------------------------------


def test_every_english_key_has_a_chinese_one_with_the_same_placeholders() -> None:
    assert set(languages()) >= {"en", "zh"}
    assert load("zh").keys() == load("en").keys()


@pytest.mark.parametrize("lang", LANGS)
def test_step_numbers_in_the_words_match_the_counter(lang: str) -> None:
    said = re.compile(r"^Step (\d+)" if lang == "en" else r"^第 (\d+) 步")
    for script in SCRIPTS.values():
        for n, step in enumerate(script.steps):
            say = load(lang).text(f"guided.{script.name}.{step.id}.say")
            found = said.match(say)
            if n == 0:
                assert found is None, (script.name, say)
            else:
                assert found is not None and int(found[1]) == n, (script.name, step.id, say)


@pytest.mark.parametrize("lang", LANGS)
def test_no_line_of_a_lesson_mentions_a_wrong_idea(lang: str) -> None:
    everything = " ".join(load(lang).messages.values())
    if lang == "en":
        for wrong in ("waiting longer each time", "before this call returned", "bigger packets",
                      "ACK of the FIN from the", "only datagram", "goodbye"):  # fmt: skip
            assert wrong not in everything, wrong
    else:
        for wrong in ("梯形图", "内核怎么说", "序列号", "接受队列", "告别", "每次等待的时间更长",
                      "监听只是本地的决定", "ACK 的编号"):  # fmt: skip
            assert wrong not in everything, wrong


def test_chinese_uses_the_textbook_terms() -> None:
    zh = load("zh")
    assert "全连接队列（accept 队列）" in zh.text("call.accept", remote="x")
    assert "半连接队列" in zh.text("guided.backlog.intro.say", backlog=1)
    assert zh.text("ui.kernel").startswith("内核视角")
    assert "时序图" in zh.text("guided.basic.intro.look")
    assert "三个连接各自的三次握手，用客户端端口区分" in zh.text("guided.concurrent.connect.look")
    assert "并由内核自行完成连接释放（四次挥手）" in zh.text("call.close", side="客户端")
    assert "监听只在本机完成，不产生数据包" in zh.text("guided.basic.listen.look")
    assert "ACK 的确认号就是接收方期待的下一个字节的序号" in zh.text("guided.basic.send.look")
    assert "序号" in zh.text("packet.syn", sender="客户端") and "确认号" in zh.text(
        "packet.fin_ack"
    )
    assert zh.text("ui.say") == "讲解：" and zh.text("ui.begin").endswith("：第一步")


@pytest.mark.parametrize("lang", LANGS)
def test_the_backlog_lesson_explains_both_queues_and_backlog_plus_one(lang: str) -> None:
    cat = load(lang)
    intro = cat.text("guided.backlog.intro.say", backlog=1)
    second = cat.text("guided.backlog.second.look", backlog=1, admitted=2)
    close = cat.text("guided.backlog.close.look")
    if lang == "en":
        assert "SYN queue" in intro and "accept queue" in intro
        assert "backlog + 1 = 2" in second
        assert "RST" in close and "FIN" not in close
    else:
        assert "半连接队列" in intro and "全连接队列" in intro
        assert "backlog + 1 = 2" in second
        assert "RST" in close and "FIN" not in close


@pytest.mark.parametrize("lang", LANGS)
def test_teardown_lessons_say_why_three_packets_and_what_time_wait_is_for(lang: str) -> None:
    cat = load(lang)
    basic = cat.text("guided.basic.close.look", time_wait=60)
    assert "60" in basic
    assert ("three packets, not four" if lang == "en" else "三个数据包，而不是四个") in basic
    assert ("three packets instead of four" if lang == "en" else "三个数据包") in cat.text(
        "lesson.close_in_three"
    )
    tw = cat.text("lesson.time_wait", seconds=60)
    assert "60" in tw and "TCP_TIMEWAIT_LEN" in tw and "FIN" in tw


# -- explanations of real events ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_udp_close_sends_nothing(lang: str) -> None:
    text = explain(_sock("close", "ok", proto="udp"), lang)
    assert "FIN" not in text
    assert ("UDP sends nothing" if lang == "en" else "UDP 什么也不发送") in text


@pytest.mark.parametrize("lang", LANGS)
def test_closing_a_listener_resets_its_queue(lang: str) -> None:
    text = explain(_sock("close", "ok", remote=None, side="server"), lang)
    assert "RST" in text and "FIN" not in text
    assert ("reset" if lang == "en" else "重置") in text


@pytest.mark.parametrize("lang", LANGS)
def test_etimedout_and_econnreset_say_who_gave_up_and_why(lang: str) -> None:
    program = explain(_sock("connect", "ETIMEDOUT"), lang)
    kernel = explain(_sock("connect", "ETIMEDOUT", 110), lang)
    reset = explain(_sock("recv", "ECONNRESET", 104, side="server"), lang)
    if lang == "en":
        assert "program's own timeout" in program and "tcp_syn_retries" in program
        assert "kernel gave up" in kernel and "tcp_syn_retries" in kernel
        assert "peer's RST reset the connection" in reset
    else:
        assert "程序自己的超时" in program and "tcp_syn_retries" in program
        assert "内核" in kernel and "自己放弃" in kernel
        assert "对方的 RST 重置了连接" in reset


@pytest.mark.parametrize("lang", LANGS)
def test_accept_takes_no_part_in_the_handshake(lang: str) -> None:
    text = explain(_sock("accept", "new socket from 127.0.0.1:40000", side="server"), lang)
    assert ("no part in the handshake" if lang == "en" else "不参与三次握手") in text
    look = load(lang).text("guided.basic.accept.look")
    assert ("before this call was made" if lang == "en" else "在这个调用之前") in look


@pytest.mark.parametrize("lang", LANGS)
def test_the_fin_ack_names_whose_fin_it_acknowledges(lang: str) -> None:
    text = load(lang).text("packet.fin_ack", sender="server" if lang == "en" else "服务器",
                           receiver="client" if lang == "en" else "客户端", ack=8,
                           ack_minus_1=7)  # fmt: skip
    assert ("The server acknowledges the client's FIN" if lang == "en"
            else "服务器确认客户端的 FIN") in text  # fmt: skip


def test_results_are_read_in_the_sentences_language() -> None:
    send = _sock("send", "14 bytes")
    assert "14 字节" in explain(send, "zh") and "bytes" not in explain(send, "zh")
    assert "14 bytes" in explain(send, "en")
    listen = explain(_sock("listen", "backlog 1", remote=None, side="server"), "zh")
    assert "backlog 为 1" in listen


def test_ipv6_says_what_the_ladder_can_show() -> None:
    for lang in LANGS:
        look = load(lang).text("guided.ipv6.send.look")
        assert "40" in look and "bigger" not in look


# -- Chinese on a narrow panel -------------------------------------------------------------------

NO_START = "，。、：；！？）」"


@pytest.mark.parametrize("width", range(16, 61, 3))
def test_chinese_never_starts_a_line_with_closing_punctuation(width: int) -> None:
    zh = load("zh")
    timer = zh.text("lesson.syn_timer", retries=6, linear=4, flat=5, count=10, give_up=131,
                    waits="1, 1, 1, 1, 1, 2, 4, 8, 16, 32")  # fmt: skip
    values = {"port": 9000, "backlog": 1, "admitted": 2, "time_wait": 60, "mss": 200,
              "syn_timer": timer}  # fmt: skip
    for key in [*texts("zh", "guided."), *texts("zh", "lesson."), *texts("zh", "call.")]:
        text = zh.text(key, **values)
        for line in wrap(text, width):
            assert not line.plain[:1] or line.plain[0] not in NO_START, (key, width, line.plain)


@pytest.mark.parametrize("width", [20, 24, 31, 40])
def test_state_names_are_never_cut(width: int) -> None:
    zh = load("zh")
    text = zh.text("packet.states", client_state=zh.text("state.ESTABLISHED"),
                   server_state=zh.text("state.FIN-WAIT-2"))  # fmt: skip
    words = [w for line in wrap(text, width) for w in re.findall(r"[A-Z][A-Z0-9-]+", line.plain)]
    assert {"ESTABLISHED", "FIN-WAIT-2"} <= set(words)


# -- lessons run for real: the kernel panel at each step -------------------------------------------


@cache
def lesson(name: str, lang: str = "en") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.lesson_probe", name, "--lang", lang],
        capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@needs_capture
@pytest.mark.capture
@pytest.mark.e2e
@pytest.mark.parametrize("lang", LANGS)
def test_backlog_shows_the_real_backlog_and_keeps_its_sockets(lang: str) -> None:
    steps = lesson("backlog", lang)["steps"]
    queue = "accept queue {}, backlog 1" if lang == "en" else "全连接队列 {}，backlog 1"
    assert queue.format(0) in steps[0]["kernel"]  # listen(1): the kernel's own backlog
    assert queue.format(1) in steps[1]["kernel"]
    assert queue.format(2) in steps[2]["kernel"]  # backlog + 1
    assert ("backlog + 1 = 2" in steps[2]["kernel"]) and "SYN-SENT" not in steps[2]["kernel"]
    assert queue.format(2) in steps[3]["kernel"] and "SYN-SENT" in steps[3]["kernel"]
    assert "LISTEN" not in steps[5]["kernel"]  # the listener closed: the queue was reset


@needs_capture
@pytest.mark.capture
@pytest.mark.e2e
def test_concurrent_keeps_one_socket_in_listen_at_every_step() -> None:
    out = lesson("concurrent")
    for step in out["steps"]:
        assert sum("LISTEN" in line for line in step["kernel"].splitlines()) == 1, step
    connected = out["steps"][1]["kernel"]
    assert connected.count("ESTABLISHED") == 6 and "accept queue 3" in connected
    assert out["steps"][-1]["kernel"].count("TIME-WAIT") == 3


@needs_capture
@pytest.mark.capture
@pytest.mark.e2e
@pytest.mark.parametrize("lang", LANGS)
def test_basic_explains_the_three_packet_close_and_counts_time_wait_down(lang: str) -> None:
    out = lesson("basic", lang)
    rows = [r for r in out["rows"] if r["type"] == "packet"]
    fin_ack = next(r for r in rows if r["flags"] == ["FIN", "ACK"] and r["dir"] == "s2c")
    assert load(lang).text("lesson.close_in_three") in fin_ack["explain"]
    last = rows[-1]["explain"]
    assert "TIME-WAIT" in last and "60" in last
    left = "s left of 60" if lang == "en" else "共 60 秒"
    assert left in out["kernel"]
    assert [s["counter"] for s in out["steps"]] == [
        load(lang).text("ui.step", n=n, total=5) for n in range(1, 6)
    ]


@needs_capture
@pytest.mark.capture
@pytest.mark.e2e
def test_udp_lesson_sends_nothing_on_close() -> None:
    out = lesson("udp")
    packets = [r for r in out["rows"] if r["type"] == "packet"]
    assert [(p["dir"], p["flags"]) for p in packets] == [("c2s", []), ("s2c", [])]
    closes = [r for r in out["rows"] if r["type"] == "socket" and r["call"] == "close"]
    assert len(closes) == 2 and all("UDP sends nothing" in r["explain"] for r in closes)
