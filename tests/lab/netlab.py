"""Network namespaces of the lab's own, joined by veth pairs, and what runs in them.

A `Lab` makes named namespaces (``hvlab<pid>-<name>``: nothing else on the machine has them,
so other programs' traffic never shows up in a lab capture), links them with veth pairs,
starts programs inside them (``ip netns exec``), adds impairments (nftables rules, ``tbf``)
and records with tcpdump. Everything it starts is stopped, and every namespace deleted, when
it closes, also on an exception. Needs root.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository: programs the lab runs import `tests.lab` from here."""


class LabError(RuntimeError):
    """A step of the lab failed: the command and what it said."""


def can_build_labs() -> str | None:
    """Why this machine cannot build a lab, or None if it can."""
    if os.geteuid() != 0:
        return "the lab makes network namespaces: it needs root"
    for tool in ("ip", "nft", "tc", "tcpdump", "tshark"):
        if shutil.which(tool) is None:
            return f"the lab needs {tool} (scripts/bootstrap.sh installs it)"
    return None


class Lab:
    """Namespaces, links, programs and captures; `close` undoes all of it."""

    def __init__(self, tag: str = "") -> None:
        self.prefix = f"hvlab{os.getpid()}{tag}"
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    # Building ------------------------------------------------------------------------------

    def ns(self, name: str) -> str:
        """Make a namespace (loopback up) and return its full name."""
        full = f"{self.prefix}-{name}"
        _run(["ip", "netns", "add", full])
        self.namespaces.append(full)
        self.sh(full, "ip link set lo up")
        return full

    def link(self, a: str, a_if: str, b: str, b_if: str) -> None:
        """A veth pair between namespaces `a` and `b`, up, named `a_if` and `b_if` there."""
        tmp = f"v{os.getpid() % 100000}{len(self.namespaces)}{a_if}"[:14]
        _run(["ip", "link", "add", "name", tmp, "type", "veth", "peer", "name", tmp + "p"])
        _run(["ip", "link", "set", tmp, "netns", a, "name", a_if])
        _run(["ip", "link", "set", tmp + "p", "netns", b, "name", b_if])
        # One segment per frame, as a real NIC puts on the wire (veth would pass whole
        # 64 KiB segmentation-offload packets, and a capture would show those).
        self.sh(a, f"ip link set {a_if} gso_max_segs 1 up")
        self.sh(b, f"ip link set {b_if} gso_max_segs 1 up")

    def addr(self, ns: str, dev: str, *addrs: str) -> None:
        for a in addrs:
            self.sh(ns, f"ip addr add {a} dev {dev}" + (" nodad" if ":" in a else ""))

    def sysctl(self, ns: str, key: str, value: str) -> None:
        self.sh(ns, f"sysctl -q -w {key}={value}")

    def nft(self, ns: str, *rules: str) -> None:
        """nftables rules in table ``inet lab`` (made on first use, chains ``out``, ``in``
        and ``fwd`` on the output, input and forward hooks): each rule is "CHAIN RULE".

        Loss meant to look like the network's belongs in a router's ``fwd`` chain: a
        packet its own host drops on output is only delayed (TCP learns of the drop and
        sends it again), and one dropped on input was still seen by a capture there."""
        self.sh(ns, "nft add table inet lab")
        for hook in ("output", "input", "forward"):
            self.sh(ns, f"nft add chain inet lab {hook}_chain "
                        f"'{{ type filter hook {hook} priority 0; }}'")  # fmt: skip
        chains = {"out": "output_chain", "in": "input_chain", "fwd": "forward_chain"}
        for rule in rules:
            chain, _, body = rule.partition(" ")
            self.sh(ns, f"nft add rule inet lab {chains[chain]} {shlex.quote(body)}")

    def flush_nft(self, ns: str) -> None:
        self.sh(ns, "nft flush table inet lab", check=False)

    # Running -------------------------------------------------------------------------------

    def sh(self, ns: str, command: str, check: bool = True, timeout: float = 20) -> str:
        """Run a shell command in a namespace to its end; its output."""
        done = subprocess.run(
            ["ip", "netns", "exec", ns, "sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise LabError(f"{command!r} in {ns}: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def start(self, ns: str, argv: Sequence[str], **kw: object) -> subprocess.Popen[bytes]:
        """Start a program in a namespace (its own process group); stopped on `close`."""
        proc = subprocess.Popen(  # noqa: S603 - the lab's own commands
            ["ip", "netns", "exec", ns, *argv],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            start_new_session=True,
            **kw,  # type: ignore[arg-type]
        )
        self.procs.append(proc)
        return proc

    def python(self, ns: str, module: str, *args: str, **kw: object) -> subprocess.Popen[bytes]:
        """`python -m module args` in a namespace, with this interpreter."""
        return self.start(ns, [sys.executable, "-m", module, *args], **kw)

    def wait(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        """Wait for a program to end (killed, and LabError, past `timeout`)."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise LabError(f"{proc.args!r} did not end in {timeout} s") from None

    @contextmanager
    def tcpdump(self, ns: str, iface: str, path: Path, snaplen: int = 262144,
                linktype: str | None = None, expr: str = "") -> Iterator[Path]:  # fmt: skip
        """Record `iface` in `ns` to `path` while the block runs (written out when it ends)."""
        # A 32 MiB buffer and immediate mode: on a busy machine a smaller one overflows.
        argv = ["tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-B", "32768",
                "-s", str(snaplen), "-w", str(path)]  # fmt: skip
        if linktype:
            argv += ["-y", linktype]
        if expr:
            argv += [expr]
        proc = self.start(ns, argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # "listening on ..." once it captures
        if line.startswith("tcpdump: data link type"):
            line = proc.stderr.readline().decode()
        if "listening on" not in line:
            _stop(proc)
            raise LabError(f"tcpdump on {iface} in {ns}: {line.strip()}")
        try:
            yield path
        finally:
            time.sleep(0.3)  # the last packets through the kernel's buffer
            proc.send_signal(signal.SIGINT)
            try:
                _, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                _stop(proc)
                raise LabError(f"tcpdump on {iface} in {ns} did not stop") from None
        report = _tcpdump_counts(err.decode())
        if report["captured"] != report["received by filter"] or report["dropped by kernel"]:
            raise LabError(f"tcpdump on {iface} in {ns} lost packets ({report}): run it again")

    # Ending --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every program, delete every namespace (with its links and rules)."""
        for proc in reversed(self.procs):
            _stop(proc)
        self.procs.clear()
        for ns in reversed(self.namespaces):
            _run(["ip", "netns", "del", ns], check=False)
        self.namespaces.clear()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tcpdump_counts(stderr: str) -> dict[str, int]:
    """tcpdump's closing counts: captured, received by filter, dropped by kernel."""
    counts = {"captured": -1, "received by filter": -2, "dropped by kernel": 0}
    for line in stderr.splitlines():
        number, _, rest = line.partition(" packets ")
        if number.isdigit() and rest in counts:
            counts[rest] = int(number)
    return counts


def _run(argv: list[str], check: bool = True) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(argv)}: {done.stderr.strip()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a program and its process group: SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=3)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
