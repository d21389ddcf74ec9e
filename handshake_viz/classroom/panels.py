"""The classroom's panels under the ladder: the lesson's words, the keys and the kernel's view.

The teacher's screen and a follower's show the same panels (a follower's keys panel says what
the teacher may press), so both build them here, with the ids their styles and updates use.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.widgets import Static


def lesson_panels() -> Horizontal:
    """The row of panels: step and event words, keys, kernel (empty until the lesson runs)."""
    return Horizontal(
        Vertical(Static("", id="step-words"), Static("", id="event-words"), id="lesson"),
        Static("", id="keys"),
        Static("", id="kernel"),
        id="classroom",
    )
