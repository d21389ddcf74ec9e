"""A source's error said from the catalogs: English in the exception, and the key and values
with which the command and the TUI say it again in the user's language (`said`)."""

from __future__ import annotations

from handshake_viz.core.source import SourceError
from handshake_viz.words.catalog import DEFAULT_LANG, load


def said(exc: Exception, lang: str | None) -> str:
    """An error in `lang`, where it is a source's that names its catalog message; as raised
    otherwise (the command's line on stderr and the TUI's status bar alike)."""
    if not isinstance(exc, SourceError) or exc.key is None:
        return str(exc)
    return load(lang or DEFAULT_LANG).text(exc.key, **exc.values)


def catalog_error(key: str, **values: object) -> SourceError:
    """The `SourceError` of catalog message `key` filled with `values`."""
    return SourceError(load(DEFAULT_LANG).text(key, **values), key, **values)
