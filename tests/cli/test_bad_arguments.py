"""Every command with bad arguments, or with its standard streams closed or full: one line on
stderr naming the problem, exit 2; never a traceback, never an "internal error"."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.live import cli_env
from tests.helpers.paths import HTTP_GET, ROOT

pytestmark = [pytest.mark.timeout(60), pytest.mark.e2e]

BAD = {
    "classroom nosuch": ["classroom", "nosuch"],
    "demo nosuch --step": ["demo", "nosuch", "--step"],
    "replay --speed 0": ["replay", str(HTTP_GET), "--speed", "0"],
    "replay --speed nan": ["replay", str(HTTP_GET), "--speed", "nan"],
    "replay --speed 1e400": ["replay", str(HTTP_GET), "--speed", "1e400"],
    "replay --pause -1": ["replay", str(HTTP_GET), "--pause", "-1"],
    "replay --pause nan": ["replay", str(HTTP_GET), "--pause", "nan"],
    "replay --pause inf": ["replay", str(HTTP_GET), "--pause", "inf"],
    "live --duration nan": ["live", "--port", "80", "--duration", "nan", "--print"],
    "live --duration inf": ["live", "--port", "80", "--duration", "inf", "--print"],
    "replay a file name with a newline": ["replay", "no\nsuch.pcap", "--print"],
}


def run(args: list[str], env: dict[str, str] | None = None, **kw: object
        ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "handshake_viz", *args], stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env=env or cli_env(), timeout=30, check=False, **kw,  # type: ignore[call-overload]
    )  # fmt: skip


def assert_one_line(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("handshake-viz: "), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_arguments_are_one_line_and_exit_2(case: str) -> None:
    assert_one_line(run(BAD[case], stdin=subprocess.DEVNULL))


def test_an_unknown_language_from_the_environment_is_one_line() -> None:
    r = run(["demo", "--list"], env={**cli_env(), "HANDSHAKE_VIZ_LANG": "xx"})
    assert_one_line(r)
    assert "HANDSHAKE_VIZ_LANG=xx" in r.stderr


def test_a_full_disk_under_print_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        r = run(["replay", str(HTTP_GET), "--print"], stdout=full)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "No space left on device" in r.stderr


def closed(fd: int) -> None:
    os.close(fd)


@pytest.mark.parametrize("args,fd", [(["replay", str(HTTP_GET), "--print"], 1),
                                     (["replay", "-"], 0)], ids=["stdout", "stdin"])  # fmt: skip
def test_a_closed_standard_stream_is_one_line(args: list[str], fd: int) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "handshake_viz", *args],
        stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(), timeout=30,
        preexec_fn=lambda: closed(fd),  # noqa: PLW1509 - a single-threaded test process
        check=False,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "closed" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
