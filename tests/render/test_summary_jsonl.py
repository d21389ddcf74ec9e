"""The hand-written JSONL of connection summaries is json.dumps's text, byte for byte."""

from __future__ import annotations

import json

from handshake_viz.core.events import ConnectionSummary
from handshake_viz.render.summary_jsonl import summary_jsonl
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import LAB_DATA, TSHARK_DATA


def test_summary_lines_are_json_dumps_text_on_every_capture():
    checked = 0
    for capture in sorted([*TSHARK_DATA.glob("*.pcap*"), *LAB_DATA.glob("*.pcap*")]):
        if capture.suffix not in (".pcap", ".pcapng"):
            continue
        try:
            for ev in ReplaySource(capture).events():
                if type(ev) is ConnectionSummary:
                    assert summary_jsonl(ev) == json.dumps(ev.to_dict(), ensure_ascii=False)
                    checked += 1
        except Exception as e:  # noqa: BLE001 - bad files end with SourceError
            assert type(e).__name__ == "SourceError"
    assert checked > 100


def test_summary_lines_of_odd_values_are_json_dumps_text():
    odd = ConnectionSummary(
        "tcp", 3, "fe80::1", 1, 'a"b\\c\n', 2, 1, 2, float("nan"), float("inf"), 5, 6, 7,
        rtt_syn_synack=-0.0, rtt_synack_ack=1e-300, syn_options={"sack": [[1, 2]], "tfo": True},
        synack_options={"mptcp": 1, "opt99": "ab"}, history="ShAé", conn_state="OTH",
    )  # fmt: skip
    assert summary_jsonl(odd) == json.dumps(odd.to_dict(), ensure_ascii=False)
    again = ConnectionSummary("udp", 0, "10.0.0.1", 53, "10.0.0.2", 5353, 1, 1, 1.5, 2.5,
                              synack_options={"mptcp": True})  # fmt: skip
    assert summary_jsonl(again) == json.dumps(again.to_dict(), ensure_ascii=False)
