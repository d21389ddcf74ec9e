"""What a lesson is made of: steps to say, do and look at, and the packets each must cause.

A `Script` is data. Its steps' words are in the catalogs under ``guided.<lesson>.<step>``
(``say`` and ``look``); each step does a stepper key ("l", "c", ...), a named move
(`classroom.moves.MOVES`), the demo scenario's whole program (`HOOK_SCENARIO`) or nothing,
and names the packets that must follow it (`expect`: checked by the tests, and what the
teacher points at). The first step of every script is its introduction: it does nothing, and
the steps after it are numbered from 1, as their words number them.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

from handshake_viz.core.events import ACK, FIN, RST, SYN, PacketEvent

HOOK_SCENARIO = "scenario"
"""A step that runs the demo scenario's whole program (http.server and urllib)."""

NONE = "none"
"""An expectation: no packet at all after this step (listen, accept)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a lesson."""

    id: str
    """Names the step's words in the catalogs: ``guided.<lesson>.<id>.say`` and ``.look``."""
    do: str | None = None
    """A stepper key ("l", "c", ...), a move of `classroom.moves.MOVES`, `HOOK_SCENARIO`,
    or None (only words)."""
    expect: tuple[str, ...] = (NONE,)
    """Packets that must follow, in order: "<c2s|s2c> <what>" (see `matches`), or `NONE`."""
    repeat: int = 1
    """How many times `do` is done (three clients connecting: one move, three times)."""
    linger: float = 0.0
    """Seconds the step goes on after its calls, for what the kernel does next by itself
    (a FIN it sends again): the next step waits for it."""


@dataclass(frozen=True, slots=True)
class Script:
    """A lesson: its steps, and how its sockets and its network are set up."""

    name: str
    """The lesson's name (``classroom NAME``), and its words' prefix in the catalogs."""
    steps: tuple[Step, ...]
    family: int = socket.AF_INET
    backlog: int = 5
    """What the server's listen() asks for."""
    fault: str | None = None
    """The packet the kernel will lose (`classroom.faults.FAULTS`), or None."""
    client_mss: int | None = None
    """The client's TCP_MAXSEG, or None (see `Stepper`)."""
    program: str | None = None
    """The demo scenario `HOOK_SCENARIO` runs (default: the lesson's name)."""

    @property
    def host(self) -> str:
        return "::1" if self.family == socket.AF_INET6 else "127.0.0.1"


HANDSHAKE = ("c2s SYN", "s2c SYN-ACK", "c2s ACK")
ECHO = ("c2s data", "s2c data")
CLOSE = ("c2s FIN", "s2c FIN", "c2s ACK")


def matches(pattern: str, ev: PacketEvent) -> bool:
    """Does packet `ev` fit one expectation such as "s2c SYN-ACK"?

    What may follow the direction: UDP, SYN, SYN-retransmission, SYN-ACK, ACK (no data),
    dup-ACK, data, fast-retransmission, FIN, FIN-retransmission, RST.
    """
    direction, what = pattern.split()
    if ev.dir != direction:
        return False
    if what == "UDP":
        return ev.proto == "udp"
    if ev.proto != "tcp":
        return False
    f, marks = ev.flags, ev.analysis
    checks = {
        "SYN": lambda: f & (SYN | ACK) == SYN,
        "SYN-retransmission": lambda: f & (SYN | ACK) == SYN and "retransmission" in marks,
        "SYN-ACK": lambda: f & (SYN | ACK) == SYN | ACK,
        "ACK": lambda: f & (SYN | FIN | RST | ACK) == ACK and ev.len == 0,
        "dup-ACK": lambda: "duplicate_ack" in marks,
        "data": lambda: ev.len > 0,
        "fast-retransmission": lambda: "fast_retransmission" in marks,
        "FIN": lambda: bool(f & FIN),
        "FIN-retransmission": lambda: bool(f & FIN) and "retransmission" in marks,
        "RST": lambda: bool(f & RST),
    }
    if what not in checks:
        raise ValueError(f"unknown packet pattern {pattern!r}")
    return checks[what]()


def missing(expect: Sequence[str], packets: Sequence[PacketEvent]) -> list[str]:
    """The expectations the packets do not meet, in order ([] when all are met).

    Patterns must appear as a subsequence: other packets may come between (an ACK the kernel
    sends early or late), but not in another order. `NONE` requires no packet at all.
    """
    if tuple(expect) == (NONE,):
        return [] if not packets else [f"no packet (got {len(packets)})"]
    i = 0
    for ev in packets:
        if i < len(expect) and matches(expect[i], ev):
            i += 1
    return list(expect[i:])
