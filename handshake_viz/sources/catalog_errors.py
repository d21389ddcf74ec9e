"""A source's error said from the catalogs: English in the exception, and the key and values
with which the command says it again in the user's language (`cli.errors.said`)."""

from __future__ import annotations

from handshake_viz.core.source import SourceError
from handshake_viz.words.catalog import DEFAULT_LANG, load


def catalog_error(key: str, **values: object) -> SourceError:
    """The `SourceError` of catalog message `key` filled with `values`."""
    return SourceError(load(DEFAULT_LANG).text(key, **values), key, **values)
