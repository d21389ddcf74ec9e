"""The tracer's output lines as records (see `program` for what each line says).

Plain tuples with names: the reader parses one line per socket call and state change, a few
thousand a second at most, but a busy server's calls come in bursts.
"""

from __future__ import annotations

from typing import NamedTuple

from handshake_viz.core.events import endpoint


class Tick(NamedTuple):
    """``R`` (the program runs) or ``T`` (a tick): lines before it were printed before it."""

    t: int
    """CLOCK_MONOTONIC nanoseconds."""
    ready: bool


class StateLine(NamedTuple):
    t: int
    tid: int
    sk: str
    """The socket's address in the kernel: its identity while it lives."""
    old: int
    """The kernel's state numbers: 1 ESTABLISHED ... 12 NEW_SYN_RECV (`KERNEL_STATES`)."""
    new: int
    local: str
    remote: str
    lport: int
    rport: int
    flags: int
    """sk_flags (bit 1: SOCK_DONE, the peer's FIN arrived)."""


class CallLine(NamedTuple):
    begins: bool
    """True: the call starts (``B``); False: it returns (``E``)."""
    t: int
    """When printed: the start for ``B``, the return for ``E``."""
    began: int
    """When the call started (the same as `t` for ``B``)."""
    pid: int
    tid: int
    call: str
    fd: int
    sk: str
    proto: int
    """6 TCP, 17 UDP."""
    local: str
    remote: str
    lport: int
    rport: int
    ret: int | None
    comm: str


class OriginLine(NamedTuple):
    """The socket() call that made a watched socket (printed late, with its own time)."""

    t: int
    pid: int
    tid: int
    fd: int
    comm: str


class KernelLine(NamedTuple):
    t: int
    name: str
    sk: str
    state: int
    local: str
    remote: str
    lport: int
    rport: int
    extra: int
    """icsk_ca_state for a retransmission (3 recovery, 4 loss), the reason of a reset."""


Line = Tick | StateLine | CallLine | OriginLine | KernelLine


def _end(addr: str, port: int) -> str:
    return endpoint(addr, port)


def _unmapped(addr: str, family: str) -> str:
    """An IPv4 address as tracepoints print it (mapped into IPv6: ``::ffff:a.b.c.d``)."""
    return addr[7:] if family == "2" and addr.startswith("::ffff:") else addr


def parse(text: str) -> Line | None:
    """One output line as a record; None for anything else (bpftrace's own messages).

    Raises nothing: a line cut or garbled (a tracer killed mid-write) is None.
    """
    parts = text.split(" ")
    try:
        kind = parts[0]
        if kind in ("T", "R"):
            return Tick(int(parts[1]), kind == "R")
        if kind == "S":
            _, t, tid, sk, old, new, fam, sa, sp, da, dp, flags = parts[:12]
            sa, da = _unmapped(sa, fam), _unmapped(da, fam)
            return StateLine(int(t), int(tid), sk, int(old), int(new), _end(sa, int(sp)),
                             _end(da, int(dp)), int(sp), int(dp), int(flags))  # fmt: skip
        if kind == "B":
            _, t, pid, tid, call, fd, sk, _fam, proto, la, lp, ra, rp = parts[:13]
            comm = " ".join(parts[13:])
            return CallLine(True, int(t), int(t), int(pid), int(tid), call, int(fd), sk,
                            int(proto), _end(la, int(lp)), _end(ra, int(rp)), int(lp), int(rp),
                            None, comm)  # fmt: skip
        if kind == "E":
            _, t, began, pid, tid, call, fd, sk, _fam, proto, la, lp, ra, rp, ret = parts[:15]
            comm = " ".join(parts[15:])
            return CallLine(False, int(t), int(began), int(pid), int(tid), call, int(fd), sk,
                            int(proto), _end(la, int(lp)), _end(ra, int(rp)), int(lp), int(rp),
                            int(ret), comm)  # fmt: skip
        if kind == "O":
            _, t, pid, tid, fd = parts[:5]
            return OriginLine(int(t), int(pid), int(tid), int(fd), " ".join(parts[5:]))
        if kind == "K":
            _, t, name, sk, state, fam, sa, sp, da, dp, extra = parts[:11]
            sa, da = _unmapped(sa, fam), _unmapped(da, fam)
            return KernelLine(int(t), name, sk, int(state), _end(sa, int(sp)),
                              _end(da, int(dp)), int(sp), int(dp), int(extra))  # fmt: skip
    except (ValueError, IndexError):
        return None
    return None
