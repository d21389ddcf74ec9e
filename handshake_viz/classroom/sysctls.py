"""What this kernel's own settings say about TCP's timers, so a lesson says what it does.

Linux reads these per network namespace (a lesson's private network has its own copy):

- ``tcp_syn_retries``: how many times a client's kernel sends a SYN again before connect()
  fails with ETIMEDOUT;
- ``tcp_syn_linear_timeouts`` (Linux 6.5 and later): the first retries of a SYN wait 1 s
  each instead of doubling, and add as many retries before giving up
  (``max_retransmits = tcp_syn_retries + tcp_syn_linear_timeouts`` in ``tcp_write_timeout``);
- ``tcp_synack_retries``: how many times a server's kernel sends a SYN-ACK again, doubling
  its wait from 1 s (request sockets have no linear timeouts).

Measured on this project's kernel (6.18, tcp_syn_retries 6, tcp_syn_linear_timeouts 4, every
SYN dropped): SYNs at 0, 1.03, 2.06, 3.08, 4.10, 5.13, 7.14, 11.3, 19.5, 35.7 and 69.5 s, and
ETIMEDOUT at 135 s; the model below says 1 s five times, then 2, 4, 8, 16, 32, and 131 s
(each timer fires a few milliseconds late).

TIME-WAIT lasts ``TCP_TIMEWAIT_LEN``, 60 s, fixed in the kernel's source: no sysctl changes
it (``tcp_fin_timeout`` is FIN-WAIT-2's timeout, often mistaken for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SYSCTL_DIR = Path("/proc/sys/net/ipv4")
INITIAL_RTO = 1.0
"""Seconds before the first retransmission of a SYN or SYN-ACK (TCP_TIMEOUT_INIT)."""
MAX_RTO = 120.0
"""The longest wait between two retransmissions (TCP_RTO_MAX)."""
TIME_WAIT_SECONDS = 60
"""TCP_TIMEWAIT_LEN: how long Linux keeps a connection in TIME-WAIT."""


@dataclass(frozen=True, slots=True)
class SynTimers:
    """The sysctls that time a handshake's retransmissions, as read."""

    syn_retries: int = 6
    synack_retries: int = 5
    linear_timeouts: int | None = None
    """None: this kernel has no ``tcp_syn_linear_timeouts`` (every wait doubles)."""

    def syn_waits(self) -> list[float]:
        """Seconds the client's kernel waits after each SYN it sends, the first SYN
        included; the last wait ends with connect() failing (ETIMEDOUT)."""
        linear = self.linear_timeouts or 0
        retries = self.syn_retries + linear
        waits, rto = [], INITIAL_RTO
        for sent in range(retries + 1):
            waits.append(rto)
            if sent + 1 > linear:  # tcp_retransmit_timer: linear while total_rto <= linear
                rto = min(rto * 2, MAX_RTO)
        return waits

    def syn_retransmissions(self) -> int:
        return len(self.syn_waits()) - 1

    def syn_give_up(self) -> float:
        """Seconds from the first SYN to connect()'s ETIMEDOUT when nothing answers."""
        return sum(self.syn_waits())

    def synack_waits(self) -> list[float]:
        """Seconds the server's kernel waits after each SYN-ACK (doubling from 1 s)."""
        return [min(INITIAL_RTO * 2**i, MAX_RTO) for i in range(self.synack_retries + 1)]


def _read_int(root: Path, name: str) -> int | None:
    try:
        return int((root / name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_syn_timers(root: Path = SYSCTL_DIR) -> SynTimers:
    """This network namespace's values (Linux's defaults where a file cannot be read)."""
    default = SynTimers()
    return SynTimers(
        syn_retries=_read_int(root, "tcp_syn_retries") or default.syn_retries,
        synack_retries=_read_int(root, "tcp_synack_retries") or default.synack_retries,
        linear_timeouts=_read_int(root, "tcp_syn_linear_timeouts"),
    )


def seconds_text(values: list[float]) -> str:
    """``1, 1, 2, 4`` (whole seconds without a decimal point)."""
    return ", ".join(f"{v:g}" for v in values)
