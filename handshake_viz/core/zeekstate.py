"""Zeek's ``conn_state`` of a TCP connection (conn.log), from the end states `zeek` tracked:
Zeek's ``conn_state`` function of ``base/protocols/conn/main.zeek``, read once per connection,
for its summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handshake_viz.core.zeek import INACTIVE, PARTIAL, SYN_ACK_SENT, SYN_SENT
from handshake_viz.core.zeekgaps import CLOSED, ESTABLISHED, RESET

if TYPE_CHECKING:
    from handshake_viz.core.conversation import Conversation


def conn_state(conv: Conversation, orig_bytes: int, resp_bytes: int) -> str:
    """conn.log's conn_state: Zeek's ``conn_state`` function on the final states."""
    o, r = (conv.fa, conv.fb) if conv.z_orig_a else (conv.fb, conv.fa)
    os, rs = o.z_state, r.z_state
    o_inactive = os in (INACTIVE, PARTIAL)
    r_inactive = rs in (INACTIVE, PARTIAL)
    if rs == RESET:
        if os in (SYN_SENT, SYN_ACK_SENT) or (os == RESET and not orig_bytes and not resp_bytes):
            return "REJ"
        return "RSTRH" if o_inactive else "RSTR"
    if os == RESET:
        if r_inactive:
            return "RSTOS0" if _syn_then_rst(conv.z_history) else "OTH"
        return "RSTO"
    if rs == CLOSED and os == CLOSED:
        return "SF"
    if os == CLOSED:
        return "SH" if r_inactive else "S2"
    if rs == CLOSED:
        return "SHR" if o_inactive else "S3"
    if os == SYN_SENT and rs == INACTIVE:
        return "S0"
    if os == ESTABLISHED and rs == ESTABLISHED:
        return "S1"
    return "OTH"


def _syn_then_rst(history: str) -> bool:
    """Zeek's ``/\\^?S[^HAFGIQ]*R.*/``: a SYN, then a RST before any of H A F G I Q."""
    h = history[1:] if history.startswith("^") else history
    if not h.startswith("S"):
        return False
    for c in h[1:]:
        if c == "R":
            return True
        if c in "HAFGIQ":
            return False
    return False
