"""The text ladder of --print speaks the user's language; its values stay the JSONL's."""

from __future__ import annotations

import io

from handshake_viz.render.cells import cells, pad
from handshake_viz.render.output import EventPrinter
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.catalog import load
from tests.helpers.paths import DATA

BACKLOG = DATA / "kernel" / "backlog-demo.pcapng"


def printed(lang: str) -> list[str]:
    out = io.StringIO()
    printer = EventPrinter(out, "text", cat=load(lang))
    source = ReplaySource(str(BACKLOG))
    printer.write_all(source.events())
    printer.close()
    return out.getvalue().splitlines()


def test_chinese_heads_calls_and_summaries() -> None:
    lines = printed("zh")
    assert lines[0].split()[:3] == ["时间", "帧", "流"] and "客户端/服务器状态" in lines[0]
    assert any("socket() → 成功" in line for line in lines)
    summaries = [line for line in lines if line.startswith("# tcp 流 ")]
    assert summaries and "握手完整" in summaries[0] and "结束：RST" in summaries[0]


def test_english_keeps_its_words_and_the_values_stay_the_jsonls() -> None:
    lines = printed("en")
    assert lines[0].split()[:3] == ["time", "frame", "st"]
    summary = next(line for line in lines if line.startswith("# tcp stream 0: "))
    assert "handshake complete" in summary and summary.endswith("ended rst")
    zh = printed("zh")
    assert [line.split()[-1] for line in lines if "SYN seq=0" in line] == [
        line.split()[-1] for line in zh if "SYN seq=0" in line
    ]  # RFC state names and phases are not translated


def test_columns_are_padded_by_cells() -> None:
    assert cells("客户端") == 6 and pad("客户端", 8, right=True) == "  客户端"
