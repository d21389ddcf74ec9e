"""handshake-viz: a packet-level TCP handshake visualizer.

The core (``pcapfile``, ``decode``, ``tracker``, ``events``, ``output``, ``timeline``) is pure:
no UI, no sockets. ``live`` and ``demo`` feed it from the network, ``tui`` renders it.
"""


def __getattr__(name: str) -> str:
    """``__version__``, looked up when asked: importlib.metadata costs ~0.1 s at every start
    (the CLI's, and each worker process's)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handshake-viz")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0"
