"""Every lesson: one for each demo scenario, in ``demo --list``'s order, then the lessons
where the kernel really loses a packet (`classroom.faults`)."""

from __future__ import annotations

import socket

from handshake_viz.classroom.script import CLOSE, ECHO, HANDSHAKE, HOOK_SCENARIO, Script, Step


def _stepwise(name: str, last: Step, shut: Step | None = None, **kw: object) -> Script:
    """intro, listen, connect, accept, send, [shut], last: the basic lesson's shape."""
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
    return Script(name, tuple(steps), **kw)  # type: ignore[arg-type]


def _lossy(name: str, fault: str, middle: tuple[Step, ...], last: Step, **kw: object) -> Script:
    """intro, listen, [connect,] ..., last: a lesson with a fault."""
    steps = (Step("intro"), Step("listen", "l"), *middle, last)
    return Script(name, steps, fault=fault, **kw)  # type: ignore[arg-type]


LESSONS: tuple[Script, ...] = (
    _stepwise("basic", Step("close", "x", CLOSE)),
    Script("refused", (Step("intro"), Step("connect", "c", ("c2s SYN", "s2c RST")))),
    Script(
        "concurrent",
        (
            Step("intro"),
            Step("listen", "l"),
            Step("connect", "crowd.connect", HANDSHAKE * 3, repeat=3),
            Step("accept", "crowd.accept_all"),
            Step("send", "crowd.send_all", ECHO * 3),
            Step("close", "crowd.close_clients", ("c2s FIN",) * 3),
        ),
    ),
    Script(
        "backlog",
        (
            Step("intro"),
            Step("listen", "l"),
            Step("first", "c", HANDSHAKE),
            Step("second", "crowd.connect", HANDSHAKE),
            Step("third", "crowd.connect_background", ("c2s SYN",)),
            Step(
                "accept",
                "crowd.accept_and_wait",
                ("c2s SYN-retransmission", "s2c SYN-ACK", "c2s ACK"),
            ),
            Step("close", "crowd.close_listener", ("s2c RST", "s2c RST")),
        ),  # fmt: skip
        backlog=1,
    ),
    _stepwise(
        "half-close",
        Step("close", "x", ("s2c FIN", "c2s ACK")),
        shut=Step("shutdown", "w", ("c2s FIN", "s2c data", "c2s ACK")),
    ),
    _stepwise("abort", Step("abort", "r", ("c2s RST",))),
    Script(
        "udp",
        (
            Step("intro"),
            Step("bind", "udp.bind"),
            Step("send", "udp.send", ("c2s UDP",)),
            Step("reply", "udp.reply", ("s2c UDP",)),
            Step("close", "udp.close"),
        ),
    ),
    _stepwise("ipv6", Step("close", "x", CLOSE), family=socket.AF_INET6),
    Script(
        "http",
        (Step("intro"), Step("run", HOOK_SCENARIO, (*HANDSHAKE, *ECHO, "s2c FIN"))),
    ),
    _lossy(
        "lost-syn",
        "first-syn",
        (
            Step("connect", "c", ("c2s SYN", "c2s SYN-retransmission", "s2c SYN-ACK", "c2s ACK")),
            Step("accept", "a"),
        ),
        Step("close", "x", CLOSE),
    ),  # fmt: skip
    _lossy(
        "lost-synack",
        "synack",
        (
            Step("connect", "c", ("c2s SYN", "s2c SYN-ACK", "s2c SYN-ACK", "c2s ACK")),
            Step("accept", "a"),
        ),
        Step("close", "x", CLOSE),
    ),  # fmt: skip
    _lossy(
        "lost-data",
        "data-segment",
        (
            Step("connect", "c", HANDSHAKE),
            Step("accept", "a"),
            Step(
                "burst",
                "burst",
                ("c2s data", "s2c dup-ACK", "s2c dup-ACK", "c2s fast-retransmission"),
            ),
        ),
        Step("close", "x", CLOSE),
        client_mss=200,
    ),  # fmt: skip
    _lossy(
        "lost-ack",
        "last-ack",
        (Step("connect", "c", HANDSHAKE), Step("accept", "a")),
        Step(
            "close",
            "x",
            ("c2s FIN", "s2c FIN", "c2s ACK", "s2c FIN-retransmission", "c2s ACK"),
            linger=1.0,
        ),
    ),  # fmt: skip
)

SCRIPTS: dict[str, Script] = {s.name: s for s in LESSONS}
"""Every lesson by name."""
