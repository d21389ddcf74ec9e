"""Running a guided lesson: forward performs each step's calls once, back re-shows a step.

Going back re-shows an earlier step but cannot un-send a packet: stepping forward again over
steps already done shows them without redoing their calls. Every socket a step opens stays
open until a later step (or the end of the lesson) closes it, so what a step's words point
at is still in the kernel panel while they are on screen.

The lesson's words may use values read from this kernel (`lesson_values`): its SYN timers,
the backlog the server asked for, how long TIME-WAIT lasts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from handshake_viz.classroom.lessons import LESSONS, SCRIPTS
from handshake_viz.classroom.moves import MOVES, Bench
from handshake_viz.classroom.script import (
    HOOK_SCENARIO,
    NONE,
    Script,
    Step,
    matches,
    missing,
)
from handshake_viz.classroom.stepper import Action, Stepper
from handshake_viz.classroom.sysctls import (
    TIME_WAIT_SECONDS,
    SynTimers,
    read_syn_timers,
    seconds_text,
)
from handshake_viz.demo.scenarios import SCENARIOS, DemoContext
from handshake_viz.words.catalog import Catalog, load

__all__ = [
    "HOOK_SCENARIO", "LESSONS", "NONE", "SCRIPTS", "GuidedRun", "Script", "Step", "StepText",
    "lesson_values", "matches", "missing", "run_scenario_program", "syn_timer_text",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class StepText:
    """What the screen shows for a step, in the lesson's language."""

    n: int
    """The step's number: 0 for the introduction, then 1 to `total`."""
    total: int
    say: str
    do: str
    look: str

    def counter(self, cat: Catalog) -> str:
        """ "step 2 of 5", or "introduction"."""
        if self.n == 0:
            return cat.text("ui.intro")
        return cat.text("ui.step", n=self.n, total=self.total)


def syn_timer_text(timers: SynTimers, cat: Catalog) -> str:
    """What this kernel does when a SYN gets no answer, from its own sysctls."""
    waits = timers.syn_waits()
    values = {
        "retries": timers.syn_retries,
        "linear": timers.linear_timeouts,
        "count": timers.syn_retransmissions(),
        "flat": next((i for i, w in enumerate(waits) if w != waits[0]), len(waits)),
        "waits": seconds_text(waits[:-1]),
        "give_up": f"{timers.syn_give_up():g}",
    }
    key = "lesson.syn_timer" if timers.linear_timeouts else "lesson.syn_timer_doubling"
    return cat.text(key, **values)


def synack_timer_text(timers: SynTimers, cat: Catalog) -> str:
    """What this kernel does when a SYN-ACK gets no answer, from its own sysctls."""
    waits = timers.synack_waits()
    return cat.text("lesson.synack_timer", retries=timers.synack_retries,
                    waits=seconds_text(waits[:-1]))  # fmt: skip


def lesson_values(script: Script, stepper: Stepper, cat: Catalog) -> dict[str, Any]:
    """The placeholders a lesson's words may use."""
    timers = read_syn_timers()
    return {
        "port": stepper.port,
        "host": stepper.host,
        "backlog": stepper.backlog,
        "admitted": stepper.backlog + 1,
        "syn_timer": syn_timer_text(timers, cat),
        "synack_timer": synack_timer_text(timers, cat),
        "time_wait": TIME_WAIT_SECONDS,
        "mss": script.client_mss or 0,
    }


class GuidedRun:
    """Walks a script: `forward` performs the next step's calls (once), `back` re-shows one.

    Args:
        script: the lesson.
        stepper: performs the keys; its port is also where the moves and the hook run.
        lang: language of the words.
    """

    def __init__(self, script: Script, stepper: Stepper, lang: str = "en") -> None:
        self.script = script
        self.stepper = stepper
        self.bench = Bench(stepper)
        self.lang = lang
        self.index = 0
        """The step on screen (0: the introduction)."""
        self.done = 0
        """The last step whose calls were made."""
        self._values = lesson_values(script, stepper, load(lang))

    @property
    def total(self) -> int:
        """Steps after the introduction."""
        return len(self.script.steps) - 1

    @property
    def step(self) -> Step:
        return self.script.steps[self.index]

    def at_end(self) -> bool:
        return self.index >= self.total

    def forward(self) -> Step | None:
        """Go to the next step and make its calls if they were never made; None at the end."""
        if self.at_end():
            return None
        self.index += 1
        step = self.script.steps[self.index]
        if self.index > self.done:
            self.done = self.index
            self._perform(step)
        return step

    def next_acts(self) -> bool:
        """Will `forward` make calls (a step not done yet, that does something)?"""
        if self.at_end() or self.index + 1 <= self.done:
            return False
        return self.script.steps[self.index + 1].do is not None

    def back(self) -> Step | None:
        """Show the step before (its calls are not undone); None at the start."""
        if self.index <= 0:
            return None
        self.index -= 1
        return self.script.steps[self.index]

    def _perform(self, step: Step) -> None:
        if step.do is None:
            return
        for _ in range(step.repeat):
            if step.do == HOOK_SCENARIO:
                run_scenario_program(self.script.program or self.script.name, self.stepper)
            elif step.do in MOVES:
                MOVES[step.do](self.bench)
            else:
                ok, reason = self.stepper.do(Action(step.do))
                if not ok:  # a script out of step with the sockets: say why, never go silent
                    raise RuntimeError(reason)
        if step.linger:
            time.sleep(step.linger)

    def text(self, step: Step | None = None) -> StepText:
        """The words of `step` (default: the one on screen)."""
        step = step or self.step
        cat = load(self.lang)
        base = f"guided.{self.script.name}.{step.id}"
        if step.do is None:
            do = ""
        elif step.do == HOOK_SCENARIO:
            do = cat.text("guided.hook_scenario", scenario=self.script.program or self.script.name)
        elif step.do in MOVES:
            do = cat.text(f"move.{step.do}")
            if step.repeat > 1:
                do += cat.text("move.times", times=step.repeat)
        else:
            do = f"{step.do} — {cat.text(f'action.{step.do}')}"
        return StepText(
            self.script.steps.index(step),
            self.total,
            cat.text(f"{base}.say", **self._values),
            do,
            cat.text(f"{base}.look", **self._values),
        )

    def close_all(self) -> None:
        """Close every socket the lesson opened (its end); never raises."""
        self.bench.close_all()
        self.stepper.close_all()


def run_scenario_program(name: str, stepper: Stepper) -> None:
    """Run the demo scenario's own client and server on the stepper's port and recorder.

    The stepper's own sockets are closed first: the program brings its own server.
    """
    stepper.close_all()
    scenario = SCENARIOS[name]
    scenario.run(DemoContext(stepper.recorder, stepper.host, stepper.port, scenario.family,
                             hold=stepper.hold))  # fmt: skip
