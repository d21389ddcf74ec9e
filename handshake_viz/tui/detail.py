"""The packet detail: what the timeline knows of the selected event, why it is there, and
Scapy's full dissection of that one packet with its payload in hex and text.

Scapy is imported and run in a worker thread on first use (its import alone takes about half
a second here); the fields and the explanation show at once.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from handshake_viz.core.events import endpoint
from handshake_viz.core.source import FrameSource
from handshake_viz.model.graphs.window import window_size_at
from handshake_viz.model.timeline import Row, Timeline
from handshake_viz.render.palette import PHASE_COLOURS
from handshake_viz.tui.binding_words import speak_bindings
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.explain import explain, phase_name
from handshake_viz.words.results import result_text


def row_summary(row: Row, lang: str = "en", window: tuple[int | None, int] | None = None) -> Text:
    """The detail's first lines: where the event sits and its header fields; `window`: the
    window in bytes and the sender's shift (`window_size_at`), shown beside the field."""
    cat = load(lang)
    text = Text()
    name = phase_name(row.phase, lang)
    phase = row.phase.value + (f" ({name})" if name else "")
    time_phase = cat.text("detail.time_phase", time=f"{row.since_first:.6f}")
    if row.socket is not None:
        ev = row.socket
        text.append(f"{cat.text(f'word.{ev.side}')} {ev.call}()", style="bold")
        text.append(time_phase)
        text.append(phase, style=PHASE_COLOURS[row.phase])
        values = {"local": ev.local, "remote": ev.remote, "errno": ev.errno,
                  "result": result_text(ev.result, lang) if ev.result else ev.result}  # fmt: skip
        for field in ("local", "remote", "result", "errno"):
            if values[field] is not None:
                text.append("\n" + cat.text(f"detail.{field}", value=values[field]))
        return text
    s = row.stream
    assert s is not None
    text.append(cat.text("detail.frame", frame=row.frame), style="bold")
    text.append(cat.text("detail.stream", proto=s.proto, stream=s.stream) + time_phase)
    text.append(phase, style=PHASE_COLOURS[row.phase])
    arrow = "→" if row.dir == 0 else "←"
    client, server = endpoint(s.client, s.cport), endpoint(s.server, s.sport)
    text.append("\n" + cat.text("detail.ends", client=client, arrow=arrow, server=server))
    if s.proto == "tcp":
        ack = "—" if row.ack is None else row.ack
        text.append("\n" + cat.text("detail.tcp", flags=row.flag_text or "—", seq=row.seq,
                                     ack=ack, len=row.length,
                                     window=window_text(row.window, window, cat)))  # fmt: skip
        states = {side: "—" if state is None else cat.text(f"state.{state.value}")
                  for side, state in (("client", row.client_state),
                                      ("server", row.server_state))}  # fmt: skip
        text.append("\n" + cat.text("detail.states", **states))
    else:
        text.append("\n" + cat.text("detail.length", len=row.length))
    if row.analysis:
        text.append("\n" + cat.text("detail.analysis", marks=", ".join(row.analysis)),
                    style="#ff5f5f")  # fmt: skip
    if row.options:
        opts = "  ".join(f"{k}={v}" for k, v in row.options.items())
        text.append("\n" + cat.text("detail.options", options=opts))
    return text


def window_text(raw: int | None, scaled: tuple[int | None, int] | None, cat: Catalog) -> str:
    """The window field as sent, and beside it the window in bytes where its scale says more
    (`detail.window_scaled`) or is unknown (`detail.window_unknown`)."""
    if raw is None or scaled is None:
        return str(raw)
    size, shift = scaled
    if size is None:
        return cat.text("detail.window_unknown", raw=raw)
    if shift == 0:
        return str(raw)
    return cat.text("detail.window_scaled", raw=raw, factor=1 << shift, size=size)


def hex_dump(data: bytes, width: int = 80) -> str:
    """`data` as lines of offset, bytes in hex and the same bytes as text (a dot where one
    is not printable), 16 bytes a line, or 8 or 4 where `width` cells hold no more: a hex
    dump that wraps its lines cannot be read."""
    per_line = next((n for n in (16, 8) if 4 * n + 5 <= width), 4)
    lines = []
    for at in range(0, len(data), per_line):
        chunk = data[at : at + per_line]
        hexes = " ".join(f"{b:02X}" for b in chunk).ljust(3 * per_line - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:04x} {hexes} {text}")
    return "\n".join(lines)


def dissect(linktype: int, data: bytes) -> tuple[str, bytes]:
    """Scapy's full dissection of one frame (Scapy's own field names), and its transport
    payload (shown as a hex dump for the pane's width: `PacketDetail`)."""
    import scapy.layers.inet
    import scapy.layers.inet6
    import scapy.layers.l2  # noqa: F401
    from scapy.config import conf
    from scapy.packet import Raw

    cls: Any = conf.l2types.get(linktype, Raw)
    pkt = cls(data)
    payload = b""
    for layer in ("TCP", "UDP"):
        if pkt.haslayer(layer):
            payload = bytes(pkt[layer].payload)
            break
    return pkt.show(dump=True) or "", payload


class PacketDetail(VerticalScroll, inherit_bindings=False):
    """Shows one timeline row; `show(row)` is cheap, the dissection follows from a thread.

    Focused (Enter or 2 on the ladder, Tab, a click), its keys scroll it; ← → stay the
    playback's (it has nothing to scroll sideways), Esc gives the keys back to the ladder.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "key.scroll_up", show=False),
        Binding("down", "scroll_down", "key.scroll_down", show=False),
        Binding("pageup", "page_up", "key.page_up", show=False),
        Binding("pagedown", "page_down", "key.page_down", show=False),
        Binding("home", "scroll_home", "key.scroll_top", show=False),
        Binding("end", "scroll_end", "key.scroll_bottom", show=False),
    ]

    class Dissected(Message):
        def __init__(self, row: int, text: str, payload: bytes = b"") -> None:
            super().__init__()
            self.row = row
            self.text = text
            self.payload = payload

    def __init__(
        self, timeline: Timeline, frames: FrameSource | None, lang: str = "en", **kw: Any
    ) -> None:
        super().__init__(**kw)
        speak_bindings(self, lang)
        self.timeline = timeline
        self.frames = frames
        self.lang = lang
        self.row: int | None = None
        self._dissected: tuple[str, bytes] | None = None
        """The shown row's dissection and payload, once the thread has them."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(load(self.lang).text("detail.select_first"), id="summary")
        yield Static("", id="explanation")
        yield Static("", id="dissection")

    def action_scroll_end(self) -> None:
        """To the last line, also of text laid out after the key (a dissection just in)."""
        self.scroll_end(animate=False)
        self.call_after_refresh(self.scroll_end, animate=False)

    def show(self, row: int | None) -> None:
        """Show a timeline row (None: nothing selected)."""
        if row == self.row:
            return
        self.row = row
        self._dissected = None
        self.scroll_home(animate=False)  # another packet: from its first line
        summary = self.query_one("#summary", Static)
        explanation = self.query_one("#explanation", Static)
        dissection = self.query_one("#dissection", Static)
        if row is None:
            summary.update(load(self.lang).text("detail.select"))
            explanation.update("")
            dissection.update("")
            return
        r = self.timeline.row(row)
        tcp = r.socket is None and r.stream is not None and r.stream.proto == "tcp"
        window = window_size_at(self.timeline, row) if tcp else None
        summary.update(row_summary(r, self.lang, window))
        explanation.update(Text(explain(r.event(), self.lang, states=False), style="italic"))
        if r.socket is not None:
            dissection.update("")
        elif self.frames is None:
            dissection.update(Text(load(self.lang).text("detail.no_file"), "dim"))
        else:
            dissection.update(Text(load(self.lang).text("detail.dissecting"), "dim"))
            self._dissect(row, r.frame)

    @work(thread=True, exclusive=True, group="dissect", exit_on_error=False)
    def _dissect(self, row: int, frame: int) -> None:
        assert self.frames is not None
        cat = load(self.lang)
        payload = b""
        try:
            got = self.frames.raw_frame(frame)
            text = cat.text("detail.not_found") if got is None else ""
            if got is not None:
                text, payload = dissect(*got)
        except Exception as exc:  # noqa: BLE001 - a bad frame must not take the app down; say what happened
            text = cat.text("detail.failed", frame=frame, error=exc)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Dissected(row, text, payload))

    def on_packet_detail_dissected(self, message: Dissected) -> None:
        if message.row == self.row:
            self._dissected = (message.text, message.payload)
            self._show_dissection()

    def on_resize(self) -> None:
        if self._dissected is not None:
            self._show_dissection()  # the hex dump's lines for the new width

    def _show_dissection(self) -> None:
        """The dissection, then the payload's hex dump as wide as the pane holds."""
        assert self._dissected is not None
        text, payload = self._dissected
        shown = self.query_one("#dissection", Static)
        if payload:
            heading = load(self.lang).text("detail.payload", n=len(payload))
            # The dump makes the pane scroll: room for the scrollbar it brings
            room = (shown.content_size.width or 80) - self.styles.scrollbar_size_vertical
            text += f"\n{heading}\n" + hex_dump(payload, room)
        shown.update(Text(text))
