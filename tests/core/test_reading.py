"""Reading captures: formats, byte orders, link types, stdin streaming, bad input."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from handshake_viz.core.events import PacketEvent
from handshake_viz.core.pcapfile import CaptureFileError, Record, read_records
from handshake_viz.render.output import event_jsonl
from handshake_viz.sources.replay import ReplaySource
from tests.helpers.paths import ROOT, TSHARK_DATA, run_cli

HTTP_GET = TSHARK_DATA / "zeek__http_get.pcap"


def packets(path: Path) -> list[PacketEvent]:
    return [e for e in ReplaySource(path).events() if isinstance(e, PacketEvent)]


def rewrite_pcap(
    src: Path,
    dst: Path,
    endian: str,
    nanos: bool,
    linktype: int | None = None,
    frame_map=lambda d: d,
) -> None:
    """Write `src` again in another byte order / time resolution / link type."""
    with open(src, "rb") as f:
        records = [Record._make(r) for r in read_records(f)]
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    with open(dst, "wb") as out:
        out.write(
            struct.pack(
                endian + "IHHiIII",
                magic,
                2,
                4,
                0,
                0,
                262144,
                linktype if linktype is not None else records[0].linktype,
            )
        )
        for r in records:
            sec = int(r.time)
            frac = round((r.time - sec) * (1e9 if nanos else 1e6))
            data = frame_map(r.data)
            out.write(struct.pack(endian + "IIII", sec, frac, len(data), r.wirelen))
            out.write(data)


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_byte_orders_and_resolutions_read_the_same(tmp_path, endian, nanos):
    copy = tmp_path / "copy.pcap"
    rewrite_pcap(HTTP_GET, copy, endian, nanos)
    want = [e.to_dict() for e in packets(HTTP_GET)]
    got = [e.to_dict() for e in packets(copy)]
    assert len(got) == 14
    for w, g in zip(want, got, strict=True):
        assert g["time"] == pytest.approx(w["time"], abs=1e-6)
        w.pop("time"), g.pop("time")
        assert g == w


def test_nanosecond_timestamps_keep_their_precision():
    evs = packets(TSHARK_DATA / "tcpdump__tcp-handshake-nano.pcap")
    assert len(evs) == 3
    assert all(e.time > 1e9 for e in evs)


def test_bsd_loop_link_type_108_reads_like_null(tmp_path):
    """LOOP (108) has the address family in network byte order; NULL (0) in host order."""
    src = TSHARK_DATA / "zeek__irc-353.pcap"
    loop = tmp_path / "loop.pcap"
    rewrite_pcap(
        src,
        loop,
        "<",
        False,
        linktype=108,
        frame_map=lambda d: struct.pack(">I", struct.unpack("<I", d[:4])[0]) + d[4:],
    )
    assert [e.to_dict() for e in packets(loop)] == [e.to_dict() for e in packets(src)]


def test_ipv6_on_bsd_loopback_is_read():
    evs = packets(TSHARK_DATA / "zeek__irc-353.pcap")
    assert evs[0].src == "::1" and evs[0].flags == 0x002
    assert evs[1].phase == "reset"


def test_pcapng_with_126_interfaces_of_mixed_link_types():
    evs = packets(TSHARK_DATA / "zeek__ldap_modify-request.pcapng")
    assert len(evs) == 17 and ":" in evs[0].src


def test_snaplen_cut_packets_keep_their_real_length():
    src = ReplaySource(TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap")
    evs = [e for e in src.events() if isinstance(e, PacketEvent)]
    biggest = max(evs, key=lambda e: e.len)
    captured = len(src.raw_frame(biggest.frame)[1])
    assert biggest.len == 1446 and captured < biggest.len


def test_a_header_cut_short_is_reported_not_dropped():
    result = run_cli(
        "replay",
        str(TSHARK_DATA / "tcpdump__tcp_header_heapoverflow.pcap"),
        "--print",
        "--format",
        "jsonl",
    )
    assert result.returncode == 0
    lines = [json.loads(x) for x in result.stdout.decode().splitlines()]
    assert lines[0]["type"] == "truncated" and lines[0]["sport"] == 12336
    assert "cut short" in lines[0]["reason"]


def test_reading_keeps_file_offsets_to_reopen_one_packet():
    src = ReplaySource(HTTP_GET)
    evs = [e for e in src.events() if isinstance(e, PacketEvent)]
    linktype, data = src.raw_frame(4)
    assert linktype == 1 and len(data) >= 54 + evs[3].len


def test_progress_is_how_much_of_the_file_was_read():
    src = ReplaySource(HTTP_GET)
    assert src.progress() is None
    events = src.events()
    next(events)
    assert 0 < src.progress() < 1
    list(events)
    assert src.progress() == 1.0  # a pcap's last record ends the file
    assert ReplaySource("-").progress() is None  # stdin has no size


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "empty"),
        (b"hello, this is not a capture at all" * 3, "not a pcap or pcapng"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "cut short"),
    ],
)
def test_bad_files_give_one_line_and_exit_2(tmp_path, content, needle):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(content)
    result = run_cli("replay", str(bad), "--print")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1 and needle in err and "bad.pcap" in err


def test_version_is_the_installed_one():
    from importlib.metadata import version

    import handshake_viz

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"handshake-viz {version('handshake-viz')}"
    assert handshake_viz.__version__ == version("handshake-viz")


def test_missing_file_and_directory(tmp_path):
    for path, needle in ((tmp_path / "nope.pcap", "no such file"), (tmp_path, "directory")):
        result = run_cli("replay", str(path), "--print")
        assert result.returncode == 2 and needle in result.stderr.decode()
        assert "Traceback" not in result.stderr.decode()


def test_stdin_is_read_to_the_end(tmp_path):
    result = run_cli("replay", "-", "--print", "--format", "jsonl", input=HTTP_GET.read_bytes())
    assert result.returncode == 0
    kinds = [json.loads(x)["type"] for x in result.stdout.decode().splitlines()]
    assert kinds.count("packet") == 14 and kinds.count("connection") == 1


def test_tui_replay_of_stdin_needs_a_pipe_and_a_terminal():
    """The TUI reads its keys from the terminal and the capture from the pipe; without one of
    them it says so in a line (the TUI's own run is in tests/tui/test_tmux.py)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "handshake_viz", "replay", "-"]
    # a pipe, but no terminal for the keys (a new session has no controlling terminal)
    piped = subprocess.run(cmd, input=HTTP_GET.read_bytes(), capture_output=True, env=env,
                           start_new_session=True, timeout=30, check=False)  # fmt: skip
    assert piped.returncode == 2
    assert piped.stderr.decode() == (
        "handshake-viz: stdin carries the capture and there is no terminal for the TUI's "
        "keys: add --print\n"
    )
    # a terminal on stdin, where the capture should be
    master, slave = pty.openpty()
    try:
        typed = subprocess.run(cmd, stdin=slave, capture_output=True, env=env, timeout=30,
                               check=False)  # fmt: skip
    finally:
        os.close(master)
        os.close(slave)
    assert typed.returncode == 2 and "pipe one in" in typed.stderr.decode()
    assert "Traceback" not in piped.stderr.decode() + typed.stderr.decode()


def test_stdin_is_streamed_events_appear_before_the_end():
    """Like `tcpdump -U -w - | handshake-viz replay -`: each packet shows as it arrives."""
    data = HTTP_GET.read_bytes()
    first_record_end = 24 + 16 + struct.unpack_from("<I", data, 24 + 8)[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "replay", "-", "--print", "--format", "jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(data[:first_record_end])
        proc.stdin.flush()
        line = proc.stdout.readline()  # arrives while stdin is still open
        assert json.loads(line)["frame"] == 1
        proc.stdin.write(data[first_record_end:])
        proc.stdin.close()
        rest = proc.stdout.read().decode().splitlines()
        assert len([x for x in rest if '"packet"' in x]) == 13
    finally:
        proc.kill()
        proc.wait()


def test_jsonl_fast_path_equals_json_dumps():
    for capture in TSHARK_DATA.glob("*.pcap*"):
        if capture.suffix not in (".pcap", ".pcapng"):
            continue
        try:
            for ev in ReplaySource(capture).events():
                assert json.loads(event_jsonl(ev)) == json.loads(json.dumps(ev.to_dict()))
        except Exception as e:  # noqa: BLE001 - bad files end with SourceError
            assert type(e).__name__ == "SourceError"


def test_text_ladder_reads_like_a_ladder():
    result = run_cli("replay", str(HTTP_GET), "--print")
    lines = result.stdout.decode().splitlines()
    assert "SYN seq=0 len=0" in lines[1] and "─▶" in lines[1] and "request" in lines[1]
    assert "◀─" in lines[2] and "SYN,ACK seq=0 ack=1" in lines[2]
    assert lines[-1].startswith("# tcp stream 0:") and "handshake complete" in lines[-1]


def test_read_records_raises_on_unsupported_link_type():
    with (
        open(TSHARK_DATA / "tcpdump__kday6.pcap", "rb") as f,
        pytest.raises(CaptureFileError, match="link type 182"),
    ):
        list(read_records(f, "kday6"))


@pytest.mark.parametrize(
    "capture",
    [
        "zeek__tcp_retransmit-fast009.pcap",
        "derived__http_get.cut-short.pcap",
        "tcpdump__tcp_header_heapoverflow.pcap",
    ],
)
def test_decoding_in_a_second_process_gives_the_same_events(monkeypatch, capture):
    """Big files are decoded by a child process; the events must not change at all."""
    from handshake_viz.core.source import SourceError
    from handshake_viz.sources.parallel import decode_worker

    def run(parallel: bool) -> tuple[list[str], str | None, list[object]]:
        src = ReplaySource(TSHARK_DATA / capture, parallel=parallel)
        lines: list[str] = []
        try:
            for ev in src.events():
                lines.append(event_jsonl(ev))
        except SourceError as e:
            return lines, str(e), [src.raw_frame(n) for n in range(1, 40)]
        return lines, None, [src.raw_frame(n) for n in range(1, 40)]

    monkeypatch.setattr(decode_worker, "MIN_SIZE", 0)
    monkeypatch.setattr(decode_worker, "BATCH", 7)  # several batches even for small files
    assert decode_worker.worth_it(str(TSHARK_DATA / capture))
    assert run(parallel=True) == run(parallel=False)


def _feed_fifo(fifo: Path, data: bytes) -> threading.Thread:
    """Write `data` into `fifo` from a thread (opening it waits for the reader), like
    ``cat x.pcap > fifo &``."""

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


@pytest.mark.e2e
def test_a_fifo_is_read_once_as_a_stream(tmp_path):
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    writer = _feed_fifo(fifo, HTTP_GET.read_bytes())
    result = run_cli("replay", str(fifo), "--print", "--format", "jsonl", timeout=30)
    writer.join(5)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().count('"type": "packet"') == 14


@pytest.mark.timeout(30)  # opening the FIFO a second time would wait for ever
def test_a_fifo_source_is_opened_once_by_check_and_read_by_events(tmp_path):
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    writer = _feed_fifo(fifo, HTTP_GET.read_bytes())
    source = ReplaySource(fifo, parallel=True)
    source.check()  # the TUI's pre-check: it must not eat the capture
    writer.join(5)
    assert len(packets_of(source)) == 14
    assert source.progress() is None and source.raw_frame(1) is None  # no size, no re-reading


def packets_of(source: ReplaySource) -> list[PacketEvent]:
    return [e for e in source.events() if isinstance(e, PacketEvent)]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_tui_on_a_fifo_shows_its_packets_and_quits_on_q(tmp_path):
    from tests.helpers.tmux import Pane, command

    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    pane = Pane()
    try:
        pane.send(f"cat {HTTP_GET} > {fifo} & " + command("replay", str(fifo), "--pause", "30")
                  + "; echo EXIT=$?", "Enter")  # fmt: skip
        pane.wait_for(lambda t: "SYN seq=0 len=0" in t)
        pane.send("End")
        pane.wait_for(lambda t: "14/14 events" in t and "ACK seq=138 ack=5009" in t)
        pane.send("q")
        pane.wait_for(lambda t: "EXIT=0" in t, timeout=5)
        assert "Traceback" not in pane.text()
    finally:
        pane.close()


@pytest.mark.e2e
def test_ctrl_c_ends_print_on_a_pipe_that_sends_nothing_more():
    """Like a tcpdump on a quiet interface: the read waits for ever, Ctrl-C ends it at once."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "handshake_viz", "replay", "-", "--print", "--format", "jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(HTTP_GET.read_bytes())
        proc.stdin.flush()
        lines = [proc.stdout.readline() for _ in range(14)]  # every packet, the pipe still open
        assert all(b'"packet"' in line for line in lines)
        time.sleep(0.3)  # the reader now waits for bytes that never come
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0 and err == b""
    assert b'"type": "connection"' in out  # the summaries still come
