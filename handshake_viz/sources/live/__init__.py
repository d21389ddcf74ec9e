"""Live capture: a packet socket behind a kernel BPF filter (`sniffer`), read by a process of
its own (`capture_worker`) that appends every frame to a capture file created safely
(`savefile`, `pcapwriter`) once privileges are given up (`privileges`); `source` tails that
file through the replay engine and `merge` puts the demo's socket calls in among the packets."""
