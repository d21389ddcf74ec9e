"""Handouts: a guided scenario's capture, with its ladder as SVG and Mermaid beside it."""

from __future__ import annotations

from pathlib import Path

from handshake_viz.classroom.handout import export_handout
from handshake_viz.core.events import PacketEvent
from handshake_viz.sources.replay import ReplaySource


def test_refused_handout(need_capture: None, port: int, tmp_path: Path) -> None:
    pcap, svg, mmd = export_handout("refused", tmp_path, port=port)
    assert pcap.parent == svg.parent == mmd.parent == tmp_path
    packets = [e for e in ReplaySource(pcap).events() if isinstance(e, PacketEvent)]
    assert [p.flag_list for p in packets] == [("SYN",), ("RST", "ACK")]
    diagram = mmd.read_text()
    assert diagram.startswith("sequenceDiagram") and "connect()" in diagram and "RST" in diagram
    assert svg.read_text().lstrip().startswith("<svg") and "SYN" in svg.read_text()
