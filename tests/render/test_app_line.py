"""The line of application data on an arrow: one line, beside the label's own words."""

from __future__ import annotations

from handshake_viz.render.ladder_text import with_app_line


def test_an_arrow_keeps_its_app_line_on_one_line_giving_up_seq_first():
    label = "PSH,ACK seq=1 ack=1 len=136"
    assert with_app_line(label, "GET /", 40) == "PSH,ACK seq=1 ack=1 len=136 «GET /»"
    assert with_app_line(label, "GET /download/CHANGES.txt", 40) == (
        "PSH,ACK ack=1 len=136 «GET /download/C…»")  # fmt: skip
    assert with_app_line(label, "GET /download/CHANGES.txt", 12) == label  # no room: as it was
    assert with_app_line(label, None, 40) == label
