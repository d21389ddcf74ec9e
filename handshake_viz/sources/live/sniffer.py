"""A raw ``AF_PACKET`` sniffer: every packet of the chosen ports exactly once, drops counted.

On Linux ``lo`` each packet passes a packet socket twice, once leaving (``PACKET_OUTGOING``)
and once arriving (``PACKET_HOST``). tcpdump keeps one copy with ``inbound``; so do we, in a
kernel BPF filter compiled by libpcap, so that neither the duplicate nor other programs'
traffic costs a single Python instruction. The filter is attached before the socket is bound
to a protocol, so no unfiltered packet ever enters its queue.

Timestamps come from the kernel (``SO_TIMESTAMPNS``, CLOCK_REALTIME: the clock of
``time.time()``, so the demo's socket calls and the packets share one timeline), in
nanoseconds; a pcap file stores them rounded down to the microsecond, a pcapng file whole.
"""

from __future__ import annotations

import ctypes
import select
import socket
import struct
import time
from collections.abc import Iterable
from pathlib import Path

from handshake_viz.sources.catalog_errors import catalog_error
from handshake_viz.sources.live.privileges import NO_PRIVILEGE

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS

SNAPLEN = 262144
"""Bytes kept per packet, as tcpdump's default: a GSO frame on ``lo`` can exceed 64 KiB."""
RCVBUF = 64 << 20
"""Socket buffer. The kernel charges a queued packet its whole buffer (2-4 KiB for a loopback
segment, however short), so 4 MiB held only ~1,500 packets: 50 ms at full rate, less than a
busy 2-core machine can keep the capture process waiting. 64 MiB (used only while behind)
holds about a second."""
POLL_SECONDS = 0.05
"""How long the receive loop sleeps when idle: ``stop()`` is honoured within this."""

ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 0xFFFE: 101}
"""Interface hardware type -> pcap LINKTYPE: Ethernet and loopback give Ethernet frames,
a tun device (ARPHRD_NONE) raw IP."""

_TIMESPEC = struct.Struct("@qq")
_STATS = struct.Struct("@II")
_ANC_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)


def capture_filter(ports: Iterable[int], all_ports: bool = False) -> str:
    """The tcpdump expression the sniffer applies, readable in the status bar.

    ``inbound`` keeps one copy of each loopback packet; the port list keeps other programs'
    traffic (which may carry secrets) out of the screen and out of the saved file.
    """
    base = "inbound and (tcp or udp)"
    if all_ports:
        return base
    plist = sorted(set(ports))
    if not plist:
        raise catalog_error("source.error.no_port")
    return f"{base} and ({' or '.join(f'port {p}' for p in plist)})"


def interface_linktype(iface: str) -> int:
    """The pcap LINKTYPE of `iface`, from sysfs (no privilege needed)."""
    type_file = Path("/sys/class/net") / iface / "type"
    try:
        arphrd = int(type_file.read_text().strip())
    except (OSError, ValueError):
        raise catalog_error("source.error.no_interface", iface=repr(iface)) from None
    linktype = ARPHRD_TO_LINKTYPE.get(arphrd)
    if linktype is None:
        raise catalog_error("source.error.hardware", iface=repr(iface), arphrd=arphrd)
    return linktype


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


BPF_RET = 0x06


def compile_bpf(expression: str, linktype: int) -> list[tuple[int, int, int, int]]:
    """Compile a tcpdump expression to classic BPF instructions with libpcap.

    Accepting returns are widened to `SNAPLEN` so that the filter never cuts a frame short.
    """
    try:
        from scapy.arch.common import compile_filter
        from scapy.error import Scapy_Exception
    except ImportError as exc:  # pragma: no cover - scapy is a dependency
        raise catalog_error("source.error.filter", reason=exc) from None
    try:
        prog = compile_filter(expression, linktype=linktype)
    except (ImportError, OSError) as exc:
        raise catalog_error("source.error.libpcap", reason=exc) from None
    except Scapy_Exception as exc:
        raise catalog_error("source.error.bad_filter", expression=repr(expression),
                            reason=exc) from None  # fmt: skip
    insns = []
    for i in range(prog.bf_len):
        ins = prog.bf_insns[i]
        k = ins.k
        if ins.code == BPF_RET | 0x00 and k != 0:  # BPF_RET|BPF_K accepting
            k = SNAPLEN
        insns.append((ins.code, ins.jt, ins.jf, k))
    return insns


def attach_bpf(sock: socket.socket, insns: list[tuple[int, int, int, int]]) -> None:
    """Attach a classic BPF program to `sock` (SO_ATTACH_FILTER)."""
    arr = (_SockFilter * len(insns))(*[_SockFilter(*i) for i in insns])
    fprog = _SockFprog(len(insns), ctypes.cast(arr, ctypes.POINTER(_SockFilter)))
    # setsockopt with a bytes value copies it; the struct holds a pointer into `arr`, which
    # lives until this function returns, after the kernel has copied the program.
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))


class Sniffer:
    """A packet socket on one interface, filtered in the kernel, read without blocking.

    Opening needs CAP_NET_RAW; reading does not, so privileges can be dropped after `open`.
    """

    def __init__(self, iface: str = "lo", ports: Iterable[int] = (), all_ports: bool = False):
        self.iface = iface
        self.ports = tuple(sorted(set(ports)))
        self.all_ports = all_ports
        self.expression = capture_filter(self.ports, all_ports)
        self.linktype = interface_linktype(iface)
        self.sock: socket.socket | None = None
        self.kernel_drops = 0
        """Packets the kernel dropped for want of buffer space (PACKET_STATISTICS)."""
        self.kernel_seen = 0
        self.outgoing_skipped = 0
        """Outgoing copies that reached Python despite the filter (should stay 0)."""
        self.rcvbuf = 0
        self._buffer = bytearray(SNAPLEN)
        self._view = memoryview(self._buffer)

    def open(self) -> None:
        """Create, filter and bind the socket; `SourceError` without CAP_NET_RAW."""
        insns = compile_bpf(self.expression, self.linktype)
        try:
            # Protocol 0: the socket receives nothing until bound to ETH_P_ALL below, after
            # the filter is in place.
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise catalog_error(NO_PRIVILEGE) from None
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
            except PermissionError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            self.rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            attach_bpf(sock, insns)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.bind((self.iface, ETH_P_ALL))
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise catalog_error("source.error.capture", iface=self.iface,
                                reason=exc.strerror or exc) from None  # fmt: skip
        self.sock = sock
        self.read_stats()  # reset the kernel counters: count from now

    def read_stats(self) -> tuple[int, int]:
        """Add the kernel's counters since the last read (reading resets them)."""
        if self.sock is None:
            return self.kernel_seen, self.kernel_drops
        try:
            raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
        except OSError:
            return self.kernel_seen, self.kernel_drops
        seen, drops = _STATS.unpack(raw)
        self.kernel_seen += seen
        self.kernel_drops += drops
        return self.kernel_seen, self.kernel_drops

    def read_ready(self, limit: int = 256) -> list[tuple[int, int, bytes]]:
        """Return the frames queued now (at most `limit`) as (sec, nsec, bytes), never blocking.

        Plain tuples, not objects: this loop runs tens of thousands of times a second.
        """
        sock = self.sock
        assert sock is not None, "open() first"
        out: list[tuple[int, int, bytes]] = []
        append = out.append
        # recvmsg(SNAPLEN) would allocate 256 KiB per packet (an mmap and page faults each
        # time); one reused buffer and a copy of the few bytes received cost far less.
        recv_into = sock.recvmsg_into
        buffers = [self._buffer]
        view = self._view
        unpack = _TIMESPEC.unpack_from
        for _ in range(limit):
            try:
                size, anc, _flags, addr = recv_into(buffers, _ANC_SIZE)
                data = view[:size].tobytes()
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            if addr[2] == PACKET_OUTGOING:
                self.outgoing_skipped += 1
                continue
            if anc:  # [(SOL_SOCKET, SCM_TIMESTAMPNS, timespec)]: the only one asked for
                sec, nsec = unpack(anc[0][2])
                append((sec, nsec, data))
            else:  # no kernel timestamp: the receipt time, same clock
                sec, nsec = divmod(time.time_ns(), 1_000_000_000)
                append((sec, nsec, data))
        return out

    def wait(self, timeout: float = POLL_SECONDS) -> bool:
        """Sleep until a packet is queued or `timeout` passes; True if one is."""
        assert self.sock is not None
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return False
        return bool(ready)

    def close(self) -> None:
        if self.sock is not None:
            self.read_stats()
            self.sock.close()
            self.sock = None

    def fileno(self) -> int:
        assert self.sock is not None
        return self.sock.fileno()
