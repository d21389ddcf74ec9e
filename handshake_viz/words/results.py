"""Socket-call results in the reader's language.

The JSONL contract keeps a call's result in English (``"14 bytes"``, ``"backlog 5"``,
``"0 bytes (end of stream)"``, ``"ECONNREFUSED"``): scripts read it, so it never changes with
``--lang``. What a person reads is translated here, at display time: each shape of result the
tracer writes is a pattern naming its catalog key (``[result]``), its numbers and addresses
carried over. Anything else (an errno name such as ``ECONNREFUSED``, an exception's name) is
shown as it is: it is what the reader would search for.
"""

from __future__ import annotations

import re

from handshake_viz.words.catalog import load

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"ok", "result.ok"),
        (r"ok \((?P<how>SHUT_\w+)\)", "result.shutdown"),
        (r"ok \(SO_LINGER 0: RST instead of FIN\)", "result.linger"),
        (r"ok \(the connection was already reset\)", "result.already_reset"),
        (r"backlog (?P<n>\d+)", "result.backlog"),
        (r"new socket from (?P<remote>\S+)", "result.new_socket"),
        (r"0 bytes \(end of stream\)", "result.end_of_stream"),
        (r"(?P<n>\d+) bytes", "result.bytes"),
        (r"(?P<n>\d+) bytes from (?P<remote>\S+)", "result.bytes_from"),
        (r"request: (?P<request>.+)", "result.http_request"),
        (r"response: (?P<status>\d+ [^,]+), (?P<n>\d+) bytes body", "result.http_response"),
        (r"(?P<n>\d+) bytes \(HTTP (?P<status>\d+)\)", "result.http_read"),
        (r"waiting", "result.waiting"),
        (r"interrupted", "result.interrupted"),
    )
)
"""Every result the demo writes but an errno (`demo.tracing`, and the http scenario's hooks in
`demo.scenarios`), and its message."""

RESULT_KEYS = tuple(key for _, key in _SHAPES)
"""The ``result.*`` keys every catalog has (the catalog test checks them)."""


def result_text(result: str | None, lang: str = "en") -> str:
    """A call's result as the reader of `lang` says it ("" for none).

    English gives back the JSONL's own words: ``result_text(r, "en") == r``.
    """
    if not result:
        return ""
    for pattern, key in _SHAPES:
        m = pattern.fullmatch(result)
        if m is not None:
            return load(lang).text(key, **m.groupdict())
    return result
