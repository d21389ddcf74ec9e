"""Where a capture is written: a new file, never a link, never someone else's file.

The capture process may run as root, in a folder other users can write (a shared
``captures/`` or ``/tmp``), under a name that can be guessed to the second. Opening such a
name the usual way would follow a link planted there and overwrite whatever it points to. So
every capture file is created, not opened:

- ``O_CREAT | O_EXCL | O_NOFOLLOW``: an existing name, link or not, is never reused; a default
  name that is taken gets an unpredictable suffix instead, an explicit ``--save`` is refused;
- under ``sudo`` the folders and the file are created with the invoking user's identity (its
  uid, gid and groups), so the kernel checks the user's permissions, the file is born theirs
  and nothing is ever chowned;
- a parent folder that is a link owned by another user is refused;
- ``--no-save`` captures go to an unnamed file (``O_TMPFILE``): nothing is left on disk after a
  crash or ``kill -9``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from handshake_viz.sources.catalog_errors import catalog_error
from handshake_viz.sources.live.privileges import invoking_user

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
RENAME_TRIES = 8
"""Other names tried for a default name that is taken, each with a fresh random suffix."""


@contextlib.contextmanager
def as_invoking_user() -> Iterator[None]:
    """Run the block with the sudo user's effective uid, gid and groups (a no-op otherwise).

    Only the effective ids change, so root comes back at the end. Call it before any thread
    starts: the ids of a process are changed for all its threads at once.
    """
    user = invoking_user()
    if user is None:
        yield
        return
    uid, gid = user
    try:
        groups = os.getgrouplist(pwd.getpwuid(uid).pw_name, gid)
    except KeyError:
        groups = [gid]
    saved_groups, saved_gid = os.getgroups(), os.getegid()
    os.setgroups(groups)
    os.setegid(gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(saved_gid)
        os.setgroups(saved_groups)


def _check_folder(folder: Path) -> None:
    """Refuse a folder that is a link owned by someone other than root or the user."""
    with contextlib.suppress(FileNotFoundError):
        st = folder.lstat()
        if os.path.islink(folder):
            user = invoking_user()
            mine = {0, os.getuid(), user[0] if user else 0}
            if st.st_uid not in mine:
                raise catalog_error("source.error.foreign_link", folder=folder, uid=st.st_uid)


def _make_folders(folder: Path) -> None:
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir()


def _renamed(path: Path) -> Path:
    return path.with_name(f"{path.stem}-{secrets.token_hex(3)}{path.suffix}")


def create_capture_file(path: Path, rename_if_taken: bool) -> tuple[int, Path]:
    """Create `path` for writing and return its descriptor and the name it got.

    Args:
        path: where the capture should go; its folders are made if missing.
        rename_if_taken: a default name: if it exists, try the same name with a random
            suffix. An explicit ``--save`` that exists is refused instead.

    Raises:
        SourceError: the folder or file cannot be made, or the name is taken.
    """
    path = Path(path)
    _check_folder(path.parent)
    with as_invoking_user():
        try:
            _make_folders(path.parent)
            _check_folder(path.parent)
            candidates = [path] + [
                _renamed(path) for _ in range(RENAME_TRIES if rename_if_taken else 0)
            ]
            for candidate in candidates:
                try:
                    return os.open(candidate, _CREATE, 0o644), candidate
                except FileExistsError:
                    continue
                except OSError as exc:
                    if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link: taken, never followed
                        continue
                    raise
        except OSError as exc:
            raise catalog_error("source.error.write_capture", path=path,
                                reason=exc.strerror or exc) from None  # fmt: skip
    if not rename_if_taken:
        raise catalog_error("source.error.exists", path=path)
    raise catalog_error("source.error.no_free_name", path=path)


def anonymous_capture_file() -> int:
    """A read-write file with no name, for ``--no-save``: gone when its last descriptor closes.

    Falls back to a private named file removed at once where ``O_TMPFILE`` is not supported.
    """
    folder = tempfile.gettempdir()
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError:
        fd, name = tempfile.mkstemp(prefix="handshake-viz-", suffix=".pcap")
        os.unlink(name)
        return fd
