"""What the tracer's lines become: calls with their programs, states on the packets' clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from handshake_viz.core.events import SideEvent, SocketEvent, StateEvent, TcpState
from handshake_viz.sources.kernel.clock import MonotonicClock
from handshake_viz.sources.kernel.lines import parse
from handshake_viz.sources.kernel.program import ProgramText, kernel_layout
from handshake_viz.sources.kernel.view import KernelView
from tests.helpers.paths import DATA

LINES = DATA / "kernel" / "curl-http-server.lines"
"""bpftrace's output for `python3 -m http.server 8000` and one curl (tests/data/kernel)."""


class Recorder:
    """A sink that keeps what it is given, calls in progress resolved as they end."""

    def __init__(self) -> None:
        self.events: list[SideEvent] = []
        self.ticks: list[float] = []
        self._tokens = itertools.count()

    def add_side(self, event: SideEvent) -> None:
        self.events.append(event)

    def lag(self) -> float:
        return 0.0

    def add_sides(self, events: list[SideEvent], saved: bool = False) -> None:
        self.events.extend(events)

    def begin(self, provisional: SocketEvent) -> int:
        return next(self._tokens)

    def end(
        self, token: int, build: Callable[[bool], SocketEvent | None], saved: bool = False
    ) -> None:
        event = build(False)
        if event is not None:
            self.events.append(event)

    def tracer_ready(self) -> None:
        pass

    def tracer_at(self, t: float) -> None:
        self.ticks.append(t)

    def tracer_gone(self) -> None:
        pass


def viewed() -> tuple[list[SideEvent], MonotonicClock]:
    sink = Recorder()
    clock = MonotonicClock()
    view = KernelView(sink, [8000], clock)
    for text in LINES.read_text().splitlines():
        record = parse(text)
        if record is not None:
            view.feed(record)
    assert view.ready
    return sorted(sink.events, key=lambda e: e.time), clock


def calls(events: list[SideEvent], name: str) -> list[SocketEvent]:
    return [e for e in events if isinstance(e, SocketEvent) and e.call == name]


def changes(events: list[SideEvent]) -> list[StateEvent]:
    return [e for e in events if isinstance(e, StateEvent)]


def test_curls_connect_comes_with_its_program_before_its_syn_sent():
    events, _ = viewed()
    (connect,) = calls(events, "connect")
    assert (connect.comm, connect.pid, connect.side) == ("curl", 31375, "client")
    assert connect.result == "EINPROGRESS" and connect.remote == "127.0.0.1:8000"
    syn_sent = next(e for e in changes(events) if e.new is TcpState.SYN_SENT)
    assert connect.time < syn_sent.time
    # connect() sets SYN-SENT before the kernel picks the port: the change waits for it
    assert syn_sent.local == "127.0.0.1:51780" and syn_sent.comm == "curl"


def test_the_servers_new_socket_is_the_listeners_programs_before_accept_says_so():
    events, _ = viewed()
    (accept,) = calls(events, "accept")
    assert (accept.comm, accept.pid, accept.side) == ("python3", 31325, "server")
    assert accept.remote == "127.0.0.1:51780"
    born = [e for e in changes(events) if e.local == "127.0.0.1:8000" and e.remote]
    assert [(str(e.old), str(e.new)) for e in born[:2]] == [
        ("LISTEN", "SYN-RECEIVED"),
        ("SYN-RECEIVED", "ESTABLISHED"),
    ]
    # in curl's connect(): the loopback handshake runs in the client's context
    assert all(e.comm == "python3" for e in born)
    assert born[1].time < accept.time  # accept() returns after the handshake


def test_a_fin_wait_2_socket_handed_to_the_timewait_table_after_the_peers_fin_is_time_wait():
    events, _ = viewed()
    server = [e for e in changes(events) if e.local == "127.0.0.1:8000" and e.remote]
    assert [str(e.new) for e in server] == [
        "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
    ]  # fmt: skip
    assert server[-1].timewait
    client = [e for e in changes(events) if e.local == "127.0.0.1:51780"]
    assert [str(e.new) for e in client] == [
        "SYN-SENT", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED",
    ]  # fmt: skip


def test_the_tracepoints_clock_becomes_the_packets_clock():
    events, clock = viewed()
    first = LINES.read_text().splitlines()[0]
    assert first.startswith("R ")
    assert abs(clock.real(int(first.split()[1])) - events[0].time) < 1.0
    assert clock.error_ns < 1_000_000


def test_close_keeps_the_endpoints_the_socket_had_when_it_was_called():
    events, _ = viewed()
    curl_close = next(e for e in calls(events, "close") if e.comm == "curl")
    assert curl_close.local == "127.0.0.1:51780"  # the kernel cleared the port by the return


def test_the_program_is_filtered_in_the_kernel_to_the_ports_and_namespaces():
    text = ProgramText([8000, 9000], [4026531840], known_pids=[42]).text()
    num, dport, inum = (kernel_layout()[name].offset for name in ("num", "dport", "inum"))
    assert f"*(uint16*)($sk + {num}) == 8000" in text  # the socket's own port
    assert f"*(uint16*)($sk + {dport}) == 16415" in text  # 8000, in network order
    assert f" + {inum}) == 4026531840" in text
    assert "@p[42] = 1;" in text  # a listener's owner, watched from the start
    assert "/@p[pid]" in text  # the frequent calls: only in processes using the ports


def test_a_call_seen_without_its_port_in_the_listening_process_is_the_servers():
    """python3 -m http.server's shutdown() of an accepted socket came without its local port
    (127.0.0.1:0): it stood on the client's side of the ladder."""
    sink = Recorder()
    view = KernelView(sink, [8000], MonotonicClock())
    view.seed_owner(8000, 4702, "python3")
    record = parse(
        "E 200 100 4702 4703 shutdown 4 0xffff1 2 6 127.0.0.1 0 127.0.0.1 51780 0 python3"
    )
    assert record is not None
    view.feed(record)
    (call,) = calls(sink.events, "shutdown")
    assert call.side == "server" and call.comm == "python3"
