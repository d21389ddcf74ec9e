"""Files made to hurt the reader: every length field bounded as tshark bounds it, endless or
random input ended with one line, and each crafted file read (or refused) as tshark 4.0 reads
it, with tshark itself run as the oracle where it is installed."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from handshake_viz.core.pcapfile import CaptureFileError, CaptureReader
from handshake_viz.core.pcapng import MAX_BLOCK
from handshake_viz.sources.replay import ReplaySource
from tests.helpers import craft
from tests.helpers.craft import ETH_SYN, block, custom_block, epb, idb, option, shb, spb
from tests.helpers.paths import ROOT

SYN = ETH_SYN
TWO = [SYN, SYN]

CASES: dict[str, tuple[bytes, int | str | tuple[int, str]]] = {
    # frames read, or the error (after how many frames, when some come first)
    # pcap: a packet of at most 262144 captured bytes (wiretap's snapshot length)
    "pcap caplen 262144": (craft.pcap([SYN + bytes(262144 - len(SYN))]), 1),
    "pcap caplen 262145": (craft.pcap([SYN + bytes(262145 - len(SYN))]), "262145"),
    "pcap caplen 4 GiB, no data": (
        craft.pcap_header() + craft.pcap_record(b"", caplen=2**32 - 1),
        "4294967295",
    ),  # fmt: skip
    # pcap versions: below 2 refused; before 2.3 the two lengths swapped; later ones read
    "pcap version 0.0": (craft.pcap(TWO, major=0, minor=0), "major version 0"),
    "pcap version 1.0": (craft.pcap(TWO, major=1, minor=0), "major version 1"),
    "pcap version 2.2, lengths swapped": (
        craft.pcap_header(minor=2) + craft.pcap_record(SYN, caplen=100, wirelen=len(SYN)),
        1,
    ),
    "pcap version 2.3, lengths either way": (
        craft.pcap_header(minor=3)
        + craft.pcap_record(SYN, caplen=100, wirelen=len(SYN))
        + craft.pcap_record(SYN, caplen=len(SYN), wirelen=100),
        2,
    ),  # fmt: skip
    "pcap version 3.0": (craft.pcap(TWO, major=3, minor=0), 2),
    "pcap version 65535.65535": (craft.pcap(TWO, major=65535, minor=65535), 2),
    # pcapng: a block of at most 134348832 bytes, refused from its header
    "pcapng block claims 4 GiB": (shb() + idb() + struct.pack("<II", 6, 0xFFFFFFFC), "too large"),
    "pcapng block claims MAX_BLOCK + 4": (
        shb() + idb() + epb(SYN) + struct.pack("<II", 0xB0B, MAX_BLOCK + 4),
        (1, "too large"),
    ),
    "pcapng packet of 262145 bytes": (shb() + idb() + epb(bytes(262145)), "262145"),
    "pcapng packet bigger than its block": (
        shb() + idb() + epb(SYN) + block(6, struct.pack("<IIIII", 0, 0, 0, 200, 200) + SYN),
        (1, "too small"),
    ),  # fmt: skip
    "pcapng block shorter than its kind": (shb() + idb() + block(6, bytes(16)), "too small"),
    "pcapng trailer differs": (shb() + idb() + block(6, bytes(20), trailer=36), "don't match"),
    "pcapng lengths equal once rounded up": (
        shb() + idb() + struct.pack("<II", 4, 14) + bytes(4) + struct.pack("<I", 16) + epb(SYN),
        1,
    ),  # fmt: skip
    # section header versions 1.0 and 1.2 are read, no other
    "pcapng version 1.2": (shb(1, 2) + idb() + epb(SYN), 1),
    "pcapng version 1.1": (shb(1, 1) + idb() + epb(SYN), "version 1.1"),
    # options: tshark checks the length of a few
    "pcapng packet flags option of 2 bytes": (
        shb() + idb() + epb(SYN, options=option(2, b"ab")),
        "option",
    ),
    "pcapng custom option of 3 bytes": (
        shb(options=option(2988, b"abc")) + idb() + epb(SYN),
        "option",
    ),  # fmt: skip
    "pcapng option past its block": (
        shb() + idb(options=struct.pack("<HH", 2, 100)) + epb(SYN),
        "option of length 100",
    ),
    "pcapng if_tsresol of 2 bytes is ignored": (
        shb() + idb(options=option(9, b"\x09\x01")) + epb(SYN),
        1,
    ),
    # frames: custom blocks are numbered, interfaces of other link types too
    "pcapng custom block between packets": (
        shb() + idb() + epb(SYN) + custom_block(b"hello") + epb(SYN),
        3,
    ),
    "pcapng interface of link type 147": (
        shb() + idb(147) + idb(1) + epb(SYN) + epb(SYN, ifid=1) + epb(SYN),
        3,
    ),
    "pcapng simple packet without interface": (shb() + spb(SYN), "before any"),
    "pcapng simple packet longer than its snaplen": (
        shb() + idb(snaplen=20) + spb(SYN),
        "simple packet",
    ),
}


def read(data: bytes) -> tuple[int, str | None, dict[int, int]]:
    """(frames read, the error if any, frames of unsupported link types)."""
    reader = CaptureReader(io.BytesIO(data), "crafted")
    frames = 0
    try:
        for _ in reader:
            frames += 1
    except CaptureFileError as e:
        return frames, str(e), reader.unsupported
    return frames, None, reader.unsupported


@pytest.mark.parametrize("case", CASES, ids=str)
def test_crafted_files_are_read_or_refused_as_tshark_does(case: str) -> None:
    data, want = CASES[case]
    frames, error, _ = read(data)
    if isinstance(want, int):
        assert (frames, error) == (want, None)
    else:
        before, needle = want if isinstance(want, tuple) else (0, want)
        assert frames == before
        assert error is not None and needle in error and "\n" not in error


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_the_crafted_files_as_the_expectations_say(tmp_path: Path) -> None:
    """The expectations above are tshark's: a newer tshark that changed them shows here."""
    differ = []
    for name, (data, want) in CASES.items():
        path = tmp_path / "crafted.pcapng"
        path.write_bytes(data)
        r = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        frames = len(r.stdout.split())
        if isinstance(want, int):
            expected = (0, want)
        else:
            expected = (2, want[0] if isinstance(want, tuple) else 0)
        if (r.returncode, frames) != expected:
            differ.append(f"{name}: tshark exit {r.returncode}, {frames} frames")
    assert not differ, "\n".join(differ)


def test_frames_of_an_unsupported_interface_are_counted_and_keep_the_numbering() -> None:
    data, _ = CASES["pcapng interface of link type 147"]
    records = list(CaptureReader(io.BytesIO(data), "x"))
    assert [(r[0], r[2]) for r in records] == [(1, 147), (2, 1), (3, 147)]
    assert read(data)[2] == {147: 2}


def test_custom_blocks_are_frames_but_not_packets_of_an_unsupported_link_type() -> None:
    data, _ = CASES["pcapng custom block between packets"]
    assert read(data) == (3, None, {})


@pytest.mark.e2e
def test_an_unsupported_interface_is_said_once_and_the_rest_is_read(tmp_path: Path) -> None:
    capture = tmp_path / "mixed.pcapng"
    capture.write_bytes(CASES["pcapng interface of link type 147"][0])
    r = run_cli("replay", str(capture), "--print", "--format", "jsonl")
    assert r.returncode == 0
    assert r.stdout.count(b'"type": "packet"') == 1 and b'"frame": 2' in r.stdout
    assert r.stderr.decode() == (
        f'handshake-viz: "{capture}": skipped 2 of link type 147 (not supported: Ethernet, Linux '
        "cooked SLL/SLL2, raw IP, BSD loopback and NFLOG are)\n"
    )


def run_cli(*args: str, feed: bytes = b"", endless: bytes | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    """The real command with `feed` on stdin, then `endless` over and over until it exits."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
    )  # fmt: skip
    assert proc.stdin is not None

    def write() -> None:
        try:
            proc.stdin.write(feed)  # type: ignore[union-attr]
            while endless is not None and proc.poll() is None:
                proc.stdin.write(endless)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
        proc.wait(timeout=timeout)
    finally:
        proc.kill()
        proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "header",
    [
        shb() + idb() + struct.pack("<II", 6, 0xFFFFFFFC),  # a block claiming 4 GiB
        shb() + idb() + struct.pack("<II", 0xB0B, MAX_BLOCK),  # the largest block allowed
    ],
    ids=["4 GiB block", "largest block"],
)
def test_a_huge_block_then_endless_zeros_on_stdin_ends_with_one_line(header: bytes) -> None:
    r = run_cli("replay", "-", "--print", feed=header, endless=bytes(1 << 16))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "corrupt" in err and "Traceback" not in err


@pytest.mark.e2e
def test_random_bytes_after_a_header_on_stdin_end_with_one_line() -> None:
    rng = __import__("random").Random(11)
    for header in (craft.pcap_header(), shb() + idb()):
        noise = bytes(rng.getrandbits(8) for _ in range(1 << 16))
        r = run_cli("replay", "-", "--print", feed=header, endless=noise)
        assert r.returncode == 2
        assert r.stderr.decode().count("\n") == 1 and b"Traceback" not in r.stderr


def test_every_kind_of_frame_is_found_again_at_its_offset(tmp_path: Path) -> None:
    """The frame index (the packet detail re-reads a frame from the file) points at each
    frame's bytes, whichever block holds it and whichever way it was read."""
    capture = tmp_path / "kinds.pcapng"
    capture.write_bytes(
        shb() + idb() + epb(SYN)  # the tight loop
        + epb(SYN[:-1], options=option(1, b"a comment"))  # the general way
        + spb(SYN) + custom_block(b"custom data")
        + block(2, struct.pack("<HHIIII", 0, 0, 0, 0, 58, 60) + SYN[:58])  # obsolete block
    )  # fmt: skip
    source = ReplaySource(capture)
    list(source.events())
    records = list(CaptureReader(io.BytesIO(capture.read_bytes())))
    assert len(records) == 5
    for r in records:
        assert source.raw_frame(r[0]) == (r[2], r[3])
