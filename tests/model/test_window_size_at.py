"""The packet detail's window in bytes (`window_size_at`, from the timeline's columns) is the
JSONL's `window_size` (the tracker's, equal to tshark's), row by row, and the detail shows it
beside the field as sent."""

from __future__ import annotations

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.model.graphs.window import window_size_at
from handshake_viz.model.timeline import Timeline
from handshake_viz.tui.detail import row_summary
from tests.helpers.fakes import read_events
from tests.helpers.paths import LAB_DATA, ROOT, TSHARK_DATA

CAPTURES = [ROOT / "captures" / "basic.pcap", TSHARK_DATA / "zeek__http_get.pcap",
            LAB_DATA / "lab__http-loss.pcap", LAB_DATA / "lab__mid-transfer.pcap"]  # fmt: skip


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_the_timelines_window_size_is_the_events(path) -> None:  # type: ignore[no-untyped-def]
    events = read_events(path)
    tl = Timeline()
    tl.extend(events)
    packets = [e for e in events if isinstance(e, PacketEvent) and e.proto == "tcp"]
    rows = {tl.frame[r]: r for r in range(tl.count)}
    assert [window_size_at(tl, rows[e.frame])[0] for e in packets] == [
        e.window_size for e in packets
    ]


def test_the_detail_shows_the_scaled_window_beside_the_field() -> None:
    tl = Timeline()
    tl.extend(read_events(ROOT / "captures" / "basic.pcap"))
    ack = 2  # the handshake's ACK: window 64, the client's SYN offered wscale 10
    text = row_summary(tl.row(ack), "en", window_size_at(tl, ack)).plain
    assert "window 64 (× 1024 = 65536 bytes)" in text
    zh = row_summary(tl.row(ack), "zh", window_size_at(tl, ack)).plain
    assert "窗口 64（× 1024 = 65536 字节）" in zh
    syn = row_summary(tl.row(0), "en", window_size_at(tl, 0)).plain
    assert "window 65495" in syn and "×" not in syn  # a SYN's window is never scaled
