"""The status bar keeps a reading error readable at 120 columns, once its pop-up is gone."""

from __future__ import annotations

from handshake_viz.core.events import CaptureStats
from handshake_viz.core.source import SourceError
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.tui.statusbar import status_text
from tests.helpers.paths import TSHARK_DATA

CUT = TSHARK_DATA / "derived__http_get.cut-short.pcap"


def test_a_mid_file_error_fits_a_120_column_status_bar() -> None:
    source = ReplaySource(CUT)
    try:
        for _ in source.events():
            pass
    except SourceError as e:
        error = str(e)
    text = status_text(source.description, CaptureStats(source.description), shown=13,
                       indexed=13, streams=1, mode="⏸ 1x", done=True, error=error)  # fmt: skip
    visible = text.plain[:120]
    assert "cut short in the middle of a packet" in visible
    assert "8 packets before the cut were read)" in visible
    assert "derived__http_get.cut-short.pcap" in visible and str(TSHARK_DATA) not in visible


def test_a_filter_being_applied_is_said_beside_the_one_shown_in_both_languages() -> None:
    def said(lang: str) -> str:
        return status_text("big.pcap", CaptureStats("big.pcap"), shown=10, indexed=10, streams=1,
                           mode="⏸ 1x", done=True, filter_text="fin", matched=2,
                           filtering="syn or fin", lang=lang, width=140).plain  # fmt: skip

    en, zh = said("en"), said("zh")
    assert "filter 'fin' (2 match)" in en and "filtering 'syn or fin'… (Esc: stop)" in en
    assert "过滤“fin”" in zh and "正在过滤“syn or fin”…（Esc：停止）" in zh
