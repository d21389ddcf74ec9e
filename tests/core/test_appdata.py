"""The line of application data an arrow may carry: HTTP's first lines, nothing else."""

from __future__ import annotations

import pytest

from handshake_viz.core.appdata import LIMIT, first_line, frame_first_line
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import HTTP_GET


def test_the_http_capture_says_its_request_and_status():
    source = ReplaySource(HTTP_GET)
    list(source.events())
    lines = {}
    for frame in range(1, 15):
        got = source.raw_frame(frame)
        assert got is not None
        if (line := frame_first_line(*got)) is not None:
            lines[frame] = line
    assert lines == {4: "GET /download/CHANGES.bro-aux.txt", 6: "200 OK"}


@pytest.mark.parametrize(
    "payload,line",
    [(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /"),
     (b"HTTP/1.0 404 Not Found\r\n", "404 Not Found"), (b"HTTP/1.1 204\r\n\r\n", "204"),
     (b"hello\n", None), (b"GET / HTTP/1.1", None),
     (b"\x16\x03\x01\x02\x00", None), (b"GET /\x1b[2J HTTP/1.1\r\n", None)],
)  # fmt: skip
def test_only_a_whole_first_line_of_http_is_said(payload: bytes, line: str | None):
    assert first_line(payload) == line


def test_a_long_line_is_cut_to_one_arrow():
    said = first_line(b"GET /" + b"a" * 200 + b" HTTP/1.1\r\n")
    assert said is not None and len(said) == LIMIT and said.endswith("…") and "\n" not in said
