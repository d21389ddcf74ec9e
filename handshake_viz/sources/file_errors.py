"""A capture file's error in the catalogs' words: the core's one line, read back.

The core says what is wrong with a file in one English line (it knows no catalogs); here the
common ones are matched and said again from `capture.*`, with their values, so that a command
says them in the user's language. The technical detail in parentheses (tshark's wording of
what is corrupt) stays as the core wrote it; a line no pattern knows stays as it is.
"""

from __future__ import annotations

import re

from handshake_viz.core.pcapfile import CaptureCutShort, CaptureFileError
from handshake_viz.core.source import SourceError
from handshake_viz.sources.catalog_errors import catalog_error

_NAME = r'^"(?P<name>.*)"'
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(_NAME + pattern), key)
    for pattern, key in (
        (r" is empty: there is no capture in it$", "capture.empty"),
        (r" is not a pcap or pcapng capture \((?P<detail>.*)\)$", "capture.not_capture"),
        (r" appears to be damaged or corrupt \((?P<detail>.*)\)$", "capture.corrupt"),
        (r": link type (?P<linktype>\d+) is not supported \(.*\)$", "capture.linktype"),
        (r" is cut short in its file header$", "capture.cut_header"),
        (r" is cut short in its pcap file header$", "capture.cut_pcap_header"),
        (r" is cut short in the middle of a packet$", "capture.cut_packet"),
        (r" is cut short in the middle of a block$", "capture.cut_block"),
        (r" is cut short in a section header$", "capture.cut_section"),
    )
)
"""The core's lines that have words of their own, and their catalog keys."""


def file_error(e: CaptureFileError, packets: int) -> SourceError:
    """The one line a bad or cut file gets (a cut one says how many packets were read before
    the cut), with its catalog key and values where the core's line is a known one."""
    line = str(e)
    for pattern, key in PATTERNS:
        m = pattern.match(line)
        if m is not None:
            values: dict[str, object] = {k: v for k, v in m.groupdict().items() if v is not None}
            if key.startswith("capture.cut_"):
                values["packets"] = packets
            return catalog_error(key, **values)
    if isinstance(e, CaptureCutShort):
        return SourceError(f"{line} (the {packets} packets before the cut were read)")
    return SourceError(line)
