"""One call per captured frame: decode, reassemble, track. Shared by replay and live capture."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from handshake_viz.core.decode import FrameDecoder, Packet, PacketFields
from handshake_viz.core.events import ConnectionSummary, PacketEvent
from handshake_viz.core.events import TruncatedPacket as Truncated
from handshake_viz.core.tracker import ConnectionTracker


class PacketPipeline:
    """Decoder and tracker for one capture; frames must be fed in capture order."""

    def __init__(self, listening: Callable[[str, int, float], bool] | None = None) -> None:
        self.decoder = FrameDecoder()
        self.tracker = ConnectionTracker(listening)
        self.skipped = 0
        """Frames that carried neither TCP nor UDP (or were pieces of a fragmented datagram)."""
        self.truncated: list[Truncated] = []
        """Frames whose TCP/UDP header the capture cut short (kept for the report)."""

    def feed(
        self, frame: int, time: float, linktype: int, data: bytes, wirelen: int = 0
    ) -> PacketEvent | Truncated | None:
        """Decode and track one frame.

        Returns:
            The packet's event; a `Truncated` record when its transport header is cut short;
            None when it carries no TCP or UDP.
        """
        p = self.decoder.decode(frame, time, linktype, data)
        if p is None:
            self.skipped += 1
            return None
        if isinstance(p, Truncated):
            self.skipped += 1
            self.truncated.append(p)
            return p
        return self.tracker.feed(p)

    def run(
        self, records: Iterable[tuple[int, float, int, bytes, int, int]]
    ) -> Iterator[PacketEvent | Truncated]:
        """Decode and track records (as `pcapfile.read_records` yields them), in a tight loop.

        Same as calling `feed` per record, a function call less per packet: replay's hot path.
        """
        decode = self.decoder.decode
        track = self.tracker.feed
        for frame, time, linktype, data, _wirelen, _offset in records:
            p = decode(frame, time, linktype, data)
            if type(p) is Packet:
                yield track(p)
            elif isinstance(p, Truncated):
                self.skipped += 1
                self.truncated.append(p)
                yield p
            else:
                self.skipped += 1

    def run_decoded(
        self, batches: Iterable[list[PacketFields | Truncated]]
    ) -> Iterator[PacketEvent | Truncated]:
        """Track packets decoded elsewhere (`decode_worker`), as `run` does records: batches of
        `PacketFields` (``Packet(*fields)``) and `Truncated` records."""
        track = self.tracker.feed
        for batch in batches:
            for item in batch:
                if type(item) is tuple:
                    yield track(Packet(*item))
                else:
                    self.skipped += 1
                    self.truncated.append(item)  # type: ignore[arg-type]
                    yield item  # type: ignore[misc]

    def summaries(self) -> list[ConnectionSummary]:
        """The summaries so far (the capture may go on)."""
        return self.tracker.summaries()

    def finish(self) -> Iterator[ConnectionSummary]:
        """The capture has ended: yield the summaries, freeing state as they go."""
        return self.tracker.finish()
