"""IP reassembly as tshark does it (its ``reassemble.c``, with the IPv4 and IPv6 dissectors'
rules on which fragments it takes).

tshark adds a fragment only when it carries data and all of it was captured; the datagram is
whole once pieces from offset 0 reach the length the first tail fragment (no "more
fragments" bit) announced. Where pieces overlap, the bytes come from the piece that starts
first, and between pieces at the same offset from the one that arrived first: tshark copies
the pieces in offset order, each only past what the ones before it covered.

Pure code: bytes in, bytes out.
"""

from __future__ import annotations

from typing import Any


class _Datagram:
    """The pieces of one datagram seen so far."""

    __slots__ = ("pieces", "length")

    def __init__(self) -> None:
        self.pieces: list[tuple[int, int, bytes]] = []
        """(offset, arrival, data): sorted, this is tshark's fragment list."""
        self.length: int | None = None
        """The datagram's length, from the first tail fragment seen."""


class Defragmenter:
    """Reassemble IP fragments: the datagram appears on the fragment that completes it."""

    def __init__(self, limit: int = 4096) -> None:
        self._pending: dict[tuple[Any, ...], _Datagram] = {}
        self._limit = limit
        self._arrivals = 0

    def add(self, key: tuple[Any, ...], offset: int, more: bool, data: bytes) -> bytes | None:
        """Add one fragment's payload; return the whole datagram once every piece is in.

        The caller passes only fragments tshark would add: with data, all of it captured.
        """
        dgram = self._pending.get(key)
        if dgram is None:
            if len(self._pending) >= self._limit:
                self._pending.pop(next(iter(self._pending)))
            dgram = self._pending[key] = _Datagram()
        self._arrivals += 1
        dgram.pieces.append((offset, self._arrivals, data))
        if not more and dgram.length is None:
            dgram.length = offset + len(data)
        length = dgram.length
        if length is None:
            return None
        pieces = sorted(dgram.pieces)
        covered = 0
        for off, _, piece in pieces:
            if off <= covered < off + len(piece):
                covered = off + len(piece)
        if covered < length:
            return None
        del self._pending[key]
        whole = bytearray(length)
        done = 0
        for off, _, piece in pieces:
            end = min(off + len(piece), length)
            if end > done:
                start = max(off, done)
                whole[start:end] = piece[start - off : end - off]
                done = end
        return bytes(whole)
