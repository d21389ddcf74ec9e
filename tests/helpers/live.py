"""Helpers for the live capture tests: tcpdump and tshark as the oracle, the CLI as a process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handshake_viz.sources.live.privileges import can_capture
from tests.helpers.paths import ROOT

CAN_CAPTURE = can_capture()
needs_capture = pytest.mark.skipif(
    not CAN_CAPTURE, reason="live capture needs root or CAP_NET_RAW, which this run lacks"
)
needs_tcpdump = pytest.mark.skipif(
    shutil.which("tcpdump") is None or shutil.which("tshark") is None,
    reason="tcpdump and tshark are the oracle here: apt install tcpdump tshark",
)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SUDO_UID", None)
    env.pop("SUDO_GID", None)
    return env


def cli(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    """Run ``handshake-viz ARGS`` to completion (as ``python -m handshake_viz``)."""
    kw.setdefault("timeout", 30)
    return subprocess.run(  # noqa: PLW1510 - callers check returncode themselves
        [sys.executable, "-m", "handshake_viz", *args],
        capture_output=True,
        text=True,
        cwd=kw.pop("cwd", ROOT),
        env=kw.pop("env", cli_env()),
        **kw,
    )


class Tcpdump:
    """tcpdump writing every packet of some ports (one copy: ``inbound``) to a file."""

    def __init__(self, path: Path, ports: list[int]):
        self.path = path
        # -Q in keeps one copy of each loopback packet (tcpdump's own way; "inbound" inside
        # its filter expression captures nothing on this libpcap)
        expr = "(tcp or udp) and (" + " or ".join(f"port {p}" for p in ports) + ")"
        self.proc = subprocess.Popen(
            [
                "tcpdump",
                "-i",
                "lo",
                "-Q",
                "in",
                "--immediate-mode",
                "-U",
                "-n",
                "-s",
                "262144",
                "-w",
                str(path),
                expr,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()  # "tcpdump: listening on lo, ..." once capturing
        assert "listening on" in line, line

    def stop(self) -> Path:
        if self.proc.poll() is None:
            time.sleep(0.1)  # let the last packets reach the file
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        return self.path


def tshark_packets(path: Path) -> list[tuple]:
    """(sport, dport, flags, relative seq, payload length) of each packet, as tshark reads it."""
    fields = [
        "tcp.srcport",
        "tcp.dstport",
        "udp.srcport",
        "udp.dstport",
        "tcp.flags",
        "tcp.seq",
        "tcp.len",
        "udp.length",
    ]
    cmd = ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True).stdout
    rows = []
    for line in out.splitlines():
        tsp, tdp, usp, udp_, flags, seq, tlen, ulen = (line.split("\t") + [""] * 8)[:8]
        if tsp:
            rows.append(("tcp", int(tsp), int(tdp), int(flags, 16), int(seq), int(tlen)))
        else:
            rows.append(("udp", int(usp), int(udp_), 0, None, int(ulen) - 8))
    return rows


def event_packets(events: list) -> list[tuple]:
    """The same tuple for our packet events (objects or JSONL dicts)."""
    from handshake_viz.core.events import flag_bits

    rows = []
    for e in events:
        d = e if isinstance(e, dict) else e.to_dict()
        if d.get("type") != "packet":
            continue
        rows.append((d["proto"], d["sport"], d["dport"], flag_bits(d["flags"]), d["seq"], d["len"]))
    return rows


def pcap_frames(path: Path) -> list[bytes]:
    """The raw frames of a capture file, in order (read with the project's own reader)."""
    from handshake_viz.core.pcapfile import read_records

    with open(path, "rb") as f:
        return [r[3] for r in read_records(f, str(path))]  # (frame, time, linktype, data, ...)
