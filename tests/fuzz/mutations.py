"""A seeded mutator over the project's own captures: each mutated file comes from a seed file,
a class of damage and a `random.Random` seeded with (campaign seed, index), so any one file
can be made again from those two numbers (`mutant`).

The classes are the ones hostile or broken captures show: truncation, flipped bits, random
bytes, huge length fields, bad pcapng blocks, wrong link types, deep VLAN stacks, garbage in
the IPv4/IPv6/TCP headers, and IP fragments (`frames` makes the last four, frame by frame).
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from handshake_viz.core.pcapfile import CaptureFileError, CaptureReader
from handshake_viz.core.pcapng import MAX_BLOCK
from tests.fuzz import frames as frame_damage
from tests.helpers import craft
from tests.helpers.paths import DATA, ROOT

SEED_DIRS = (DATA, DATA / "tshark", DATA / "lab", ROOT / "captures")
MAX_SEED_BYTES = 25_000
"""Seeds up to this size: the lab's bigger captures would make each file ten times slower."""

BOUNDARIES = (
    0, 1, 3, 4, 11, 12, 13, 15, 16, 27, 28, 31, 32, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
    262143, 262144, 262145, MAX_BLOCK - 4, MAX_BLOCK, MAX_BLOCK + 1, MAX_BLOCK + 4,
    0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF,
)  # fmt: skip
"""Values a length field is set to: the edges of every bound the reader knows."""


@dataclass(frozen=True)
class Seed:
    """One capture of the project's own, read once."""

    name: str
    data: bytes
    frames: tuple[tuple[int, bytes], ...]
    """(link type, bytes) of each frame the reader gets from it (empty for a bad file)."""
    pcapng: bool


@cache
def seeds() -> tuple[Seed, ...]:
    """The pcap and pcapng files of tests/data, its tshark and lab folders, and captures/ (up
    to `MAX_SEED_BYTES`), in name order."""
    out = []
    for folder in SEED_DIRS:
        for path in sorted(folder.glob("*.pcap*")):
            if path.suffix not in (".pcap", ".pcapng") or path.stat().st_size > MAX_SEED_BYTES:
                continue
            data = path.read_bytes()
            frames: list[tuple[int, bytes]] = []
            try:
                frames.extend((r[2], r[3]) for r in CaptureReader(io.BytesIO(data), path.name))
            except CaptureFileError:
                pass
            out.append(Seed(path.name, data, tuple(frames), data[:4] == b"\n\r\r\n"))
    return tuple(out)


def _flip_bits(rng: random.Random, seed: Seed) -> bytes:
    if not seed.data:
        return rng.randbytes(rng.randrange(1, 64))
    data = bytearray(seed.data)
    for _ in range(rng.choice((1, 1, 2, 4, 8, 32))):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def _truncate(rng: random.Random, seed: Seed) -> bytes:
    return seed.data[: rng.randrange(len(seed.data))] if seed.data else b""


def _random_bytes(rng: random.Random, seed: Seed) -> bytes:
    data = bytearray(seed.data)
    how = rng.randrange(4) if data else 3
    if how == 0:  # a span overwritten
        n = rng.choice((1, 2, 4, 8, 64, 512))
        at = rng.randrange(len(data))
        data[at : at + n] = rng.randbytes(n)
    elif how == 1:  # noise after the file header (or after the first block)
        keep = 24 if not seed.pcapng else struct.unpack_from("<I", seed.data, 4)[0]
        data = bytearray(seed.data[: min(keep, len(data))] + rng.randbytes(rng.randrange(4096)))
    elif how == 2:  # noise appended
        data += rng.randbytes(rng.randrange(1, 2048))
    else:  # nothing but noise
        data = bytearray(rng.randbytes(rng.randrange(1, 4096)))
    return bytes(data)


def _length_fields(seed: Seed) -> list[int]:
    """Offsets of the 32-bit length fields of a file: pcap record lengths, pcapng block
    lengths (both copies), packet lengths and option lengths (16-bit, marked negative)."""
    data = seed.data
    fields: list[int] = []
    if seed.pcapng:
        pos = 0
        while pos + 12 <= len(data):
            btype, total = struct.unpack_from("<II", data, pos)
            if total < 12 or pos + total > len(data):
                break
            fields += [pos + 4, pos + total - 4]
            if btype == 6 and total >= 32:
                fields += [pos + 20, pos + 24]
                caplen = struct.unpack_from("<I", data, pos + 20)[0]
                opt = pos + 28 + ((caplen + 3) & ~3)
                if opt + 4 <= pos + total - 4:
                    fields.append(-(opt + 2))
            pos += total
    elif len(data) >= 24:
        pos = 24
        while pos + 16 <= len(data):
            fields += [pos + 8, pos + 12]
            pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    return fields


def _huge_length(rng: random.Random, seed: Seed) -> bytes:
    data = bytearray(seed.data)
    fields = _length_fields(seed)
    if not fields:
        return _flip_bits(rng, seed)
    for at in rng.sample(fields, min(len(fields), rng.choice((1, 1, 2)))):
        if at < 0:
            struct.pack_into("<H", data, -at, rng.choice((0, 1, 3, 4, 0xFFFF, 0xFFFC)))
        else:
            struct.pack_into("<I", data, at, rng.choice(BOUNDARIES))
    return bytes(data)


def _packets(seed: Seed, rng: random.Random) -> list[tuple[int, bytes]]:
    return list(seed.frames) or [(1, craft.ETH_SYN)] * rng.randrange(1, 4)


_ODD_TYPES = (0x0BAD, 0x40000BAD, 0x80000001, 4, 5, 9, 0xA, 0x204, 0x216)
"""Block types a mutation inserts: custom, local, name resolution, statistics, systemd,
decryption secrets, Sysdig events (and a random one besides)."""


def _odd_block(rng: random.Random, e: str, interfaces: int) -> bytes:
    """One block that is wrong, odd, or merely rare."""
    syn = craft.ETH_SYN
    noise = rng.randbytes(rng.randrange(40))
    match rng.randrange(9):
        case 0:
            return craft.block(rng.choice((*_ODD_TYPES, rng.getrandbits(32))), noise, e=e)
        case 1:  # a new section, of any version and byte order
            return craft.shb(rng.choice((1, 1, 2, 0)), rng.choice((0, 1, 2, 3)), e=rng.choice("<>"))
        case 2:  # an interface of any link type, with a doubtful option
            opt = craft.option(rng.choice((9, 11, 14, 2988)), noise[:10], e=e)
            linktype = rng.choice((1, 147, 65535, rng.getrandbits(16)))
            return craft.idb(linktype, rng.choice((0, 20, 65535)), opt, e=e)
        case 3:
            return craft.epb(syn, ifid=rng.choice((0, interfaces, 0xFFFFFFFF)), e=e)
        case 4:
            opt = craft.option(rng.randrange(1, 8), noise[:10], e=e)
            return craft.epb(syn, options=opt, e=e)
        case 5:
            return craft.spb(syn, wirelen=rng.choice((None, 10, 1000)), e=e)
        case 6:  # the obsolete packet block
            return craft.block(2, struct.pack(e + "HHIIII", 0, 0, 0, 0, 60, 60) + syn, e=e)
        case 7:
            return craft.block(6, noise, trailer=rng.choice((None, 0, 13)), e=e)
        case _:
            return craft.custom_block(rng.randbytes(rng.randrange(64)))


def _bad_blocks(rng: random.Random, seed: Seed) -> bytes:
    """A pcapng of the seed's frames with blocks that are wrong, odd or merely rare."""
    frames = _packets(seed, rng)
    e = rng.choice("<<<>")
    linktypes = sorted({lt for lt, _ in frames})
    out = [craft.shb(e=e)] + [craft.idb(lt, e=e) for lt in linktypes]
    ifid = {lt: i for i, lt in enumerate(linktypes)}
    packets = [
        craft.epb(data, ifid[lt], ticks=i * 1000, e=e) for i, (lt, data) in enumerate(frames)
    ]
    for _ in range(rng.choice((1, 1, 2, 3))):
        packets.insert(rng.randrange(len(packets) + 1), _odd_block(rng, e, len(linktypes)))
    return b"".join(out + packets)


def _wrong_link_type(rng: random.Random, seed: Seed) -> bytes:
    frames = _packets(seed, rng)
    choices = (0, 1, 101, 108, 113, 228, 229, 239, 276, 12, 14, 147, 182, 65535)
    linktype = rng.choice(choices + (rng.randrange(300),))
    if rng.random() < 0.5:
        return craft.pcap([data for _, data in frames], linktype=linktype)
    return craft.pcapng([data for _, data in frames], linktype=linktype)


def _frame_damage(damage: Callable[[random.Random, int, bytes], list[bytes]]
                  ) -> Callable[[random.Random, Seed], bytes]:  # fmt: skip
    """A class that damages the frames of a seed one by one (`frames`), in pcap or pcapng."""

    def mutate(rng: random.Random, seed: Seed) -> bytes:
        frames = _packets(seed, rng)
        linktypes = {lt for lt, _ in frames}
        linktype = linktypes.pop() if len(linktypes) == 1 else 1
        frames = [(lt, d) for lt, d in frames if lt == linktype]
        out: list[bytes] = []
        for lt, data in frames:
            out += damage(rng, lt, data) if rng.random() < 0.5 else [data]
        if seed.pcapng:
            return craft.pcapng(out, linktype)
        return craft.pcap(out, linktype)

    return mutate


CLASSES: dict[str, Callable[[random.Random, Seed], bytes]] = {
    "truncation": _truncate,
    "bit flips": _flip_bits,
    "random bytes": _random_bytes,
    "huge lengths": _huge_length,
    "bad pcapng blocks": _bad_blocks,
    "wrong link types": _wrong_link_type,
    "deep VLAN stacks": _frame_damage(frame_damage.vlan_stack),
    "IP/TCP header garbage": _frame_damage(frame_damage.header_garbage),
    "IP fragments": _frame_damage(frame_damage.fragments),
}
"""Every class of damage, by name; file `index` of a campaign is of class index % len."""


def mutant(seed: int, index: int) -> tuple[str, str, bytes]:
    """File `index` of campaign `seed`: (class, seed file name, bytes)."""
    rng = random.Random(f"{seed}:{index}")
    name = list(CLASSES)[index % len(CLASSES)]
    source = rng.choice(seeds())
    return name, source.name, CLASSES[name](rng, source)


def truncations(path: Path) -> list[bytes]:
    """`path` cut at every offset (the exhaustive form of one class, for long campaigns)."""
    data = path.read_bytes()
    return [data[:n] for n in range(len(data))]
