"""One line of what a segment carries, for the ladder's arrow: the first line of an HTTP
request (``GET /index.html``) or of its answer (``200 OK``), where the segment starts one.

Pure: bytes in, text out. Only what can be read as HTTP's first line is said, and at most
`LIMIT` characters of it; anything else (other protocols, a segment in the middle of a body,
bytes that are not text) says nothing.
"""

from __future__ import annotations

import re

from handshake_viz.core.decode import FrameDecoder
from handshake_viz.core.segments import Packet

LIMIT = 40
"""Characters at most: the line rides on an arrow."""

_REQUEST = re.compile(
    rb"(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) ([!-~]+) HTTP/\d(?:\.\d)?\r?\n"
)
_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})(?: ([ -~]*))?\r?\n")


def first_line(payload: bytes) -> str | None:
    """`GET /path` or `200 OK` where `payload` begins an HTTP request or response."""
    head = payload[:512]
    m = _REQUEST.match(head)
    if m is not None:
        text = f"{m[1].decode()} {m[2].decode()}"
    elif (m := _STATUS.match(head)) is not None:
        text = m[1].decode() + (f" {m[2].decode().strip()}" if m[2] else "")
    else:
        return None
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"


def frame_first_line(linktype: int, data: bytes) -> str | None:
    """`first_line` of the TCP payload of one captured frame (None if it has none)."""
    packet = FrameDecoder().decode(0, 0.0, linktype, data)
    if type(packet) is not Packet or packet.proto != 6 or not packet.payload:
        return None
    return first_line(packet.payload)
