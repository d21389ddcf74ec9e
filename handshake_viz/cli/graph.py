"""``handshake-viz graph FILE``: one graph of one connection, written as SVG or CSV, headless.

The file is read into the same timeline the TUI builds (by index workers for a big file), the
graph computed by the model and drawn or tabulated by the render layer. Every problem is one
line naming the fix: no such stream, no such kind, nowhere to write.
"""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from handshake_viz.cli.errors import error, note, said
from handshake_viz.core.source import SourceError
from handshake_viz.model.graphs.build import GraphError, build_graph, largest_tcp_stream
from handshake_viz.model.graphs.series import GraphKind
from handshake_viz.model.rows import Indexed
from handshake_viz.model.timeline import Timeline
from handshake_viz.render.graph_export import graph_csv, graph_svg
from handshake_viz.sources.parallel.decode_worker import prepare, worth_it
from handshake_viz.sources.replay import ReplaySource
from handshake_viz.words.catalog import load

MIN_SIZE = (40, 12)
"""The smallest picture with room for the axes and a few points."""


def run_graph(args: argparse.Namespace) -> int:
    """The ``graph`` command: check what can be checked before reading the file."""
    cat = load(args.lang)
    if args.kind not in {k.value for k in GraphKind}:
        return error(cat.text("graph.error.kind", kind=repr(args.kind)))
    if not args.output:
        return error(cat.text("graph.error.no_output"))
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".csv"):
        return error(cat.text("graph.error.suffix", path=out))
    if args.width < MIN_SIZE[0] or args.height < MIN_SIZE[1]:
        return error(cat.text("graph.error.size"))
    source = ReplaySource(args.file, parallel=True)
    try:
        source.check()
        timeline = _read(source)
    except SourceError as e:
        return error(said(e, args.lang))
    tcp = [s for s in timeline.streams if s.proto == "tcp"]
    if not tcp:
        return error(cat.text("graph.error.no_tcp", file=args.file))
    if args.stream is None:
        sid = largest_tcp_stream(timeline)
    else:
        sid = timeline.sid_of("tcp", args.stream)
    if sid is None:
        last = max(s.stream for s in tcp)
        return error(cat.text("graph.error.stream", file=args.file, stream=args.stream, last=last))
    try:
        graph = build_graph(timeline, sid, args.kind, frames=source)
    except GraphError as e:
        return error(str(e))
    if suffix == ".csv":
        content = graph_csv(graph)
    else:
        content = graph_svg(graph, timeline, cat, (args.width, args.height))
    try:
        out.write_text(content, encoding="utf-8")
    except OSError as e:
        return error(cat.text("graph.error.write", path=out, reason=e.strerror or e))
    stream = timeline.streams[sid].stream
    note(cat.text("graph.written", stream=stream, kind=args.kind, rows=len(graph.table),
                  path=out))  # fmt: skip
    return 0


def _read(source: ReplaySource) -> Timeline:
    """The whole file as the TUI's timeline (worker processes for a big file)."""
    timeline = Timeline()
    if worth_it(source.path):
        prepare()
    merged = source.index_rows() if isinstance(source, Indexed) else None
    if merged is not None:
        with closing(merged):
            for batches in merged:
                timeline.merge(batches)
    else:
        timeline.extend(source.events())
    timeline.done = True
    return timeline
