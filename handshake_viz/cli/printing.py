"""``--print``: any source's events on stdout, as a text ladder or JSONL, for every command.

One path for replay, live capture and the demo, so they stop, flush and fail alike:
- the first Ctrl-C (or SIGTERM) asks the source to stop, so the last packets, the summaries
  and the capture file are still completed; a second one interrupts;
- a live source or a pipe is flushed line by line (another program reads as it happens); a
  file is written in big batches;
- a closed pipe (``| head``) ends quietly, and a bad input is one line on stderr and exit 2
  after every event before the problem.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Generator
from types import FrameType

from handshake_viz.cli.errors import EXIT_OK, error, note, said
from handshake_viz.core.events import CaptureStats
from handshake_viz.core.source import EventSource, Notices, SourceError
from handshake_viz.render.output import EventPrinter
from handshake_viz.words.catalog import DEFAULT_LANG, Catalog, load


def _cannot_write(exc: OSError, cat: Catalog) -> int:
    return error(cat.text("cli.error.stdout_write", reason=exc.strerror or exc))


class _StopOnSignal:
    """While in effect, the first SIGINT/SIGTERM stops `source`; the second interrupts."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self.interrupted = threading.Event()
        self._old: dict[int, object] = {}

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        if self.interrupted.is_set():
            raise KeyboardInterrupt
        self.interrupted.set()
        self.source.stop()

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def print_events(
    source: EventSource,
    fmt: str,
    streaming: bool | None = None,
    *,
    time_true: bool = False,
    lang: str = DEFAULT_LANG,
) -> int:
    """Write `source`'s events to stdout until it ends; the exit status.

    Args:
        source: any event source (opened already, where it has a step that can fail).
        fmt: "text" or "jsonl".
        streaming: flush each line; default: for a live source.
        time_true: with "text", the time-true ladder's gap lines between events.
        lang: the language of the lines on stderr.
    """
    cat = load(lang)
    streaming = source.live if streaming is None else streaming
    if time_true and fmt != "text":
        return error(cat.text("cli.error.time_true_jsonl"))
    if sys.stdout is None:
        return error(cat.text("cli.error.stdout_closed"))
    printer = EventPrinter(sys.stdout, fmt, flush_each=streaming, time_true=time_true, cat=cat)
    if not source.live:
        # The tracker makes no reference cycles: the cyclic collector would only rescan a
        # big file's hundred thousand live connections again and again.
        gc.disable()
    status = EXIT_OK
    events = source.events()
    try:
        with _StopOnSignal(source):
            try:
                printer.write_all(events)
            except SourceError as exc:
                printer.close()
                status = error(said(exc, lang))
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        return _cannot_write(exc, cat)
    finally:
        if isinstance(events, Generator):
            events.close()  # a live capture stops and completes its file, whatever happened
        gc.enable()
    try:
        printer.close()
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        return _cannot_write(exc, cat)
    if isinstance(source, Notices) and status == EXIT_OK:  # an error is the one line said
        for line in source.notices():
            note(line)
    if source.live:
        stats: CaptureStats = source.stats
        line = cat.text("cli.note.packets", packets=stats.packets, drops=stats.drops)
        if stats.kernel_lost:
            line += cat.text("cli.note.kernel_lost", lost=stats.kernel_lost)
        if stats.saved_to:
            line += cat.text("cli.note.saved_to", path=stats.saved_to)
        note(line)
    return status
