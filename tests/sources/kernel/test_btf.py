"""The kernel's field offsets, read from its BTF instead of compiled from C by bpftrace."""

from __future__ import annotations

import pytest

from handshake_viz.sources.kernel.btf import VMLINUX, Btf, BtfError
from handshake_viz.sources.kernel.lines import StateLine, parse
from handshake_viz.sources.kernel.program import FIELDS, kernel_layout

needs_btf = pytest.mark.skipif(not VMLINUX.exists(), reason="the kernel has no BTF")


@needs_btf
def test_every_field_the_program_reads_is_found_with_its_width():
    layout = kernel_layout()
    assert set(layout) == set(FIELDS)
    assert layout["family"].size == 2 and layout["num"].size == 2 and layout["dport"].size == 2
    assert layout["net"].size == 8 and layout["inum"].size == 4 and layout["flags"].size == 8
    assert layout["ca_state"].bits == 5  # a bitfield, read from its byte
    assert layout["ca_state"].read("$sk").endswith("& 31)")


@needs_btf
def test_a_member_the_kernel_lacks_is_named_in_one_line():
    btf = Btf(VMLINUX.read_bytes())
    with pytest.raises(BtfError, match="struct sock has no member skc_nothing"):
        btf.field("sock", "skc_nothing")
    with pytest.raises(BtfError, match="no struct no_such_struct"):
        btf.field("no_such_struct", "x")


def test_an_ipv4_address_a_tracepoint_prints_mapped_is_read_unmapped():
    line = parse("S 5 1 0xffff 2 1 2 ::ffff:127.0.0.1 45254 ::ffff:127.0.0.1 18765 768")
    assert isinstance(line, StateLine)
    assert (line.local, line.remote) == ("127.0.0.1:45254", "127.0.0.1:18765")
    line6 = parse("S 5 1 0xffff 2 1 10 ::ffff:127.0.0.1 45254 ::1 18765 768")
    assert isinstance(line6, StateLine) and line6.remote == "[::1]:18765"
