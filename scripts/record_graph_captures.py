"""Record the loopback capture the graph tests use, and tshark's reading of it (as root).

    sudo .venv/bin/python scripts/record_graph_captures.py [--out tests/data/graphs]

In a network namespace of its own (nothing else on the machine shows up, nothing leaves it),
tcpdump records three things done with standard-library sockets, each bounded in time:

1. port 5001, a zero window: the server's receive buffer is tiny and it reads nothing for a
   second while the client sends 200 kB; the window closes, the client probes it, then the
   server reads everything and the window opens again;
2. port 5002, a SYN retransmission: listen(0) and no accept(), a first client fills the
   accept queue, a second client's SYN is dropped and sent again a second later, after the
   server has taken the first one;
3. port 5003, loss: an nftables rule drops one data segment in 40 of a 1 MB transfer as it
   arrives (after tcpdump saw it, as a capture on the sender's side would), with loopback's
   segmentation offload cut to the MSS; the receiver's duplicate ACKs and SACKs bring
   retransmissions.

Payloads are cut to 128 bytes (the graphs need the headers only). Beside the capture it
writes ``<file>.graphs.tsv``: tshark's two-pass fields the graphs are checked against
(ack_rtt, acks_frame, window_size, bytes_in_flight, SACK blocks and the analysis marks), one
row a frame; and the same for the public captures in `PUBLIC` (``--oracles-only`` writes
those alone, without root).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from handshake_viz.sources.netns import enter_private_network

ROOT = Path(__file__).resolve().parents[1]
NAME = "selfmade__graphs_loopback.pcap"
TSHARK_FIELDS = (
    "frame.number", "frame.time_epoch", "tcp.stream", "tcp.flags", "tcp.seq", "tcp.ack",
    "tcp.len", "tcp.window_size_value", "tcp.window_size", "tcp.window_size_scalefactor",
    "tcp.analysis.acks_frame", "tcp.analysis.ack_rtt", "tcp.analysis.bytes_in_flight",
    "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
    "tcp.analysis.zero_window", "tcp.analysis.zero_window_probe", "tcp.options.sack_le",
)  # fmt: skip
PUBLIC = (
    "zeek__tcp_retransmit-fast009.pcap", "zeek__tcp_retransmit-timeout.pcapng",
    "zeek__tcp_option-sack.pcap", "zeek__tcp_handshake-reorder.pcap",
    "zeek__ipv6-http-atomic-frag.pcap", "zeek__http_get.pcap", "zeek__vlan-pcp-dei.pcapng",
)  # fmt: skip
"""Public captures of tests/data/tshark/ the graph tests also check (retransmissions, SYN
retransmissions, a SYN-ACK captured before its SYN): their oracles are written too."""
DEADLINE = 20.0
"""No scenario may take longer (seconds)."""


def zero_window(port: int) -> None:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    cli = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    conn, _ = srv.accept()
    sender = threading.Thread(target=cli.sendall, args=(b"x" * 200_000,))
    sender.start()
    time.sleep(1.2)  # the server reads nothing: its window closes, the client probes
    got = 0
    conn.settimeout(DEADLINE)
    while got < 200_000:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += len(chunk)
    sender.join(DEADLINE)
    cli.close()
    conn.close()
    srv.close()


def syn_retransmission(port: int) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen(0)  # one finished handshake fills the accept queue
    first = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    time.sleep(0.1)
    second = socket.socket()
    second.settimeout(DEADLINE)
    box: list[BaseException] = []

    def connect() -> None:
        try:
            second.connect(("127.0.0.1", port))  # its SYN is dropped: the queue is full
        except OSError as exc:
            box.append(exc)

    t = threading.Thread(target=connect)
    t.start()
    time.sleep(0.5)
    conn1, _ = srv.accept()  # room again: the SYN sent again at 1 s gets its SYN-ACK
    t.join(DEADLINE)
    if box:
        raise box[0]
    conn2, _ = srv.accept()
    second.sendall(b"hello")
    conn2.recv(16)
    for s in (first, second, conn1, conn2, srv):
        s.close()


def loss(port: int) -> None:
    # Loopback sends 64 kB segments in one packet (GSO): cut them to the MSS, as a wire would.
    subprocess.run(["ip", "link", "set", "dev", "lo", "gso_max_size", "1400"], check=True)
    subprocess.run(
        ["nft", "-f", "-"],
        input=(
            "table inet graphs {\n chain in {\n type filter hook input priority 0;\n"
            f" tcp dport {port} meta length > 1000 numgen inc mod 40 == 0 drop\n }}\n}}\n"
        ),
        text=True,
        check=True,
    )
    try:
        srv = socket.socket()
        srv.bind(("127.0.0.1", port))
        srv.listen(1)
        cli = socket.socket()
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
        cli.settimeout(DEADLINE)
        cli.connect(("127.0.0.1", port))
        conn, _ = srv.accept()
        conn.settimeout(DEADLINE)
        sender = threading.Thread(target=lambda: (cli.sendall(b"y" * 1_000_000), cli.close()))
        sender.start()
        while conn.recv(65536):
            pass
        sender.join(DEADLINE)
        conn.close()
        srv.close()
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "graphs"], check=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "graphs")
    p.add_argument(
        "--oracles-only",
        action="store_true",
        help="only tshark's fields of the public captures (no recording, no root)",
    )
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in PUBLIC:
        write_oracle(ROOT / "tests" / "data" / "tshark" / name, args.out / f"{name}.graphs.tsv")
    if args.oracles_only:
        return 0
    for tool in ("tcpdump", "tshark", "nft", "ip"):
        if shutil.which(tool) is None:
            print(f"record_graph_captures: {tool} is missing (make bootstrap installs it)",
                  file=sys.stderr)  # fmt: skip
            return 2
    enter_private_network()
    pcap = args.out / NAME
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-Q", "in", "--immediate-mode", "-U", "-n", "-s", "128",
         "-w", str(pcap), "tcp and portrange 5001-5003"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert dump.stderr is not None
        assert "listening on" in dump.stderr.readline()
        zero_window(5001)
        syn_retransmission(5002)
        loss(5003)
        time.sleep(0.3)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(10)
    frames = write_oracle(pcap, args.out / f"{NAME}.graphs.tsv")
    print(f"wrote {pcap} ({frames} frames) and its tshark oracle")
    return 0


def write_oracle(pcap: Path, out: Path) -> int:
    """tshark's two-pass reading of `TSHARK_FIELDS`, one row a frame; how many frames."""
    cmd = ["tshark", "-2", "-r", str(pcap), "-T", "fields", "-E", "header=y",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]  # fmt: skip
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    oracle = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    out.write_text(oracle)
    return len(oracle.splitlines()) - 1


if __name__ == "__main__":
    raise SystemExit(main())
