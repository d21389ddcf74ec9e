"""`--print --time-true`: the text ladder with the time-true gap lines, the same rule as the
TUI's `d`, a gap ending in the kernel's word on a retransmission said by the SYN after it."""

from __future__ import annotations

import re

from tests.helpers.graphs import SYN_RETRIES
from tests.helpers.paths import DATA, run_cli

BACKLOG = DATA / "kernel" / "backlog-demo.pcapng"
"""`sudo handshake-viz demo backlog --save ...`: four clients against a listen backlog of 1,
the kernel's view on; two SYNs find the queue full and are sent again a second apart, twice,
each after the kernel's word that its timer fired."""
TIMER = re.compile(r"^ +⋮ +(\d+\.\d\d) s: the SYN retransmission timer$")


def printed(*args: str) -> list[str]:
    done = run_cli("replay", *args, "--print", "--time-true")
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().splitlines()


def test_each_syn_sent_again_follows_its_timers_wait_and_the_kernels_word() -> None:
    lines = printed(str(BACKLOG))
    said = [n for n, line in enumerate(lines) if TIMER.match(line)]
    assert len(said) == 4
    for n in said:
        wait = float(TIMER.match(lines[n]).group(1))  # type: ignore[union-attr]
        assert 0.95 < wait < 1.1
        after = next(line for line in lines[n + 1 :] if not line.lstrip().startswith("⋮"))
        assert "the kernel retransmitted this SYN: timer" in after
    # the handshakes' round trips get a line of their own, however short
    rtts = [n for n, line in enumerate(lines) if re.search(r"RTT 0\.\d\d ms$", line)]
    assert len(rtts) == 2 and all("SYN,ACK" in lines[n + 1] for n in rtts)
    plain = run_cli("replay", str(BACKLOG), "--print").stdout.decode().splitlines()
    assert [line for line in lines if not line.lstrip().startswith("⋮")] == plain


def test_a_syn_sent_four_times_has_four_lines_and_more_between() -> None:
    lines = printed(str(SYN_RETRIES))
    rows = [n for n, line in enumerate(lines) if "SYN seq=0" in line]
    assert len(rows) == 4
    assert all(b - a >= 5 for a, b in zip(rows, rows[1:], strict=False))


def test_time_true_with_jsonl_is_refused_in_one_line() -> None:
    done = run_cli("replay", str(SYN_RETRIES), "--print", "--format", "jsonl", "--time-true")
    assert done.returncode == 2 and not done.stdout
    err = done.stderr.decode()
    assert err.count("\n") == 1 and "--time-true" in err and "Traceback" not in err
