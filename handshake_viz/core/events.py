"""The event stream: what every source (replay, live capture, the demo's sockets) produces.

Events are plain slotted dataclasses so that a million of them stay cheap. Their JSON form is
the command-line contract (`--print --format jsonl`) that other tools read; the field names
here are that contract and must not change. A reader skips event types it does not know.

This module knows nothing of the UI, of sockets or of files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handshake_viz.core.kernel_events import KernelEvent, KernelStates, StateEvent, state_name
from handshake_viz.core.tcpoptions import parse_tcp_options


class Phase(StrEnum):
    """Which step of a connection's life a packet belongs to."""

    LISTEN = "listen"
    """The server binds and listens; no packet yet (in a capture: inferred from a SYN-ACK)."""
    REQUEST = "request"
    """The client's SYN, and its retransmissions."""
    CONFIRM = "confirm"
    """The SYN-ACK, and the client's ACK that completes the handshake."""
    DATA = "data"
    """Segments carrying payload, and the ACKs that answer them."""
    TEARDOWN = "teardown"
    """FIN, and every packet after the first FIN of the connection."""
    RESET = "reset"
    """RST: a refused connection or an aborted one."""
    DATAGRAM = "datagram"
    """A UDP datagram: no handshake at all."""


class TcpState(StrEnum):
    """The states of RFC 9293, section 3.3.2, with the RFC's own names."""

    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"
    CLOSED = "CLOSED"


FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (0x001, "FIN"),
    (0x002, "SYN"),
    (0x004, "RST"),
    (0x008, "PSH"),
    (0x010, "ACK"),
    (0x020, "URG"),
    (0x040, "ECE"),
    (0x080, "CWR"),
    (0x100, "AE"),
)
"""TCP flag bits in header order, with the names the JSONL uses."""

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, AE = (bit for bit, _ in FLAG_NAMES)

_FLAG_LISTS: dict[int, tuple[str, ...]] = {}


def flag_names(bits: int) -> tuple[str, ...]:
    """Return the names of the flags set in `bits` (cached: there are only 512 combinations)."""
    names = _FLAG_LISTS.get(bits)
    if names is None:
        names = tuple(name for bit, name in FLAG_NAMES if bits & bit)
        _FLAG_LISTS[bits] = names
    return names


def flag_bits(names: list[str] | tuple[str, ...]) -> int:
    """Inverse of `flag_names`."""
    lookup = {name: bit for bit, name in FLAG_NAMES}
    return sum(lookup[n] for n in names)


def endpoint(addr: str, port: int | None) -> str:
    """ "addr:port", with brackets around an IPv6 address ("[::1]:9000"), as the JSONL writes
    socket endpoints."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def split_endpoint(text: str) -> tuple[str, int] | None:
    """ "addr:port" or "[addr]:port" as (addr, port); None if it is neither."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


@dataclass(slots=True)
class PacketEvent:
    """One TCP segment or UDP datagram, as the tracker reads it.

    Field names and meanings are the JSONL contract.
    """

    frame: int
    """1-based position in the capture, as tshark's frame.number."""
    time: float
    """Capture time, epoch seconds."""
    proto: str
    """"tcp" or "udp"."""
    stream: int
    """Conversation index per protocol, as tshark's tcp.stream / udp.stream."""
    src: str
    sport: int
    dst: str
    dport: int
    dir: str
    """"c2s" (client to server) or "s2c"."""
    flags: int
    """TCP flag bits (0 for UDP); the JSON form is a list of names."""
    seq: int | None
    """Relative sequence number (None for UDP)."""
    ack: int | None
    """Relative acknowledgement number; None when the ACK flag is off, and for UDP."""
    len: int
    """Payload bytes, from the IP and TCP headers (a snaplen-cut packet keeps its real length)."""
    window: int | None
    """The window field as sent (unscaled); None for UDP."""
    raw_options: bytes
    """The TCP option bytes as captured; `options` names them (parsed when asked: most
    packets are never looked at one by one)."""
    phase: Phase
    client_state: TcpState | None
    """The client's TCP state after this packet (None for UDP)."""
    server_state: TcpState | None
    analysis: tuple[str, ...] = ()
    """tshark-style analysis marks: retransmission, fast_retransmission, spurious_retransmission,
    out_of_order, duplicate_ack, zero_window, keep_alive, window_update, port_reused."""
    truncated: bool = False
    """The capture cut this packet's headers short; what could be read is reported."""
    kernel: KernelStates | None = None
    """Each end's TCP state as its kernel reported it, where the kernel's view was on."""
    window_size: int | None = None
    """The window in bytes, as tshark's tcp.window_size: `window` shifted by the window scale
    its sender's SYN offered (a SYN's own window is never scaled; `window` as sent where
    scaling is off); None where the sender's SYN was not seen (the scale is unknown), and for
    UDP."""

    type: str = field(default="packet", init=False)

    @property
    def flag_list(self) -> tuple[str, ...]:
        return flag_names(self.flags)

    @property
    def options(self) -> dict[str, Any]:
        """TCP options by name: mss, wscale, sack_perm, ts [value, echo], sack, tfo, mptcp..."""
        return parse_tcp_options(self.raw_options) if self.raw_options else {}

    def to_dict(self) -> dict[str, Any]:
        """The JSONL object for this event."""
        d: dict[str, Any] = {
            "type": "packet",
            "frame": self.frame,
            "time": self.time,
            "proto": self.proto,
            "stream": self.stream,
            "src": self.src,
            "sport": self.sport,
            "dst": self.dst,
            "dport": self.dport,
            "dir": self.dir,
            "flags": list(flag_names(self.flags)),
            "seq": self.seq,
            "ack": self.ack,
            "len": self.len,
            "window": self.window,
            "window_size": self.window_size,
            "options": self.options,
            "phase": str(self.phase),
            "client_state": None if self.client_state is None else str(self.client_state),
            "server_state": None if self.server_state is None else str(self.server_state),
            "analysis": list(self.analysis),
        }
        if self.truncated:
            d["truncated"] = True
        if self.kernel is not None:
            d["kernel_client_state"] = state_name(self.kernel.client)
            d["kernel_server_state"] = state_name(self.kernel.server)
        return d


WAITING = "waiting"
"""The result of a call shown before it returns (it blocked longer than the merger holds)."""


@dataclass(slots=True)
class SocketEvent:
    """A socket call made by the demo's client or server, on the same timeline as packets."""

    time: float
    side: str
    """"server" or "client"."""
    call: str
    """socket, bind, listen, connect, accept, send, recv, sendto, recvfrom, shutdown, close."""
    local: str | None = None
    """"addr:port" (IPv6 as "[addr]:port"), once known."""
    remote: str | None = None
    result: str | None = None
    """What the call returned, in a word or two ("ok", "5 bytes", "ECONNREFUSED")."""
    errno: int | None = None
    """The errno of a failed call, else None."""
    proto: str = "tcp"
    pid: int | None = None
    """The process that made the call, where known."""
    comm: str | None = None
    """Its name, as the kernel has it (``curl``, ``python3``)."""

    type: str = field(default="socket", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "socket",
            "time": self.time,
            "side": self.side,
            "call": self.call,
            "local": self.local,
            "remote": self.remote,
            "result": self.result,
            "errno": self.errno,
            "proto": self.proto,
            "pid": self.pid,
            "comm": self.comm,
        }


@dataclass(slots=True)
class ConnectionSummary:
    """What one conversation came to: emitted once per stream at the end of a replay."""

    proto: str
    stream: int
    client: str
    cport: int
    server: str
    sport: int
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    packets: int = 0
    bytes_c2s: int = 0
    bytes_s2c: int = 0
    handshake: str = "none"
    """"complete" (SYN, SYN-ACK, ACK), "partial", or "none" (no SYN seen)."""
    rtt_syn_synack: float | None = None
    """From the SYN `handshake_rtt` counts from to the first SYN-ACK after it."""
    rtt_synack_ack: float | None = None
    """The rest of `handshake_rtt`: from that SYN-ACK to the ACK that completed the handshake."""
    ended: str = "open"
    """"fin", "rst" or "open"."""
    syn_options: dict[str, Any] = field(default_factory=dict)
    synack_options: dict[str, Any] = field(default_factory=dict)
    completeness: int = 0
    """tshark's tcp.completeness bitmask: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST."""
    listen_inferred: bool = False
    """A SYN got a SYN-ACK: the server must have been listening before it."""
    handshake_rtt: float | None = None
    """tshark's tcp.analysis.initial_rtt: from the most recent SYN to the first packet that
    acknowledges without SYN (the handshake's ACK, data or not). None where there is none, and
    where that packet is a RST (a refusal is no round trip)."""
    history: str = ""
    """Zeek's conn.log history: s h a d f r t w g i q ^, upper case for Zeek's originator."""
    conn_state: str = ""
    """Zeek's conn.log conn_state: S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH."""

    type: str = field(default="connection", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "connection",
            "proto": self.proto,
            "stream": self.stream,
            "client": self.client,
            "cport": self.cport,
            "server": self.server,
            "sport": self.sport,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "packets": self.packets,
            "bytes_c2s": self.bytes_c2s,
            "bytes_s2c": self.bytes_s2c,
            "handshake": self.handshake,
            "handshake_rtt": self.handshake_rtt,
            "rtt_syn_synack": self.rtt_syn_synack,
            "rtt_synack_ack": self.rtt_synack_ack,
            "ended": self.ended,
            "syn_options": self.syn_options,
            "synack_options": self.synack_options,
            "completeness": self.completeness,
            "listen_inferred": self.listen_inferred,
            "history": self.history,
            "conn_state": self.conn_state,
        }


@dataclass(slots=True)
class CaptureStats:
    """Status of a source: counts, drops, and where the capture is written."""

    source: str
    packets: int = 0
    skipped: int = 0
    """Frames carrying neither TCP nor UDP."""
    drops: int = 0
    """Packets the kernel dropped (live capture only)."""
    saved_to: str | None = None
    kernel_lost: int | None = None
    """With the kernel's view: its records lost (bpftrace's buffers overflowed, or a reader
    too far behind shed them); None without it."""

    type: str = field(default="stats", init=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": "stats",
            "source": self.source,
            "packets": self.packets,
            "skipped": self.skipped,
            "drops": self.drops,
            "saved_to": self.saved_to,
        }
        if self.kernel_lost is not None:
            d["kernel_lost"] = self.kernel_lost
        return d


@dataclass(slots=True)
class TruncatedPacket:
    """A frame whose TCP or UDP header the capture cut short: reported as far as it can be read.

    tshark gives such a frame no stream, so it is not a packet event; it is still reported.
    """

    frame: int
    time: float
    proto: int
    """6 (TCP) or 17 (UDP)."""
    src: str
    dst: str
    sport: int | None
    dport: int | None
    reason: str

    type: str = field(default="truncated", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "truncated",
            "frame": self.frame,
            "time": self.time,
            "proto": "tcp" if self.proto == 6 else "udp",
            "src": self.src,
            "sport": self.sport,
            "dst": self.dst,
            "dport": self.dport,
            "reason": self.reason,
        }


SideEvent = SocketEvent | StateEvent | KernelEvent
"""What happens beside the packets, on one end's side of the ladder, at its own time."""

Event = (
    PacketEvent
    | SocketEvent
    | StateEvent
    | KernelEvent
    | ConnectionSummary
    | CaptureStats
    | TruncatedPacket
)
"""Anything that flows through the event stream."""
