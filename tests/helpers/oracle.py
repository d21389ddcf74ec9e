"""Compare the project's packet events with tshark's two-pass fields (an oracle TSV).

The comparison is the one of ``../shared/tools/oracle_check.py`` (copied beside this file),
used here in-process so that each mismatch is a readable assertion.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from handshake_viz.core.events import ACK, PacketEvent

PHASE_BY_FLAGS = "request confirm teardown data reset"


def expected_phase(bits: int, tcp_len: int, fin_seen: bool) -> str | None:
    if bits & 0x04:
        return "reset"
    if bits & 0x02:
        return "confirm" if bits & 0x10 else "request"
    if bits & 0x01:
        return "teardown"
    if tcp_len > 0 and not fin_seen:
        return "data"
    return None  # pure ACKs: several readings are fair


def read_oracle(path: Path) -> list[dict[str, str]]:
    """An oracle's rows. A frame with UDP in UDP (a VXLAN or Geneve tunnel) has a value per
    layer ("4,5"): the innermost is the packet the events show."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        for k, v in r.items():
            if v and "," in v and k != "frame.time_epoch":
                r[k] = v.rsplit(",", 1)[1]
    return rows


def compare(rows: list[dict[str, str]], events: list[Any]) -> tuple[int, list[str]]:
    """Return (packets checked, mismatches) between oracle rows and packet events."""
    by_frame = {e.frame: e for e in events if isinstance(e, PacketEvent)}
    bad: list[str] = []
    checked = 0
    fin_seen: set[int] = set()
    oracle_frames = set()
    for r in rows:
        if not (r["tcp.stream"] or r["udp.stream"]):
            continue
        n = int(r["frame.number"])
        ev = by_frame.get(n)
        checked += 1
        oracle_frames.add(n)
        if ev is None:
            bad.append(f"frame {n}: missing" + ("" if r["tcp.stream"] else " (udp)"))
            continue
        if r["tcp.stream"] and not r["tcp.flags"]:
            # A bogus TCP header length: tshark numbers the segment but shows no flags.
            known = bool(r["tcp.len"])
            want = {"proto": "tcp", "stream": int(r["tcp.stream"]), "seq": int(r["tcp.seq"]),
                    "len": int(r["tcp.len"]) if known else None}  # fmt: skip
            got = {"proto": ev.proto, "stream": ev.stream, "seq": ev.seq,
                   "len": ev.len if known else None}  # fmt: skip
            if ev.flags & 0x01:
                fin_seen.add(ev.stream)
        elif r["tcp.stream"]:
            flags = int(r["tcp.flags"], 16)
            want = {
                "proto": "tcp",
                "stream": int(r["tcp.stream"]),
                "flags": flags & 0x1FF,
                "seq": int(r["tcp.seq"]),
                "ack": int(r["tcp.ack"] or 0) if flags & ACK else None,
                # tshark gives no length to a first fragment it could not reassemble.
                "len": int(r["tcp.len"]) if r["tcp.len"] else None,
                "retransmission": bool(r["tcp.analysis.retransmission"]),
                "phase": expected_phase(
                    flags, int(r["tcp.len"] or 0), int(r["tcp.stream"]) in fin_seen
                ),
            }
            got = {
                "proto": ev.proto,
                "stream": ev.stream,
                "flags": ev.flags,
                "seq": ev.seq,
                "ack": ev.ack,
                "len": ev.len if r["tcp.len"] else None,
                "retransmission": "retransmission" in ev.analysis,
                "phase": str(ev.phase) if want["phase"] is not None else None,
            }
            if flags & 0x01:
                fin_seen.add(int(r["tcp.stream"]))
        else:
            want = {"proto": "udp", "stream": int(r["udp.stream"]), "len": int(r["udp.length"]) - 8}
            got = {"proto": ev.proto, "stream": ev.stream, "len": ev.len}
        diffs = [f"{k} {got[k]!r}!={want[k]!r}" for k in want if got[k] != want[k]]
        if diffs:
            bad.append(f"frame {n}: " + ", ".join(diffs))
    for n in sorted(set(by_frame) - oracle_frames):
        bad.append(f"frame {n}: a packet event where tshark sees no TCP/UDP")
    return checked, bad


ORACLE_FIELDS = [
    "frame.number",
    "frame.time_epoch",
    "tcp.stream",
    "udp.stream",
    "tcp.flags",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "udp.length",
    "tcp.analysis.retransmission",
    "tcp.completeness",
]
"""The columns of an `.oracle.tsv` (tests/data/tshark/SOURCES.md)."""

MARKS = {
    "tcp.analysis.retransmission": "retransmission",
    "tcp.analysis.fast_retransmission": "fast_retransmission",
    "tcp.analysis.spurious_retransmission": "spurious_retransmission",
    "tcp.analysis.out_of_order": "out_of_order",
    "tcp.analysis.lost_segment": "previous_segment_not_captured",
    "tcp.analysis.ack_lost_segment": "ack_lost_segment",
    "tcp.analysis.duplicate_ack": "duplicate_ack",
    "tcp.analysis.zero_window": "zero_window",
    "tcp.analysis.zero_window_probe": "zero_window_probe",
    "tcp.analysis.zero_window_probe_ack": "zero_window_probe_ack",
    "tcp.analysis.keep_alive": "keep_alive",
    "tcp.analysis.keep_alive_ack": "keep_alive_ack",
    "tcp.analysis.window_update": "window_update",
    "tcp.analysis.window_full": "window_full",
    "tcp.analysis.reused_ports": "port_reused",
    "tcp.analysis.tfo_syn": "tfo_syn",
    "tcp.analysis.tfo_ack": "tfo_ack",
    "tcp.analysis.tfo_ignored": "tfo_ignored",
}
"""Every tshark analysis mark and the name the JSONL gives it."""

ANALYSIS_FIELDS = [
    "frame.number",
    "tcp.stream",
    "tcp.completeness",
    *MARKS,
    "tcp.analysis.initial_rtt",
]
"""The columns of an `.analysis.tsv`: every mark, the completeness, the initial RTT."""


def tshark_fields(capture: Path, fields: list[str]) -> str:
    """`tshark -2 -T fields` on a capture, with a header row, tab separated."""
    import subprocess

    args = ["tshark", "-2", "-r", str(capture), "-T", "fields", "-E", "header=y",
            "-E", "separator=/t"]  # fmt: skip
    for name in fields:
        args += ["-e", name]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.stdout


def write_oracles(capture: Path) -> None:
    """Write tshark's readings beside a capture: `.oracle.tsv` and `.analysis.tsv`."""
    Path(f"{capture}.oracle.tsv").write_text(tshark_fields(capture, ORACLE_FIELDS))
    Path(f"{capture}.analysis.tsv").write_text(tshark_fields(capture, ANALYSIS_FIELDS))


def initial_rtts(rows: list[dict[str, str]]) -> dict[int, float]:
    """tshark's initial RTT of each TCP stream, from the frames that show it."""
    out: dict[int, float] = {}
    for r in rows:
        if r["tcp.stream"] and r.get("tcp.analysis.initial_rtt"):
            out[int(r["tcp.stream"])] = float(r["tcp.analysis.initial_rtt"])
    return out


def compare_marks(rows: list[dict[str, str]], events: list[Any]) -> tuple[int, list[str]]:
    """Every analysis mark of every TCP packet, against an `.analysis.tsv`'s rows."""
    by_frame = {e.frame: e for e in events if isinstance(e, PacketEvent)}
    names = set(MARKS.values())
    bad: list[str] = []
    checked = 0
    for r in rows:
        if not r["tcp.stream"]:
            continue
        checked += 1
        ev = by_frame.get(int(r["frame.number"]))
        want = {mark for name, mark in MARKS.items() if r.get(name)}
        got = set() if ev is None else set(ev.analysis) & names
        if want != got:
            bad.append(f"frame {r['frame.number']}: {sorted(got)} != tshark {sorted(want)}")
    return checked, bad
