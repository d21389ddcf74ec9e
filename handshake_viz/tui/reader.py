"""The TUI's reading thread: a source's events (or a big file's prebuilt rows) into the
timeline, touching no widget; the app learns the end from one `SourceFinished` message."""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import closing
from typing import Any

from textual.message import Message

from handshake_viz.core.source import Arriving, EventSource, SourceError
from handshake_viz.model.rows import Indexed
from handshake_viz.model.timeline import Timeline
from handshake_viz.sources.catalog_errors import said

LIVE_BATCH = 1
"""Live: every event is published at once (latency matters, the rate is low)."""
REPLAY_BATCH = 2048
"""Replay: rows are published in batches (throughput matters)."""


class SourceFinished(Message):
    """The source's iteration ended, by itself or with an error (one line)."""

    def __init__(self, error: str | None) -> None:
        super().__init__()
        self.error = error


def read_into(
    tl: Timeline, source: EventSource, cancelled: Callable[[], bool], lang: str = "en"
) -> str | None:
    """Read `source` into `tl` until it ends or `cancelled()`; the error line, if any.

    Marks the timeline done however it ends, so the UI knows no row will be added.
    """
    error: str | None = None
    batch: list[Any] = []
    paused = False
    try:
        merged = source.index_rows() if isinstance(source, Indexed) else None
        if merged is not None:
            # A big file: worker processes build the rows, this thread only merges them.
            # Its stream infos (100,000 for a million packets) outlive the reading: the
            # cyclic GC's full passes would walk them again and again while the rows come
            # in (half of the merge's CPU time, measured). A file ends, so the GC is off
            # only until then; the app freezes those objects instead once it is read.
            paused = gc.isenabled()
            gc.disable()
            with closing(merged):
                for batches in merged:
                    tl.merge(batches)
                    if cancelled():
                        break
        else:
            # A pipe or FIFO may pause for ever between packets: each is shown as it comes.
            arriving = isinstance(source, Arriving) and source.is_stream
            size = LIVE_BATCH if source.live or arriving else REPLAY_BATCH
            for ev in source.events():
                batch.append(ev)
                if len(batch) >= size:
                    tl.extend(batch)
                    batch.clear()
                    if cancelled():
                        break
            tl.extend(batch)
    except SourceError as exc:
        tl.extend(batch)
        error = said(exc, lang)  # in the app's language where the source named its message
    except Exception as exc:  # noqa: BLE001 - shown in the status bar and printed on exit
        tl.extend(batch)
        error = f"reading stopped: {type(exc).__name__}: {exc}"
    finally:
        if paused:
            gc.enable()
        tl.done = True
    return error
