"""Each end's TCP state (RFC 9293 names) after a packet, as the kernels on either side see it.

Inferred from the packets alone, for replay and for live capture without the kernel's own view.
"""

from __future__ import annotations

from handshake_viz.core.analysis import M32, Flow, seq_lt
from handshake_viz.core.events import ACK, FIN, RST, SYN, TcpState

S = TcpState


def transition(fwd: Flow, rev: Flow, flags: int, seq: int, ack: int | None, length: int) -> None:
    """Move both ends' TCP states for one packet sent by `fwd`'s end to `rev`'s end.

    The sender moves for what it sent, the receiver for what it received (loopback delivers
    at once), except that the server shows SYN-RECEIVED only once its SYN-ACK is seen: a
    SYN alone does not tell whether anything listens.
    """
    if flags & RST:
        fwd.state = rev.state = S.CLOSED
        return
    if flags & SYN:
        if flags & ACK:
            fwd.state = S.SYN_RECEIVED
            if rev.state is S.SYN_SENT:
                rev.state = S.ESTABLISHED
        else:
            fwd.state = S.SYN_SENT
            if rev.state is S.CLOSED:
                rev.state = S.LISTEN
    elif ack is not None:
        if fwd.state is S.SYN_SENT:
            fwd.state = S.ESTABLISHED  # it got the SYN-ACK, even if the capture did not
        if rev.state is S.SYN_RECEIVED:
            rev.state = S.ESTABLISHED
        if rev.fin_end is not None and not seq_lt(ack, rev.fin_end):
            if rev.state is S.FIN_WAIT_1:
                rev.state = S.FIN_WAIT_2
            elif rev.state is S.CLOSING:
                rev.state = S.TIME_WAIT
            elif rev.state is S.LAST_ACK:
                rev.state = S.CLOSED
    if flags & FIN:
        if fwd.fin_end is None:
            fwd.fin_end = (seq + length + 1) & M32
        if fwd.state in _OPEN:
            fwd.state = S.FIN_WAIT_1
        elif fwd.state is S.CLOSE_WAIT:
            fwd.state = S.LAST_ACK
        if rev.state in _OPEN:
            rev.state = S.CLOSE_WAIT
        elif rev.state is S.FIN_WAIT_1:
            rev.state = S.CLOSING
        elif rev.state is S.FIN_WAIT_2:
            rev.state = S.TIME_WAIT


_OPEN = (S.ESTABLISHED, S.SYN_RECEIVED, S.SYN_SENT)
