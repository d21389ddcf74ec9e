"""Headless output: events as a readable text ladder, or as JSON Lines.

The JSONL of a packet event is formatted by hand (with ``json.dumps``'s own separators) because
``json.dumps`` of a dict per packet would cost more than decoding and tracking together; a test
checks that both give the same objects. A connection summary's is too (`summary_jsonl`).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from handshake_viz.core.events import (
    ConnectionSummary,
    Event,
    KernelEvent,
    PacketEvent,
    SocketEvent,
    StateEvent,
    TcpState,
    endpoint,
    flag_names,
)
from handshake_viz.core.tcpoptions import parse_tcp_options, timestamp_offset
from handshake_viz.render.cells import pad
from handshake_viz.render.summary_jsonl import summary_jsonl
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.results import result_text

if TYPE_CHECKING:
    from handshake_viz.render.print_gaps import PrintGaps

_dumps = json.dumps
_FLAGS_JSON: dict[int, str] = {}


def _flags_json(bits: int) -> str:
    s = _FLAGS_JSON.get(bits)
    if s is None:
        s = _FLAGS_JSON[bits] = _dumps(list(flag_names(bits)))
    return s


_OPTION_TEMPLATES: dict[bytes, tuple[str, str] | None] = {}
_TS_AT = struct.Struct("!II").unpack_from


def options_json(raw: bytes) -> str:
    """The options object as JSON.

    A SYN's options differ from the previous SYN's only in the timestamp values, so the JSON
    around the timestamps is made once per layout and reused (parsing costs 10 µs a SYN).
    """
    i = timestamp_offset(raw)
    if i is None:
        return _dumps(parse_tcp_options(raw))
    key = raw[: i + 2] + raw[i + 10 :]
    if key in _OPTION_TEMPLATES:
        template = _OPTION_TEMPLATES[key]
    else:
        template = _option_template(raw, i)
        if len(_OPTION_TEMPLATES) < 10_000:
            _OPTION_TEMPLATES[key] = template
    if template is None:
        return _dumps(parse_tcp_options(raw))
    val, ecr = _TS_AT(raw, i + 2)
    return f"{template[0]}{val}, {ecr}{template[1]}"


def _option_template(raw: bytes, i: int) -> tuple[str, str] | None:
    """JSON before and after the timestamp values, if the bytes at `i` really are the TS option."""
    parsed = parse_tcp_options(raw)
    if parsed.get("ts") != list(_TS_AT(raw, i + 2)):
        return None
    marker = [0x7AB1E, 0xC0FFEE]
    parsed["ts"] = marker
    text = _dumps(parsed)
    placeholder = f"[{marker[0]}, {marker[1]}]"
    pos = text.find(placeholder)
    if pos < 0:
        return None
    return text[: pos + 1], text[pos + len(placeholder) - 1 :]


_TAILS: dict[tuple[object, ...], str] = {}


def _tail(e: PacketEvent) -> str:
    """The fields that take few distinct values, formatted once per combination."""
    cs = e.client_state
    ss = e.server_state
    s = (
        f'"dir": "{e.dir}", "flags": {_flags_json(e.flags)}, "phase": "{e.phase}", '
        f'"client_state": {"null" if cs is None else _dumps(str(cs))}, '
        f'"server_state": {"null" if ss is None else _dumps(str(ss))}, '
        f'"analysis": {_dumps(list(e.analysis))}' + (', "truncated": true}' if e.truncated else "}")
    )
    if len(_TAILS) < 100_000:
        _TAILS[(e.dir, e.flags, e.phase, cs, ss, e.analysis, e.truncated)] = s
    return s


def _kernel_jsonl(e: PacketEvent) -> str:
    """The kernel's states of a packet's ends, as JSONL keys (empty without the kernel's view)."""
    k = e.kernel
    if k is None:
        return ""
    cs, ss = k.client, k.server
    return (
        f', "kernel_client_state": {"null" if cs is None else _dumps(str(cs))}, '
        f'"kernel_server_state": {"null" if ss is None else _dumps(str(ss))}'
    )


_ENDS: dict[tuple[str, int, str, int, str, int], str] = {}
"""A packet's protocol, stream and ends as JSONL, per direction of a conversation."""


def packet_jsonl(e: PacketEvent) -> str:
    """The JSONL line of a packet event (without newline).

    Same object as ``json.dumps(e.to_dict())``; the few-valued fields come last, from a cache,
    and the conversation's fields from another.
    """
    tail = _TAILS.get(
        (e.dir, e.flags, e.phase, e.client_state, e.server_state, e.analysis, e.truncated)
    ) or _tail(e)
    ack = e.ack
    window, size = e.window, e.window_size
    raw = e.raw_options
    if not raw:
        opts = "{}"
    elif len(raw) == 12 and raw.startswith(b"\x01\x01\x08\x0a"):  # NOP NOP timestamps
        val, ecr = _TS_AT(raw, 4)
        opts = f'{{"ts": [{val}, {ecr}]}}'
    else:
        opts = options_json(raw)
    key = (e.proto, e.stream, e.src, e.sport, e.dst, e.dport)
    ends = _ENDS.get(key)
    if ends is None:
        if len(_ENDS) >= 4096:
            _ENDS.clear()  # conversations come and go: the recent ones are the ones asked for
        ends = _ENDS[key] = (
            f'"proto": "{e.proto}", "stream": {e.stream}, "src": "{e.src}", "sport": {e.sport}, '
            f'"dst": "{e.dst}", "dport": {e.dport}'
        )
    line = (
        f'{{"type": "packet", "frame": {e.frame}, "time": {e.time!r}, {ends}, '
        f'"seq": {"null" if e.seq is None else e.seq}, '
        f'"ack": {"null" if ack is None else ack}, "len": {e.len}, '
        f'"window": {"null" if window is None else window}, '
        f'"window_size": {"null" if size is None else size}, "options": {opts}, {tail}'
    )
    if e.kernel is None:
        return line
    return line[:-1] + _kernel_jsonl(e) + "}"


def event_jsonl(e: Event) -> str:
    """The JSONL line of any event."""
    if type(e) is PacketEvent:
        return packet_jsonl(e)
    if type(e) is ConnectionSummary:
        return summary_jsonl(e)
    return _dumps(e.to_dict(), ensure_ascii=False)


ARROW_WIDTH = 40


def program_text(pid: int | None, comm: str | None, cat: Catalog) -> str | None:
    """ "curl 4711", where the process is known."""
    if pid is None:
        return None
    return cat.text("kernel.program", comm=comm or "?", pid=pid)


def _state_word(state: TcpState | None) -> str:
    return "—" if state is None else str(state)


def side_text(e: SocketEvent | StateEvent | KernelEvent, cat: Catalog | None = None) -> str:
    """What a side event says, in a line: a call with its result, a state change, or what the
    kernel did; prefixed with the program ("curl 4711: ...") where it is known."""
    cat = cat or load("en")
    if isinstance(e, SocketEvent):
        where = e.remote or e.local or ""
        result = f" → {result_text(e.result, cat.lang)}" if e.result else ""
        text = f"{e.call}() {where}{result}".replace("  ", " ").strip()
    elif isinstance(e, StateEvent):
        old, new = _state_word(e.old), _state_word(e.new)
        if e.old is None:
            text = cat.text("kernel.state_found", new=new)
        elif e.timewait and e.new is TcpState.FIN_WAIT_2:
            text = cat.text("kernel.timewait_fw2", old=old)
        elif e.timewait:
            text = cat.text("kernel.timewait", old=old, new=new)
        else:
            text = cat.text("kernel.state", old=old, new=new)
    else:
        key = {"retransmit": "kernel.retransmit", "retransmit_synack": "kernel.retransmit_synack",
               "send_reset": "kernel.send_reset", "receive_reset": "kernel.receive_reset"}.get(
            e.event, "kernel.retransmit")  # fmt: skip
        if e.event == "retransmit" and e.state is TcpState.SYN_SENT:
            key = "kernel.retransmit_syn"
        text = cat.text(key)
        if e.reason in ("timeout", "fast", "no_socket"):
            text = cat.text(
                "kernel.because", text=text, reason=cat.text(f"kernel.reason_{e.reason}")
            )
        return text
    program = program_text(e.pid, e.comm, cat)
    return f"{program}: {text}" if program else text


def packet_label(e: PacketEvent) -> str:
    """What the arrow of a packet says: flags, relative seq and ack, length."""
    if e.proto == "udp":
        return f"UDP len={e.len}"
    flags = ",".join(flag_names(e.flags)) or "none"
    ack = f" ack={e.ack}" if e.ack is not None else ""
    return f"{flags} seq={e.seq}{ack} len={e.len}"


def arrow(label: str, c2s: bool, width: int = ARROW_WIDTH) -> str:
    """A ladder arrow carrying `label`, pointing right for client to server."""
    body = f" {label} "
    pad = max(width - len(body) - 2, 2)
    left = pad // 2
    if c2s:
        return "─" * left + body + "─" * (pad - left) + "─▶"
    return "◀─" + "─" * left + body + "─" * (pad - left)


class TextLadder:
    """Formats events as one readable line each: time, client, arrow, server, phase, states.

    The words (column heads, the connection's summary, call results, the kernel's states) are
    the catalog's; the values (addresses, flags, phases, RFC state names) are those of the JSONL.
    """

    def __init__(self, cat: Catalog | None = None) -> None:
        self.t0: float | None = None
        self.ends: dict[tuple[str, int], tuple[str, str]] = {}
        self.cat = cat or load("en")

    def header(self) -> str:
        w = self.cat.text
        return (
            f"{pad(w('text.time'), 10, right=True)}  {pad(w('text.frame'), 6, right=True)} "
            f"{pad(w('text.stream'), 3, right=True)}  {pad(w('text.client'), 22, right=True)}  "
            f"{'':{ARROW_WIDTH}}  {pad(w('text.server'), 22)}  {pad(w('text.phase'), 9)} "
            f"{w('text.states')}"
        )

    def _word(self, kind: str, value: str) -> str:
        """A summary's value in the catalog's words, or as it is where it has none."""
        key = f"text.{kind}_{value}"
        return self.cat.text(key) if self.cat.has(key) else value

    def line(self, e: Event) -> str | None:
        t = getattr(e, "time", None)
        if t is not None and self.t0 is None:
            self.t0 = t
        rel = (t - self.t0) if t is not None and self.t0 is not None else 0.0
        if type(e) is PacketEvent:
            c2s = e.dir == "c2s"
            client = endpoint(e.src, e.sport) if c2s else endpoint(e.dst, e.dport)
            server = endpoint(e.dst, e.dport) if c2s else endpoint(e.src, e.sport)
            states = f"{e.client_state}/{e.server_state}" if e.client_state else ""
            if e.kernel is not None:
                k = e.kernel
                states += "  " + self.cat.text(
                    "text.kernel_states", client=_state_word(k.client), server=_state_word(k.server)
                )
            marks = f"  [{', '.join(e.analysis)}]" if e.analysis else ""
            stream = f"{'u' if e.proto == 'udp' else ''}{e.stream}"
            return (
                f"{rel:10.6f}  {e.frame:>6} {stream:>3}  {client:>22}  "
                f"{arrow(packet_label(e), c2s)}  {server:<22}  {e.phase:<9} {states}{marks}"
            )
        if isinstance(e, (SocketEvent, StateEvent, KernelEvent)):
            text = side_text(e, self.cat)
            if e.side == "client":
                return f"{rel:10.6f}  {'':>6} {'':>3}  {pad(text, 22, right=True)}"
            return f"{rel:10.6f}  {'':>6} {'':>3}  {'':>22}  {'':{ARROW_WIDTH}}  {text}"
        if isinstance(e, ConnectionSummary):
            rtt = e.handshake_rtt
            rtt_s = self.cat.text("text.rtt", ms=f"{rtt * 1000:.3f}") if rtt is not None else ""
            return self.cat.text(
                "text.summary", proto=e.proto, stream=e.stream,
                client=endpoint(e.client, e.cport), server=endpoint(e.server, e.sport),
                handshake=self._word("hs", e.handshake), rtt=rtt_s,
                c2s=e.bytes_c2s, s2c=e.bytes_s2c, packets=e.packets,
                ended=self._word("end", e.ended),
            )  # fmt: skip
        d = e.to_dict()
        kind = d.pop("type")  # the stats record: its keys are the JSONL's
        return f"# {kind}: " + ", ".join(f"{k}={v}" for k, v in d.items() if v is not None)


class EventPrinter:
    """Writes events to a text stream as they come, in `fmt` ("text" or "jsonl")."""

    def __init__(
        self,
        stream: TextIO,
        fmt: str = "text",
        flush_each: bool = False,
        time_true: bool = False,
        cat: Catalog | None = None,
    ) -> None:
        self.stream = stream
        self.fmt = fmt
        self.flush_each = flush_each
        """Flush after every event: for live sources and pipes, so lines appear at once."""
        self.ladder = TextLadder(cat) if fmt == "text" else None
        self.gaps: PrintGaps | None = None
        """The time-true ladder's gap lines between the text's lines (`--time-true`)."""
        if time_true and fmt == "text":
            # here, so that plain --print never loads the timeline and Rich
            from handshake_viz.render.print_gaps import PrintGaps

            self.gaps = PrintGaps()
        self._header_done = False

    def write(self, e: Event) -> None:
        if self.ladder is None:
            line: str | None = event_jsonl(e)
        else:
            if not self._header_done:
                self.stream.write(self.ladder.header() + "\n")
                self._header_done = True
            line = self.ladder.line(e)
            if self.gaps is not None:
                self._write_lines(self.gaps.lines(e, line))
                return
        if line is not None:
            self.stream.write(line + "\n")
            if self.flush_each:
                self.stream.flush()

    def write_all(self, events: Iterable[Event], batch: int = 256) -> None:
        """Write every event of an iterable; lines go out in batches unless `flush_each`."""
        if self.ladder is not None or self.flush_each:
            for e in events:
                self.write(e)
            return
        lines: list[str] = []
        append = lines.append
        write = self.stream.write
        try:
            for e in events:
                append(packet_jsonl(e) if type(e) is PacketEvent else event_jsonl(e))
                if len(lines) >= batch:
                    lines.append("")
                    write("\n".join(lines))
                    lines.clear()
        finally:  # a source that fails still gets every complete packet out first
            if lines:
                lines.append("")
                write("\n".join(lines))

    def _write_lines(self, lines: list[str]) -> None:
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            if self.flush_each:
                self.stream.flush()

    def close(self) -> None:
        if self.gaps is not None:
            self._write_lines(self.gaps.flush())
        self.stream.flush()
