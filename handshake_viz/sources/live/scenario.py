"""`ScenarioSource`: a demo scenario run under the sniffer, its socket calls among its packets."""

from __future__ import annotations

from pathlib import Path

from handshake_viz.demo.scenarios import DemoContext, Scenario, get_scenario
from handshake_viz.demo.tracing import Gate, ListRecorder, no_gate
from handshake_viz.sources.live.source import LiveSource


class ScenarioSource(LiveSource):
    """Live capture of one scenario's port while the scenario runs in a thread.

    Args:
        name: the scenario (``demo --list``).
        save: capture file to write, or None.
        gate: called before each socket call (classroom step mode waits for a key there).
        port: the port to use (default: the first free one from the scenario's default).
        rename_if_taken: `save` is a default name (see `LiveSource`).

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
    ) -> None:
        self.scenario: Scenario = get_scenario(name)
        self.context: DemoContext = self.scenario.context(ListRecorder(), port=port, gate=gate)
        self.port = self.context.port
        super().__init__(
            "lo",
            [self.port],
            save=save,
            activity=lambda: self.scenario.run(self.context),
            name=f"demo {name}: lo port {self.port}",
            rename_if_taken=rename_if_taken,
        )
        self.context.recorder = self.merger
