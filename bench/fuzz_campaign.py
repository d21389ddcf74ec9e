"""A long fuzzing campaign: the CI fuzzer's mutations (tests/fuzz), many more of them.

    .venv/bin/python -m bench.fuzz_campaign [--seed S] [--files 400000] [--command 2000]
                                            [--tshark 1500] [--truncate 11]

Four parts, each with its figures:
1. `--files` mutated files through the reader in-process (as ``replay - --print``), split
   over the cores, each process limited to 1 GiB of address space, 5 s a file;
2. the `--truncate` smallest seed captures cut at every offset, the same way;
3. `--command` files through the real ``handshake-viz replay FILE --print --format jsonl``
   (odd ones from stdin): exit status, stderr, time and peak memory of each process;
4. `--tshark` files compared with tshark's frames (agree, a documented reason, or differ).

Prints outcomes by class, tracebacks, internal errors, hangs, the slowest file, peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fuzz.mutations import seeds
from tests.fuzz.oracle import documented_reason, our_frames, tshark_frames
from tests.fuzz.runner import check

ROOT = Path(__file__).resolve().parents[1]


def in_process(seed: int, files: int, workers: int) -> dict:
    """Part 1: the runner in `workers` processes, each a share of the indexes."""
    share = -(-files // workers)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fuzz.runner",
                "--seed",
                str(seed),
                "--start",
                str(i * share),
                "--files",
                str(min(share, files - i * share)),
                "--memory-mb",
                "1024",
            ],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )  # fmt: skip
        for i in range(workers)
    ]
    parts = [json.loads(p.communicate()[0]) for p in procs]
    by_class: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        for kind, outcomes in part["by_class"].items():
            by_class[kind].update(outcomes)
    slowest = max((p["slowest"] for p in parts), key=lambda s: s["seconds"])
    return {
        "files": sum(p["files"] for p in parts),
        "seconds": max(p["seconds"] for p in parts),
        "by_class": {k: dict(v) for k, v in by_class.items()},
        "failed": sum(p["failed"] for p in parts),
        "failures": [f for p in parts for f in p["failures"]][:10],
        "slowest": slowest,
        "peak_rss_mb": max(p["peak_rss_mb"] for p in parts),
        "errors": dict(sum((Counter(p["errors"]) for p in parts), Counter()).most_common(12)),
    }


def truncations(count: int) -> dict:
    """Part 2: the `count` smallest non-empty seeds cut at every offset."""
    chosen = sorted((s for s in seeds() if s.data), key=lambda s: len(s.data))[:count]
    outcomes: Counter[str] = Counter()
    failures = []
    slowest = 0.0
    for s in chosen:
        for n in range(len(s.data)):
            t = time.perf_counter()
            status, detail = check(s.data[:n])
            slowest = max(slowest, time.perf_counter() - t)
            outcomes[status] += 1
            if status not in ("ok", "error"):
                failures.append({"seed_file": s.name, "cut": n, "status": status, "detail": detail})
    return {"seed_files": [s.name for s in chosen], "files": sum(outcomes.values()),
            "outcomes": dict(outcomes), "failures": failures[:10],
            "slowest_seconds": round(slowest, 4)}  # fmt: skip


def one_command(seed: int, index: int, folder: Path) -> dict:
    """Part 3, one file: the real command, with its exit, stderr, time and peak memory."""
    from tests.fuzz.mutations import mutant

    kind, _, data = mutant(seed, index)
    path = folder / f"m{index}.pcap"
    path.write_bytes(data)
    stdin = index % 2 == 1
    args = [sys.executable, "-m", "handshake_viz", "replay", "-" if stdin else str(path),
            "--print", "--format", "jsonl"]  # fmt: skip
    t = time.monotonic()
    with open(path, "rb") as f:
        proc = subprocess.Popen(
            args, stdin=f if stdin else subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
    try:
        _, err_bytes = proc.communicate(timeout=20)
        hang = False
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err_bytes = proc.communicate()
        hang = True
    seconds = time.monotonic() - t
    err = err_bytes.decode(errors="replace")
    said = err.splitlines()
    if hang:
        outcome = "hang"
    elif "Traceback" in err:
        outcome = "traceback"
    elif "internal error" in err:
        outcome = "internal error"
    elif proc.returncode == 0:
        outcome = "ok"
    elif proc.returncode == 2 and len(said) == 1:
        outcome = "one line, exit 2"
    else:
        outcome = f"exit {proc.returncode}, {len(said)} lines"
    return {"index": index, "class": kind, "outcome": outcome, "seconds": seconds,
            "stderr": err[-300:]}  # fmt: skip


def through_the_command(seed: int, files: int, start: int) -> dict:
    """Part 3: `files` files through the command, two at a time."""
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: one_command(seed, i, Path(tmp)),
                                range(start, start + files)))  # fmt: skip
    by_class: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        by_class[r["class"]][r["outcome"]] += 1
    slowest = max(results, key=lambda r: r["seconds"])
    bad = [r for r in results if r["outcome"] not in ("ok", "one line, exit 2")]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"files": len(results), "by_class": {k: dict(v) for k, v in by_class.items()},
            "bad": bad[:10], "slowest": {k: slowest[k] for k in ("index", "class", "seconds")},
            "median_seconds": sorted(r["seconds"] for r in results)[len(results) // 2],
            "peak_rss_mb_of_any_process": round(peak, 1)}  # fmt: skip


def against_tshark(seed: int, files: int, start: int) -> dict:
    """Part 4: frames compared with tshark's, for the files tshark reads cleanly."""
    from tests.fuzz.mutations import mutant

    counts: Counter[str] = Counter()
    differ = []
    with tempfile.TemporaryDirectory() as tmp:

        def one(index: int) -> tuple[str, dict | None]:
            kind, seed_file, data = mutant(seed, index)
            path = Path(tmp) / f"t{index}.pcap"
            path.write_bytes(data)
            clean, theirs = tshark_frames(path)
            if not clean:
                return "tshark refuses or warns (no oracle)", None
            error, ours = our_frames(data)
            if (error, ours) == (None, theirs):
                return "same frames", None
            why = documented_reason(data, error, ours, theirs)
            if why:
                return f"documented: {why}", None
            return "differ", {"index": index, "class": kind, "seed_file": seed_file,
                              "tshark": theirs[:5], "ours": ours[:5], "error": error}  # fmt: skip

        with ThreadPoolExecutor(2) as pool:
            for verdict, detail in pool.map(one, range(start, start + files)):
                counts[verdict] += 1
                if detail:
                    differ.append(detail)
    return {"files": files, "verdicts": dict(counts), "differ": differ[:10]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**9))
    ap.add_argument("--files", type=int, default=400_000)
    ap.add_argument("--truncate", type=int, default=11)
    ap.add_argument("--command", type=int, default=2000)
    ap.add_argument("--tshark", type=int, default=1500)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    report: dict = {"seed": args.seed}
    t = time.monotonic()
    report["in_process"] = in_process(args.seed, args.files, os.cpu_count() or 2)
    report["truncations"] = truncations(args.truncate)
    report["command"] = through_the_command(args.seed, args.command, args.files)
    report["tshark"] = against_tshark(args.seed, args.tshark, args.files + args.command)
    report["seconds"] = round(time.monotonic() - t, 1)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
