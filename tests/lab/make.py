"""Make the lab's captures and tshark's reading of each (``scripts/lab``).

    python -m tests.lab.make [NAME ...] [--out DIR] [--list]

With no NAME, every scenario and every crafted capture; the default folder is tests/data/lab/.
Each capture gets its `.oracle.tsv` and `.analysis.tsv` (`tests.helpers.oracle`). Scenarios
need root (namespaces, tcpdump); crafted captures do not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.helpers.oracle import write_oracles
from tests.lab.crafted import CRAFTED
from tests.lab.netlab import Lab, can_build_labs
from tests.lab.scenarios import SCENARIOS

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "lab"


def make(name: str, out: Path) -> Path:
    """Make one capture (a scenario in a lab of its own, or a crafted one) and its oracles."""
    path = out / f"{name}.pcap"
    path.unlink(missing_ok=True)
    if name in CRAFTED:
        CRAFTED[name]().write(path)
    else:
        with Lab() as lab:
            SCENARIOS[name](lab, path)
    write_oracles(path)
    return path


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/lab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("names", nargs="*", help="scenarios or crafted captures (default: all)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--list", action="store_true", help="list the names and what each shows")
    args = ap.parse_args(argv)
    everything = {**SCENARIOS, **CRAFTED}
    if args.list:
        for name, fn in everything.items():
            doc = " ".join((fn.__doc__ or "").split())
            print(f"{name:26} {doc}")
        return 0
    names = args.names or list(everything)
    unknown = [n for n in names if n not in everything]
    if unknown:
        print(f"scripts/lab: no scenario {', '.join(unknown)} (--list shows them)", file=sys.stderr)
        return 2
    if any(n in SCENARIOS for n in names) and (why := can_build_labs()):
        print(f"scripts/lab: {why}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        t0 = time.monotonic()
        path = make(name, args.out)
        print(f"{path.name}: {path.stat().st_size} bytes in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
