"""Run mutated captures through the reader, in this process, as ``replay - --print`` would:
read, decode, track, print (text or JSONL) and summarise, each file under a time limit.

    python -m tests.fuzz.runner --seed 7 --files 12000 [--memory-mb 1024]
    python -m tests.fuzz.runner --seed 7 --only 4242 --write crash.pcap   # make one file again

Prints a JSON summary: outcomes by class, the failures (a traceback, an error of more or less
than one line, a hang, running out of memory), the slowest file and the peak memory. The CI
test (`test_fuzz`) and the long campaign (``bench/fuzz_campaign.py``) both read it.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any

from handshake_viz.core.source import SourceError
from handshake_viz.render.output import EventPrinter
from handshake_viz.sources.replay import ReplaySource
from tests.fuzz.mutations import CLASSES, mutant

PER_FILE_LIMIT = 5.0
"""Seconds a file may take before it counts as a hang."""


class Hang(BaseException):
    """The per-file time limit went off (a BaseException: no ``except Exception`` in the code
    under test may swallow it)."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def check(data: bytes, fmt: str = "jsonl") -> tuple[str, str]:
    """What ``replay - --print`` does with `data`: ("ok" | "error" | "crash" | "hang" |
    "memory", the error line or the traceback)."""
    source = ReplaySource("-", keep_index=False, stream=io.BytesIO(data))
    printer = EventPrinter(io.StringIO(), fmt)
    try:
        printer.write_all(source.events())
        printer.close()
        notes = source.notices()
        if any("\n" in n for n in notes):
            return "crash", f"a notice of more than one line: {notes!r}"
    except SourceError as e:
        line = str(e)
        if not line or "\n" in line:
            return "crash", f"an error that is not one line: {line!r}"
        return "error", line
    except Hang:
        return "hang", ""
    except MemoryError:
        return "memory", traceback.format_exc(limit=-8)
    except Exception:  # noqa: BLE001 - what the CLI would call an internal error
        return "crash", traceback.format_exc(limit=-8)
    return "ok", ""


@dataclass
class Summary:
    """A campaign's figures, as JSON."""

    seed: int
    files: int = 0
    seconds: float = 0.0
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    slowest: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    """The most frequent error lines (file names and numbers masked), to see what is said."""


def run(seed: int, files: int, start: int = 0, limit: float = PER_FILE_LIMIT) -> Summary:
    summary = Summary(seed)
    counts = {name: Counter[str]() for name in CLASSES}
    lines: Counter[str] = Counter()
    slowest = (0.0, -1, "")
    old = signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()
    try:
        for index in range(start, start + files):
            kind, seed_name, data = mutant(seed, index)
            t = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                status, detail = check(data, "jsonl" if index % 2 else "text")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = time.perf_counter() - t
            if took > slowest[0]:
                slowest = (took, index, kind)
            counts[kind][status] += 1
            if status == "error":
                lines[_mask(detail)] += 1
            elif status != "ok":
                summary.failed += 1
                if len(summary.failures) < 20:
                    summary.failures.append(
                        {"index": index, "class": kind, "seed_file": seed_name,
                         "status": status, "detail": detail[-2000:]}
                    )  # fmt: skip
    finally:
        signal.signal(signal.SIGALRM, old)
    summary.files = files
    summary.seconds = round(time.perf_counter() - t0, 2)
    summary.by_class = {k: dict(v) for k, v in counts.items()}
    summary.slowest = {"seconds": round(slowest[0], 4), "index": slowest[1], "class": slowest[2]}
    summary.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    summary.errors = dict(lines.most_common(25))
    return summary


def _mask(line: str) -> str:
    """An error line with its file name and numbers masked, to count kinds of errors."""
    import re

    return re.sub(r"\d+", "N", line.replace('"stdin"', "FILE"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--start", type=int, default=0, help="index of the first file")
    ap.add_argument("--memory-mb", type=int, help="address-space limit of this process")
    ap.add_argument("--only", type=int, help="make file INDEX only (with --write)")
    ap.add_argument("--write", help="where to write the --only file")
    args = ap.parse_args(argv)
    if args.only is not None:
        kind, seed_name, data = mutant(args.seed, args.only)
        if args.write:
            with open(args.write, "wb") as f:
                f.write(data)
        print(json.dumps({"class": kind, "seed_file": seed_name, "bytes": len(data),
                          "outcome": check(data)}))  # fmt: skip
        return 0
    if args.memory_mb:
        limit = args.memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    summary = run(args.seed, args.files, args.start)
    json.dump(asdict(summary), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
