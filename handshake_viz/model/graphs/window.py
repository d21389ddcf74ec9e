"""The receive window in bytes: the header's window field scaled as tshark scales it.

The timeline keeps the window field as sent. RFC 7323's window scale option, in the SYN and
the SYN-ACK, says how far each end shifts the windows it advertises afterwards; a SYN's own
window is never scaled. tshark's rules (``verify_tcp_window_scaling``): each SYN with the
option sets its sender's shift; a SYN without it turns scaling off both ways; a SYN-ACK with
it after a SYN without it leaves scaling off. An end whose SYN was not seen has an unknown
shift: its windows are shown as sent, and the graph says so.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from operator import lshift
from typing import TYPE_CHECKING, Any

from handshake_viz.core.events import ACK, SYN
from handshake_viz.model.graphs.columns import flag_mask, ones
from handshake_viz.model.rows import C2S, MAX_KEPT_OPTIONS
from handshake_viz.model.timeline import Timeline

if TYPE_CHECKING:
    from handshake_viz.model.graphs.columns import StreamColumns
    from handshake_viz.model.graphs.frames import FrameReader

UNKNOWN = -1
"""No SYN seen from this end: the shift is not known (tshark's win_scale -1)."""
NO_SCALING = -2
"""Scaling is off for this connection (tshark's win_scale -2)."""

OptionsOf = Callable[[int], dict[str, Any] | None]
"""The TCP options of the SYN at a timeline row, None where they cannot be had."""


@dataclass(slots=True)
class WindowScale:
    """Each end's shift as the rows go by (index 0 the client's, 1 the server's)."""

    shift: list[int]
    unknown_options: bool = False
    """A SYN's options were not kept (a capture with more SYNs than the timeline keeps) and
    could not be had otherwise: its shift is a guess from the connection's summary, or
    unknown."""

    def on_syn(self, sender: int, flags: int, options: dict[str, Any] | None) -> None:
        """tshark's rules for one SYN or SYN-ACK from `sender` (see the module docstring)."""
        if options is None:
            self.unknown_options = True
            return
        ws = options.get("wscale")
        me, peer = sender, 1 - sender
        if isinstance(ws, int):
            self.shift[me] = min(ws, 14)
        if self.shift[me] == UNKNOWN:
            self.shift[me] = self.shift[peer] = NO_SCALING
        elif flags & ACK and self.shift[peer] == NO_SCALING:
            self.shift[me] = NO_SCALING


def syn_options(timeline: Timeline, extra: OptionsOf | None = None) -> OptionsOf:
    """Where a SYN's options come from: the timeline keeps them for its first
    `MAX_KEPT_OPTIONS` SYNs; past that, `extra` (a view that can re-read the frame), then the
    connection's summary (its first SYN and SYN-ACK), else None (unknown)."""
    kept = timeline.options
    full = len(kept) >= MAX_KEPT_OPTIONS
    last_kept = max(kept) if full else -1

    def options_of(row: int) -> dict[str, Any] | None:
        got = kept.get(row)
        if got is not None:
            return got
        if not full or row <= last_kept:
            return {}  # its options were kept had it had any
        if extra is not None:
            found = extra(row)
            if found is not None:
                return found
        info = timeline.streams[timeline.sid[row]]
        if info.summary is not None:
            s = info.summary
            c2s = timeline.dir[row] == C2S
            return dict(s.syn_options if c2s else s.synack_options)
        return None

    return options_of


def scaled_windows(
    cols: StreamColumns, timeline: Timeline, reader: FrameReader | None
) -> tuple[array[int], array[int], list[int], bool]:
    """Each packet's window in bytes, the shift applied to it (-1 unknown, 0 for a SYN),
    each end's shift after the last packet, and whether a SYN's options were missing.

    The shifts change only at SYNs: between two, every packet of one direction is shifted
    alike, so the windows are computed a run of packets at a time.
    """
    ws = WindowScale([UNKNOWN, UNKNOWN])
    options_of = syn_options(timeline, None if reader is None else reader.options)
    raw, dirs, flags = cols.window, cols.dir, cols.flags
    n = len(raw)
    win = array("q")
    shift_of_row = array("b")
    syns = ones(flag_mask(flags, SYN))
    start = 0
    for stop in [*syns, n]:
        if stop > start:
            a, b = (max(x, 0) for x in ws.shift)
            known = [-1 if x == UNKNOWN else max(x, 0) for x in ws.shift]
            part, dpart = raw[start:stop], dirs[start:stop]
            if a == b == 0:
                win.extend(array("q", part))  # TCP windows are never NONE (-1)
            elif a == b:
                win.extend(array("q", map(lshift, part, repeat(a))))
            else:
                by_dir = dpart.tobytes().translate(bytes([a, b]) + bytes(254))
                win.extend(array("q", map(lshift, part, by_dir)))
            codes = bytes([known[0] & 0xFF, known[1] & 0xFF]) + bytes(254)
            shift_of_row.frombytes(dpart.tobytes().translate(codes))
        if stop < n:
            ws.on_syn(dirs[stop], flags[stop], options_of(cols.rows[stop]))
            win.append(max(raw[stop], 0))
            shift_of_row.append(0)
        start = stop + 1
    return win, shift_of_row, list(ws.shift), ws.unknown_options


def window_size_at(timeline: Timeline, row: int) -> tuple[int | None, int]:
    """The window in bytes of the TCP packet at `row` (tshark's tcp.window_size), and the
    shift its sender's scale applies: 0 for a SYN and where scaling is off, -1 (and no
    size) where its sender's SYN was not seen. Walks the connection's SYNs before the row."""
    raw = timeline.window[row]
    if timeline.flags[row] & SYN:
        return raw, 0
    info = timeline.streams[timeline.sid[row]]
    ws = WindowScale([UNKNOWN, UNKNOWN])
    options_of = syn_options(timeline)
    for r in timeline.stream_rows([info.sid], info.first_row, row):
        if timeline.flags[r] & SYN:
            ws.on_syn(timeline.dir[r], timeline.flags[r], options_of(r))
    shift = ws.shift[timeline.dir[row]]
    if shift == UNKNOWN:
        return None, -1
    shift = max(shift, 0)
    return raw << shift, shift
