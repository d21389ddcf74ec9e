"""The colours and markers every view uses: one colour per phase (the ladder's band, the legend,
the exports), one colour and marker per connection."""

from __future__ import annotations

from rich.style import Style

from handshake_viz.core.events import Phase

PHASE_COLOURS: dict[Phase, str] = {
    Phase.LISTEN: "#5f87ff",
    Phase.REQUEST: "#d7af00",
    Phase.CONFIRM: "#5fd75f",
    Phase.DATA: "#00afd7",
    Phase.TEARDOWN: "#af87d7",
    Phase.RESET: "#ff5f5f",
    Phase.DATAGRAM: "#a8a8a8",
}
"""One colour per phase, the same in the band, the legend and the exports."""

STREAM_COLOURS = (
    "#5fafff", "#ffaf5f", "#87d787", "#d787d7", "#ffd75f", "#5fd7d7", "#ff8787", "#afafff",
)  # fmt: skip
"""Connections cycle through these; the stream number beside the marker tells them apart."""
STREAM_MARKERS = "●■▲◆★✚◉▼"


def stream_style(sid: int) -> Style:
    return Style(color=STREAM_COLOURS[sid % len(STREAM_COLOURS)])


def stream_marker(sid: int) -> str:
    return STREAM_MARKERS[(sid // len(STREAM_COLOURS)) % len(STREAM_MARKERS)]
