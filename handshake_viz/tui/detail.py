"""The packet detail: what the timeline knows of the selected event, why it is there, and
Scapy's full dissection of that one packet with its payload in hex and text.

Scapy is imported and run in a worker thread on first use (its import alone takes about half
a second here); the fields and the explanation show at once.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from handshake_viz.core.events import endpoint
from handshake_viz.core.source import FrameSource
from handshake_viz.model.timeline import Row, Timeline
from handshake_viz.render.palette import PHASE_COLOURS, PHASE_LABELS_ZH
from handshake_viz.words.explain import explain


def row_summary(row: Row, lang: str = "en") -> Text:
    """The detail's first lines: where the event sits and its header fields."""
    text = Text()
    phase = row.phase.value + (f" ({PHASE_LABELS_ZH[row.phase]})" if lang == "zh" else "")
    if row.socket is not None:
        ev = row.socket
        text.append(f"{ev.side} {ev.call}()", style="bold")
        text.append(f"  +{row.since_first:.6f} s  phase ")
        text.append(phase, style=PHASE_COLOURS[row.phase])
        for name in ("local", "remote", "result", "errno"):
            value = getattr(ev, name)
            if value is not None:
                text.append(f"\n{name}: {value}")
        return text
    s = row.stream
    assert s is not None
    text.append(f"frame {row.frame}", style="bold")
    text.append(f"  {s.proto} stream {s.stream}  +{row.since_first:.6f} s  phase ")
    text.append(phase, style=PHASE_COLOURS[row.phase])
    arrow = "→" if row.dir == 0 else "←"
    text.append(
        f"\nclient {endpoint(s.client, s.cport)} {arrow} server {endpoint(s.server, s.sport)}"
    )
    if s.proto == "tcp":
        text.append(
            f"\nflags {row.flag_text or '—'}  seq {row.seq}  ack "
            f"{'—' if row.ack is None else row.ack}  len {row.length}  window {row.window}"
        )
        text.append(
            f"\nstates after it: client {row.client_state.value if row.client_state else '—'}"
            f", server {row.server_state.value if row.server_state else '—'}"
        )
    else:
        text.append(f"\nlength {row.length}")
    if row.analysis:
        text.append("\nanalysis: " + ", ".join(row.analysis), style="#ff5f5f")
    if row.options:
        opts = "  ".join(f"{k}={v}" for k, v in row.options.items())
        text.append(f"\noptions: {opts}")
    return text


def dissect(linktype: int, data: bytes) -> str:
    """Scapy's full dissection of one frame, then its transport payload as a hex dump."""
    import scapy.layers.inet
    import scapy.layers.inet6
    import scapy.layers.l2  # noqa: F401
    from scapy.config import conf
    from scapy.packet import Raw
    from scapy.utils import hexdump

    cls: Any = conf.l2types.get(linktype, Raw)
    pkt = cls(data)
    out = pkt.show(dump=True) or ""
    payload = b""
    for layer in ("TCP", "UDP"):
        if pkt.haslayer(layer):
            payload = bytes(pkt[layer].payload)
            break
    if payload:
        out += f"\n── payload, {len(payload)} bytes ──\n" + (hexdump(payload, dump=True) or "")
    return out


class PacketDetail(VerticalScroll):
    """Shows one timeline row; `show(row)` is cheap, the dissection follows from a thread."""

    class Dissected(Message):
        def __init__(self, row: int, text: str) -> None:
            super().__init__()
            self.row = row
            self.text = text

    def __init__(
        self, timeline: Timeline, frames: FrameSource | None, lang: str = "en", **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.timeline = timeline
        self.frames = frames
        self.lang = lang
        self.row: int | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Select a row of the ladder (↑ ↓, click) to see its packet.", id="summary")
        yield Static("", id="explanation")
        yield Static("", id="dissection")

    def show(self, row: int | None) -> None:
        """Show a timeline row (None: nothing selected)."""
        if row == self.row:
            return
        self.row = row
        summary = self.query_one("#summary", Static)
        explanation = self.query_one("#explanation", Static)
        dissection = self.query_one("#dissection", Static)
        if row is None:
            summary.update("Select a row of the ladder to see its packet.")
            explanation.update("")
            dissection.update("")
            return
        r = self.timeline.row(row)
        summary.update(row_summary(r, self.lang))
        explanation.update(Text(explain(r.event(), self.lang, states=False), style="italic"))
        if r.socket is not None:
            dissection.update("")
        elif self.frames is None:
            dissection.update(Text("(no capture file to read this packet's bytes from)", "dim"))
        else:
            dissection.update(Text("dissecting…", "dim"))
            self._dissect(row, r.frame)

    @work(thread=True, exclusive=True, group="dissect", exit_on_error=False)
    def _dissect(self, row: int, frame: int) -> None:
        assert self.frames is not None
        try:
            got = self.frames.raw_frame(frame)
            text = "(frame not found in the capture file)" if got is None else dissect(*got)
        except Exception as exc:  # noqa: BLE001 - a bad frame must not take the app down; say what happened
            text = f"(could not dissect frame {frame}: {exc})"
        if not get_current_worker().is_cancelled:
            self.post_message(self.Dissected(row, text))

    def on_packet_detail_dissected(self, message: Dissected) -> None:
        if message.row == self.row:
            self.query_one("#dissection", Static).update(Text(message.text))
