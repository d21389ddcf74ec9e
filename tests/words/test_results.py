"""Socket-call results: English in the JSONL, the reader's language on screen."""

from __future__ import annotations

import re

import pytest

from handshake_viz.demo.scenarios import SCENARIOS
from handshake_viz.demo.tracing import ListRecorder
from handshake_viz.words.results import result_text

ERRNO = re.compile(r"E[A-Z]+")


@pytest.fixture(scope="module")
def real_results() -> set[str]:
    """Every result the demo's scenarios write, from their real sockets (no capture needed);
    backlog only adds retransmitted SYNs and seconds of waiting, nothing new to say."""
    results: set[str] = set()
    for name, scenario in SCENARIOS.items():
        if name == "backlog":
            continue
        recorder = ListRecorder()
        scenario.run(scenario.context(recorder))
        results |= {e.result for e in recorder.events if e.result}
    return results


def test_english_shows_the_jsonl_words_as_they_are(real_results: set[str]) -> None:
    assert {"ok", "backlog 5", "0 bytes (end of stream)", "ECONNREFUSED"} <= real_results
    for result in real_results:
        assert result_text(result, "en") == result


def test_chinese_says_every_result_but_the_errno_names(real_results: set[str]) -> None:
    for result in real_results:
        zh = result_text(result, "zh")
        if ERRNO.fullmatch(result):
            assert zh == result  # the name a reader would search for
        else:
            assert zh != result and "bytes" not in zh and "ok" not in zh, result
    assert result_text("14 bytes", "zh") == "14 字节"
    assert result_text("backlog 5", "zh") == "全连接队列上限 5"
    assert result_text("new socket from 127.0.0.1:40000", "zh") == "来自 127.0.0.1:40000 的新套接字"
    assert result_text("0 bytes (end of stream)", "zh") == "0 字节（流结束）"


def test_what_no_shape_fits_is_shown_as_it_is() -> None:
    assert result_text("ConnectionResetError", "zh") == "ConnectionResetError"
    assert result_text(None, "zh") == result_text("", "zh") == ""
