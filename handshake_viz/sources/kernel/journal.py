"""Socket calls and kernel states kept in the capture file, beside the packets.

Each side event is one pcapng *systemd Journal Export Block* (block type 9): a journal entry
of ``FIELD=value`` lines. Wireshark and tshark show each as a row of its own ("systemd
Journal") with its time and message (``tshark -V`` prints every field), so whoever opens the
file sees what the programs and their kernels did; ``handshake-viz replay`` reads the event
back exactly from one field, ``HANDSHAKE_VIZ_EVENT``: the event's JSONL object.

The fields: ``__REALTIME_TIMESTAMP`` (microseconds, the journal's unit; the exact time is in
the JSON), ``MESSAGE`` (the ladder's words for it), ``_PID`` and ``_COMM`` where known,
``SYSLOG_IDENTIFIER=handshake-viz``, ``HANDSHAKE_VIZ_EVENT``. A first entry says the kernel's
view was on (``{"type": "view", ...}``): from it, a SYN that no traced listener waited for
was refused.

Like every frame, a journal entry takes a frame number (tshark counts them), so packets keep
the numbers tshark gives them in the saved file.
"""

from __future__ import annotations

import json
from typing import Any

from handshake_viz.core.events import (
    KernelEvent,
    SideEvent,
    SocketEvent,
    StateEvent,
    TcpState,
)
from handshake_viz.sources.live.pcapwriter import pcapng_block

JOURNAL_BLOCK = 9
EVENT_FIELD = "HANDSHAKE_VIZ_EVENT"


def entry_block(fields: list[tuple[str, str]]) -> bytes:
    """A journal export block of `fields` (values without newlines)."""
    text = "".join(f"{k}={v.replace(chr(10), ' ')}\n" for k, v in fields)
    return pcapng_block(JOURNAL_BLOCK, text.encode("utf-8"))


def event_block(event: SideEvent | dict[str, Any], message: str) -> bytes:
    """The block of one side event (or of a dict: the view's first entry)."""
    d = event if isinstance(event, dict) else event.to_dict()
    fields = [("__REALTIME_TIMESTAMP", str(int(d["time"] * 1_000_000)))]
    fields.append(("MESSAGE", message))
    if d.get("pid") is not None:
        fields.append(("_PID", str(d["pid"])))
    if d.get("comm"):
        fields.append(("_COMM", str(d["comm"])))
    fields.append(("SYSLOG_IDENTIFIER", "handshake-viz"))
    fields.append((EVENT_FIELD, json.dumps(d, ensure_ascii=False, separators=(",", ":"))))
    return entry_block(fields)


def view_entry(time: float, ports: list[int], kernel: bool) -> dict[str, Any]:
    """The first entry: which ports were watched, and whether by the kernel's view."""
    return {"type": "view", "time": time, "ports": ports, "kernel": kernel}


def _state(value: str | None) -> TcpState | None:
    return None if value is None else TcpState(value)


def event_from_dict(d: dict[str, Any]) -> SideEvent | dict[str, Any] | None:
    """A side event from its JSONL object (a "view" entry comes back as the dict)."""
    kind = d.get("type")
    try:
        if kind == "socket":
            return SocketEvent(d["time"], d["side"], d["call"], d.get("local"), d.get("remote"),
                               d.get("result"), d.get("errno"), d.get("proto", "tcp"),
                               d.get("pid"), d.get("comm"))  # fmt: skip
        if kind == "state":
            return StateEvent(d["time"], d.get("local"), d.get("remote"), _state(d.get("old")),
                              TcpState(d["new"]), d.get("pid"), d.get("comm"), d.get("side"),
                              bool(d.get("timewait")))  # fmt: skip
        if kind == "kernel":
            return KernelEvent(d["time"], d["event"], d.get("local"), d.get("remote"),
                               _state(d.get("state")), d.get("reason"), d.get("pid"),
                               d.get("comm"), d.get("side"))  # fmt: skip
        if kind == "view":
            return d
    except (KeyError, ValueError, TypeError):
        return None
    return None


def parse_entry(body: bytes) -> SideEvent | dict[str, Any] | None:
    """The event a journal block of ours holds; None for anyone else's entry."""
    prefix = EVENT_FIELD.encode() + b"="
    for line in body.split(b"\n"):
        if line.startswith(prefix):
            try:
                d = json.loads(line[len(prefix) :].decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return None
            return event_from_dict(d) if isinstance(d, dict) else None
    return None
