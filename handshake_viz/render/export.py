"""Exports of the visible timeline: plain text (the ladder as drawn) and a Mermaid diagram.

Pure functions of a `TimelineView` (no app needed), so a classroom handout or a test can call
them directly. Big timelines are cut at `limit` rows: a diagram of a million arrows helps nobody.
"""

from __future__ import annotations

import time
from pathlib import Path

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.rows import KIND_SOCKET, PHASES, S2C
from handshake_viz.render.ladder_gaps import time_true_text
from handshake_viz.render.ladder_text import arrow_label, ladder_text, socket_label
from handshake_viz.words.catalog import load

EXPORT_LIMIT = 2000


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


def export_mermaid(view: TimelineView, limit: int = EXPORT_LIMIT) -> str:
    """A `sequenceDiagram`: one participant per client end and per server end, a note where
    the phase changes, socket calls as notes over their side."""
    tl = view.timeline
    names: dict[str, str] = {}

    def participant(label: str, role: str) -> str:
        if label not in names:
            names[label] = f"{role[0].upper()}{len(names)}"
        return names[label]

    body: list[str] = []
    phase = -1
    for i in range(min(view.visible_count, limit)):
        row = view.row_at(i)
        if tl.kind[row] == KIND_SOCKET:
            side = "server" if tl.dir[row] == S2C else "client"
            if tl.streams:
                s0 = tl.streams[0]
                end = (
                    f"{s0.server} port {s0.sport}"
                    if side == "server"
                    else (f"{s0.client} port {s0.cport}")
                )
                label = f"{side} {end}"
            else:
                label = side
            who = participant(label, side)
            body.append(f"    Note over {who}: {_clean(socket_label(view, row))}")
            continue
        s = tl.streams[tl.sid[row]]
        c = participant(f"client {s.client} port {s.cport}", "client")
        srv = participant(f"server {s.server} port {s.sport}", "server")
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


def write_export(folder: Path, suffix: str, content: str) -> Path:
    """Write one export as ``handshake-viz-<date>-<time><suffix>`` in `folder` (made if
    missing); the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"handshake-viz-{stamp}{suffix}"
    path.write_text(content, encoding="utf-8")
    return path
