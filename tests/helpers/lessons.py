"""How long a lesson's step must stay quiet before the test looks at its packets."""

from __future__ import annotations

from handshake_viz.classroom.script import NONE, Step

HELD_CALL = 0.5
"""A connect() that blocks is shown after the merger's hold cap (0.3 s), its SYN with it."""


def quiet_after(step: Step) -> float:
    """Seconds without a new packet that end a step: a step that makes no packet needs a real
    window to show it made none; a connect left waiting shows its SYN after the hold cap."""
    if step.do == "crowd.connect_background":
        return HELD_CALL
    return 0.2 if step.expect == (NONE,) else 0.12
