"""Predict, then reveal: a step's packets stay hidden until the class has said what comes next.

The step's calls are made for real (a kernel cannot be asked to wait), and the ladder holds
back every row from the step's first one (`HeldView`). Once the step has gone quiet the class
is asked how many packets it made, then, packet by packet, a question about each new kind of
packet (`questions.packet_question`); answering, or asking to see the answer, reveals that
packet, with the socket calls beside it and the packets that only repeat one already asked
about (three handshakes: one is asked about). When no hidden packet is left, the step's
words are shown and the ladder is live again.

`Predictor` is plain state over the timeline, with no UI: the classroom app and the tests
drive it, and a teacher's followers get its `hold` with the lesson panel.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from handshake_viz.classroom.guided import StepText
from handshake_viz.classroom.questions import Question, count_question, packet_question
from handshake_viz.core.events import ACK, FIN, RST, SYN, PacketEvent
from handshake_viz.model.playback import TimelineView
from handshake_viz.model.query import matching_rows
from handshake_viz.model.rows import KIND_SOCKET
from handshake_viz.words.catalog import Catalog, load
from handshake_viz.words.explain import packet_kind

NBSP = "\u00a0"
"""A space a panel never breaks a line at."""
SETTLE_QUIET = 0.5
"""Seconds without a new row after a step's calls returned before its questions start (a
connect() left waiting shows its SYN after the merger's hold, 0.3 s)."""


@dataclass
class HeldView(TimelineView):
    """A live view that shows at most `hold` timeline rows (None: all of them)."""

    hold: int | None = None

    def sync(self) -> bool:
        if self.hold is None:
            return super().sync()
        count = self.timeline.count
        grew = False
        if self._rows is not None and self._scanned < count:
            self._rows.extend(matching_rows(self.timeline, self.filter, self._scanned, count))
            self._scanned = count
            grew = True
        shown = min(self.hold, count)
        if self.revealed != shown:
            self.revealed = shown
            grew = True
        return grew


def held_view(view: TimelineView) -> HeldView:
    """`view` as a `HeldView` (an app's view, replaced before its ladder is built)."""
    return HeldView(view.timeline, live=view.live, pause=view.pause, speed=view.speed,
                    playing=view.playing)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the class said to a question, and whether it was right."""

    question: Question
    given: str | None
    """The class's answer as said (None: the teacher showed the answer without one)."""
    right: bool


class Predictor:
    """The predict mode of one lesson: its hidden rows, its question, the class's score.

    Args:
        view: the ladder's view (its hold is set here).
        lang: the language of the questions.
        on: start in predict mode.
    """

    def __init__(self, view: HeldView, lang: str = "en", on: bool = False) -> None:
        self.view = view
        self.timeline = view.timeline
        self.cat = load(lang)
        self.lang = lang
        self.on = on
        self.question: Question | None = None
        self.verdict: Verdict | None = None
        """The last answer, shown until the next question or step."""
        self.right = 0
        self.asked = 0
        self.settled = False
        """The round's step went quiet: its count question was asked."""
        self._start = 0
        self._kinds: set[tuple[object, ...]] = set()

    @property
    def hold(self) -> int | None:
        """Rows the class may see (None: all, no round going on)."""
        return self.view.hold

    @property
    def holding(self) -> bool:
        return self.view.hold is not None

    def begin(self) -> None:
        """A step's calls are about to be made: hide every row from here on."""
        self._start = self.timeline.count
        self.view.hold = self._start
        self.question = None
        self.verdict = None
        self.settled = False
        self._kinds = set()

    def settle(self) -> Question:
        """The step went quiet: ask how many packets it made."""
        tl = self.timeline
        packets = sum(1 for r in range(self._start, tl.count) if tl.kind[r] != KIND_SOCKET)
        self.settled = True
        self.question = count_question(packets, self.cat)
        return self.question

    def answer(self, given: int | str | None) -> Verdict:
        """The class's answer to the question on screen (a choice's index, a typed answer, or
        None to show the answer); reveals what it asked about."""
        q = self.question
        assert q is not None, "no question to answer"
        right = given is not None and q.check(given)
        said = q.choices[given] if isinstance(given, int) else given
        self.verdict = Verdict(q, said, right)
        self.asked += 1
        self.right += int(right)
        self.question = None
        if q.row is not None:
            self._show_to(q.row + 1)
        self._advance()
        if self._next_row() is None:
            self.finish()
        return self.verdict

    def next(self) -> Question | None:
        """The question on the next hidden packet; None (and the round over) when none is left."""
        self._advance()
        row = self._next_row()
        if row is None:
            self.finish()
            return None
        ev = self._packet(row)
        before = self._before(row, ev)
        self._kinds.add(_kind_of(ev))
        self.question = packet_question(ev, before, self.cat, row)
        return self.question

    def finish(self) -> None:
        """End the round: the ladder is live again."""
        self.view.hold = None
        self.question = None

    def toggle(self) -> None:
        """Predict mode on or off (off shows anything held at once)."""
        self.on = not self.on
        if not self.on:
            self.finish()
            self.verdict = None

    # -- rows ---------------------------------------------------------------------------------

    def _packet(self, row: int) -> PacketEvent:
        ev = self.timeline.row(row).event()
        assert isinstance(ev, PacketEvent)
        return ev

    def _show_to(self, rows: int) -> None:
        if self.view.hold is not None:
            self.view.hold = max(self.view.hold, rows)

    def _advance(self) -> None:
        """Show the socket calls, and the packets that only repeat a kind already asked
        about, up to the next packet worth a question."""
        tl = self.timeline
        hold = self.view.hold
        if hold is None:
            return
        while hold < tl.count:
            if tl.kind[hold] != KIND_SOCKET and _kind_of(self._packet(hold)) not in self._kinds:
                break
            hold += 1
        self.view.hold = hold

    def _next_row(self) -> int | None:
        hold = self.view.hold
        if hold is None or hold >= self.timeline.count:
            return None
        return hold

    def _before(self, row: int, ev: PacketEvent) -> list[PacketEvent]:
        """The packets of `ev`'s connection before `row`, oldest first."""
        tl = self.timeline
        sid = tl.sid[row]
        s = tl.streams[sid]
        rows = tl.stream_rows([sid], s.first_row, row)
        return [self._packet(r) for r in rows]


def _kind_of(ev: PacketEvent) -> tuple[object, ...]:
    """What makes two packets the same question: direction, flags, data or not, marks."""
    return (ev.proto, ev.dir, ev.flags & (SYN | ACK | FIN | RST), ev.len > 0, ev.analysis,
            packet_kind(ev))  # fmt: skip


def predict_text(p: Predictor) -> Text:
    """The predict part of the lesson panel: the question, its choices and how to answer,
    then the last verdict; or, between two questions, the verdict and what Space does. The
    question comes first: on a small panel the rest is what is cut."""
    cat = p.cat
    text = Text()
    if p.question is None and not p.settled and p.holding:
        text.append(cat.text("predict.hidden"), style="italic")
        return text
    q = p.question
    if q is not None:
        text.append(cat.text("predict.label"), style="bold magenta")
        text.append(q.prompt)
        text.append("\n")
        for i, choice in enumerate(q.choices, 1):  # no line break inside a choice
            text.append(f"{NBSP}{i}{NBSP}", style="bold reverse")
            text.append(NBSP + choice.replace(" ", NBSP) + "   ")
        text.append("\n")
        text.append(cat.text("predict.choose", n=len(q.choices)), style="dim")
        if p.verdict is not None:
            text.append("\n")
            text.append_text(verdict_text(p))
        return text
    if p.verdict is not None:
        text.append_text(verdict_text(p))
    if p.holding:
        text.append("\n")
        text.append(cat.text("predict.next"), style="dim")
    return text


def verdict_text(p: Predictor) -> Text:
    """The last answer: right, wrong, or shown; with the score so far."""
    v = p.verdict
    cat = p.cat
    if v is None:
        return Text()
    answer = v.question.answer
    if v.given is None:
        text = Text(cat.text("predict.shown", answer=answer), style="bold")
    elif v.right:
        text = Text(cat.text("predict.right", answer=answer), style="bold green")
    else:
        text = Text(cat.text("predict.wrong", given=v.given, answer=answer), style="bold red")
    text.append("  " + cat.text("predict.score", right=p.right, asked=p.asked), style="dim")
    return text


def step_words(t: StepText | None, p: Predictor, cat: Catalog) -> Text:
    """The lesson panel's step: its number, what to say, do and look at; in a predict round
    the question instead of the words (they would tell the answers), and after it the
    verdict above them. `t`: None in free stepping."""
    if t is None:
        text = Text(cat.text("ui.free"))
        if p.holding or p.verdict is not None:
            text.append("\n")
            text.append_text(predict_text(p))
        return text
    text = Text(t.counter(cat), style="dim")
    if t.n == 0:
        text.append("  " + cat.text("ui.begin"), style="dim italic")
    if p.holding:  # one line for the step, the rest for the question
        if t.do:
            text.append("  ")
            text.append(cat.text("ui.do"), style="bold")
            text.append(t.do)
        text.append("\n")
        text.append_text(predict_text(p))
        return text
    if p.verdict is not None:
        text.append("\n")
        text.append_text(verdict_text(p))
    _line(text, cat.text("ui.say"), t.say, always=True)
    _line(text, cat.text("ui.do"), t.do)
    _line(text, cat.text("ui.look"), t.look, always=True)
    return text


def _line(text: Text, label: str, words: str, always: bool = False) -> None:
    if words or always:
        text.append("\n")
        text.append(label, style="bold")
        text.append(words)
