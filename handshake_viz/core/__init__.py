"""The engine, with no UI and no sockets: bytes of captured frames in, events out.

`pcapfile` reads pcap and pcapng records, `decode` turns a frame into a `Packet` (link layers,
IP, TCP/UDP), `tracker` follows each conversation by tshark's rules (stream numbers, relative
sequence numbers, analysis marks, phases, TCP states), `pipeline` runs the three per frame,
and `events` holds what comes out: the JSONL contract. `source` is the interface every source
of events offers; `frames` the index that reads one frame back from a capture file.
"""
