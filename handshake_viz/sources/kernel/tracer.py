"""`KernelTracer`: bpftrace running the kernel's view, its lines turned into the timeline's events.

bpftrace (from the distribution, like tcpdump and tshark) compiles `program.ProgramText` and
prints records; a process of ours (`reader`) reads them into events, and a thread here hands
those to the timeline. The program is filtered in the kernel, so other programs are neither
seen nor slowed beyond a map lookup per call.

The tracer never outlives us: it is started by the reading thread with a parent-death signal
(SIGKILL, when that thread or the whole process ends, however it ends) in a process group of
its own (a Ctrl-C in the terminal is ours to handle), and it stops by itself once its reader
has ended: its next tick then fails to write. The reader ends when we close our end of its
pipe, or with that same thread. That matters because bpftrace runs as root while we may have
given root up, and can no longer signal it.
"""

from __future__ import annotations

import ctypes
import json
import marshal
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from handshake_viz.core.events import StateEvent, TcpState
from handshake_viz.sources.children import deaf_to_ctrl_c
from handshake_viz.sources.kernel.btf import BtfError
from handshake_viz.sources.kernel.program import ProgramText, kernel_layout
from handshake_viz.sources.kernel.reader import Replayer
from handshake_viz.sources.kernel.seed import owners, seed_states, watched_sockets
from handshake_viz.sources.kernel.view import SideSink

TRACEFS = Path("/sys/kernel/tracing")
READY_TIMEOUT = 30.0
"""Seconds bpftrace may take to compile and attach (0.6 to 1.8 CPU seconds: up to 5 s on a
busy 2-core machine)."""
DROPPING_PAUSE = 0.1
"""Seconds between two batches read while the timeline is too far behind for the kernel's
events."""
_PR_SET_PDEATHSIG = 1


def find_bpftrace() -> str | None:
    """The bpftrace binary (sudo's PATH may lack /usr/sbin)."""
    found = shutil.which("bpftrace")
    if found:
        return found
    for place in ("/usr/bin/bpftrace", "/usr/sbin/bpftrace", "/usr/local/bin/bpftrace"):
        if os.access(place, os.X_OK):
            return place
    return None


def unavailable_reason() -> str | None:
    """Why the kernel's view cannot run here (one clause, with the fix), or None if it can.

    Mounts tracefs where it is missing (root only), as ``bpftrace`` itself would need.
    """
    if os.geteuid() != 0:
        return "it needs root (run with sudo)"
    if find_bpftrace() is None:
        return "bpftrace is not installed (apt install bpftrace)"
    events = TRACEFS / "events"
    if not events.is_dir():
        result = subprocess.run(  # noqa: PLW1510 - the outcome is checked below
            ["mount", "-t", "tracefs", "nodev", str(TRACEFS)], capture_output=True, text=True
        )
        if not events.is_dir():
            why = (result.stderr or "").strip().splitlines()[-1:] or ["not permitted"]
            return f"tracefs is not mounted and mounting it failed ({why[0]})"
    if not (events / "sock" / "inet_sock_set_state").is_dir():
        return "this kernel has no sock:inet_sock_set_state tracepoint"
    try:
        kernel_layout()
    except BtfError as exc:
        return f"{exc} (the kernel needs CONFIG_DEBUG_INFO_BTF)"
    return None


def _child_setup() -> None:
    """In the tracer, before bpftrace runs: die with the thread that started it; keep out of
    the terminal's process group."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgid(0, 0)


class KernelTracer:
    """The kernel's view of some ports in some network namespaces, fed to a `SideSink`.

    Args:
        ports: the watched ports.
        netns: inode numbers of the namespaces to watch (default: this process's).
        sink: where events go (the timeline merger).
        exclude_pids: processes whose socket calls are not wanted (the demo reports its own).
        on_state: told every state change as it is read (the tracker's listener table).
        default_owner: (pid, name) of sockets whose calls are not traced (the demo's).
        journal_fd: the capture file (pcapng, appending), where the reader writes the
            events it makes (the sink is told they are saved).
        calls: False: states and the kernel's events only (the demo reports its own calls,
            and it alone uses its ports): compiled in a third of the time; and its reader
            never sheds records (a demo makes a few dozen, and every one counts).
    """

    def __init__(
        self,
        ports: Iterable[int],
        sink: SideSink,
        netns: Iterable[int] | None = None,
        exclude_pids: Iterable[int] = (),
        on_state: Callable[[StateEvent], None] | None = None,
        default_owner: tuple[int, str] | None = None,
        calls: bool = True,
        journal_fd: int | None = None,
    ) -> None:
        self.calls = calls
        self.journal_fd = journal_fd
        """The capture file (appending): the reader writes the events there itself."""
        self.ports = sorted(set(ports))
        self.netns = sorted(set(netns)) if netns else [os.stat("/proc/self/ns/net").st_ino]
        self.sink = sink
        self.exclude_pids = tuple(exclude_pids)
        self.on_state = on_state
        self.default_owner = default_owner
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_seconds = 0.0
        """CPU time bpftrace used (user + system), known once it has ended."""
        self.lost = 0
        """Records bpftrace said it lost (its buffers overflowed)."""
        self.shed = 0
        """Records left unread because the reader had fallen behind (`reader`)."""
        self.failure: str | None = None
        """Why the tracer stopped early or never started, if it did."""
        self.started_at = 0.0
        self.reader: subprocess.Popen[bytes] | None = None
        """The process reading bpftrace's lines (`reader`)."""
        self.replayer = Replayer(sink, on_state, saved=journal_fd is not None, may_drop=calls)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._spawned = threading.Event()
        self._stderr: list[str] = []
        self._thread: threading.Thread | None = None

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start bpftrace and its reader (from the reading thread) and return once they are
        spawned: call it while still root. Whether it attached is `wait_ready`'s answer."""
        sockets = watched_sockets(self.ports)
        holders = owners(s.inode for s in sockets)
        self.started_at = time.time()
        seeds = []
        for s in sockets:
            if s.state is TcpState.LISTEN and s.inode in holders:
                seeds.append((int(s.local.rsplit(":", 1)[1]), *holders[s.inode]))
        found = seed_states(((s.local, s.remote, s.state) for s in sockets), self.started_at,
                            self.ports)  # fmt: skip
        for s, event in zip(sockets, found, strict=True):
            if s.inode in holders:
                event.pid, event.comm = holders[s.inode]
            if self.on_state is not None:
                self.on_state(event)
            self.sink.add_side(event)
        program = ProgramText(
            self.ports,
            self.netns,
            {pid for pid, _ in holders.values()},
            self.exclude_pids,
            calls=self.calls,
        ).text()
        config = {"ports": self.ports, "default_owner": self.default_owner, "owners": seeds,
                  "shed": self.calls}  # fmt: skip
        self._thread = threading.Thread(target=self._run, args=(program, json.dumps(config)),
                                        name="kernel-view", daemon=True)  # fmt: skip
        self._thread.start()
        self._spawned.wait(10.0)

    def save_into(self, fd: int) -> None:
        """Have the reader write its events into the capture file `fd` (pcapng, appending;
        before `start`): the sink is told they are saved."""
        self.journal_fd = fd
        self.replayer.saved = True

    def _spawn(self, program: str, config: str) -> tuple[subprocess.Popen[bytes], int]:
        """bpftrace, its output read by a reader process; the pipe from that reader."""
        binary = find_bpftrace()
        assert binary is not None
        env = dict(os.environ)
        env.setdefault("BPFTRACE_PERF_RB_PAGES", "256")  # 1 MiB a CPU: bursts of calls
        proc = subprocess.Popen(
            [binary, "--no-warnings", "-B", "line", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_child_setup,  # noqa: PLW1509 - prctl and setpgid need it
            env=env,
        )
        self.process = proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=self._drain_stderr, args=(proc.stderr,), daemon=True).start()
        proc.stdin.write(program.encode())
        proc.stdin.close()
        package_root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        module = "handshake_viz.sources.kernel.reader"
        cmd = [sys.executable, "-m", module, "--parent", str(os.getpid()), "--config", config]
        journal = () if self.journal_fd is None else (self.journal_fd,)
        if journal:
            cmd += ["--journal-fd", str(self.journal_fd)]
        with deaf_to_ctrl_c():
            reader = subprocess.Popen(
                cmd,
                pass_fds=journal,
                stdin=proc.stdout,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        proc.stdout.close()  # the reader's now: bpftrace ends once the reader does
        self.reader = reader
        assert reader.stdout is not None and reader.stderr is not None
        threading.Thread(target=self._drain_stderr, args=(reader.stderr,), daemon=True).start()
        return proc, reader.stdout.fileno()

    def _run(self, program: str, config: str) -> None:
        try:
            proc, fd = self._spawn(program, config)
        except OSError as exc:
            self.failure = f"the kernel's view did not start ({exc.strerror or exc})"
            self._spawned.set()
            return
        self._spawned.set()
        try:
            self._read(fd)
        except OSError:
            pass  # the reader ended
        finally:
            if self.reader is not None and self.reader.stdout is not None:
                self.reader.stdout.close()  # a reader still running fails its next write
            self.replayer.abandon()
            self._reap()
            if not self._ready.is_set() and self.failure is None:
                self.failure = self._error_text()
            self._ready.set()
            self.sink.tracer_gone()
        # Returning ends this thread, and with it (the parent-death signal) the tracer.

    def _read(self, fd: int) -> None:
        """Replay the reader's batches until it ends or `stop` is asked."""
        replayer = self.replayer
        buf = b""
        while not self._stopping.is_set():
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                size = int.from_bytes(buf[:4], "little")
                if len(buf) < 4 + size:
                    break
                replayer.apply(marshal.loads(buf[4 : 4 + size]))
                buf = buf[4 + size :]
            self.shed = replayer.shed + replayer.dropped
            if replayer.dropping:
                # Take a pause: the reader, its pipe full, falls behind and sheds lines
                # unparsed, which costs the machine far less than events made and dropped.
                self._stopping.wait(DROPPING_PAUSE)
            if replayer.ready and not self._ready.is_set():
                self._ready.set()

    def _drain_stderr(self, stream: object) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            text = raw.decode("utf-8", "replace").strip()
            if "RLIMIT_MEMLOCK" in text or not text:
                continue  # harmless on kernels that account BPF memory by cgroup
            if text.startswith("Lost ") and "events" in text:
                digits = "".join(c for c in text.split()[1] if c.isdigit())
                self.lost += int(digits or 0)
                continue
            self._stderr.append(text)
            del self._stderr[:-20]

    def _error_text(self) -> str:
        errors = [t for t in self._stderr if "ERROR" in t or "rror" in t] or self._stderr
        detail = errors[-1] if errors else "it ended without a word"
        return f"bpftrace failed: {detail[:200]}"

    def _reap(self, timeout: float = 1.0) -> None:
        """Wait up to `timeout` for bpftrace to end and note its CPU time; past that, the
        parent-death signal ends it (detaching its probes can take the kernel seconds on a
        busy machine: nothing here waits for that)."""
        reader = self.reader
        if reader is not None and reader.returncode is None:
            try:
                reader.wait(min(timeout, 1.0))
            except subprocess.TimeoutExpired:
                pass  # it ends with the reading thread (the parent-death signal)
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                self.cpu_seconds = usage.ru_utime + usage.ru_stime
                return
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def wait_ready(
        self, timeout: float = READY_TIMEOUT, stop: threading.Event | None = None
    ) -> str | None:
        """Block until the program is attached (or `stop` is set); None then, else why not."""
        if self._thread is None:
            return self.failure or "the kernel's view was not started"
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if stop is not None and stop.is_set():
                return None
            if time.monotonic() > deadline:
                self.stop()
                return f"bpftrace did not attach within {timeout:.0f} s"
        return None if self.replayer.ready else self.failure

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def stop(self, timeout: float = 5.0) -> None:
        """End the tracer: signalled where we still may (root); else the reading thread
        closes its pipe (its next tick then fails) and, ending, sends it the parent-death
        signal. Then its CPU time is known."""
        self._stopping.set()
        proc = self.process
        if proc is not None and proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (PermissionError, ProcessLookupError):
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def reap(self, timeout: float = 30.0) -> float:
        """After `stop`: wait for bpftrace to be gone; its CPU seconds (for the bench)."""
        self._reap(timeout)
        return self.cpu_seconds
