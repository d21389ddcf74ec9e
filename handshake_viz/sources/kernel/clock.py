"""One clock for the tracepoints and the packets."""

from __future__ import annotations

import time


class MonotonicClock:
    """CLOCK_MONOTONIC nanoseconds (the tracepoints' clock) as CLOCK_REALTIME seconds (the
    packets'): the two differ by a constant that only a step of the wall clock changes,
    measured here as the tightest of a few readings."""

    def __init__(self, samples: int = 50) -> None:
        best: tuple[int, int] | None = None
        for _ in range(samples):
            r1 = time.clock_gettime_ns(time.CLOCK_REALTIME)
            m = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            r2 = time.clock_gettime_ns(time.CLOCK_REALTIME)
            if best is None or r2 - r1 < best[0]:
                best = (r2 - r1, (r1 + r2) // 2 - m)
        assert best is not None
        self.offset_ns = best[1]
        """Realtime minus monotonic, in nanoseconds."""
        self.error_ns = best[0]
        """The bracket of the best reading: the offset is right to within half of it."""

    def real(self, mono_ns: int) -> float:
        return (mono_ns + self.offset_ns) / 1e9
