"""The Mermaid export: one lifeline per client socket, each call on its own socket's lifeline,
on the demo's backlog scenario as it was recorded (`demo backlog --save`: its calls are in the
capture), and one connection's ladder once the connection is chosen."""

from __future__ import annotations

import re

from handshake_viz.model.playback import TimelineView
from handshake_viz.model.query import Filter
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.export import export_mermaid
from tests.helpers.fakes import read_events
from tests.helpers.paths import DATA

BACKLOG = DATA / "demo" / "backlog.pcapng"


def backlog_view() -> TimelineView:
    tl = Timeline()
    tl.extend(read_events(BACKLOG))
    view = TimelineView(tl, live=True)
    view.sync()
    return view


def participants(mmd: str) -> dict[str, str]:
    return dict(re.findall(r"participant (\w+) as (.+)", mmd))


def test_each_connect_is_on_its_own_clients_lifeline():
    view = backlog_view()
    mmd = export_mermaid(view)
    names = participants(mmd)
    clients = {alias: label for alias, label in names.items() if label.startswith("client")}
    ports = [s.cport for s in view.timeline.streams]
    assert sorted(clients.values()) == sorted(f"client 127.0.0.1 port {p}" for p in ports)
    for alias in clients:
        notes = re.findall(rf"Note over {alias}: .*?(\w+)\(\) → (\S+)", mmd)
        # its socket(), its connect() (announced while it waits, then how it ended), its close()
        calls = [call for call, _ in notes]
        assert calls[0] == "socket" and calls[-1] == "close" and "connect" in calls, notes
        assert calls.count("socket") == 1 and calls.count("close") == 1
    # the two clients the full queue kept waiting time out, each on its own lifeline
    timed_out = re.findall(r"Note over (\w+): .*connect\(\) → ETIMEDOUT", mmd)
    assert len(set(timed_out)) == 2
    arrows = {a for a, b in re.findall(r"(\w+)->>(\w+): SYN seq=0 len=0 \(", mmd)}
    assert set(timed_out) <= arrows  # the lifelines whose SYNs went unanswered


def test_server_calls_stay_on_the_servers_lifeline():
    mmd = export_mermaid(backlog_view())
    [server] = [a for a, label in participants(mmd).items() if label.startswith("server")]
    for call in ("socket", "bind", "listen"):
        assert re.search(rf"Note over {server}: .*{call}\(\)", mmd)


def test_a_chosen_connection_exports_its_own_ladder():
    view = backlog_view()
    sid = 2
    view.set_filter(Filter(sids=frozenset({sid})))
    mmd = export_mermaid(view)
    s = view.timeline.streams[sid]
    assert set(participants(mmd).values()) == {f"client 127.0.0.1 port {s.cport}",
                                               f"server 127.0.0.1 port {s.sport}"}  # fmt: skip
    assert mmd.count("SYN seq=0 len=0") == 3  # the SYN and the two sent again
    assert "connect() → ETIMEDOUT" in mmd and "close()" in mmd


def test_the_command_writes_one_connections_diagram() -> None:
    from tests.helpers.paths import run_cli

    r = run_cli("replay", str(BACKLOG), "--mermaid", "--stream", "3")
    assert r.returncode == 0, r.stderr
    mmd = r.stdout.decode()
    assert mmd.startswith("sequenceDiagram") and mmd.count("participant") == 2
    assert "connect() → ETIMEDOUT" in mmd
    bad = run_cli("replay", str(BACKLOG), "--mermaid", "--stream", "9")
    assert bad.returncode == 2 and bad.stderr.decode().count("\n") == 1
    assert "streams are 0 to 3" in bad.stderr.decode()
