"""Each end's TCP state (RFC 9293 names) after a packet, as the kernels on either side see it.

Inferred from the packets alone, for replay and for live capture without the kernel's own view.

Two sources of evidence, in this order:

- **What the sender says of itself.** The packet shows what its sender has done (a SYN, a
  FIN) and, by its acknowledgement number, what it had received when it sent it. A FIN whose
  ack does not cover the peer's FIN was sent before that FIN arrived: both ends are closing at
  once (FIN-WAIT-1, then CLOSING, then TIME-WAIT), not one answering the other (CLOSE-WAIT,
  LAST-ACK). A SYN sent to an end that has sent its own SYN opens both at once.
- **What the receiver makes of it.** A packet is taken to reach its receiver when it is
  captured (true on loopback, and on a capture at the receiver); where the sender's next
  packet shows that it had not, the sender's own evidence above corrects its state.

The server end of a SYN shows LISTEN (a SYN alone does not tell whether anything listens:
`ConnectionTracker` asks where it can), and SYN-RECEIVED once its SYN-ACK is seen.
"""

from __future__ import annotations

from handshake_viz.core.analysis import M32, Flow, seq_lt
from handshake_viz.core.events import ACK, FIN, RST, SYN, TcpState

S = TcpState

_OPEN = (S.ESTABLISHED, S.SYN_RECEIVED, S.SYN_SENT)
_BEFORE_SYN = (S.CLOSED, S.LISTEN)


def _has_fin_of(ack: int | None, flow: Flow) -> bool:
    """The ack covers `flow`'s FIN: its sender had received that FIN."""
    return flow.fin_end is not None and ack is not None and not seq_lt(ack, flow.fin_end)


def transition(fwd: Flow, rev: Flow, flags: int, seq: int, ack: int | None, length: int) -> None:
    """Move both ends' TCP states for one packet sent by `fwd`'s end to `rev`'s end.

    `seq` is relative to `fwd`'s first sequence number, `ack` to `rev`'s.
    """
    if flags & RST:
        fwd.state = rev.state = S.CLOSED
        return
    if flags & SYN:
        _syn(fwd, rev, flags, ack)
    elif ack is not None:
        if fwd.state is S.SYN_SENT:
            fwd.state = S.ESTABLISHED  # it got the SYN-ACK, even if the capture did not
        # What the acknowledgement does to the end it reaches (most packets: written out).
        state = rev.state
        if state is S.SYN_RECEIVED:
            rev.state = state = S.ESTABLISHED
        fin_end = rev.fin_end
        if fin_end is not None and ((ack - fin_end) & M32) <= 0x7FFFFFFF:  # covers the FIN
            if state is S.FIN_WAIT_1:
                rev.state = S.FIN_WAIT_2
            elif state is S.CLOSING:
                rev.state = S.TIME_WAIT
            elif state is S.LAST_ACK:
                rev.state = S.CLOSED
    if flags & FIN:
        _fin(fwd, rev, seq, ack, length)


def _syn(fwd: Flow, rev: Flow, flags: int, ack: int | None) -> None:
    """A SYN or SYN-ACK from `fwd`."""
    if flags & ACK:
        # A SYN-ACK: its sender received a SYN; it never takes an established end back.
        if fwd.state in _BEFORE_SYN or fwd.state is S.SYN_SENT:
            fwd.state = S.SYN_RECEIVED
        if rev.state in (S.SYN_SENT, S.SYN_RECEIVED) and ack is not None and ack != 0:
            rev.state = S.ESTABLISHED  # the SYN-ACK acknowledges its SYN
        return
    if rev.state in (S.SYN_SENT, S.SYN_RECEIVED) and fwd.state in _BEFORE_SYN:
        # A SYN to an end that sent its own: a simultaneous open. Each end takes the other's
        # SYN in SYN-SENT and goes to SYN-RECEIVED (the one already there stays).
        fwd.state = S.SYN_RECEIVED
        rev.state = S.SYN_RECEIVED
        return
    if fwd.state in _BEFORE_SYN:
        fwd.state = S.SYN_SENT
    if rev.state is S.CLOSED:
        rev.state = S.LISTEN


def _fin(fwd: Flow, rev: Flow, seq: int, ack: int | None, length: int) -> None:
    """A FIN from `fwd`: its sender closes; its receiver learns it."""
    if fwd.fin_end is None:
        fwd.fin_end = (seq + length + 1) & M32
    if fwd.state is S.CLOSE_WAIT and rev.fin_end is not None and not _has_fin_of(ack, rev):
        # Sent before the peer's FIN arrived: it was closing on its own (FIN-WAIT-1), and
        # the peer's FIN, captured already, reaches it now (CLOSING).
        fwd.state = S.CLOSING
    elif fwd.state in _OPEN:
        fwd.state = S.FIN_WAIT_1
    elif fwd.state is S.CLOSE_WAIT:
        fwd.state = S.LAST_ACK
    if rev.state in _OPEN:
        rev.state = S.CLOSE_WAIT
    elif rev.state is S.FIN_WAIT_1:
        rev.state = S.CLOSING
    elif rev.state is S.FIN_WAIT_2:
        rev.state = S.TIME_WAIT
