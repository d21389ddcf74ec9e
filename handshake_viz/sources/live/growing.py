"""A file that another process is still appending to, read like a stream (the live capture's
tracking thread reads the capture process's file so)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO


class GrowingFile:
    """A file that another process is still appending to, read like a stream.

    ``read1`` waits for more bytes (calling `idle` first, so that work done so far is handed
    on, with the time the read that found nothing began) until `finished` says the writer has
    ended; then the end of the file is the end.
    """

    POLL = 0.002
    """Seconds between looks at the file's end: well under the 100 ms a person notices."""

    def __init__(
        self, f: BinaryIO, finished: Callable[[], bool], idle: Callable[[float], None]
    ) -> None:
        self._f = f
        self._finished = finished
        self._idle = idle

    def read1(self, n: int = -1) -> bytes:
        while True:
            began = time.time()
            data = self._f.read(n)
            if data:
                return data
            if self._finished():
                return self._f.read(n)  # what the writer wrote just before it ended
            self._idle(began)
            time.sleep(self.POLL)

    read = read1

    def __enter__(self) -> GrowingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        pass  # the source keeps its descriptor open for `raw_frame`
