"""What each layer may load, checked in a fresh interpreter: the core loads neither a UI
library nor Scapy, and nothing below the TUI loads Textual (a handout, an export or
``--print`` never pays for the app). The import-linter contracts in pyproject.toml check the
layers' own imports; this checks what actually ends up in ``sys.modules``."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import handshake_viz


def modules_of(*packages: str) -> list[str]:
    """Every module of the given subpackages of handshake_viz (their __main__ aside)."""
    names = []
    for info in pkgutil.walk_packages(handshake_viz.__path__, "handshake_viz."):
        if info.name.split(".")[1] in packages and not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def loaded_after_importing(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"tops = {{m.split('.')[0] for m in sys.modules}} & set({prefixes!r})\n"
        + "print(','.join(sorted(tops)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_the_core_loads_no_ui_library_and_no_scapy():
    modules = modules_of("core")
    assert "handshake_viz.core.tracker" in modules
    assert loaded_after_importing(modules, ("textual", "rich", "scapy")) == []


@pytest.mark.parametrize("layer", ["model", "words", "render", "sources", "demo"])
def test_no_layer_below_the_tui_loads_textual(layer: str):
    modules = modules_of(layer)
    assert modules
    assert loaded_after_importing(modules, ("textual",)) == []


def test_a_handout_loads_no_textual():
    assert loaded_after_importing(["handshake_viz.classroom.handout"], ("textual",)) == []
