"""Child processes that end with their parent and stay deaf to the terminal's Ctrl-C.

Every process the project starts (the capture worker, the decode and index workers) is a
helper of the process that started it: whatever ends the parent (q, Ctrl-C, a crash, SIGKILL),
the child must end too, and only the parent decides when to stop it. Two mechanisms:

- `die_with_parent`, called first thing in the child: the kernel sends it a signal when the
  parent dies (``prctl(PR_SET_PDEATHSIG)``), and a parent that died before the call is
  noticed at once. The signal comes when the *thread* that started the child ends, so start
  children from a thread that outlives them (the main thread, or the thread that also reaps
  them); the setting is cleared when the child changes its user, so call it after dropping
  privileges.
- `deaf_to_ctrl_c` around the start: Ctrl-C in a terminal reaches its whole foreground
  process group, and a Python child still importing would print a ``KeyboardInterrupt``
  traceback. SIGINT blocked in the starting thread is inherited through fork and exec, so the
  child never sees it, from its first instruction on.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """In a child: be sent `sig` when `parent` (the pid that started us) ends.

    Where prctl is missing (not Linux) nothing is set: the workers also notice a closed pipe.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os.kill(os.getpid(), sig)


@contextlib.contextmanager
def deaf_to_ctrl_c() -> Iterator[None]:
    """While in effect, processes this thread starts never receive SIGINT (it stays blocked
    in them); this thread's own mask is restored afterwards."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
