"""`make_classroom_app`: a lesson set up and ready to run, for the CLI, ``serve`` and tests.

Setting up a lesson, in order: its port (9000 in a network of its own, else a free port held
from the start), its faults (nftables rules in its own network), its capture (opened now, so
a missing privilege is one line before any UI starts), its stepper reporting into the
capture's timeline, and, for a teacher in ``serve``, the stream its followers read.
"""

from __future__ import annotations

from pathlib import Path

from handshake_viz.classroom.faults import FAULTS, install
from handshake_viz.classroom.kernelview import OwnSockets
from handshake_viz.classroom.lesson import LessonSource
from handshake_viz.classroom.lessons import SCRIPTS
from handshake_viz.classroom.screen import AUTOPLAY_PAUSE, ClassroomApp
from handshake_viz.classroom.session import SessionFolder, StreamWriter
from handshake_viz.classroom.stepper import Stepper
from handshake_viz.demo.ports import DEFAULT_PORT, PortHold, hold_free_port
from handshake_viz.sources.netns import Network
from handshake_viz.words.catalog import load


def lesson_port(host: str, family: int, network: Network | None) -> tuple[int, PortHold | None]:
    """9000 in a private network; else a free port, held until the lesson's server binds."""
    if network is not None and network.private:
        return DEFAULT_PORT, None
    hold = hold_free_port(host, family)
    return hold.port, hold


def make_classroom_app(
    scenario: str | None,
    lang: str = "en",
    port: int | None = None,
    save: Path | None = None,
    autoplay_pause: float = AUTOPLAY_PAUSE,
    export_dir: Path | None = None,
    network: Network | None = None,
    session: SessionFolder | None = None,
    teach: bool = False,
    predict: bool = False,
) -> ClassroomApp:
    """The app the CLI (``classroom``, ``demo --step``, ``serve``) runs and the tests drive.

    Args:
        scenario: a lesson of `SCRIPTS`, or None for free stepping (the keys only).
        port: the server's port (tests); default from `lesson_port`.
        save: capture file to write (default: the session's, or none).
        network: where the process runs (`sources.netns.isolate`); None: the caller's own
            network, not said on screen (tests, which run in a namespace of their own).
        session: serve's folder for this tab (its capture, and a teacher's stream).
        teach: write the stream that ``serve``'s followers read.
        predict: start in predict mode (`classroom.predict`).

    Raises:
        KeyError: no such lesson. SourceError: no capture privilege. FaultError: the
        lesson's faults cannot be installed. OSError: no port free.
    """
    script = SCRIPTS[scenario] if scenario is not None else None
    family = script.family if script is not None else SCRIPTS["basic"].family
    host = script.host if script is not None else SCRIPTS["basic"].host
    hold = None
    if port is None:
        port, hold = lesson_port(host, family, network)
    if script is not None and script.fault is not None:
        install(FAULTS[script.fault], port, private=network is not None and network.private)
    if save is None and session is not None:
        save = session.capture
    stream = StreamWriter(session.stream) if teach and session is not None else None
    shared = network is not None and not network.private
    name = load(lang).text("status.lesson_source", name=scenario or "step", port=port)
    if shared:
        name += " · " + load(lang).text("net.shared_short")
    source = LessonSource([port], save=save, name=name,
                          tee=stream.event if stream is not None else None)  # fmt: skip
    source.open()
    own = OwnSockets(source.recorder)
    stepper = Stepper(own, port, family, lang, hold=hold,
                      backlog=script.backlog if script is not None else 5,
                      client_mss=script.client_mss if script is not None else None)  # fmt: skip
    return ClassroomApp(source, stepper, script, lang=lang, autoplay_pause=autoplay_pause,
                        export_dir=export_dir, network=network,
                        own=own if shared else None, stream=stream,
                        predict=predict)  # fmt: skip
