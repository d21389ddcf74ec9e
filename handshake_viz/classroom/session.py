"""A served lesson's folder, and the stream a follower tails to show it a moment later.

``serve`` gives each browser tab's lesson a folder of its own (`SessionFolder`): the capture
goes there, and a teacher's lesson also writes its stream there: one JSON object per line,
in the order the teacher's ladder shows them:

- ``{"type": "packet", ...}``: the JSONL contract's packet, with ``raw_options`` (hex) so a
  follower rebuilds the very event (its frame number is a frame of the capture file);
- ``{"type": "socket", ...}``: the contract's socket call;
- ``{"type": "panels", "step": ..., "words": ..., "keys": ..., "kernel": ..., "hold": ...}``:
  the lesson panel as Rich markup, and in predict mode how many rows the ladder shows (null:
  all), written when one changes;
- ``{"type": "end"}``: the lesson is over.

Line-buffered appends: a follower that polls a few times a second is well under a second
behind. The folder is removed when the lesson ends (by the lesson, and by serve after it).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from handshake_viz.core.events import Event, PacketEvent, Phase, SocketEvent, TcpState, flag_bits
from handshake_viz.sources.live.savefile import as_invoking_user

CAPTURE = "capture.pcap"
STREAM = "lesson.jsonl"
TEACHER = "teacher"
"""In serve's folder: the name of the teacher's session folder (rewritten by each teacher)."""
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class SessionFolder:
    """Where one served lesson keeps its capture and (a teacher's) stream."""

    path: Path

    @property
    def capture(self) -> Path:
        return self.path / CAPTURE

    @property
    def stream(self) -> Path:
        return self.path / STREAM

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def event_record(ev: Event) -> dict[str, Any] | None:
    """The stream's line for a packet or a socket call (None for anything else)."""
    if isinstance(ev, PacketEvent):
        d = ev.to_dict()
        d["raw_options"] = ev.raw_options.hex()
        return d
    if isinstance(ev, SocketEvent):
        return ev.to_dict()
    return None


def event_from_record(d: dict[str, Any]) -> PacketEvent | SocketEvent | None:
    """The event a stream line describes (None for other lines)."""
    if d.get("type") == "socket":
        return SocketEvent(d["time"], d["side"], d["call"], d.get("local"), d.get("remote"),
                           d.get("result"), d.get("errno"), d.get("proto", "tcp"))  # fmt: skip
    if d.get("type") != "packet":
        return None

    def state(v: str | None) -> TcpState | None:
        return None if v is None else TcpState(v)

    return PacketEvent(
        frame=d["frame"], time=d["time"], proto=d["proto"], stream=d["stream"], src=d["src"],
        sport=d["sport"], dst=d["dst"], dport=d["dport"], dir=d["dir"],
        flags=flag_bits(d["flags"]), seq=d["seq"], ack=d["ack"], len=d["len"],
        window=d["window"], raw_options=bytes.fromhex(d.get("raw_options", "")),
        phase=Phase(d["phase"]), client_state=state(d["client_state"]),
        server_state=state(d["server_state"]), analysis=tuple(d["analysis"]),
        truncated=bool(d.get("truncated", False)), window_size=d.get("window_size"),
    )  # fmt: skip


class StreamWriter:
    """Appends the teacher's lesson to its stream (thread-safe: the reading thread writes
    events, the UI writes panels).

    Args:
        path: the stream file, created new (never a link, never an existing file), as the
            sudo user when there is one, readable by followers.
    """

    def __init__(self, path: Path) -> None:
        with as_invoking_user():
            fd = os.open(path, _CREATE, 0o644)
        self._f: IO[str] = open(fd, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()
        self._panels: dict[str, str | int | None] = {}

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if not self._f.closed:
                self._f.write(line)

    def event(self, ev: Event) -> None:
        record = event_record(ev)
        if record is not None:
            self._write(record)

    def panels(self, hold: int | None = None, **markup: str) -> None:
        """The lesson panel's parts as Rich markup, and the rows the ladder shows in predict
        mode (`hold`; None: all); written only when one changed."""
        parts: dict[str, str | int | None] = {**markup, "hold": hold}
        if parts == self._panels:
            return
        self._panels = parts
        self._write({"type": "panels", **parts})

    def close(self) -> None:
        self._write({"type": "end"})
        with self._lock:
            self._f.close()


def read_stream(f: IO[str], partial: str = "") -> tuple[list[dict[str, Any]], str]:
    """The whole lines now in `f` as records, and the start of a line not yet whole."""
    data = partial + f.read()
    *lines, rest = data.split("\n")
    records = []
    for line in lines:
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash: the rest of the stream still reads
    return records, rest


def teacher_session(serve_dir: Path) -> SessionFolder | None:
    """The teacher's current session in serve's folder, once a teacher has started one."""
    try:
        name = (serve_dir / TEACHER).read_text().strip()
    except OSError:
        return None
    if not name or "/" in name or name.startswith("."):
        return None
    folder = SessionFolder(serve_dir / name)
    return folder if folder.stream.exists() else None


def name_teacher(serve_dir: Path, session: SessionFolder) -> None:
    """Make `session` the one followers follow (atomically: a reader sees old or new)."""
    tmp = serve_dir / f".{TEACHER}.{os.getpid()}"
    tmp.write_text(session.path.name)
    os.replace(tmp, serve_dir / TEACHER)


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record of a finished stream (tests, and a follower that joins late)."""
    with open(path, encoding="utf-8") as f:
        records, _ = read_stream(f)
    yield from records
