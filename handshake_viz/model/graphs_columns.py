"""One connection's rows as columns of their own, and series picked out of them.

Every graph starts from the same gathering: the connection's rows below some row, and the
timeline's columns at those rows. Where the rows are contiguous (nothing else interleaved, as
in a capture of one transfer) the columns are slices, so a million rows cost milliseconds.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress
from typing import Any

from handshake_viz.model.graphs_series import Series
from handshake_viz.model.timeline import Timeline


@dataclass(slots=True)
class StreamColumns:
    """One connection's rows (up to some row) and their columns, in capture order."""

    rows: array[int]
    frame: array[int]
    time: array[float]
    dir: array[int]
    flags: array[int]
    seq: array[int]
    ack: array[int]
    length: array[int]
    window: array[int]
    analysis: array[int]

    def __len__(self) -> int:
        return len(self.rows)


_GATHERED = ("frame", "time", "dir", "flags", "seq", "ack", "length", "window", "analysis")


def stream_columns(timeline: Timeline, sid: int, upto: int | None = None) -> StreamColumns:
    """The columns of connection `sid`'s rows below `upto` (default: all published rows).

    Where the connection's rows are contiguous (nothing else interleaved), these are slices:
    a million rows cost milliseconds. Otherwise its rows are found and gathered.
    """
    info = timeline.streams[sid]
    hi = min(timeline.count if upto is None else upto, timeline.count, info.last_row + 1)
    lo = info.first_row
    if hi <= lo:
        rows = array("i")
    elif info.packets == info.last_row - lo + 1:
        cols = [getattr(timeline, name)[lo:hi] for name in _GATHERED]
        return StreamColumns(array("i", range(lo, hi)), *cols)
    else:
        rows = array("i", timeline.stream_rows([sid], lo, hi))
    gathered = []
    for name in _GATHERED:
        col = getattr(timeline, name)
        gathered.append(array(col.typecode, map(col.__getitem__, rows)))
    return StreamColumns(rows, *gathered)


def picked(cols: StreamColumns, xs: array[float], ys: array[float] | array[int],
           keep: bytes, series: Series) -> Series:  # fmt: skip
    """`series` with the points of the rows `keep` keeps: x, y (from `ys`, a value a row)
    and row each, in order.

    `compress` walks (and boxes) every value of a column, so a series of few points (the
    marks, the acknowledgements of a direction that sends little) finds its rows first.
    """
    if keep.count(1) * SPARSE < len(keep):
        where = ones(keep)
        series.xs = array("d", map(xs.__getitem__, where))
        series.ys = array("d", map(ys.__getitem__, where))
        series.rows = array("i", map(cols.rows.__getitem__, where))
    else:
        series.xs = array("d", compress(xs, keep))
        series.ys = array("d", compress(ys, keep))
        series.rows = array("i", compress(cols.rows, keep))
    return series


SPARSE = 16
"""A mask keeping fewer than one row in this many is read by position."""


def ones(keep: bytes) -> list[int]:
    """The positions of the 1s of a mask (a C-level search from one to the next)."""
    out = []
    find = keep.find
    i = find(1)
    while i >= 0:
        out.append(i)
        i = find(1, i + 1)
    return out


# -- masks: one byte per row, 1 where the row is kept ---------------------------------------
#
# A mask is built from a column in one C-level pass (`bytes(map(...))`, `bytes.translate`)
# and masks combine as big integers, so choosing the rows of a series costs a few
# milliseconds a million rows, where a comprehension per series cost a second in all.


def mask(values: Iterable[Any], pred: Callable[[Any], Any] | None = None) -> bytes:
    """1 where the value (or `pred(value)`) is true. A C-level `pred` (``(-1).__lt__``,
    ``BIT.__and__``) keeps this a C-level pass."""
    return bytes(map(bool, values if pred is None else map(pred, values)))


def flag_mask(flags: array[int], bits: int) -> bytes:
    """1 where any of `bits` (in the flags' low byte: FIN SYN RST PSH ACK URG ECE CWR) is set."""
    raw = flags.tobytes()
    low = raw[:: flags.itemsize] if sys.byteorder == "little" else raw[flags.itemsize - 1 :: 2]
    return low.translate(bytes(1 if b & bits else 0 for b in range(256)))


def dir_mask(dirs: array[int], d: int) -> bytes:
    """1 where the packet goes in direction `d` (`rows.C2S` or `rows.S2C`)."""
    raw = dirs.tobytes()
    return raw if d == 1 else raw.translate(bytes([1, 0]) + bytes(254))


def both(*masks: bytes) -> bytes:
    """1 where every mask is 1."""
    acc = int.from_bytes(masks[0], "little")
    for m in masks[1:]:
        acc &= int.from_bytes(m, "little")
    return acc.to_bytes(len(masks[0]), "little")


def without(keep: bytes, drop: bytes) -> bytes:
    """1 where `keep` is 1 and `drop` is not."""
    acc = int.from_bytes(keep, "little") & ~int.from_bytes(drop, "little")
    return acc.to_bytes(len(keep), "little")


def either(*masks: bytes) -> bytes:
    """1 where any mask is 1."""
    acc = 0
    for m in masks:
        acc |= int.from_bytes(m, "little")
    return acc.to_bytes(len(masks[0]), "little")
