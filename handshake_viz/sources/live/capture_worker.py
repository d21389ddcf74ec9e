"""The capture process: read the packet socket, append each frame to the capture file.

Nothing else. ``LiveSource`` opens the socket (the privileged step) and the file, then starts
this module as a child process with both descriptors
(``python -m handshake_viz.sources.live.capture_worker``). Here a frame costs one read and
one write, so even when the machine is saturated the kernel's socket buffer is drained and
nothing is dropped; the parent decodes and tracks by reading the file as it grows, lagging in
a burst but losing nothing. Each frame is in the file (in the kernel's page cache) the moment
it is read, so Ctrl-C, a crash or ``kill -9`` of either process loses nothing that was shown.

The worker stops on SIGTERM after draining what is queued, and by itself when its parent
dies: the kernel sends it SIGTERM then (`children.die_with_parent`), and each pass of its loop
also looks. It never sees the terminal's Ctrl-C: the parent starts it with SIGINT blocked, and
decides when to stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys

from handshake_viz.sources.children import die_with_parent
from handshake_viz.sources.live.pcapwriter import epb_bytes, record_bytes
from handshake_viz.sources.live.privileges import drop_privileges
from handshake_viz.sources.live.sniffer import Sniffer

_stop = False


def _on_signal(_signum: int, _frame: object) -> None:
    global _stop
    _stop = True


def run(
    sock_fd: int, file_fd: int, iface: str, limit: int | None, parent: int, pcapng: bool = False
) -> int:
    """Copy frames from the socket to the file until told to stop; return the frame count."""
    sniffer = Sniffer(iface, all_ports=True)  # the filter is already on the socket
    sniffer.sock = socket.socket(fileno=sock_fd)
    write = os.write
    frames = 0
    try:
        print("ready", flush=True)  # the parent starts the demo's traffic only now
    except BrokenPipeError:
        return frames  # the parent has gone before the capture began
    while True:
        stopping = _stop
        batch = sniffer.read_ready(limit=1024)
        for sec, nsec, data in batch:
            write(
                file_fd,
                epb_bytes(sec, nsec, data) if pcapng else record_bytes(sec, nsec // 1000, data),
            )
            frames += 1
            if limit is not None and frames >= limit:
                return frames
        if os.getppid() != parent:  # the parent died (kill -9): what it showed is saved
            return frames
        if not batch:
            if stopping:
                return frames
            sniffer.wait(0.05)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sock-fd", type=int, required=True)
    ap.add_argument("--file-fd", type=int, required=True)
    ap.add_argument("--iface", default="lo")
    ap.add_argument("--count", type=int)
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("--pcapng", action="store_true", help="write pcapng blocks, not pcap")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(-5)  # while still root: reading the socket must not wait behind the tracking
    drop_privileges()  # the socket and the file are open: no privilege is needed any more
    die_with_parent(args.parent)  # after the drop, which would clear it
    try:
        run(args.sock_fd, args.file_fd, args.iface, args.count, args.parent, args.pcapng)
    except OSError as e:
        print(f"handshake-viz: capture failed: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
