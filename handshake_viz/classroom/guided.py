"""Guided scenarios: each demo scenario as a script of steps to say, do and look at.

A `Script` is data: step ids (their words are in the catalogs under
``guided.<scenario>.<step>.say`` and ``.look``), what each step does (a stepper key, or a
hook that runs the demo scenario's own program) and which packets must appear after it
(`expect`, checked by the tests and shown to the teacher as what to look for).

`GuidedRun` walks a script forward and back. Going back re-shows an earlier step but cannot
un-send a packet: stepping forward again over steps already done shows them without redoing
their calls.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

from handshake_viz.classroom.stepper import Action, Stepper
from handshake_viz.core.events import ACK, FIN, RST, SYN, PacketEvent
from handshake_viz.demo.scenarios import SCENARIOS, DemoContext
from handshake_viz.words.catalog import load

HOOK_SCENARIO = "scenario"
"""A step that runs the demo scenario's whole program (several clients, http.server, UDP)."""

NONE = "none"
"""An expectation: no packet at all after this step (listen, accept)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a lesson."""

    id: str
    """Names the step's words in the catalogs: ``guided.<scenario>.<id>.say`` and ``.look``."""
    do: str | None = None
    """A stepper key ("l", "c", ...), `HOOK_SCENARIO`, or None (only words)."""
    expect: tuple[str, ...] = (NONE,)
    """Packets that must follow, in order: "<c2s|s2c> <SYN|SYN-ACK|ACK|data|FIN|RST|UDP|
    SYN-retransmission>"; or `NONE`."""


@dataclass(frozen=True, slots=True)
class Script:
    """A scenario as a lesson."""

    scenario: str
    """The demo scenario's name (`demo.scenarios.SCENARIOS`)."""
    steps: tuple[Step, ...]
    family: int = socket.AF_INET


HANDSHAKE = ("c2s SYN", "s2c SYN-ACK", "c2s ACK")
ECHO = ("c2s data", "s2c data")
CLOSE = ("c2s FIN", "s2c FIN", "c2s ACK")


def _stepwise(
    name: str, last: Step, family: int = socket.AF_INET, shut: Step | None = None
) -> Script:
    steps = [
        Step("intro"),
        Step("listen", "l"),
        Step("connect", "c", HANDSHAKE),
        Step("accept", "a"),
        Step("send", "s", ECHO),
    ]
    if shut is not None:
        steps.append(shut)
    steps.append(last)
    return Script(name, tuple(steps), family)


SCRIPTS: dict[str, Script] = {
    s.scenario: s
    for s in (
        _stepwise("basic", Step("close", "x", CLOSE)),
        Script("refused", (Step("intro"), Step("connect", "c", ("c2s SYN", "s2c RST")))),
        Script(
            "concurrent",
            (
                Step("intro"),
                Step(
                    "run",
                    HOOK_SCENARIO,
                    ("c2s SYN", "c2s SYN", "c2s SYN", "s2c SYN-ACK", "c2s data", "s2c FIN"),
                ),
            ),
        ),  # fmt: skip
        Script(
            "backlog",
            (
                Step("intro"),
                Step(
                    "run",
                    HOOK_SCENARIO,
                    ("c2s SYN", "s2c SYN-ACK", "c2s SYN", "s2c SYN-ACK", "c2s SYN-retransmission"),
                ),
            ),
        ),  # fmt: skip
        _stepwise(
            "half-close",
            Step("close", "x", ("s2c FIN", "c2s ACK")),
            shut=Step("shutdown", "w", ("c2s FIN", "s2c data", "c2s ACK")),
        ),
        _stepwise("abort", Step("abort", "r", ("c2s RST",))),
        Script("udp", (Step("intro"), Step("run", HOOK_SCENARIO, ("c2s UDP", "s2c UDP")))),
        _stepwise("ipv6", Step("close", "x", CLOSE), family=socket.AF_INET6),
        Script(
            "http",
            (
                Step("intro"),
                Step("run", HOOK_SCENARIO, HANDSHAKE + ("c2s data", "s2c data", "s2c FIN")),
            ),
        ),  # fmt: skip
    )
}
"""A lesson for every demo scenario, in the order ``demo --list`` shows them."""


# -- expectations ------------------------------------------------------------------------------


def matches(pattern: str, ev: PacketEvent) -> bool:
    """Does packet `ev` fit one expectation such as "s2c SYN-ACK"?"""
    direction, what = pattern.split()
    if ev.dir != direction:
        return False
    f = ev.flags
    if what == "UDP":
        return ev.proto == "udp"
    if ev.proto != "tcp":
        return False
    if what == "SYN":
        return f & (SYN | ACK) == SYN
    if what == "SYN-retransmission":
        return f & (SYN | ACK) == SYN and "retransmission" in ev.analysis
    if what == "SYN-ACK":
        return f & (SYN | ACK) == SYN | ACK
    if what == "ACK":
        return f & (SYN | FIN | RST | ACK) == ACK and ev.len == 0
    if what == "data":
        return ev.len > 0
    if what == "FIN":
        return bool(f & FIN)
    if what == "RST":
        return bool(f & RST)
    raise ValueError(f"unknown packet pattern {pattern!r}")


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


# -- running a lesson --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepText:
    """What the screen shows for a step, in the lesson's language."""

    n: int
    total: int
    say: str
    do: str
    look: str


class GuidedRun:
    """Walks a script: `forward` performs the next step's call (once), `back` re-shows one.

    Args:
        script: the lesson.
        stepper: performs the keys; its port is also where the hook's program runs.
        lang: language of the words.
    """

    def __init__(self, script: Script, stepper: Stepper, lang: str = "en") -> None:
        self.script = script
        self.stepper = stepper
        self.lang = lang
        self.index = -1
        """The step on screen (-1: before the first)."""
        self.done = -1
        """The last step whose call was made."""

    @property
    def total(self) -> int:
        return len(self.script.steps)

    @property
    def step(self) -> Step | None:
        return self.script.steps[self.index] if 0 <= self.index < self.total else None

    def at_end(self) -> bool:
        return self.index >= self.total - 1

    def forward(self) -> Step | None:
        """Go to the next step and make its call if it was never made; None at the end."""
        if self.at_end():
            return None
        self.index += 1
        step = self.script.steps[self.index]
        if self.index > self.done:
            self.done = self.index
            self._perform(step)
        return step

    def back(self) -> Step | None:
        """Show the step before (its call is not undone); None at the start."""
        if self.index <= 0:
            return None
        self.index -= 1
        return self.script.steps[self.index]

    def _perform(self, step: Step) -> None:
        if step.do is None:
            return
        if step.do == HOOK_SCENARIO:
            run_scenario_program(self.script.scenario, self.stepper)
            return
        ok, reason = self.stepper.do(Action(step.do))
        if not ok:  # a script out of step with the sockets: say why rather than go silent
            raise RuntimeError(reason)

    def text(self, step: Step | None = None) -> StepText:
        """The words of `step` (default: the current one)."""
        step = step or self.step
        cat = load(self.lang)
        if step is None:
            return StepText(0, self.total, "", "", "")
        base = f"guided.{self.script.scenario}.{step.id}"
        values = {"port": self.stepper.port, "host": self.stepper.host}
        if step.do is None:
            do = ""
        elif step.do == HOOK_SCENARIO:
            do = cat.text("guided.hook_scenario", scenario=self.script.scenario)
        else:
            do = f"{step.do} — {cat.text(f'action.{step.do}')}"
        return StepText(
            self.script.steps.index(step) + 1,
            self.total,
            cat.text(f"{base}.say", **values),
            do,
            cat.text(f"{base}.look", **values),
        )


def run_scenario_program(name: str, stepper: Stepper) -> None:
    """Run the demo scenario's own client and server on the stepper's port and recorder.

    The stepper's own sockets are closed first: the program brings its own server.
    """
    stepper.close_all()
    scenario = SCENARIOS[name]
    host = "::1" if scenario.family == socket.AF_INET6 else "127.0.0.1"
    scenario.run(DemoContext(stepper.recorder, host, stepper.port, scenario.family))
