"""The decode worker's tuples are the decoder's packets, field for field, payload aside."""

from __future__ import annotations

import dataclasses

from handshake_viz.core.decode import FrameDecoder, Packet
from handshake_viz.core.pcapfile import CaptureFileError, read_records
from tests.helpers.paths import DATA, LAB_DATA, TSHARK_DATA


def test_decode_fields_gives_every_packets_fields_but_its_payload():
    fast = slow = 0
    captures = [*DATA.glob("*.pcap*"), *TSHARK_DATA.glob("*.pcap*"), *LAB_DATA.glob("*.pcap*")]
    for capture in sorted(captures):
        if capture.suffix not in (".pcap", ".pcapng"):
            continue
        one, other = FrameDecoder(), FrameDecoder()  # each holds its own fragments
        try:
            with open(capture, "rb") as f:
                for frame, time, linktype, data, _, _ in read_records(f, capture.name):
                    p = one.decode(frame, time, linktype, data)
                    fields = other.decode_fields(frame, time, linktype, data)
                    if isinstance(p, Packet):
                        whole = dataclasses.astuple(dataclasses.replace(p, payload=b""))
                        assert fields == whole[: len(fields)]
                        assert Packet(*fields) == dataclasses.replace(p, payload=b"")
                        fast += linktype == 1 and not p.outer
                        slow += linktype != 1
                    else:
                        assert fields == p
        except CaptureFileError:
            pass
    assert fast > 1000 and slow > 100
