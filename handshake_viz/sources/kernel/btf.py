"""Where the kernel keeps the fields the tracer reads: member offsets from the kernel's BTF.

bpftrace turns every ``(struct sock *)`` cast into C type definitions that clang compiles
(struct sock, struct net, struct task_struct and all they reach): most of its second or
more of compiling. The program reads a dozen fields, so it reads them at offsets found here,
in the kernel's own type information (``/sys/kernel/btf/vmlinux``, the same BTF bpftrace
would use), and casts nothing.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

VMLINUX = Path("/sys/kernel/btf/vmlinux")

_STRUCT, _UNION = 4, 5
# Bytes after the 12-byte header of each kind, and per `vlen` item.
_EXTRA = {1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 13: (0, 8), 14: (4, 0),
          15: (0, 12), 17: (4, 0), 19: (0, 12)}  # fmt: skip


class Field(NamedTuple):
    """A member's place: bytes from the start of its outermost struct; a bitfield's bits."""

    offset: int
    size: int
    """Bytes (a bitfield: of the unit to read it from)."""
    bit_shift: int = 0
    bits: int = 0
    """0: not a bitfield."""

    def read(self, base: str) -> str:
        """A bpftrace expression reading this field of the struct at address `base`."""
        value = f"*(uint{8 * self.size}*)({base} + {self.offset})"
        if self.bits:
            return f"(({value} >> {self.bit_shift}) & {(1 << self.bits) - 1})"
        return value


class BtfError(Exception):
    """The kernel's BTF lacks a type or member the tracer needs."""


class Btf:
    """The struct and union members of one BTF blob, by type name."""

    def __init__(self, data: bytes) -> None:
        magic, _version, _flags, hdr_len = struct.unpack_from("<HBBI", data)
        if magic != 0xEB9F:
            raise BtfError("not BTF")
        type_off, type_len, str_off, _str_len = struct.unpack_from("<IIII", data, 8)
        self._strings = data[hdr_len + str_off :]
        self._data = data
        self._kinds: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]
        """Per type id: kind, name offset, vlen and kind_flag, where its items start."""
        self._named: dict[str, int] = {}
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len
        unpack = struct.unpack_from
        while pos < end:
            name_off, info, _size = unpack("<III", data, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            fixed, per = _EXTRA.get(kind, (0, 0))
            self._kinds.append((kind, vlen | (info >> 31) << 16, pos + 12, _size))
            if kind in (_STRUCT, _UNION) and name_off:
                self._named.setdefault(self._name(name_off), len(self._kinds) - 1)
            pos += 12 + fixed + per * vlen

    def _name(self, off: int) -> str:
        return self._strings[off : self._strings.index(b"\0", off)].decode()

    def _members(self, tid: int) -> list[tuple[str, int, int, int]]:
        """(name, type id, bit offset, bitfield size) of a struct or union's members."""
        kind, vlen_flag, items, _ = self._kinds[tid]
        vlen, kflag = vlen_flag & 0xFFFF, vlen_flag >> 16
        out = []
        for i in range(vlen):
            name_off, mtype, off = struct.unpack_from("<III", self._data, items + 12 * i)
            bits = off >> 24 if kflag else 0
            out.append((self._name(name_off) if name_off else "", mtype, off & 0xFFFFFF
                        if kflag else off, bits))  # fmt: skip
        return out

    def _resolved(self, tid: int) -> int:
        """Through typedefs and qualifiers (8 typedef, 9 volatile, 10 const, 11 restrict,
        18 type tag) to the type itself."""
        while self._kinds[tid][0] in (8, 9, 10, 11, 18):
            tid = self._kinds[tid][3]
        return tid

    def _find(self, tid: int, name: str) -> tuple[int, int, int] | None:
        """(bit offset, type id, bitfield size) of member `name`, looked for in anonymous
        structs and unions too."""
        for mname, mtype, bitoff, bits in self._members(tid):
            if mname == name:
                return bitoff, mtype, bits
            inner = self._resolved(mtype)
            if not mname and self._kinds[inner][0] in (_STRUCT, _UNION):
                found = self._find(inner, name)
                if found is not None:
                    return bitoff + found[0], found[1], found[2]
        return None

    def _size(self, tid: int) -> int:
        """Bytes of an integer, enum or pointer type (1 int, 6 enum, 2 pointer); 0 for others
        (structs, arrays: their offset is what is wanted)."""
        tid = self._resolved(tid)
        kind, _, _, size = self._kinds[tid]
        if kind == 2:
            return 8
        if kind in (1, 6, 19):
            return size
        return 0

    def field(self, struct_name: str, path: str) -> Field:
        """Where ``struct_name.path`` is (a dotted path through nested structs)."""
        tid = self._named.get(struct_name)
        if tid is None:
            raise BtfError(f"the kernel has no struct {struct_name}")
        bitoff, bits = 0, 0
        for part in path.split("."):
            found = self._find(self._resolved(tid), part)
            if found is None:
                raise BtfError(f"struct {struct_name} has no member {path}")
            bitoff += found[0]
            tid, bits = found[1], found[2]
        if bits:
            return (
                Field(bitoff // 8, 1, bitoff % 8, bits)
                if bits + bitoff % 8 <= 8
                else Field(bitoff // 32 * 4, 4, bitoff % 32, bits)
            )
        return Field(bitoff // 8, self._size(tid))


def kernel_fields(wanted: dict[str, tuple[str, str]], path: Path = VMLINUX) -> dict[str, Field]:
    """The fields `wanted` (by our name: (struct, member path)) in the running kernel.

    Raises:
        BtfError: the kernel has no BTF, or not these members.
    """
    try:
        btf = Btf(path.read_bytes())
    except OSError as exc:
        raise BtfError(f"the kernel's BTF is unreadable ({exc.strerror})") from exc
    return {key: btf.field(s, member) for key, (s, member) in wanted.items()}
