"""The demo's client: connect, send, receive, close: the four calls every socket course starts
with, plus the variations the scenarios teach (half-close, abort, UDP)."""

from __future__ import annotations

import socket
import struct

from handshake_viz.demo.tracing import Address, Gate, Recorder, TracedSocket, no_gate


def echo_client(
    recorder: Recorder,
    addr: Address,
    message: bytes = b"hello\n",
    family: int = socket.AF_INET,
    gate: Gate = no_gate,
) -> bytes:
    """Connect, send one message, read the echo, close. Returns what came back."""
    s = TracedSocket(recorder, "client", family, gate=gate)
    s.settimeout(5)
    try:
        s.connect(addr)
        s.send(message)
        reply = s.recv(1024)
    finally:
        s.close()
    return reply


def refused_client(recorder: Recorder, addr: Address, gate: Gate = no_gate) -> int | None:
    """Connect where nothing listens: the kernel answers the SYN with RST; returns the errno."""
    s = TracedSocket(recorder, "client", gate=gate)
    s.settimeout(5)
    try:
        s.connect(addr)
    except ConnectionRefusedError as exc:
        return exc.errno
    finally:
        s.close()
    return None


def waiting_client(
    recorder: Recorder, addr: Address, timeout: float, gate: Gate = no_gate
) -> TracedSocket:
    """Connect with a deadline, and keep the socket open (the backlog scenario closes it)."""
    s = TracedSocket(recorder, "client", gate=gate)
    s.settimeout(timeout)
    try:
        s.connect(addr)
    except OSError:
        pass
    return s


def half_close_client(recorder: Recorder, addr: Address, gate: Gate = no_gate) -> bytes:
    """Send a request, shut down writing (FIN), and go on reading the reply until EOF."""
    s = TracedSocket(recorder, "client", gate=gate)
    s.settimeout(5)
    reply = b""
    try:
        s.connect(addr)
        s.send(b"request\n")
        s.shutdown(socket.SHUT_WR)
        while chunk := s.recv(1024):
            reply += chunk
    finally:
        s.close()
    return reply


def abort_client(recorder: Recorder, addr: Address, gate: Gate = no_gate) -> None:
    """Send, read the answer, then close with SO_LINGER 0: the kernel sends RST, not FIN."""
    s = TracedSocket(recorder, "client", gate=gate)
    s.settimeout(5)
    try:
        s.connect(addr)
        s.send(b"hello\n")
        s.recv(1024)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close("ok (SO_LINGER 0: RST instead of FIN)")


def udp_exchange(recorder: Recorder, addr: Address, gate: Gate = no_gate) -> bytes:
    """A UDP server and client: sendto, recvfrom, and not one packet of handshake."""
    server = TracedSocket(recorder, "server", kind=socket.SOCK_DGRAM, gate=gate)
    client = TracedSocket(recorder, "client", kind=socket.SOCK_DGRAM, gate=gate)
    server.settimeout(5)
    client.settimeout(5)
    try:
        server.bind(addr)
        client.sendto(b"ping\n", addr)
        _request, peer = server.recvfrom(1024)
        server.sendto(b"pong\n", peer)
        reply, _ = client.recvfrom(1024)
    finally:
        client.close()
        server.close()
    return reply
