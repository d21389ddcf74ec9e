"""The kernel's TCP sockets asked over netlink (sock_diag, what ``ss`` uses).

The same table as ``/proc/net/tcp``, with two things more: a listening socket's backlog
(``ss -lnt`` prints it as Send-Q: for LISTEN, ``idiag_rqueue`` is the accept queue's length
and ``idiag_wqueue`` the backlog listen() set, capped by ``net.core.somaxconn``), and 25
times less work: reading ``/proc/net/tcp`` (and ``tcp6``) took 24 ms on this machine, even
in an empty namespace, a dump 0.9 ms; the kernel panel looks four times a second. No
privilege is needed.

The request is an ``inet_diag_req_v2`` dump (include/uapi/linux/inet_diag.h); each answer
is an ``inet_diag_msg``.
"""

from __future__ import annotations

import contextlib
import socket
import struct

from handshake_viz.classroom.procnet import KERNEL_STATES, RFC_STATES, KernelSocket
from handshake_viz.core.events import TcpState, endpoint

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_DONE = 3
NLMSG_ERROR = 2
TCP_LISTEN = 10
ALL_STATES = (1 << 13) - 2
"""Every TCP state, the request sockets of the SYN queue (NEW_SYN_RECV) included."""

_NLMSGHDR = struct.Struct("=IHHII")
_REQ = struct.Struct("=BBBxI")  # family, protocol, ext, pad, states; then the sockid
_SOCKID = struct.Struct(">HH16s16s4s8s")  # sport, dport, src, dst, interface, cookie
_MSG = struct.Struct("=BBBB")  # family, state, timer, retrans; then sockid, then 5 u32
_MSG_TAIL = struct.Struct("=IIIII")  # expires, rqueue, wqueue, uid, inode


def _request(family: int, states: int = 1 << TCP_LISTEN) -> bytes:
    body = _REQ.pack(family, socket.IPPROTO_TCP, 0, states) + bytes(_SOCKID.size)
    header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY,
                            NLM_F_REQUEST | NLM_F_DUMP, 1, 0)  # fmt: skip
    return header + body


def _address(family: int, raw: bytes) -> str:
    return socket.inet_ntop(family, raw[:4] if family == socket.AF_INET else raw)


def parse_listeners(data: bytes) -> tuple[dict[str, tuple[int, int]], bool]:
    """{local endpoint: (accept queue, backlog)} from netlink answers; True once done."""
    out: dict[str, tuple[int, int]] = {}
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            return out, True
        if kind in (NLMSG_DONE, NLMSG_ERROR):
            return out, True
        body = offset + _NLMSGHDR.size
        family, _state, _timer, _retrans = _MSG.unpack_from(data, body)
        sport, _dport, src, _dst, _if, _cookie = _SOCKID.unpack_from(data, body + _MSG.size)
        tail = body + _MSG.size + _SOCKID.size
        _expires, rqueue, wqueue, _uid, _inode = _MSG_TAIL.unpack_from(data, tail)
        out[endpoint(_address(family, src), sport)] = (rqueue, wqueue)
        offset += (length + 3) & ~3
    return out, False


def parse_sockets(data: bytes) -> tuple[list[KernelSocket], bool]:
    """The sockets in netlink answers; True once the dump is done."""
    out: list[KernelSocket] = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or kind in (NLMSG_DONE, NLMSG_ERROR):
            return out, True
        body = offset + _NLMSGHDR.size
        family, state, timer, _retrans = _MSG.unpack_from(data, body)
        sport, dport, src, dst, _if, _cookie = _SOCKID.unpack_from(data, body + _MSG.size)
        tail = body + _MSG.size + _SOCKID.size
        expires, rqueue, wqueue, _uid, inode = _MSG_TAIL.unpack_from(data, tail)
        kernel = KERNEL_STATES.get(state, f"0x{state:02X}")
        rfc = RFC_STATES.get(kernel, TcpState.CLOSED)
        out.append(
            KernelSocket(
                local=endpoint(_address(family, src), sport),
                remote=endpoint(_address(family, dst), dport),
                local_port=sport,
                remote_port=dport,
                kernel_state=kernel,
                state=rfc,
                tx_queue=0 if rfc == TcpState.LISTEN else wqueue,
                rx_queue=rqueue,
                inode=inode,
                timer=timer,
                timer_left=expires / 1000,
                backlog=wqueue if rfc == TcpState.LISTEN else None,
            )
        )
        offset += (length + 3) & ~3
    return out, False


def tcp_sockets() -> list[KernelSocket] | None:
    """Every TCP socket of this network namespace, IPv4 then IPv6; None where netlink cannot
    be asked (the caller then reads ``/proc/net/tcp``)."""
    out: list[KernelSocket] = []
    try:
        for family in (socket.AF_INET, socket.AF_INET6):
            with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as s:
                s.settimeout(1.0)
                s.send(_request(family, ALL_STATES))
                done = False
                while not done:
                    part, done = parse_sockets(s.recv(65536))
                    out.extend(part)
    except (OSError, struct.error):
        return None
    return out


def listen_backlogs() -> dict[str, tuple[int, int]]:
    """Every TCP listener of this network namespace: {"127.0.0.1:9000": (queued, backlog)}.

    Empty where netlink cannot be asked (another OS, a sandbox): the caller then says what
    the program asked listen() for.
    """
    out: dict[str, tuple[int, int]] = {}
    for family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError, struct.error):
            with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as s:
                s.settimeout(1.0)
                s.send(_request(family))
                done = False
                while not done:
                    part, done = parse_listeners(s.recv(65536))
                    out.update(part)
    return out
