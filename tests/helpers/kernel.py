"""The kernel's view in tests: whether it can run here, and how the tracker's states compare
with the kernel's, packet by packet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from handshake_viz.core.analysis import seq_lt
from handshake_viz.core.events import ACK, FIN, SYN, Event, PacketEvent, StateEvent
from handshake_viz.sources.kernel.tracer import unavailable_reason

WHY_NOT = unavailable_reason()
needs_tracer = pytest.mark.skipif(
    WHY_NOT is not None, reason=f"the kernel's view cannot run here: {WHY_NOT}"
)


@dataclass
class Agreement:
    """Each end's state after each packet: the tracker's against the kernel's."""

    compared: int = 0
    """(packet, end) pairs where the kernel said a state."""
    agreed: int = 0
    in_flight: list[tuple[int, str, str, str]] = field(default_factory=list)
    """Differences at a packet the receiving end had not received when it sent its next
    packet (its ack misses it, in the capture itself): packets crossing, which no one-pass
    reader of the capture can know at that packet. (frame, end, tracker, kernel)."""
    differ: list[tuple[int, str, str, str]] = field(default_factory=list)
    """Every other difference (frame, end, tracker, kernel)."""
    kernel_states: set[str] = field(default_factory=set)
    """The states the kernel said, on packets."""

    def __str__(self) -> str:
        return (
            f"{self.agreed}/{self.compared} agree, {len(self.in_flight)} in flight, "
            f"differ: {self.differ}"
        )


def _seq_end(p: PacketEvent) -> int:
    return (p.seq or 0) + p.len + (1 if p.flags & (SYN | FIN) else 0)


def agreement(events: Iterable[Event]) -> Agreement:
    """Compare `client_state`/`server_state` with the kernel's after every TCP packet."""
    packets = [e for e in events if isinstance(e, PacketEvent) and e.proto == "tcp"]
    result = Agreement()
    for i, p in enumerate(packets):
        if p.kernel is None:
            continue
        for end, tracker, kernel in (
            ("client", p.client_state, p.kernel.client),
            ("server", p.server_state, p.kernel.server),
        ):
            if kernel is None:
                continue
            result.compared += 1
            result.kernel_states.add(str(kernel))
            if tracker == kernel:
                result.agreed += 1
                continue
            row = (p.frame, end, str(tracker), str(kernel))
            receiver = "server" if p.dir == "c2s" else "client"
            if end == receiver and _missed(p, packets[i + 1 :]):
                result.in_flight.append(row)
            else:
                result.differ.append(row)
    return result


def _missed(p: PacketEvent, later: list[PacketEvent]) -> bool:
    """The receiver of `p` sent its next packet (of this stream) without having `p`."""
    back = "s2c" if p.dir == "c2s" else "c2s"
    for q in later:
        if q.stream == p.stream and q.dir == back and q.flags & ACK and q.ack is not None:
            return seq_lt(q.ack, _seq_end(p))
    return False


def states(events: Iterable[Event]) -> list[StateEvent]:
    return [e for e in events if isinstance(e, StateEvent)]
