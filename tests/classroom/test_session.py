"""The teacher's stream: every event a follower reads back is the event the teacher showed."""

from __future__ import annotations

import io
from pathlib import Path

from handshake_viz.classroom.session import (
    SessionFolder,
    StreamWriter,
    event_from_record,
    event_record,
    iter_records,
    name_teacher,
    read_stream,
    teacher_session,
)
from handshake_viz.core.events import PacketEvent, SocketEvent
from tests.helpers.fakes import read_events
from tests.helpers.paths import HTTP_GET


def test_packets_and_calls_round_trip() -> None:
    events = [e for e in read_events(HTTP_GET) if isinstance(e, PacketEvent)]
    events.append(SocketEvent(1.5, "server", "listen", "127.0.0.1:9000", None, "backlog 1"))
    for ev in events:
        record = event_record(ev)
        assert record is not None and event_from_record(record) == ev


def test_a_line_being_written_waits_for_its_end() -> None:
    f = io.StringIO('{"type": "end"}\n{"type": "pan')
    records, rest = read_stream(f)
    assert records == [{"type": "end"}] and rest == '{"type": "pan'
    f = io.StringIO('els"}\n')
    records, rest = read_stream(f, rest)
    assert records == [{"type": "panels"}] and rest == ""


def test_the_teacher_is_named_in_serves_folder(tmp_path: Path) -> None:
    assert teacher_session(tmp_path) is None
    session = SessionFolder(tmp_path / "tab-1")
    session.path.mkdir()
    writer = StreamWriter(session.stream)
    name_teacher(tmp_path, session)
    assert teacher_session(tmp_path) == session
    writer.panels(step="[bold]step 1[/bold]", words="", keys="", kernel="")
    writer.panels(step="[bold]step 1[/bold]", words="", keys="", kernel="")  # unchanged
    writer.close()
    kinds = [r["type"] for r in iter_records(session.stream)]
    assert kinds == ["panels", "end"]
    session.remove()
    assert not session.path.exists()
