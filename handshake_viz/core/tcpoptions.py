"""TCP options by name, from the raw option bytes of a segment."""

from __future__ import annotations

import struct
from typing import Any

_u16 = struct.Struct("!H").unpack_from
_u32x2 = struct.Struct("!II").unpack_from


def parse_tcp_options(raw: bytes) -> dict[str, Any]:
    """TCP options by name, as far as they were captured."""
    out: dict[str, Any] = {}
    n = len(raw)
    if n == 12 and raw[0] == 1 and raw[1] == 1 and raw[2] == 8 and raw[3] == 10:
        return {"ts": list(_u32x2(raw, 4))}  # the common NOP NOP TS
    i = 0
    while i < n:
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= n:
            out["cut"] = True
            break
        size = raw[i + 1]
        if size < 2 or i + size > n:
            out["cut" if i + size > n else "bad"] = True
            break
        body = raw[i + 2 : i + size]
        if kind == 2 and size == 4:
            out["mss"] = _u16(body)[0]
        elif kind == 3 and size == 3:
            out["wscale"] = body[0]
        elif kind == 4:
            out["sack_perm"] = True
        elif kind == 5:
            out["sack"] = [
                list(struct.unpack_from("!II", body, j)) for j in range(0, len(body) - 7, 8)
            ]
        elif kind == 8 and size == 10:
            out["ts"] = list(struct.unpack_from("!II", body))
        elif kind == 34:
            out["tfo"] = body.hex() or True
        elif kind == 30:
            out["mptcp"] = body[0] >> 4 if body else 0
        elif kind == 254 and len(body) >= 2 and body[:2] == b"\xf9\x89":
            out["tfo"] = body[2:].hex() or True
        else:
            out[f"opt{kind}"] = body.hex()
        i += size
    return out


def timestamp_offset(raw: bytes) -> int | None:
    """Where the timestamp option (kind 8) starts in `raw`, walking the options properly."""
    if raw.startswith(b"\x02\x04") and raw.startswith(b"\x04\x02\x08\x0a", 4) and len(raw) >= 16:
        return 6  # Linux's SYN and SYN-ACK: MSS, SACK permitted, then the timestamps
    i, n = 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == 0:
            return None
        if kind == 1:
            i += 1
            continue
        if i + 1 >= n or raw[i + 1] < 2:
            return None
        if kind == 8 and raw[i + 1] == 10 and i + 10 <= n:
            return i
        i += raw[i + 1]
    return None


_LAYOUTS: dict[bytes, bytes] = {}
_NO_TIMESTAMPS = bytes(8)


def options_layout(raw: bytes) -> bytes:
    """The option bytes with the timestamp values zeroed, one shared copy per layout.

    A connection summary keeps its SYN's options: this way a hundred thousand connections from
    one kernel share one bytes object instead of holding two each.
    """
    i = timestamp_offset(raw)
    if i is not None:
        raw = raw[: i + 2] + _NO_TIMESTAMPS + raw[i + 10 :]
    shared = _LAYOUTS.get(raw)
    if shared is None:
        if len(_LAYOUTS) >= 4096:
            return raw
        shared = _LAYOUTS[raw] = raw
    return shared


def syn_facts(raw: bytes) -> tuple[int, bool]:
    """What tshark takes from a SYN's options: the window scale shift (-1: no option) and
    whether it carries a TCP Fast Open cookie (kind 34, or 254 with magic 0xF989, longer than
    a cookie request)."""
    if (len(raw) == 20 and raw.startswith(b"\x02\x04") and raw.startswith(b"\x04\x02\x08\x0a", 4)
            and raw.startswith(b"\x01\x03\x03", 16)):  # fmt: skip
        return raw[19], False  # Linux's SYN: MSS, SACK permitted, timestamps, NOP, scale
    shift, cookie = -1, False
    i, n = 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= n or raw[i + 1] < 2:
            break
        size = raw[i + 1]
        if kind == 3 and size == 3 and i + 2 < n:
            shift = raw[i + 2]
        elif kind == 34 and size > 2:
            cookie = True
        elif kind == 254 and size > 4 and raw[i + 2 : i + 4] == b"\xf9\x89":
            cookie = True
        i += size
    return shift, cookie
