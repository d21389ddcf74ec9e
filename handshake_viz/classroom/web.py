"""The classroom in a web browser: textual-serve, with one lesson per tab and a follow mode.

Three pages, each a terminal in the browser whose process this server starts:

- ``/``: a lesson of the tab's own (a process in a network namespace of its own, so two
  tabs never see each other's packets or collide on a port);
- ``/teach?key=…``: the teacher's lesson, the same but also written as a stream (the key is
  printed when serve starts: a student cannot take the teacher's place);
- ``/follow``: the teacher's lesson, read-only, a moment behind.

Nothing is left behind. Each tab's process runs in a process group of its own (with the
capture process it starts); when the tab closes, it is asked to quit as textual-serve does,
and after a grace period its whole group is ended, then its folder (its capture) is removed.
When serve stops, every tab is ended that way. A tab's process also ends by itself when
serve dies (`cli.classroom.die_with_parent`), and removes its folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from handshake_viz.classroom.session import SessionFolder, name_teacher
from handshake_viz.sources.live.savefile import as_invoking_user

log = logging.getLogger("handshake-viz-serve")

QUIT_GRACE = 3.0
"""Seconds a tab's app has to quit by itself once asked, before its group is ended."""
TERM_GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL for what is left of a tab's process group."""
FOLDER_PREFIX = "handshake-viz-serve-"
MODES = ("lesson", "teach", "follow")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_folders(tmp: Path | None = None) -> list[Path]:
    """Remove serve folders whose server is gone (killed with no chance to clean up); each
    folder's name carries its server's pid. Only folders this user owns."""
    tmp = tmp or Path(tempfile.gettempdir())
    removed = []
    for folder in tmp.glob(f"{FOLDER_PREFIX}*"):
        pid_text = folder.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        try:
            owned = folder.lstat().st_uid in (os.getuid(), os.geteuid())
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if owned and folder.is_dir() and not folder.is_symlink() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class TabProcess(AppService):
    """One browser tab's app: started without a shell, in a process group of its own, and
    ended with everything it started when the tab closes.

    Args:
        argv: the command.
        session: the tab's folder, removed once the process group is gone.
    """

    def __init__(self, argv: Sequence[str], session: SessionFolder | None, **kw: Any) -> None:
        super().__init__(" ".join(argv), **kw)
        self.argv = list(argv)
        self.session = session

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        env = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        """Ask the app to quit; end its process group if it has not; remove its folder."""
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(Exception):
                await self._download_manager.cancel_app_downloads(
                    app_service_id=self.app_service_id
                )
                await self.send_meta({"type": "quit"})
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), QUIT_GRACE)
        await self.end_group()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, TERM_GRACE)
        if self.session is not None:
            self.session.remove()

    async def end_group(self) -> None:
        """SIGTERM to every process left in the tab's group, SIGKILL after `TERM_GRACE`."""
        pid = self.pid
        if pid is None:
            return
        for sig, grace in ((signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, TERM_GRACE)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            deadline = asyncio.get_running_loop().time() + grace
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                try:
                    os.killpg(pid, 0)
                except ProcessLookupError:
                    return


class ClassroomServer(Server):
    """textual-serve with a lesson per tab, a teacher's lesson and followers.

    Args:
        lesson: the lesson every tab opens (None: free stepping).
        lang: the lessons' language.
        sock: the listening socket, bound already (a busy port is an error before anything
            is printed).
        public_url: the address as the browser reaches it.
        predict: every lesson starts in predict mode.
    """

    def __init__(self, lesson: str | None, lang: str, sock: socket.socket,
                 public_url: str, predict: bool = False) -> None:  # fmt: skip
        host, port = sock.getsockname()[:2]
        super().__init__("handshake-viz classroom", host=host, port=port,
                         title="handshake-viz classroom", public_url=public_url)  # fmt: skip
        self.lesson = lesson
        self.lang = lang
        self.predict = predict
        self.sock = sock
        self.token = secrets.token_urlsafe(12)
        self.tabs: set[TabProcess] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        sweep_stale_folders()
        with as_invoking_user():
            self.root = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
            self.root.chmod(0o755)  # followers (other processes, maybe another user) read it

    # -- the web application ------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/teach", self.handle_index, name="teach"),
            web.get("/follow", self.handle_index, name="follow"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/ws/teach/{key}", self.handle_websocket, name="websocket-teach"),
            web.get("/ws/follow", self.handle_websocket, name="websocket-follow"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])  # fmt: skip
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _mode(self, request: web.Request) -> str:
        """ "lesson", "teach" or "follow", from the page or websocket asked for; the
        teacher's need the key (in the page's query, in the websocket's path: textual.js
        appends its own query to the websocket's address)."""
        path = request.path.rstrip("/").removeprefix("/ws")
        if path == "/follow":
            return "follow"
        if path == "/teach" or path.startswith("/teach/"):
            key = request.match_info.get("key") or request.query.get("key", "")
            if not hmac.compare_digest(key, self.token):
                raise web.HTTPForbidden(text="the teacher's page needs the key serve printed")
            return "teach"
        return "lesson"

    async def handle_index(self, request: web.Request) -> web.Response:
        mode = self._mode(request)
        router = request.app.router
        if mode == "teach":
            path = router["websocket-teach"].url_for(key=self.token)
        else:
            path = router["websocket-follow" if mode == "follow" else "websocket"].url_for()
        ws = f"{self.public_url}{path}"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": "ws:" + ws.split(":", 1)[1],
            "config": {"static": {"url": f"{self.public_url}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def tab_command(self, mode: str, session: SessionFolder | None) -> list[str]:
        """The process a tab runs (the classroom app, as a module: no shell between)."""
        argv = [sys.executable, "-m", "handshake_viz.cli.classroom", "--lang", self.lang,
                "--parent", str(os.getpid())]  # fmt: skip
        if mode == "follow":
            return [*argv, "--follow", str(self.root)]
        assert session is not None
        argv += ["--session", str(session.path)]
        if mode == "teach":
            argv.append("--teach")
        if self.predict:
            argv.append("--predict")
        return [*argv, self.lesson] if self.lesson else [*argv, "--free"]

    def _new_session(self) -> SessionFolder:
        with as_invoking_user():
            path = Path(tempfile.mkdtemp(prefix="tab-", dir=self.root))
            path.chmod(0o755)
        return SessionFolder(path)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        mode = self._mode(request)
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        session = None if mode == "follow" else self._new_session()
        tab = TabProcess(
            self.tab_command(mode, session),
            session,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.tabs.add(tab)
        self.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            await tab.start(width, height)
            if mode == "teach" and session is not None:
                name_teacher(self.root, session)
            await self._process_messages(websocket, tab)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one tab's trouble never ends the server
            log.error("a tab ended with %s: %s", type(error).__name__, error)
        finally:
            await tab.stop()
            self.tabs.discard(tab)
            self.sockets.discard(websocket)
        return websocket

    # -- start and stop -----------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        url = self.public_url
        print(f"handshake-viz: serving the classroom on {url}/ (each tab: a lesson of its own)")
        print(f"  teacher: {url}/teach?key={self.token}")
        print(f"  students follow the teacher at {url}/follow")
        print("  Ctrl-C to stop", flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        """End every tab (its process group and its folder), then serve's folder."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        await asyncio.gather(*(tab.stop() for tab in list(self.tabs)), return_exceptions=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl-C or SIGTERM on the socket bound already."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        try:
            web.run_app(
                self._make_app(),
                sock=self.sock,
                handle_signals=False,
                loop=loop,
                print=lambda *_: None,
                shutdown_timeout=QUIT_GRACE + 2 * TERM_GRACE,
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
