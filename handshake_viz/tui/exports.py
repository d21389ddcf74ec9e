"""The app's `e`: the screen as SVG, the visible ladder as text and as Mermaid, and its packets
as a pcap for Wireshark, written as new files in the export folder.

A mixin of `TimelineApp` (Textual finds an action by its name on the app). Writing never ends
the app: a folder that cannot be made or written, a full disk or a name taken a thousand
times is a toast naming the folder and the way out (`--export-dir`), and the app goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from handshake_viz.core.source import FrameSource
from handshake_viz.render.export import export_mermaid, export_pcap, export_text, write_export
from handshake_viz.words.catalog import load

if TYPE_CHECKING:
    from handshake_viz.tui.app import TimelineApp

EXPORT_KINDS = ("svg", "text", "mermaid", "pcap")
"""What `e` writes, in order (the command palette offers each alone)."""


class ExportKeys:
    """The `e` key and the palette's export commands."""

    def action_export(self: TimelineApp) -> None:  # type: ignore[misc]
        """Every export at once. The toasts on screen are cleared first and the files written
        after the next refresh, so the SVG shows the app, not an earlier toast."""
        self.clear_notifications()
        self.call_after_refresh(self.export_now, EXPORT_KINDS)

    def export_one(self: TimelineApp, kind: str) -> None:  # type: ignore[misc]
        """One export by its name in `EXPORT_KINDS` (the command palette's)."""
        self.clear_notifications()
        self.call_after_refresh(self.export_now, (kind,))

    def export_now(self: TimelineApp, kinds: tuple[str, ...]) -> list[Path]:  # type: ignore[misc]
        """Write `kinds` now; a toast says what was written where, or why nothing was."""
        cat = load(self.lang)
        folder = self.export_dir
        paths: list[Path] = []
        try:
            for kind in kinds:
                path = self._write(kind)
                if path is not None:
                    paths.append(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.notify(cat.text("notify.export_failed", folder=folder, reason=reason),
                        severity="error", timeout=10)  # fmt: skip
            return paths
        names = ", ".join(p.name for p in paths)
        self.notify(cat.text("notify.saved", files=names, folder=folder))
        return paths

    def _write(self: TimelineApp, kind: str) -> Path | None:  # type: ignore[misc]
        folder = self.export_dir
        if kind == "svg":
            return write_export(folder, ".svg", self.export_screenshot(title="handshake-viz"))
        if kind == "text":
            return write_export(
                folder,
                ".txt",
                export_text(self.view, lang=self.lang, time_true=self.ladder.time_true),
            )
        if kind == "mermaid":
            return write_export(folder, ".mmd", export_mermaid(self.view))
        source = self.source
        if not isinstance(source, FrameSource):
            return None  # no capture file to read the packets' bytes from
        data, left_out = export_pcap(self.view, source.raw_frame)
        path = write_export(folder, ".pcap", data)
        if left_out:
            self.notify(load(self.lang).text("notify.pcap_left_out", n=left_out), timeout=8)
        return path
