"""The `lab` fixture: network namespaces of the test's own, deleted afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.netlab import Lab, can_build_labs


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A `Lab` (needs root, nftables, tcpdump, tshark: skipped, saying why, without them)."""
    why = can_build_labs()
    if why:
        pytest.skip(why)
    with Lab("t") as built:
        yield built
