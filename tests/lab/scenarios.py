"""The lab's scenarios: real programs across namespaces, through impairments, recorded.

Each scenario builds its namespaces in a `Lab`, runs curl and ``python3 -m http.server`` or
the socket programs of `tests.lab.programs`, and leaves one capture at the path it is given.
Addresses: the client 10.77.0.1 (fd77::1), the server 10.77.0.2 (fd77::2); with a relay in
between, both on one Ethernet segment through it.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from tests.lab.netlab import Lab

C4, S4, C6, S6 = "10.77.1.1", "10.77.2.1", "fd77:1::1", "fd77:2::1"
PROGRAMS = "tests.lab.programs"


def pair(lab: Lab) -> tuple[str, str]:
    """Client and server namespaces joined by one veth pair (c0 - s0)."""
    c, s = lab.ns("c"), lab.ns("s")
    lab.link(c, "c0", s, "s0")
    lab.addr(c, "c0", f"{C4}/16", f"{C6}/32")
    lab.addr(s, "s0", f"{S4}/16", f"{S6}/32")
    return c, s


def trio(lab: Lab, **relay: str) -> tuple[str, str]:
    """Client and server with a relay between them (c0 - r0, r1 - s0): one Ethernet
    segment through `tests.lab.relay`, which delays, reorders and duplicates."""
    c, r, s = lab.ns("c"), lab.ns("r"), lab.ns("s")
    lab.link(c, "c0", r, "r0")
    lab.link(r, "r1", s, "s0")
    lab.addr(c, "c0", f"{C4}/16", f"{C6}/32")
    lab.addr(s, "s0", f"{S4}/16", f"{S6}/32")
    lab.python(r, "tests.lab.relay", "r0", "r1", *(f"{k}={v}" for k, v in relay.items()),
               "limit=30")  # fmt: skip
    return c, s


def routed(lab: Lab) -> tuple[str, str, str]:
    """Client, router, server (c0 - r0, r1 - s0): the router forwards, and its nftables
    ``fwd`` chain and qdiscs lose packets as a network does."""
    c, r, s = lab.ns("c"), lab.ns("r"), lab.ns("s")
    lab.link(c, "c0", r, "r0")
    lab.link(r, "r1", s, "s0")
    lab.addr(c, "c0", f"{C4}/24", f"{C6}/64")
    lab.addr(r, "r0", "10.77.1.254/24", "fd77:1::fe/64")
    lab.addr(r, "r1", "10.77.2.254/24", "fd77:2::fe/64")
    lab.addr(s, "s0", f"{S4}/24", f"{S6}/64")
    lab.sysctl(r, "net.ipv4.ip_forward", "1")
    lab.sysctl(r, "net.ipv6.conf.all.forwarding", "1")
    lab.sh(c, "ip route add default via 10.77.1.254 && ip -6 route add default via fd77:1::fe")
    lab.sh(s, "ip route add default via 10.77.2.254 && ip -6 route add default via fd77:2::fe")
    return c, r, s


def listening(lab: Lab, ns: str, port: int, timeout: float = 5) -> None:
    """Wait until something listens on `port` in `ns`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if lab.sh(ns, f"ss -Hltn 'sport = :{port}'").strip():
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} in {ns}")


@contextmanager
def web_server(lab: Lab, ns: str, port: int = 8000, size: int = 120_000, bind: str = "::"):
    """``python3 -m http.server`` serving one file of `size` bytes (`/file`)."""
    with tempfile.TemporaryDirectory(prefix="hvlab-www-") as www:
        Path(www, "file").write_bytes(bytes(i % 251 for i in range(size)))
        proc = lab.start(ns, ["python3", "-m", "http.server", str(port), "--bind", bind,
                              "--directory", www], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)  # fmt: skip
        listening(lab, ns, port)
        try:
            yield proc
        finally:
            proc.terminate()


def curl(lab: Lab, ns: str, url: str, timeout: float = 15) -> None:
    """Fetch a URL with curl (what it gets is thrown away; a failure is part of a scenario)."""
    lab.sh(ns, f"curl -s -o /dev/null --max-time {timeout:g} '{url}'", check=False,
           timeout=timeout + 5)  # fmt: skip


def http_loss(lab: Lab, out: Path) -> None:
    """curl and http.server; the router drops every 9th segment the server sends."""
    c, r, s = routed(lab)
    lab.nft(r, "fwd tcp sport 8000 tcp flags & (syn|fin|rst) == 0 numgen inc mod 9 0 drop")
    with web_server(lab, s), lab.tcpdump(c, "c0", out):
        curl(lab, c, f"http://{S4}:8000/file")


def http_ipv6_loss(lab: Lab, out: Path) -> None:
    """The same over IPv6, losing every 13th segment both ways."""
    c, r, s = routed(lab)
    lab.nft(
        r,
        "fwd tcp sport 8000 tcp flags & (syn|fin|rst) == 0 numgen inc mod 13 0 drop",
        "fwd tcp dport 8000 tcp flags & (syn|fin|rst) == 0 numgen inc mod 3 1 drop",
    )
    with web_server(lab, s, size=80_000), lab.tcpdump(c, "c0", out):
        curl(lab, c, f"http://[{S6}]:8000/file")


def handshakes(lab: Lab, out: Path) -> None:
    """The router loses a first SYN (an nftables quota eats it) and a first SYN-ACK (numgen
    picks it); then a refused connection."""
    c, r, s = routed(lab)
    lab.nft(
        r,
        "fwd tcp dport 8000 tcp flags & (syn|ack) == syn quota until 60 bytes drop",
        "fwd tcp sport 8001 tcp flags & (syn|ack) == syn|ack numgen inc mod 1000 0 drop",
    )
    with web_server(lab, s, 8000, 2000), web_server(lab, s, 8001, 2000):
        with lab.tcpdump(c, "c0", out):
            curl(lab, c, f"http://{S4}:8000/file")
            curl(lab, c, f"http://{S4}:8001/file")
            curl(lab, c, f"http://{S4}:8009/file")  # nothing listens: RST


def reorder_duplicate(lab: Lab, out: Path) -> None:
    """Through the relay: 5 ms each way, every 6th data segment overtaken, every 11th twice."""
    c, s = trio(lab, delay="5", reorder="6", duplicate="11")
    with web_server(lab, s, size=100_000), lab.tcpdump(c, "c0", out):
        curl(lab, c, f"http://{S4}:8000/file")


def rate_limit(lab: Lab, out: Path) -> None:
    """The router's link to the client shaped by tbf to 4 Mbit/s with a short queue: the
    server's bursts overflow it (tail drops)."""
    c, r, s = routed(lab)
    lab.sh(r, "tc qdisc add dev r0 root tbf rate 4mbit burst 6kb limit 9kb")
    with web_server(lab, s, size=120_000), lab.tcpdump(c, "c0", out):
        curl(lab, c, f"http://{S4}:8000/file")


def zero_window(lab: Lab, out: Path) -> None:
    """A receiver with a small buffer that reads nothing for a second: the window closes,
    the sender probes, the window opens again."""
    c, s = pair(lab)
    lab.python(s, PROGRAMS, "sink", f"host={S4}", "port=9000", "rcvbuf=4096", "pause=1.2",
               "limit=8")  # fmt: skip
    listening(lab, s, 9000)
    with lab.tcpdump(c, "c0", out):
        lab.wait(lab.python(c, PROGRAMS, "send", f"host={S4}", "port=9000", "size=120000"))


def keepalive(lab: Lab, out: Path) -> None:
    """Keep-alives every second; then the peer goes silent (nftables drops all it sends)
    and the client gives up with a RST."""
    c, s = pair(lab)
    lab.python(s, PROGRAMS, "sink", f"host={S4}", "port=9001", "limit=12")
    listening(lab, s, 9001)
    with lab.tcpdump(c, "c0", out):
        client = lab.python(c, PROGRAMS, "keepalive", f"host={S4}", "port=9001", "count=2")
        time.sleep(2.6)
        lab.nft(s, "out tcp sport 9001 drop")  # the server's host drops all it sends
        lab.wait(client, timeout=15)


def simultaneous(lab: Lab, out: Path) -> None:
    """Both ends connect to each other at the same moment (the relay's 30 ms delay makes the
    SYNs cross), then both close at the same moment (the FINs cross)."""
    c, s = trio(lab, delay="30")
    at = time.time() + 1.0
    with lab.tcpdump(c, "c0", out):
        a = lab.python(c, PROGRAMS, "simultaneous", f"host={C4}", "port=7001", f"peer={S4}",
                       "peer_port=7002", f"at={at}", f"close_at={at + 0.5}")  # fmt: skip
        b = lab.python(s, PROGRAMS, "simultaneous", f"host={S4}", "port=7002", f"peer={C4}",
                       "peer_port=7001", f"at={at}", f"close_at={at + 0.5}")  # fmt: skip
        lab.wait(a), lab.wait(b)


def fast_open(lab: Lab, out: Path) -> None:
    """TCP Fast Open (net.ipv4.tcp_fastopen=3): a cookie asked for, then data in the SYN."""
    c, s = pair(lab)
    for ns in (c, s):
        lab.sysctl(ns, "net.ipv4.tcp_fastopen", "3")
    lab.python(s, PROGRAMS, "fastopen-server", f"host={S4}", "port=9002", "limit=6")
    listening(lab, s, 9002)
    with lab.tcpdump(c, "c0", out):
        lab.wait(lab.python(c, PROGRAMS, "fastopen-client", f"host={S4}", "port=9002",
                            "times=3"))  # fmt: skip


def reuse(lab: Lab, out: Path) -> None:
    """One 4-tuple twice: the server closes first, so the second SYN reaches a socket in
    TIME-WAIT, which takes it; and ECN asked for and agreed (net.ipv4.tcp_ecn=1)."""
    c, s = pair(lab)
    for ns in (c, s):
        lab.sysctl(ns, "net.ipv4.tcp_ecn", "1")
    lab.python(s, PROGRAMS, "closer", f"host={S4}", "port=9003", "limit=6")
    listening(lab, s, 9003)
    with lab.tcpdump(c, "c0", out):
        lab.wait(lab.python(c, PROGRAMS, "send", f"host={S4}", "port=9003", "size=100",
                            "lport=40123", "times=3", "gap=0.3"))  # fmt: skip


def mptcp(lab: Lab, out: Path) -> None:
    """Multipath TCP sockets on both ends (MP_CAPABLE in the handshake)."""
    c, s = pair(lab)
    lab.python(s, PROGRAMS, "sink", f"host={S4}", "port=9004", "proto=mptcp", "limit=6")
    listening(lab, s, 9004)
    with lab.tcpdump(c, "c0", out):
        lab.wait(lab.python(c, PROGRAMS, "send", f"host={S4}", "port=9004", "size=20000",
                            "proto=mptcp"))  # fmt: skip


def vxlan(lab: Lab, out: Path) -> None:
    """The kernel's VXLAN (UDP 4789) between client and server, through the router, which
    loses some of the tunnel's datagrams; curl and UDP across it, recorded outside."""
    c, r, s = routed(lab)
    for ns, local, remote, inner in ((c, C4, S4, "10.78.0.1/24"), (s, S4, C4, "10.78.0.2/24")):
        lab.sh(ns, f"ip link add name vx0 type vxlan id 42 dstport 4789 local {local} "
                   f"remote {remote}")  # fmt: skip
        lab.sh(ns, f"ip link set vx0 mtu 1400 up && ip addr add {inner} dev vx0")
    lab.nft(r, "fwd udp dport 4789 ip saddr 10.77.2.1 udp length > 1000 numgen inc mod 10 4 drop")
    lab.python(s, PROGRAMS, "udp-echo", "host=10.78.0.2", "port=5300", "limit=8")
    with web_server(lab, s, size=60_000), lab.tcpdump(c, "c0", out):
        curl(lab, c, "http://10.78.0.2:8000/file")
        lab.wait(lab.python(c, PROGRAMS, "udp-ping", "host=10.78.0.2", "port=5300"))


TUNNEL_MODES = (
    ("gre", "10.79.1", "key=7", "seq=1"),
    ("gretap", "10.79.2", "key=8"),
    ("ipip", "10.79.3"),
    ("sit", "fd79:4:"),
    ("geneve", "10.79.5"),
)
"""User-space tunnels: mode, inner network, options."""


def tunnels(lab: Lab, out: Path) -> None:
    """GRE (with key and sequence numbers), Ethernet over GRE, IP in IP, IPv6 in IPv4 and
    Geneve, made by `tests.lab.tunnel` (this kernel has no driver for them), one after the
    other; curl through each."""
    c, s = pair(lab)
    for ns in (c, s):
        # A tunnel datagram reaching an end that has just stopped would bring back an ICMP
        # error, whose quoted headers tshark counts in the conversation (the reader does not
        # read ICMP): the hosts keep those errors to themselves.
        lab.nft(ns, "out icmp type destination-unreachable drop")
    with web_server(lab, s, size=20_000), lab.tcpdump(c, "c0", out):
        for mode, net, *opts in TUNNEL_MODES:
            six = ":" in net
            a, b = (f"{net}:1", f"{net}:2") if six else (f"{net}.1", f"{net}.2")
            plen = "64" if six else "24"
            ends = []
            for ns, local, remote, addr in ((s, S4, C4, b), (c, C4, S4, a)):
                ends.append(lab.python(ns, "tests.lab.tunnel", mode, local, remote, "tn0",
                                       f"{addr}/{plen}", *opts, "limit=10"))  # fmt: skip
                time.sleep(0.4)
            curl(lab, c, f"http://[{b}]:8000/file" if six else f"http://{b}:8000/file", 5)
            for end in ends:
                end.terminate()
                end.wait(timeout=5)
            time.sleep(0.2)


def raw_ip(lab: Lab, out: Path) -> None:
    """Recorded on a TUN device (an IP-in-IP tunnel's end): raw IP frames, no link header."""
    c, s = pair(lab)
    for ns in (c, s):
        lab.nft(ns, "out icmp type destination-unreachable drop")
    with web_server(lab, s, size=30_000):
        for ns, local, remote, addr in ((s, S4, C4, "10.79.9.2/24"), (c, C4, S4, "10.79.9.1/24")):
            lab.python(ns, "tests.lab.tunnel", "ipip", local, remote, "tn0", addr, "limit=8")
            time.sleep(0.4)
        with lab.tcpdump(c, "tn0", out):
            curl(lab, c, "http://10.79.9.2:8000/file", 5)


def _link_capture(doc: str, linktype: str | None, iface: str = "c0", snaplen: int = 262144,
                  late: bool = False) -> Callable[[Lab, Path], None]:  # fmt: skip
    """A scenario that shows a kind of capture more than a kind of traffic: curl over IPv4
    and IPv6, recorded with another link type, a short snaplen, or from the middle."""

    def scenario(lab: Lab, out: Path) -> None:
        c, s = pair(lab)
        with web_server(lab, s, size=80_000 if late else 20_000):
            if late:  # the capture starts in the middle of the transfer
                lab.sh(s, "tc qdisc add dev s0 root tbf rate 2mbit burst 8kb limit 64kb")
                fetch = lab.start(c, ["curl", "-s", "-o", "/dev/null", "--max-time", "10",
                                      f"http://{S4}:8000/file"])  # fmt: skip
                time.sleep(0.15)
                with lab.tcpdump(c, iface, out, snaplen):
                    lab.wait(fetch)
                return
            with lab.tcpdump(c, iface, out, snaplen, linktype):
                curl(lab, c, f"http://{S4}:8000/file")
                curl(lab, c, f"http://[{S6}]:8000/file")

    scenario.__doc__ = doc
    return scenario


SCENARIOS: dict[str, Callable[[Lab, Path], None]] = {
    "lab__http-loss": http_loss,
    "lab__http-ipv6-loss": http_ipv6_loss,
    "lab__handshakes": handshakes,
    "lab__reorder-duplicate": reorder_duplicate,
    "lab__rate-limit": rate_limit,
    "lab__zero-window": zero_window,
    "lab__keepalive-dead-peer": keepalive,
    "lab__simultaneous": simultaneous,
    "lab__fast-open": fast_open,
    "lab__reuse-ecn": reuse,
    "lab__mptcp": mptcp,
    "lab__vxlan": vxlan,
    "lab__tunnels": tunnels,
    "lab__raw-ip": raw_ip,
    "lab__sll2": _link_capture("Recorded on 'any': Linux cooked capture v2 (SLL2).", None, "any"),
    "lab__sll": _link_capture(
        "Recorded on 'any' as Linux cooked capture v1 (SLL).", "LINUX_SLL", "any"
    ),
    "lab__snaplen70": _link_capture("Snaplen 70: headers cut, lengths from IP.", None, snaplen=70),
    "lab__mid-transfer": _link_capture(
        "The capture starts in the middle of a transfer.", None, late=True
    ),
}
"""Each scenario by the name of the capture it makes (without .pcap)."""
