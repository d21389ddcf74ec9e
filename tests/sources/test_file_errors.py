"""A bad capture file's one line, in the user's language: the core's English line read back
into the catalogs' words, its technical detail kept as tshark would say it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handshake_viz.core.pcapfile import CaptureCutShort, CaptureFileError
from handshake_viz.sources.file_errors import file_error
from handshake_viz.words.catalog import load
from tests.helpers.paths import HTTP_GET


def test_known_lines_get_their_key_and_values_and_say_the_same_in_english() -> None:
    cut = file_error(CaptureCutShort('"x.pcap" is cut short in the middle of a packet'), 5)
    assert cut.key == "capture.cut_packet" and cut.values == {"name": "x.pcap", "packets": 5}
    assert str(cut) == (
        '"x.pcap" is cut short in the middle of a packet (the 5 packets before the cut were read)'
    )
    bad = file_error(CaptureFileError('"-" appears to be damaged or corrupt (pcapng: x)'), 0)
    assert bad.key == "capture.corrupt" and bad.values["detail"] == "pcapng: x"
    assert load("zh").text(bad.key, **bad.values) == "“-”似乎已损坏（pcapng: x）"


def test_an_unknown_line_stays_as_it_is() -> None:
    odd = file_error(CaptureFileError('"x": pcap major version 1 is not supported'), 0)
    assert odd.key is None and str(odd) == '"x": pcap major version 1 is not supported'


@pytest.mark.parametrize(
    "data,says",
    [(b"", "是空的"), (b"abcdefgh", "不是 pcap 或 pcapng 抓包文件"),
     (HTTP_GET.read_bytes()[:700], "在一个包的中间被截断（截断前的 5 个包已读出）")],
)  # fmt: skip
def test_the_command_says_it_in_chinese(tmp_path: Path, data: bytes, says: str) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "handshake_viz", "--lang", "zh", "replay", str(path), "--print"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_every_known_line_reads_in_english_as_the_core_wrote_it() -> None:
    """English output is the core's line, byte for byte (a cut one with its count)."""
    cuts = ("in its file header", "in its pcap file header", "in the middle of a block",
            "in a section header")  # fmt: skip
    for line in (f'"x" is cut short {where}' for where in cuts):
        said = file_error(CaptureCutShort(line), 3)
        assert (
            said.key is not None and str(said) == f"{line} (the 3 packets before the cut were read)"
        )
    for line in ('"x" is empty: there is no capture in it',
                 '"x" is not a pcap or pcapng capture (unknown magic number 0x64636261)',
                 '"x": link type 147 is not supported (Ethernet, Linux cooked SLL/SLL2, raw IP, '
                 "BSD loopback and NFLOG are)"):  # fmt: skip
        said = file_error(CaptureFileError(line), 0)
        assert said.key is not None and str(said) == line
