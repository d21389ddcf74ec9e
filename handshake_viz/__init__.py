"""handshake-viz: a packet-level TCP handshake visualizer.

The core (``pcapfile``, ``decode``, ``tracker``, ``events``, ``output``, ``timeline``) is pure:
no UI, no sockets. ``live`` and ``demo`` feed it from the network, ``tui`` renders it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handshake-viz")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
