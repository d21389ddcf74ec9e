"""What a lesson writes out: the export (e) and the handout (h), as files beside the teacher
in a terminal, as a download in a browser tab (a path on the server means nothing there).

A mixin of `ClassroomApp` (Textual finds an action by its name on the app).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handshake_viz.classroom.download import deliver_export
from handshake_viz.classroom.handout import Handout, handout_paths, write_handout
from handshake_viz.classroom.handout_html import handout_html

if TYPE_CHECKING:
    from handshake_viz.classroom.screen import ClassroomApp


class LessonExports:
    """The e and h keys of a lesson."""

    def action_export(self: ClassroomApp) -> None:  # type: ignore[misc]
        if not self.is_web:
            super().action_export()
            return
        filename = deliver_export(self, self.view, self.lesson_name, self.lesson.save,
                                  time_true=self.ladder.time_true)  # fmt: skip
        self.notify(self.cat.text("ui.exported_download", name=filename))

    def action_handout(self: ClassroomApp) -> None:  # type: ignore[misc]
        """The handout of what the class has seen so far, with the capture so far."""
        name = self.lesson_name
        html, pcap = handout_paths(self.export_dir, name, self.lang)
        capture = self.lesson.capture_bytes()
        handout = Handout.from_timeline(self.timeline, self.guided, self.step_times, self.lang,
                                        pcap.name if capture else None)  # fmt: skip
        if self.is_web:
            filename = deliver_handout(self, handout, html.name, capture)
            self.notify(self.cat.text("handout.written_download", name=filename))
            return
        try:
            written = write_handout(handout, html, capture)
        except OSError as exc:
            self.notify(f"{html}: {exc.strerror or exc}", severity="error", timeout=8)
            return
        self.notify(self.cat.text("handout.written", html=html, pcap=written or "—"), timeout=8)


def deliver_handout(app: Any, handout: Handout, name: str, capture: bytes | None) -> str:
    """Send the handout (and its capture) to the browser as one zip; the zip's name."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, handout_html(handout))
        if capture:
            z.writestr(str(Path(name).with_suffix(".pcap")), capture)
    data.seek(0)
    filename = str(Path(name).with_suffix(".zip"))
    app.deliver_binary(data, save_filename=filename, mime_type="application/zip",
                       name="handout")  # fmt: skip
    return filename
