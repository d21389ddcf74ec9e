"""A handout as one HTML page: printable from any browser, light, in the lesson's language.

Pure: a `Handout` in, the page out. The page lays its text out itself (no character placed
on a grid, so Chinese never overlaps), declares its language (``lang="zh-Hans"``), names its
fonts, and carries the CJK glyphs it uses (`handout_fonts`). The ladder is a table: one row
per event, the client's and the server's lines as the borders of the middle column, each
packet an arrow drawn in CSS, each phase a chip in the ladder's colours. The worksheet leaves
seq, ack and both states blank; the answer key, on a page of its own, fills them in.
"""

from __future__ import annotations

from html import escape

from handshake_viz.classroom.handout import Handout, LadderRow, Section
from handshake_viz.classroom.handout_fonts import PageFonts, page_fonts
from handshake_viz.core.events import ACK, FIN, PSH, RST, SYN, PacketEvent, SocketEvent
from handshake_viz.render.palette import PHASE_COLOURS
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.results import result_text

HTML_LANG = {"zh": "zh-Hans", "en": "en"}
"""The page's `lang` attribute by catalog (a browser picks CJK glyph forms by it)."""

CSS = """
@page { size: A4; margin: 13mm 12mm; }
* { box-sizing: border-box; }
html { background: #ffffff; color: #111111; }
body { margin: 0 auto; max-width: 186mm; padding: 8mm 0; background: #ffffff;
       font-family: var(--sans); font-size: 10.5pt; line-height: 1.45;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { padding: 0; } }
.brand { color: #555; font-size: 9pt; letter-spacing: .02em; }
h1 { font-size: 18pt; margin: 1mm 0 1mm; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; border-bottom: 1.5px solid #333; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 5mm 0 1mm; break-after: avoid; }
h3::first-letter { text-transform: uppercase; }
h3 .do { font-weight: normal; color: #333; margin-left: 3mm; }
p { margin: 1mm 0; }
.summary { font-size: 11.5pt; }
.who { margin: 3mm 0; display: flex; gap: 8mm; }
.who span { flex: 1; border-bottom: 1px solid #444; padding-top: 4mm; color: #444; }
.how, .capture, .ends { color: #222; }
.capture, .ends { font-size: 9.5pt; }
.say { margin-top: 1mm; }
.look { color: #333; font-size: 9.5pt; }
.look b, .say b { color: #111; }
table.ladder { width: 100%; border-collapse: collapse; margin: 2mm 0 1mm; table-layout: fixed;
               break-inside: auto; font-size: 9pt; }
table.ladder th { font-weight: 600; font-size: 8pt; color: #333; text-align: center;
                  border-bottom: 1px solid #888; padding: 1mm 1mm; }
table.ladder td { padding: 0 1mm; height: 9mm; vertical-align: middle; }
table.ladder tr { break-inside: avoid; }
col.n { width: 7mm; } col.phase { width: 21mm; } col.state { width: 25mm; }
col.seq { width: 17mm; } col.time { width: 17mm; }
td.n, td.num, td.time { font-family: var(--mono); text-align: center; }
td.n { color: #555; }
td.blank { padding: 0 1.5mm; }
td.blank .fill { height: 6mm; border-bottom: 1px solid #777; }
td.na { color: #aaa; text-align: center; }
td.state { text-align: center; font-size: 8.5pt; line-height: 1.15; }
td.state .gloss { display: block; color: #555; font-size: 7.5pt; }
td.lanes { border-left: 2px solid #333; border-right: 2px solid #333; padding: 0; }
.chip { display: block; border-left: 4px solid var(--c); background: var(--t);
        padding: .3mm 1.2mm; font-size: 8pt; line-height: 1.2; white-space: nowrap; }
.arrow { position: relative; height: 9mm; margin: 0 1.5mm; }
.arrow::before { content: ""; position: absolute; top: 6.2mm; left: 0; right: 2.4mm;
                 border-top: 1.6px solid #222; }
.arrow::after { content: ""; position: absolute; top: calc(6.2mm - 1.6mm); right: 0;
                border-left: 3mm solid #222; border-top: 1.7mm solid transparent;
                border-bottom: 1.7mm solid transparent; }
.arrow.s2c::before { left: 2.4mm; right: 0; }
.arrow.s2c::after { right: auto; left: 0; border-left: 0; border-right: 3mm solid #222; }
.arrow.lost::before { border-top-style: dashed; }
.arrow .label { position: absolute; left: 0; right: 0; top: .6mm; text-align: center;
                font-family: var(--mono); font-size: 8.5pt; white-space: nowrap; }
.arrow .mark { color: #a33; font-family: var(--sans); font-size: 7.5pt; }
.call { font-family: var(--mono); font-size: 8.5pt; padding: 0 2mm; color: #124; }
.call.server { text-align: right; }
.none { color: #666; font-style: italic; font-size: 9pt; margin: 1mm 0 2mm; }
section.answers { break-before: page; }
footer { margin-top: 8mm; color: #555; font-size: 8.5pt; border-top: 1px solid #bbb;
         padding-top: 2mm; }
"""


BLANK = '<td class="blank"><div class="fill"></div></td>'
"""A cell for a student to write in."""


def handout_html(h: Handout, embed_fonts: bool = True) -> str:
    """The whole page of handout `h`."""
    cat = load(h.lang)
    body = _body(h, cat)
    footer_words = "".join(cat.text(f"handout.{k}") for k in ("fonts", "embedded", "made"))
    fonts = page_fonts(body + footer_words + "0123456789", embed=embed_fonts)
    lang = HTML_LANG.get(h.lang, h.lang)
    title = escape(cat.text("handout.title", lesson=h.lesson))
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        f'<meta name="generator" content="handshake-viz">\n'
        f'<meta name="fonts" content="{escape(", ".join(fonts.names))}">\n'
        f"<style>\n{fonts.face_css}\n:root {{ --sans: {fonts.sans}; --mono: {fonts.mono}; }}"
        f"{CSS}</style>\n</head>\n<body>\n{body}{_footer(fonts, cat)}</body>\n</html>\n"
    )


def _body(h: Handout, cat: Catalog) -> str:
    out = [
        "<header>",
        f'<div class="brand">{escape(cat.text("handout.brand"))}</div>',
        f"<h1>{escape(cat.text('handout.title', lesson=h.lesson))}</h1>",
        f'<p class="summary">{escape(h.summary)}</p>',
        '<div class="who">'
        + "".join(
            f"<span>{escape(cat.text(f'handout.{k}'))}</span>" for k in ("name", "class", "date")
        )  # fmt: skip
        + "</div>",
        f'<p class="how">{escape(cat.text("handout.how"))}</p>',
    ]
    if h.capture:
        capture = escape(cat.text("handout.capture", file="\x00"))
        out.append(f'<p class="capture">{capture.replace(chr(0), _code(h.capture))}</p>')
    else:
        out.append(f'<p class="capture">{escape(cat.text("handout.no_capture"))}</p>')
    if h.endpoints[0]:
        ends = cat.text("handout.ends", client=h.endpoints[0], server=h.endpoints[1])
        out.append(f'<p class="ends">{escape(ends)}</p>')
    out.append("</header>")
    out.append(f'<section class="worksheet"><h2>{escape(cat.text("handout.worksheet"))}</h2>')
    for section in h.sections:
        out.append(_section(section, cat, answers=False))
    out.append("</section>")
    out.append(f'<section class="answers"><h2>{escape(cat.text("handout.answers"))}</h2>')
    out.append(f'<p class="how">{escape(cat.text("handout.answers_how"))}</p>')
    for section in h.sections:
        if section.rows:
            out.append(_section(section, cat, answers=True))
    out.append("</section>")
    return "\n".join(out) + "\n"


def _code(text: str) -> str:
    return f'<code style="font-family: var(--mono)">{escape(text)}</code>'


def _section(s: Section, cat: Catalog, answers: bool) -> str:
    head = f"<h3>{escape(s.heading)}"
    if s.do:
        head += f'<span class="do">{escape(cat.text("ui.do"))}{escape(s.do)}</span>'
    out = [head + "</h3>"]
    if not answers:
        if s.say:
            out.append(f'<p class="say">{escape(s.say)}</p>')
        if s.look:
            out.append(f'<p class="look"><b>{escape(cat.text("ui.look"))}</b>{escape(s.look)}</p>')
    if s.rows:
        out.append(_ladder(s.rows, cat, answers))
    elif s.do:
        out.append(f'<p class="none">{escape(cat.text("handout.nothing_yet"))}</p>')
    return "\n".join(out)


def _ladder(rows: tuple[LadderRow, ...], cat: Catalog, answers: bool) -> str:
    cols = ["n", "phase", "state", "lanes", "state", "seq", "seq"]
    heads = ["col_n", "col_phase", "col_client", "col_ladder", "col_server", "col_seq", "col_ack"]
    if answers:
        cols.append("time")
        heads.append("col_time")
    out = ['<table class="ladder">', "<colgroup>"]
    out += [f'<col class="{c}">' for c in cols]
    out.append("</colgroup><thead><tr>")
    out += [f"<th>{escape(cat.text(f'handout.{k}'))}</th>" for k in heads]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append(_row(row, cat, answers))
    out.append("</tbody></table>")
    return "\n".join(out)


def _chip(ev: PacketEvent | SocketEvent, cat: Catalog) -> str:
    phase = ev.phase if isinstance(ev, PacketEvent) else None
    if phase is None:
        return ""
    colour = PHASE_COLOURS[phase]
    name = escape(cat.text(f"phase.{phase.value}"))
    return f'<span class="chip" style="--c: {colour}; --t: {colour}2e">{name}</span>'


def _state(state: object, cat: Catalog) -> str:
    if state is None:
        return "—"
    said = cat.text(f"state.{state}")
    code, _, gloss = said.partition("（")
    html = f"<span>{escape(code.strip())}</span>"
    if gloss:
        html += f'<span class="gloss">{escape(gloss.rstrip("）"))}</span>'
    return html


def _row(row: LadderRow, cat: Catalog, answers: bool) -> str:
    ev = row.event
    time = f'<td class="time">{row.since:.3f}</td>' if answers else ""
    if isinstance(ev, SocketEvent):
        text = f"{ev.call}()"
        if ev.result:
            text += f" → {result_text(ev.result, cat.lang)}"
        cells = '<td class="n"></td><td></td><td class="na"></td>'
        cells += f'<td class="lanes"><div class="call {ev.side}">{escape(text)}</div></td>'
        cells += '<td class="na"></td><td class="na"></td><td class="na"></td>'
        return f'<tr class="calls">{cells}{time}</tr>'
    tcp = ev.proto == "tcp"
    label = _label(ev, answers)
    marks = ", ".join(m.replace("_", " ") for m in ev.analysis)
    if marks:
        label += f' <span class="mark">{escape(marks)}</span>'
    arrow = f'<div class="arrow {ev.dir}"><span class="label">{label}</span></div>'
    if not tcp:
        blanks = '<td class="na">—</td>' * 2
        states = ('<td class="na">—</td>', '<td class="na">—</td>')
    elif answers:
        ack = "—" if ev.ack is None else str(ev.ack)
        blanks = f'<td class="num">{ev.seq}</td><td class="num">{ack}</td>'
        states = (f'<td class="state">{_state(ev.client_state, cat)}</td>',
                  f'<td class="state">{_state(ev.server_state, cat)}</td>')  # fmt: skip
    else:
        blanks = BLANK + (BLANK if ev.flags & ACK else '<td class="na">—</td>')
        states = (BLANK, BLANK)
    return (
        f'<tr class="packet"><td class="n">{ev.frame}</td><td>{_chip(ev, cat)}</td>'
        f'{states[0]}<td class="lanes">{arrow}</td>{states[1]}{blanks}{time}</tr>'
    )


def _label(ev: PacketEvent, answers: bool) -> str:
    """The words on a packet's arrow: its flags and length; with the answers, seq and ack."""
    if ev.proto != "tcp":
        return escape(f"UDP len={ev.len}")
    flags = ",".join(n for n, bit in (("SYN", SYN), ("FIN", FIN), ("RST", RST), ("PSH", PSH),
                                      ("ACK", ACK)) if ev.flags & bit)  # fmt: skip
    parts = [flags or "—"]
    if answers:
        parts.append(f"seq={ev.seq}")
        if ev.ack is not None:
            parts.append(f"ack={ev.ack}")
    if ev.len:
        parts.append(f"len={ev.len}")
    return escape(" ".join(parts))


def _footer(fonts: PageFonts, cat: Catalog) -> str:
    names = list(fonts.names)
    if fonts.embedded:
        names[0] = cat.text("handout.embedded", family=fonts.embedded, n=fonts.glyphs)
    from handshake_viz import __version__

    return (
        f"<footer><p>{escape(cat.text('handout.fonts', fonts=', '.join(names)))} "
        f"{escape(cat.text('handout.made', version=__version__))}</p></footer>\n"
    )
