"""`ScenarioSource`: a demo scenario run under the sniffer, its socket calls among its packets.

`isolated_scenario` is how a command runs one: first the process moves into a network of its
own (`sources.netns`), so the scenario always uses port 9000 and nothing else on the machine
can show on its ladder; where that is not permitted, it holds a free port from the start and
its description says that other programs' traffic may show.
"""

from __future__ import annotations

from pathlib import Path

from handshake_viz.demo.ports import DEFAULT_PORT, PortHold, hold_free_port
from handshake_viz.demo.scenarios import DemoContext, Scenario, get_scenario
from handshake_viz.demo.tracing import Gate, ListRecorder, no_gate
from handshake_viz.sources.live.source import LiveSource
from handshake_viz.sources.netns import Network, isolate
from handshake_viz.words.catalog import load


class ScenarioSource(LiveSource):
    """Live capture of one scenario's port while the scenario runs in a thread.

    Args:
        name: the scenario (``demo --list``).
        save: capture file to write, or None.
        gate: called before each socket call (classroom step mode waits for a key there).
        port: the port to use (default: the first free one from the scenario's default).
        rename_if_taken: `save` is a default name (see `LiveSource`).
        hold: a held port to use instead (released just before the scenario's server binds).
        network: where the scenario runs, for the description (None: not said).
        lang: language of the description's note on a shared network.

    Raises:
        KeyError: no such scenario (the message names the choices).
    """

    def __init__(
        self,
        name: str,
        save: Path | None = None,
        gate: Gate = no_gate,
        port: int | None = None,
        rename_if_taken: bool = False,
        hold: PortHold | None = None,
        network: Network | None = None,
        lang: str = "en",
    ) -> None:
        self.scenario: Scenario = get_scenario(name)
        self.context: DemoContext = self.scenario.context(
            ListRecorder(), port=port, gate=gate, hold=hold
        )
        self.port = self.context.port
        self.network = network
        description = load(lang).text("status.demo_source", name=name, port=self.port)
        if network is not None and not network.private:
            description += " · " + load(lang).text("net.shared_short")
        super().__init__(
            "lo",
            [self.port],
            save=save,
            activity=lambda: self.scenario.run(self.context),
            name=description,
            rename_if_taken=rename_if_taken,
        )
        self.context.recorder = self.merger


def isolated_scenario(
    name: str,
    save: Path | None = None,
    gate: Gate = no_gate,
    rename_if_taken: bool = False,
    lang: str = "en",
) -> ScenarioSource:
    """A scenario in a network of this process's own (call it before any thread starts), or,
    without the privilege, on a port held from the start of the run.

    Raises:
        KeyError: no such scenario. OSError: no free port to hold.
    """
    scenario = get_scenario(name)
    network = isolate()
    if network.private:
        return ScenarioSource(name, save, gate, DEFAULT_PORT, rename_if_taken,
                              network=network, lang=lang)  # fmt: skip
    hold = hold_free_port(scenario.host, scenario.family)
    return ScenarioSource(name, save, gate, rename_if_taken=rename_if_taken, hold=hold,
                          network=network, lang=lang)  # fmt: skip
