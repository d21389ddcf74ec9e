"""How long the kernel's view takes to start: the demo's whole run, and the tracer's attach.

Printed, as medians of --runs (the machine is shared: noise stated beside them):

- ``demo basic --print``: the command's wall time, with the kernel's view and with
  ``--no-trace``, and the time from its start to its first ``state`` record (``--format
  jsonl``: the kernel's first word on the scenario's sockets);
- the tracer alone (`KernelTracer`, no capture): seconds from start to attached, and
  bpftrace's CPU seconds by then, for the demo's program (states and the kernel's events)
  and live's (socket calls too).

Run as root: ``.venv/bin/python bench/kernel_startup.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from handshake_viz.sources.kernel.tracer import KernelTracer, unavailable_reason

COMMAND = [str(Path(sys.executable).with_name("handshake-viz")), "demo", "basic", "--print"]


def demo_run(trace: bool) -> tuple[float, float | None]:
    """Wall seconds of one demo, and from its start to its first state record."""
    args = [*COMMAND, "--format", "jsonl"] + ([] if trace else ["--no-trace"])
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    first: float | None = None
    for line in proc.stdout:
        if first is None and json.loads(line).get("type") == "state":
            first = time.monotonic() - t0
    proc.wait()
    return time.monotonic() - t0, first


class _Sink:
    def add_side(self, event: object) -> None: ...

    def add_sides(self, events: list[object], saved: bool = False) -> None: ...

    def lag(self) -> float:
        return 0.0

    def begin(self, provisional: object) -> int:
        return 0

    def end(self, token: int, build: object, saved: bool = False) -> None: ...

    def tracer_ready(self) -> None: ...

    def tracer_at(self, t: float) -> None: ...

    def tracer_gone(self) -> None: ...


def tracer_run(calls: bool) -> tuple[float, float]:
    """Seconds from start to attached, and bpftrace's CPU seconds by then."""
    options = {"calls": calls} if calls is False else {}
    tracer = KernelTracer([19999], _Sink(), **options)  # type: ignore[arg-type]
    t0 = time.monotonic()
    tracer.start()
    if tracer.wait_ready() is not None:
        raise SystemExit(f"kernel_startup.py: {tracer.failure}")
    ready = time.monotonic() - t0
    assert tracer.process is not None
    fields = Path(f"/proc/{tracer.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tracer.stop()
    tracer.reap()
    return ready, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("kernel_startup.py: needs root", file=sys.stderr)
        return 2
    why = unavailable_reason()
    if why is not None:
        print(f"kernel_startup.py: the kernel's view cannot run here: {why}", file=sys.stderr)
        return 2
    med = statistics.median
    for trace in (True, False):
        runs = [demo_run(trace) for _ in range(args.runs)]
        firsts = [f for _, f in runs if f is not None]
        first = f", first state record {med(firsts):.2f} s" if firsts else ""
        view = "kernel's view" if trace else "--no-trace"
        print(f"demo basic --print ({view}): {med(w for w, _ in runs):.2f} s{first}")
    for calls in (True, False):
        runs2 = [tracer_run(calls) for _ in range(args.runs)]
        what = "live's program (calls too)" if calls else "the demo's program"
        print(
            f"tracer alone, {what}: attached after {med(r for r, _ in runs2):.2f} s, "
            f"{med(c for _, c in runs2):.2f} CPU s"
        )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
