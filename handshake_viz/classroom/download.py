"""Export from a browser tab: everything the terminal export writes, as one download.

In a terminal the export writes files beside the user (`TimelineApp.action_export`); served
in a browser, a path on the server means nothing to a student, so the screen (SVG), the
ladder (text), its Mermaid diagram and the lesson's capture go to the browser as one zip,
through Textual's `App.deliver_binary` (textual-serve turns it into a download).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from textual.app import App

from handshake_viz.model.playback import TimelineView
from handshake_viz.render.export import export_mermaid, export_text


def deliver_export(
    app: App[int], view: TimelineView, name: str, capture: Path | None, *, time_true: bool = False
) -> str:
    """Send the zip to the browser (the text ladder with gap lines where `time_true`, as the
    screen shows it); its file name."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.svg", app.export_screenshot(title="handshake-viz"))
        z.writestr(f"{name}.txt", export_text(view, time_true=time_true))
        z.writestr(f"{name}.mmd", export_mermaid(view))
        if capture is not None and capture.exists():
            z.write(capture, f"{name}.pcap")
    data.seek(0)
    filename = f"handshake-viz-{name}.zip"
    app.deliver_binary(data, save_filename=filename, mime_type="application/zip",
                       name="export")  # fmt: skip
    return filename
