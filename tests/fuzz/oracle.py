"""tshark as the oracle for mutated files: the frames it reads, and the documented reasons
where the reader reads other frames on purpose.

"The same frames" means: the same number of frames, each with the same captured length; a
file tshark refuses or reads with a warning is no oracle and is not compared.
"""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

from handshake_viz.core.pcapfile import SUPPORTED_LINKTYPES, CaptureFileError, CaptureReader

_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")

Frames = list[tuple[int, int]]
"""(frame number, captured length) of each frame."""


def tshark_frames(path: Path) -> tuple[bool, Frames]:
    """Whether tshark reads `path` cleanly (exit 0, nothing on stderr), and its frames."""
    r = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "frame.cap_len"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    stderr = [x for x in r.stderr.splitlines() if "Running as user" not in x and x.strip()]
    frames = [(int(a), int(b)) for a, b in (line.split("\t") for line in r.stdout.splitlines())]
    return r.returncode == 0 and not stderr, frames


def our_frames(data: bytes) -> tuple[str | None, Frames]:
    """The reader's frames of `data`, and its error if it stopped on one."""
    frames: Frames = []
    try:
        for record in CaptureReader(io.BytesIO(data), "mutant"):
            frames.append((record[0], len(record[3])))
    except CaptureFileError as e:
        return str(e), frames
    return None, frames


def _linktypes(data: bytes) -> list[int]:
    """The link type of each frame the reader reads from `data` (up to an error)."""
    out: list[int] = []
    try:
        out.extend(r[2] for r in CaptureReader(io.BytesIO(data), "mutant"))
    except CaptureFileError:
        pass
    return out


def documented_reason(
    data: bytes, error: str | None, ours: Frames | None = None, theirs: Frames | None = None
) -> str | None:
    """Why the reader's frames (`ours`) may differ from tshark's (`theirs`) for `data`, or
    None (no reason)."""
    if ours is not None and theirs is not None and error is None and len(ours) == len(theirs):
        kinds = _linktypes(data)
        if all(o == t or kinds[o[0] - 1] not in SUPPORTED_LINKTYPES
               for o, t in zip(ours, theirs, strict=True)):  # fmt: skip
            return (
                "tshark leaves the pseudo-header of some link types (MTP2, ATM, Bluetooth H4, "
                "...) out of the captured length; those link types are not decoded"
            )
    if not data:
        return "an empty file is refused with one line (tshark reads no frame, silently)"
    magic = data[:4]
    if _no_whole_header(data):
        return ("no whole pcap or pcapng header: tshark tries its other formats (MP4, MIME, "
                "...), the reader refuses it")  # fmt: skip
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4") and len(data) >= 24:
        e = "<" if magic[0] == 0xD4 else ">"
        major, minor = struct.unpack_from(e + "HH", data, 4)
        network = struct.unpack_from(e + "I", data, 20)[0]
        if error and "link type" in error and network & 0xFFFF not in SUPPORTED_LINKTYPES:
            return "a pcap of a link type the decoder cannot read is refused (tshark shows frames)"
        if (major, minor) != (2, 3) and _pcap_records_look_wrong(data, e):
            return ("tshark guesses an old pcap variant (SS990417, Nokia) when the first records "
                    "of a file look wrong; the reader keeps to the standard one")  # fmt: skip
    if magic == b"\n\r\r\n" and _has_block(data, (9, 0x204, 0x216, 0x221)):
        return "systemd and Sysdig event blocks are counted as frames, their contents unchecked"
    return None


def _no_whole_header(data: bytes) -> bool:
    """Neither a pcap file header nor a whole first pcapng section header block."""
    magic = data[:4]
    if magic in _PCAP_MAGICS:
        return len(data) < 24
    if magic == b"\n\r\r\n" and len(data) >= 12:
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        return len(data) < struct.unpack_from(e + "I", data, 4)[0]
    return True


def _pcap_records_look_wrong(data: bytes, e: str) -> bool:
    """tshark's test of a standard pcap's first three records (libpcap_try_record): any of
    them with a fraction over a million, a length over the maximum or over the snapshot
    length, a length on the wire over 128 MiB or below the captured one, or cut short."""
    snaplen = struct.unpack_from(e + "I", data, 16)[0]
    pos = 24
    for _ in range(3):
        if pos == len(data):
            return False
        if pos + 16 > len(data):
            return True
        _sec, frac, caplen, wirelen = struct.unpack_from(e + "IIII", data, pos)
        if (frac >= 1_000_000 or caplen > 262144 or caplen > snaplen or wirelen > 128 << 20
                or caplen > wirelen or pos + 16 + caplen > len(data)):  # fmt: skip
            return True
        pos += 16 + caplen
    return False


def _has_block(data: bytes, types: tuple[int, ...]) -> bool:
    """Whether a block of one of `types` appears at any 4-byte boundary (a loose look)."""
    wanted = {struct.pack("<I", t) for t in types} | {struct.pack(">I", t) for t in types}
    return any(data[i : i + 4] in wanted for i in range(0, len(data) - 3, 4))
