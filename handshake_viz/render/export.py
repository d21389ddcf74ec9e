"""Exports of the visible timeline: plain text (the ladder as drawn), a Mermaid diagram and the
packets as a pcap file.

Pure functions of a `TimelineView` (no app needed), so a classroom handout or a test can call
them directly. Big timelines are cut at `limit` rows: a diagram of a million arrows helps nobody.
"""

from __future__ import annotations

import errno
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.rows import KIND_SOCKET, PHASES, S2C
from handshake_viz.render.ladder_gaps import time_true_text
from handshake_viz.render.ladder_text import arrow_label, ladder_text, socket_label
from handshake_viz.words.catalog import load

EXPORT_LIMIT = 2000
PCAP_NS_MAGIC = 0xA1B23C4D
"""pcap's magic number for nanosecond timestamps."""


def export_text(
    view: TimelineView,
    width: int = 120,
    limit: int = EXPORT_LIMIT,
    lang: str = "en",
    *,
    time_true: bool = False,
) -> str:
    """The ladder as the screen draws it (its headers in `lang`), without colours; with
    `time_true`, with the gap lines of the time-true ladder between rows."""
    lines = (time_true_text if time_true else ladder_text)(view, width, limit, lang)
    if view.visible_count > limit:
        lines.append(load(lang).text("ladder.not_exported", n=view.visible_count - limit))
    return "\n".join(lines) + "\n"


def _clean(text: str) -> str:
    """Mermaid reads ; and # in messages as syntax."""
    return text.replace(";", ",").replace("#", "")


def _address_less_owners(view: TimelineView, rows: list[int]) -> dict[int, int]:
    """The connection of each client call made before its socket had an address (socket(),
    a connect() still waiting): the calls from one socket() on, given in order to the
    connections begun after them, each connection to one socket."""
    tl = view.timeline
    groups: list[list[int]] = []
    for row in rows:
        ev = tl.sockets.get(row)
        if ev is None or ev.side != "client" or ev.local or tl.socket_sid(row) is not None:
            continue
        if ev.call == "socket" or not groups:
            groups.append([row])
        else:
            groups[-1].append(row)
    starts = sorted((s.first_row, s.sid) for s in tl.streams)
    owners: dict[int, int] = {}
    for group in groups:
        proto = tl.sockets[group[0]].proto
        for first, sid in starts:
            if first > group[0] and tl.streams[sid].proto == proto:
                owners.update(dict.fromkeys(group, sid))
                starts.remove((first, sid))
                break
    return owners


def export_mermaid(view: TimelineView, limit: int = EXPORT_LIMIT) -> str:
    """A `sequenceDiagram` of the visible rows (one connection's, when one is chosen): one
    participant per client socket and per server end, a note where the phase changes, socket
    calls as notes over the lifeline of their own socket (`Timeline.socket_sid`)."""
    tl = view.timeline
    names: dict[str, str] = {}

    def participant(label: str, role: str) -> str:
        if label not in names:
            names[label] = f"{role[0].upper()}{len(names)}"
        return names[label]

    def ends(sid: int) -> tuple[str, str]:
        s = tl.streams[sid]
        return f"client {s.client} port {s.cport}", f"server {s.server} port {s.sport}"

    rows = [view.row_at(i) for i in range(min(view.visible_count, limit))]
    owners = _address_less_owners(view, rows)
    listener = next((f"server {e.local.rsplit(':', 1)[0]} port {e.local.rsplit(':', 1)[1]}"
                     for r in rows if (e := tl.sockets.get(r)) and e.side == "server"
                     and e.local and ":" in e.local), None)  # fmt: skip
    body: list[str] = []
    phase = -1
    for row in rows:
        if tl.kind[row] == KIND_SOCKET:
            ev = tl.sockets[row]
            sid = tl.socket_sid(row)
            sid = owners.get(row) if sid is None else sid
            if sid is not None:
                label = ends(sid)[ev.side == "server"]
            elif ev.side == "server" and listener is not None:
                label = listener
            elif ev.local and ":" in ev.local:
                host, port = ev.local.rsplit(":", 1)
                label = f"{ev.side} {host} port {port}"
            else:
                label = ev.side
            who = participant(label, ev.side)
            body.append(f"    Note over {who}: {_clean(socket_label(view, row))}")
            continue
        client, server = ends(tl.sid[row])
        c, srv = participant(client, "client"), participant(server, "server")
        if tl.phase[row] != phase:
            phase = tl.phase[row]
            body.append(f"    Note over {c},{srv}: {PHASES[phase].value}")
        src, dst = (srv, c) if tl.dir[row] == S2C else (c, srv)
        t = tl.time[row] - (tl.first_time or 0.0)
        body.append(f"    {src}->>{dst}: {_clean(arrow_label(view, row))} (+{t:.6f} s)")
    lines = ["sequenceDiagram"]
    lines += [f"    participant {alias} as {label}" for label, alias in names.items()]
    lines += body
    if view.visible_count > limit:
        lines.append(f"    %% {view.visible_count - limit} more rows not exported")
    return "\n".join(lines) + "\n"


def export_pcap(
    view: TimelineView, frame: Callable[[int], tuple[int, bytes] | None]
) -> tuple[bytes, int]:
    """The visible packets as a pcap file (nanosecond times) for Wireshark, and how many
    visible packets could not be put in it: their bytes could not be read back (`frame`
    gives a frame's link type and bytes), or their link type differs from the first one's
    (a pcap file has one)."""
    tl = view.timeline
    records: list[bytes] = []
    linktype: int | None = None
    left_out = 0
    for i in range(view.visible_count):
        row = view.row_at(i)
        if tl.kind[row] == KIND_SOCKET:
            continue
        got = frame(tl.frame[row]) if tl.frame[row] > 0 else None
        if got is None or (linktype is not None and got[0] != linktype):
            left_out += 1
            continue
        linktype, data = got
        ns = round(tl.time[row] * 1e9)
        records.append(struct.pack("<IIII", ns // 10**9, ns % 10**9, len(data), len(data)) + data)
    header = struct.pack("<IHHiIII", PCAP_NS_MAGIC, 2, 4, 0, 0, 262144, linktype or 1)
    return header + b"".join(records), left_out


def _create(folder: Path, stem: str, suffix: str) -> tuple[Path, BinaryIO]:
    """A new file ``stem[-N]suffix`` in `folder`, created, never opened: an existing file (or a
    link planted under its name) is never written through."""
    for n in range(1000):
        path = folder / f"{stem}{f'-{n}' if n else ''}{suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        return path, os.fdopen(fd, "wb")
    raise FileExistsError(errno.EEXIST, "too many exports with this name", str(folder))


def write_export(folder: Path, suffix: str, content: str | bytes) -> Path:
    """Write one export as a new file ``handshake-viz-<date>-<time><suffix>`` in `folder`
    (made if missing; ``-1``, ``-2``... added where the name is taken); the path written.
    OSError where the folder cannot be made or written."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    data = content.encode("utf-8") if isinstance(content, str) else content
    path, out = _create(folder, f"handshake-viz-{stamp}", suffix)
    with out:
        out.write(data)
    return path
