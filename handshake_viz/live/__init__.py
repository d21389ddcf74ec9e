"""Live capture: an AF_PACKET sniffer with a kernel BPF filter, a pcap writer flushed per
packet, privilege handling, and `LiveSource`, the event source behind ``live`` and ``demo``.

Why not Scapy's ``sniff``: on ``lo`` every packet is seen twice (the outgoing and the incoming
copy) and a 64 KiB socket buffer overflows at a couple of thousand connections a second. A raw
``AF_PACKET`` socket with ``inbound and ...`` compiled into the kernel, a 4 MiB buffer and
struct-level work per packet keeps every packet, once, at a fraction of the CPU.
"""
