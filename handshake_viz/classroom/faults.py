"""Real faults: nftables rules that make the lesson's kernel lose one chosen packet.

Each fault lesson installs its rules in its own network namespace before the lesson starts
(and before the process gives up its privileges), so the loss is real: the kernel's own
timers and recovery answer it, not a simulation. The rules sit on the ``input`` hook, after
the capture's tap on loopback: the class sees the lost packet on the ladder, then what the
kernel does without it. ``numgen inc`` counts the packets that reach it, so ``== 0`` loses
only the first that matches; a ``counter`` on each rule says, in ``nft list ruleset``, how
many it took.

The rules never touch the machine's own network: `install` refuses unless the lesson runs in
a private namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

TABLE = "handshake_viz_lesson"
ONCE = "numgen inc mod 1000000 == 0"
"""Matches the first packet that reaches it, and never again (in a lesson's life)."""


class FaultError(RuntimeError):
    """The rules could not be installed (one line naming the fix)."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A packet the kernel will lose, as nftables rules on the input hook."""

    name: str
    rules: tuple[str, ...]
    """Rule bodies with ``{port}`` for the lesson's server port."""
    setup: tuple[tuple[str, ...], ...] = ()
    """Commands to run first, in the lesson's namespace."""

    def ruleset(self, port: int) -> str:
        """The whole table, for ``nft -f -``."""
        rules = "\n".join(f"    {r.format(port=port)}" for r in self.rules)
        return (
            f"table inet {TABLE} {{\n"
            "  chain input {\n"
            "    type filter hook input priority filter; policy accept;\n"
            f"{rules}\n"
            "  }\n"
            "}\n"
        )


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "first-syn", (f"tcp dport {{port}} tcp flags & (syn|ack) == syn {ONCE} counter drop",)
        ),
        Fault(
            "synack",
            (f"tcp sport {{port}} tcp flags & (syn|ack) == syn|ack {ONCE} counter drop",),
        ),
        Fault(
            "data-segment",
            # The client's data segments are the only packets to the server this long (its
            # MSS is small); the third of them is lost.
            ("tcp dport {port} ip length > 150 numgen inc mod 1000000 == 2 counter drop",),
            # One segment per packet on loopback (GSO would send several MSS in one), so a
            # burst is a row of segments and the receiver's duplicate ACKs show.
            setup=(("ip", "link", "set", "lo", "gso_max_segs", "1"),),
        ),
        Fault(
            "last-ack",
            (
                # The server's FIN marks its connection; the client's first pure ACK after
                # it is the last ACK of the teardown.
                "tcp sport {port} tcp flags & fin == fin ct mark set 1",
                "tcp dport {port} ct mark 1 tcp flags & (fin|syn|rst|psh|ack) == ack "
                f"{ONCE} counter drop",
            ),
        ),
    )
}
"""Every fault a lesson may ask for, by name."""


def install(fault: Fault, port: int, private: bool) -> None:
    """Load `fault`'s rules into this network namespace's nftables.

    Raises:
        FaultError: not in a private namespace, no ``nft``, or nft refused the rules.
    """
    if not private:
        raise FaultError(
            "a lesson that loses packets needs a network of its own, where its nftables "
            "rules touch nothing else: run it as root (sudo)"
        )
    for command in fault.setup:
        _run(_tool(command[0], "iproute2"), command[1:])
    _run(_tool("nft", "nftables"), ("-f", "-"), fault.ruleset(port))


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None
    )
    if found is None:
        raise FaultError(f"a lesson that loses packets needs {name}: apt install {package}")
    return found


def _run(tool: str, args: tuple[str, ...], stdin: str | None = None) -> None:
    name = os.path.basename(tool)
    try:
        done = subprocess.run([tool, *args], input=stdin, text=True, capture_output=True,
                              timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FaultError(f"{name} could not run: {exc}") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise FaultError(f"{name} refused the lesson's network settings: {first}")
