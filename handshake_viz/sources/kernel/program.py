"""The bpftrace program of the kernel's view, written for the ports and networks being watched.

Everything is filtered in the kernel: a state change, a retransmission or a reset is printed
only for a TCP socket of a watched network namespace with a watched port at either end; a
socket call only for a socket of that kind, and the frequent calls (read, write, send, recv,
close) are looked at only in processes already seen using such a socket (the `@p` map, filled
by their connect, bind, listen and accept), so other programs cost one map lookup a call and
are never seen. Tracepoints only (this kind of kernel has neither kprobes nor fentry).

Each printed line is one record, fields separated by spaces, the process name last (it may
hold spaces); `lines` reads them. Times are the kernel's CLOCK_MONOTONIC nanoseconds.

- ``R t``: attached and running; ``T t``: a tick (every line before it was printed before).
- ``S t tid sk old new family saddr sport daddr dport flags``: ``inet_sock_set_state``
  (``flags``: the socket's sk_flags, whose bit 1, SOCK_DONE, says the peer's FIN arrived).
- ``B t pid tid call fd sk family proto laddr lport raddr rport comm``: a call as it begins,
  where it may block long (connect) or lose its endpoints (close).
- ``E t began pid tid call fd sk family proto laddr lport raddr rport ret comm``: a call as
  it returns (for accept, the new socket's fd and endpoints).
- ``O t pid tid fd comm``: the socket() call that made a watched socket, when it shows.
- ``K t event sk state family saddr sport daddr dport extra``: retransmissions and resets.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from handshake_viz.sources.kernel.btf import Field, kernel_fields

TICK_MS = 10
"""Milliseconds between ticks: how often the reader learns that nothing more is on its way."""

SOCK_DONE = 0x2
"""sk_flags bit: the peer's FIN arrived (`tcp_fin` sets it)."""

_REMEMBER = "@a[tid] = args->fd; @s[tid] = $sk; @t[tid] = nsecs;"
"""What a call's entry keeps for its exit: descriptor, socket, start time."""
FIELDS = {
    "net": ("sock", "__sk_common.skc_net.net"),
    "inum": ("net", "ns.inum"),
    "family": ("sock", "__sk_common.skc_family"),
    "num": ("sock", "__sk_common.skc_num"),
    "dport": ("sock", "__sk_common.skc_dport"),
    "saddr": ("sock", "__sk_common.skc_rcv_saddr"),
    "daddr": ("sock", "__sk_common.skc_daddr"),
    "saddr6": ("sock", "__sk_common.skc_v6_rcv_saddr"),
    "daddr6": ("sock", "__sk_common.skc_v6_daddr"),
    "flags": ("sock", "__sk_common.skc_flags"),
    "protocol": ("sock", "sk_protocol"),
    "ca_state": ("inet_connection_sock", "icsk_ca_state"),
    "files": ("task_struct", "files"),
    "fdt": ("files_struct", "fdt"),
    "fd": ("fdtable", "fd"),
    "inode": ("file", "f_inode"),
    "mode": ("inode", "i_mode"),
    "private": ("file", "private_data"),
    "sk": ("socket", "sk"),
    "dev": ("sk_buff", "dev"),
    "dev_net": ("net_device", "nd_net.net"),
}
"""The kernel's fields the program reads, at offsets from the kernel's BTF (`btf`): bpftrace
compiles a program that casts to struct sock, struct net and struct task_struct three times
slower (it turns each into C for clang)."""
_layout: dict[str, Field] | None = None


def kernel_layout() -> dict[str, Field]:
    """`FIELDS` in the running kernel (read once).

    Raises:
        btf.BtfError: the kernel has no BTF, or not these members.
    """
    global _layout  # noqa: PLW0603 - one kernel per run: read its BTF once
    if _layout is None:
        _layout = kernel_fields(FIELDS)
    return _layout


def _swapped(port: int) -> int:
    """`port` in network byte order, as a number (skc_dport holds it so)."""
    return socket.htons(port)


class ProgramText:
    """The program for one set of ports, namespaces and processes.

    Args:
        ports: the watched ports (either end of a connection).
        netns: inode numbers of the watched network namespaces (`netns.namespace_id`).
        known_pids: processes using the ports already (the owners of existing listeners):
            their calls are watched from the start.
        exclude_pids: processes whose calls are not wanted (the demo, which reports its own).
        calls: False: states and the kernel's events only, no socket calls (the demo reports
            its own, and nothing else uses its ports): a third of the program, compiled in
            a third of the time.
        layout: where the kernel keeps `FIELDS` (default: the running kernel's).
    """

    def __init__(
        self,
        ports: Iterable[int],
        netns: Iterable[int],
        known_pids: Iterable[int] = (),
        exclude_pids: Iterable[int] = (),
        calls: bool = True,
        layout: dict[str, Field] | None = None,
    ) -> None:
        self.calls = calls
        self.f = layout if layout is not None else kernel_layout()
        self.ports = sorted(set(ports))
        self.netns = sorted(set(netns))
        self.known_pids = sorted(set(known_pids))
        self.exclude_pids = sorted(set(exclude_pids))
        if not self.ports or not self.netns:
            raise ValueError("the kernel's view needs ports and a network namespace to watch")

    # -- fields ------------------------------------------------------------------------------

    def _at(self, base: str, name: str) -> str:
        """Field `name` of the struct at `base` (a uint64 address)."""
        return self.f[name].read(base)

    def _fd_socket(self, fd: str) -> str:
        """Statements setting ``$sk`` to the sock of descriptor `fd` of the current task (0
        when it is no socket): the task's file table, walked in the kernel."""
        fdt = self._at(self._at("(uint64)curtask", "files"), "fdt")
        mode = self._at(self._at("$f", "inode"), "mode")
        return (
            "$sk = (uint64)0;\n"
            f"  $f = *(uint64*)({self._at(fdt, 'fd')} + 8 * {fd});\n"
            "  if ($f != 0) {\n"
            f"    if (({mode} & 0xf000) == 0xc000) {{\n"
            f"      $sk = {self._at(self._at('$f', 'private'), 'sk')};\n"
            "    }\n"
            "  }\n"
        )

    # -- conditions ---------------------------------------------------------------------------

    def _netns(self, sk: str) -> str:
        inum = self._at(self._at(sk, "net"), "inum")
        return "(" + " || ".join(f"{inum} == {n}" for n in self.netns) + ")"

    def _ports_sk(self, sk: str) -> str:
        local = self._at(sk, "num")
        remote = self._at(sk, "dport")
        terms = [f"{local} == {p}" for p in self.ports]
        terms += [f"{remote} == {_swapped(p)}" for p in self.ports]
        return "(" + " || ".join(terms) + ")"

    def _watched_sk(self, sk: str) -> str:
        """A TCP or UDP socket of a watched namespace with a watched port at either end."""
        fam = self._at(sk, "family")
        return (
            f"{sk} != 0 && ({fam} == 2 || {fam} == 10) && {self._netns(sk)} && {self._ports_sk(sk)}"
        )

    def _ports_args(self) -> str:
        """Tracepoint arguments sport/dport (host byte order) on a watched port."""
        terms = [f"args->sport == {p}" for p in self.ports]
        terms += [f"args->dport == {p}" for p in self.ports]
        return "(" + " || ".join(terms) + ")"

    def _sockaddr_port(self, ptr: str) -> str:
        """A user-space sockaddr_in/in6 (same port offset) naming a watched port."""
        port = f"uptr((struct sockaddr_in *){ptr})->sin_port"
        return "(" + " || ".join(f"{port} == {_swapped(p)}" for p in self.ports) + ")"

    def _not_excluded(self) -> str:
        return " && ".join(f"pid != {p}" for p in self.exclude_pids) or "1"

    # -- printing ------------------------------------------------------------------------------

    @staticmethod
    def _printf_split(
        head: str,
        values: list[str],
        pairs: list[tuple[str, str, str]],
        tail: str,
        tail_values: list[str],
        family: str,
    ) -> str:
        """A printf of `head`, then "addr port" per pair, then `tail`: twice, for IPv6 and
        IPv4 (bpftrace's ntop takes one type of address per call site).

        Each pair is (IPv6 address expression, IPv4 address expression, port expression).
        """

        def one(v6: bool) -> str:
            fmt = head + " %s %d" * len(pairs) + tail
            args = list(values)
            for a6, a4, port in pairs:
                args += [f"ntop({a6})" if v6 else f"ntop({a4})", port]
            args += tail_values
            return f'printf("{fmt}\\n", {", ".join(args)});'

        return f"if ({family} == 10) {{ {one(True)} }} else {{ {one(False)} }}"

    def _sk_pairs(self, sk: str) -> list[tuple[str, str, str]]:
        def v6(name: str) -> str:
            return f"((struct in6_addr *)({sk} + {self.f[name].offset}))->in6_u.u6_addr8"

        dport = self._at(sk, "dport")
        return [
            (v6("saddr6"), self._at(sk, "saddr"), self._at(sk, "num")),
            (v6("daddr6"), self._at(sk, "daddr"), f"({dport} >> 8) | (({dport} & 0xff) << 8)"),
        ]

    def _print_call(self, kind: str, call: str, fd: str, sk: str, ret: str | None) -> str:
        """A B line (`ret` None) or an E line, which also says when the call began."""
        family = self._at(sk, "family")
        tail, tail_values = (" %d %s", [ret, "comm"]) if ret is not None else (" %s", ["comm"])
        began, began_value = (" %llu", ["@t[tid]"]) if ret is not None else ("", [])
        return self._printf_split(
            f"{kind} %llu{began} %d %d {call} %d %p %d %d",
            ["nsecs", *began_value, "pid", "tid", fd, sk, family, self._at(sk, "protocol")],
            self._sk_pairs(sk),
            tail,
            tail_values,
            family,
        )

    # -- probes --------------------------------------------------------------------------------

    def text(self) -> str:
        """The whole program."""
        parts = [self._begin(), self._states(), self._kernel_events()]
        if self.calls:
            parts += [self._connect(), self._accept(), self._bind_listen(), self._socket()]
            parts += [self._io()]
        parts.append(f'interval:ms:{TICK_MS} {{ printf("T %llu\\n", nsecs); }}\n')
        if self.calls:
            # Nothing of the maps at the end: the reader would take them for records.
            maps = ("@p", "@a", "@s", "@t", "@sn", "@sf", "@st")
            parts.append("END {\n" + "".join(f"  clear({m});\n" for m in maps) + "}\n")
        return "\n".join(parts)

    def _begin(self) -> str:
        seeds = "".join(f"  @p[{p}] = 1;\n" for p in self.known_pids) if self.calls else ""
        return f'BEGIN {{\n{seeds}  printf("R %llu\\n", nsecs);\n}}\n'

    @staticmethod
    def _printf_args(head: str, values: list[str], tail: str, tail_values: list[str]) -> str:
        """A printf of `head`, the source and destination of a tracepoint with saddr_v6,
        daddr_v6, sport and dport, then `tail`: one call for both families, as the kernel
        stores an IPv4 address there too, mapped (``::ffff:a.b.c.d``; `lines` unmaps it)."""
        fmt = head + " %s %d %s %d" + tail
        args = [*values, "ntop(args->saddr_v6)", "args->sport", "ntop(args->daddr_v6)"]
        args += ["args->dport", *tail_values]
        return f'printf("{fmt}\\n", {", ".join(args)});'

    def _states(self) -> str:
        show = self._printf_args(
            "S %llu %d %p %d %d %d",
            ["nsecs", "tid", "args->skaddr", "args->oldstate", "args->newstate", "args->family"],
            " %lu",
            [self._at("$sk", "flags")],
        )
        return (
            "tracepoint:sock:inet_sock_set_state\n"
            f"/args->protocol == 6 && {self._ports_args()}/ {{\n"
            "  $sk = (uint64)args->skaddr;\n"
            f"  if ({self._netns('$sk')}) {{\n    {show}\n  }}\n"
            "}\n"
        )

    def _kernel_events(self) -> str:
        out = []
        for name, state, extra in (
            ("tcp_retransmit_skb", "args->state", self._at("$sk", "ca_state")),
            ("tcp_receive_reset", "-1", "0"),
            ("tcp_retransmit_synack", "-1", "0"),
        ):
            show = self._printf_args(
                f"K %llu {name} %p %d %d",
                ["nsecs", "args->skaddr", state, "args->family"],
                " %d",
                [extra],
            )
            out.append(
                f"tracepoint:tcp:{name}\n/{self._ports_args()}/ {{\n"
                "  $sk = (uint64)args->skaddr;\n"
                f"  if ({self._netns('$sk')}) {{\n    {show}\n  }}\n"
                "}\n"
            )
        # A reset may have no socket (a SYN to a closed port): its addresses are sockaddrs,
        # and its namespace that of the device the answered packet came in on.
        src, dst = "((struct sockaddr_in *)args->saddr)", "((struct sockaddr_in *)args->daddr)"
        src6 = "((struct sockaddr_in6 *)args->saddr)->sin6_addr.in6_u.u6_addr8"
        dst6 = "((struct sockaddr_in6 *)args->daddr)->sin6_addr.in6_u.u6_addr8"
        ports = " || ".join(
            f"{a}->sin_port == {_swapped(p)}" for p in self.ports for a in (src, dst)
        )
        netns = " || ".join(f"$ns == {n}" for n in self.netns)
        dev = self._at("(uint64)args->skbaddr", "dev")
        skb_netns = self._at(self._at(dev, "dev_net"), "inum")
        show = self._printf_split(
            "K %llu tcp_send_reset %p %d %d",
            ["nsecs", "$sk", "args->state", "$fam"],
            [
                (f"{src6}", f"{src}->sin_addr.s_addr", f"bswap({src}->sin_port)"),
                (f"{dst6}", f"{dst}->sin_addr.s_addr", f"bswap({dst}->sin_port)"),
            ],
            " %d",
            ["args->reason"],
            "$fam",
        )
        out.append(
            "tracepoint:tcp:tcp_send_reset {\n"
            f"  if ({ports}) {{\n"
            "    $sk = (uint64)args->skaddr;\n"
            "    $ns = (uint32)0;\n"
            f"    if ($sk != 0) {{ $ns = {self._at(self._at('$sk', 'net'), 'inum')}; }}\n"
            f"    else {{ $ns = {skb_netns}; }}\n"
            f"    $fam = {src}->sin_family;\n"
            f"    if ({netns}) {{\n      {show}\n    }}\n"
            "  }\n}\n"
        )
        return "\n".join(out)

    def _socket_origin(self, fd: str) -> str:
        """Print the socket() that made descriptor `fd`, if this thread's latest was it."""
        return (
            f"if (@sf[tid] == {fd} + 1) {{\n"
            '      printf("O %llu %d %d %d %s\\n", @st[tid], pid, tid, '
            f"{fd}"
            ", comm);\n"
            "      delete(@sf[tid]); delete(@st[tid]);\n"
            "    }\n"
        )

    def _connect(self) -> str:
        return (
            "tracepoint:syscalls:sys_enter_connect\n"
            f"/{self._not_excluded()} && {self._sockaddr_port('args->uservaddr')}/ {{\n"
            f"  {self._fd_socket('args->fd')}"
            f"  if ($sk != 0 && {self._netns('$sk')}) {{\n"
            "    @a[tid] = args->fd; @s[tid] = $sk; @t[tid] = nsecs;\n"
            f"    {self._print_call('B', 'connect', 'args->fd', '$sk', None)}\n"
            f"    {self._socket_origin('args->fd')}"
            "  }\n}\n"
            "tracepoint:syscalls:sys_exit_connect /@s[tid]/ {\n"
            "  $sk = @s[tid];\n"
            f"  {self._print_call('E', 'connect', '@a[tid]', '$sk', 'args->ret')}\n"
            "  @p[pid] = 1;\n"
            "  delete(@a[tid]); delete(@s[tid]); delete(@t[tid]);\n"
            "}\n"
        )

    def _accept(self) -> str:
        out = []
        for name in ("accept", "accept4"):
            out.append(
                f"tracepoint:syscalls:sys_enter_{name} /{self._not_excluded()}/ {{\n"
                f"  {self._fd_socket('args->fd')}"
                f"  if ({self._watched_sk('$sk')}) {{ {_REMEMBER} }}\n"
                "}\n"
                f"tracepoint:syscalls:sys_exit_{name} /@s[tid]/ {{\n"
                "  $sk = @s[tid];\n"
                "  if (args->ret >= 0) {\n"
                f"    {self._fd_socket('args->ret')}"
                "    @p[pid] = 1;\n"
                "  }\n"
                f"  {self._print_call('E', 'accept', 'args->ret', '$sk', 'args->ret')}\n"
                "  delete(@a[tid]); delete(@s[tid]); delete(@t[tid]);\n"
                "}\n"
            )
        return "\n".join(out)

    def _bind_listen(self) -> str:
        return (
            "tracepoint:syscalls:sys_enter_bind\n"
            f"/{self._not_excluded()} && {self._sockaddr_port('args->umyaddr')}/ {{\n"
            f"  {self._fd_socket('args->fd')}"
            f"  if ($sk != 0 && {self._netns('$sk')}) {{\n"
            "    @a[tid] = args->fd; @s[tid] = $sk; @t[tid] = nsecs;\n"
            f"    {self._socket_origin('args->fd')}"
            "  }\n}\n"
            "tracepoint:syscalls:sys_exit_bind /@s[tid]/ {\n"
            "  $sk = @s[tid];\n"
            f"  {self._print_call('E', 'bind', '@a[tid]', '$sk', 'args->ret')}\n"
            "  @p[pid] = 1;\n"
            "  delete(@a[tid]); delete(@s[tid]); delete(@t[tid]);\n"
            "}\n"
            f"tracepoint:syscalls:sys_enter_listen /{self._not_excluded()}/ {{\n"
            f"  {self._fd_socket('args->fd')}"
            f"  if ({self._watched_sk('$sk')}) {{ {_REMEMBER} }}\n"
            "}\n"
            "tracepoint:syscalls:sys_exit_listen /@s[tid]/ {\n"
            "  $sk = @s[tid];\n"
            f"  {self._print_call('E', 'listen', '@a[tid]', '$sk', 'args->ret')}\n"
            "  @p[pid] = 1;\n"
            "  delete(@a[tid]); delete(@s[tid]); delete(@t[tid]);\n"
            "}\n"
        )

    def _socket(self) -> str:
        """socket() cannot know its port: each thread's latest one is remembered (its fd + 1,
        so that 0 means none) and printed when that descriptor's connect or bind names a
        watched port (`_socket_origin`)."""
        return (
            "tracepoint:syscalls:sys_enter_socket\n"
            f"/{self._not_excluded()} && (args->family == 2 || args->family == 10)/ {{\n"
            "  @sn[tid] = nsecs;\n"
            "}\n"
            "tracepoint:syscalls:sys_exit_socket /@sn[tid]/ {\n"
            "  if (args->ret >= 0) { @sf[tid] = args->ret + 1; @st[tid] = @sn[tid]; }\n"
            "  delete(@sn[tid]);\n"
            "}\n"
            # a socket that was not watched is forgotten once it connects or binds elsewhere
            "tracepoint:syscalls:sys_exit_connect, tracepoint:syscalls:sys_exit_bind\n"
            "/@sf[tid]/ {\n"
            "  delete(@sf[tid]); delete(@st[tid]);\n"
            "}\n"
        )

    def _io(self) -> str:
        """Calls on a socket already known, printed as they return (with their start time:
        the timeline holds everything for the tracer's ticks, so a quick send still stands
        before its packet); close() is announced as it begins too, as its endpoints are gone
        by its return."""
        out = []
        for name, kind in (
            ("sendto", "E"),
            ("sendmsg", "E"),
            ("write", "E"),
            ("shutdown", "E"),
            ("close", "B"),
            ("recvfrom", "E"),
            ("recvmsg", "E"),
            ("read", "E"),
        ):
            fd = "args->fd"
            announce = self._print_call("B", name, fd, "$sk", None) if kind == "B" else ""
            out.append(
                f"tracepoint:syscalls:sys_enter_{name} /@p[pid] && {self._not_excluded()}/ {{\n"
                f"  {self._fd_socket(fd)}"
                f"  if ({self._watched_sk('$sk')}) {{\n"
                f"    @a[tid] = {fd}; @s[tid] = $sk; @t[tid] = nsecs;\n"
                f"    {announce}\n"
                "  }\n}\n"
                f"tracepoint:syscalls:sys_exit_{name} /@s[tid]/ {{\n"
                "  $sk = @s[tid];\n"
                f"  {self._print_call('E', name, '@a[tid]', '$sk', 'args->ret')}\n"
                "  delete(@a[tid]); delete(@s[tid]); delete(@t[tid]);\n"
                "}\n"
            )
        return "\n".join(out)
