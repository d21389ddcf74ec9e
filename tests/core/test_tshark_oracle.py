"""Every public capture reads as tshark reads it: stream, flags, relative seq/ack, length,
retransmission and phase on every TCP and UDP packet; rejected files rejected like tshark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handshake_viz.core.source import SourceError
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.oracle import compare, read_oracle
from tests.helpers.paths import TSHARK_DATA, run_cli

CAPTURES = sorted(p for p in TSHARK_DATA.iterdir() if p.suffix in (".pcap", ".pcapng"))
REJECTED = [p for p in CAPTURES if Path(f"{p}.tshark-error.txt").exists()]
READABLE = [p for p in CAPTURES if p not in REJECTED]

KNOWN_DIFFERENCES = {
    # tshark -2 rewrites frame 2's relative seq with a base it learns from frame 3 (a SYN-ACK
    # with a new ISN); one pass, as tshark without -2 and as any stream reader, gives 1.
    ("zeek__tcp_rst-inject-rae.pcap", 2): "seq 1!=2678510063",
}


def events_of(path: Path) -> list:
    out = []
    try:
        for ev in ReplaySource(path).events():
            out.append(ev)
    except SourceError:
        pass  # cut-short files: the complete packets came first
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_packets_agree_with_tshark(capture: Path) -> None:
    rows = read_oracle(Path(f"{capture}.oracle.tsv"))
    checked, bad = compare(rows, events_of(capture))
    bad = [
        b
        for b in bad
        if not any(
            b.startswith(f"frame {frame}:") and want in b
            for (name, frame), want in KNOWN_DIFFERENCES.items()
            if name == capture.name
        )
    ]
    assert not bad, f"{capture.name}: {len(bad)} of {checked} packets differ:\n" + "\n".join(bad)


def test_the_oracle_covers_many_packets() -> None:
    total = sum(compare(read_oracle(Path(f"{c}.oracle.tsv")), events_of(c))[0] for c in CAPTURES)
    assert total == 399  # every TCP/UDP packet tshark sees in the 45 files


@pytest.mark.parametrize("capture", REJECTED, ids=lambda p: p.name)
def test_files_tshark_rejects_give_one_line_and_exit_2(capture: Path) -> None:
    result = run_cli("replay", str(capture), "--print", "--format", "jsonl")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert capture.name in err
    # A file cut mid-record prints every complete packet first, as tshark does.
    rows = read_oracle(Path(f"{capture}.oracle.tsv"))
    packets = [json.loads(line) for line in result.stdout.decode().splitlines()]
    want = {int(r["frame.number"]) for r in rows if r["tcp.stream"] or r["udp.stream"]}
    assert {p["frame"] for p in packets if p["type"] == "packet"} == want


def test_the_official_checker_agrees(tmp_path: Path) -> None:
    """The shared oracle_check.py, run on the real command's JSONL, exits 0."""
    import subprocess
    import sys

    capture = TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap"
    result = run_cli("replay", str(capture), "--print", "--format", "jsonl")
    out = tmp_path / "events.jsonl"
    out.write_bytes(result.stdout)
    check = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "helpers" / "oracle_check.py"),
            f"{capture}.oracle.tsv",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    assert "39/39 packets agree" in check.stdout
