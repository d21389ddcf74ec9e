"""The JSONL line of a connection summary, written out field by field.

``json.dumps`` of a summary's dict takes some 10 µs (a dict to build, an encoder to set up, a
Python call per float); a replay of a hundred thousand short connections writes as many
summaries as it writes packets in ten. Written out, with the few strings and option objects
that repeat formatted once, it gives the same text (a test compares the two on every capture)
in a fraction of that.
"""

from __future__ import annotations

import json
from typing import Any

from handshake_viz.core.events import ConnectionSummary

_encode = json.JSONEncoder(ensure_ascii=False).encode
"""Exactly ``json.dumps(x, ensure_ascii=False)``, without building an encoder per call."""
_STRINGS: dict[str, str] = {}
_OPTIONS: dict[tuple[Any, ...], str] = {}
_CACHE_LIMIT = 10_000


def _string(s: str) -> str:
    """A JSON string, from a cache: addresses, words and histories repeat."""
    text = _STRINGS.get(s)
    if text is None:
        text = _encode(s)
        if len(_STRINGS) < _CACHE_LIMIT:
            _STRINGS[s] = text
    return text


def _number(x: float | None) -> str:
    """A float (or None), as ``json.dumps`` writes it."""
    if x is None:
        return "null"
    if type(x) is float and x - x == 0.0:  # finite: json writes float.__repr__
        return float.__repr__(x)
    return _encode(x)  # NaN, infinities, or not a float at all


def _options(d: dict[str, Any]) -> str:
    """A SYN's options object; a handful of distinct ones per capture, formatted once each."""
    if not d:
        return "{}"
    try:
        # The value types are part of the key: True and 1 are equal, their JSON is not.
        key = (tuple(d.items()), tuple(map(type, d.values())))
        text = _OPTIONS.get(key)
    except TypeError:  # a list among the values (SACK blocks): not cached
        return _encode(d)
    if text is None:
        text = _encode(d)
        if len(_OPTIONS) < _CACHE_LIMIT:
            _OPTIONS[key] = text
    return text


def summary_jsonl(s: ConnectionSummary) -> str:
    """``json.dumps(s.to_dict(), ensure_ascii=False)``, written out.

    The integer fields are written as the plain integers they are declared (and checked by
    mypy) to be, `listen_inferred` as the boolean it is.
    """
    first, last = s.first_time, s.last_time
    if type(first) is float and type(last) is float and first - first == 0.0 == last - last:
        times = f'"first_time": {first!r}, "last_time": {last!r}'  # finite floats: their repr
    else:
        times = f'"first_time": {_number(first)}, "last_time": {_number(last)}'
    return (
        f'{{"type": "connection", "proto": {_string(s.proto)}, "stream": {s.stream}, '
        f'"client": {_string(s.client)}, "cport": {s.cport}, "server": {_string(s.server)}, '
        f'"sport": {s.sport}, "first_frame": {s.first_frame}, "last_frame": {s.last_frame}, '
        f"{times}, "
        f'"packets": {s.packets}, "bytes_c2s": {s.bytes_c2s}, "bytes_s2c": {s.bytes_s2c}, '
        f'"handshake": {_string(s.handshake)}, "handshake_rtt": {_number(s.handshake_rtt)}, '
        f'"rtt_syn_synack": {_number(s.rtt_syn_synack)}, '
        f'"rtt_synack_ack": {_number(s.rtt_synack_ack)}, "ended": {_string(s.ended)}, '
        f'"syn_options": {_options(s.syn_options)}, '
        f'"synack_options": {_options(s.synack_options)}, "completeness": {s.completeness}, '
        f'"listen_inferred": {"true" if s.listen_inferred else "false"}, '
        f'"history": {_string(s.history)}, "conn_state": {_string(s.conn_state)}}}'
    )
