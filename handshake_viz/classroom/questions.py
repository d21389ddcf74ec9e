"""Predict, then reveal: the question the class answers before a packet is shown.

Pure: a question is built from the real packet the kernels sent (and the packets before it in
its connection), never from the lesson's script, so what the class must guess is what really
happened on this machine: the ack of *this* SYN-ACK, the state *this* ACK left the server in.
The wrong choices are computed too, from the mistakes a class makes (the length instead of
the next byte, forgetting that a SYN or a FIN uses one sequence number, a neighbouring state).

Each question has numbered choices and takes a free answer (a number, flags, a state, a side)
in either language; `Question.check` says whether an answer is right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from handshake_viz.core.events import ACK, FIN, PSH, RST, SYN, PacketEvent, TcpState, flag_names
from handshake_viz.words.catalog import Catalog, languages, load
from handshake_viz.words.explain import packet_kind

CHOICES = 4
"""Choices offered for a question that has more than two possible answers."""

FLAG_CHOICES: tuple[str, ...] = (
    "SYN", "SYN, ACK", "ACK", "PSH, ACK", "FIN, ACK", "RST, ACK", "RST", "FIN",
)  # fmt: skip
"""Flag sets the wrong choices of a flags question are taken from."""

NEAR_STATES: dict[TcpState, tuple[TcpState, ...]] = {
    TcpState.LISTEN: (TcpState.SYN_RECEIVED, TcpState.ESTABLISHED, TcpState.CLOSED),
    TcpState.SYN_SENT: (TcpState.ESTABLISHED, TcpState.SYN_RECEIVED, TcpState.CLOSED),
    TcpState.SYN_RECEIVED: (TcpState.ESTABLISHED, TcpState.LISTEN, TcpState.SYN_SENT),
    TcpState.ESTABLISHED: (TcpState.SYN_RECEIVED, TcpState.LISTEN, TcpState.SYN_SENT),
    TcpState.FIN_WAIT_1: (TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT, TcpState.TIME_WAIT),
    TcpState.FIN_WAIT_2: (TcpState.FIN_WAIT_1, TcpState.TIME_WAIT, TcpState.CLOSE_WAIT),
    TcpState.CLOSE_WAIT: (TcpState.LAST_ACK, TcpState.FIN_WAIT_2, TcpState.CLOSED),
    TcpState.CLOSING: (TcpState.TIME_WAIT, TcpState.FIN_WAIT_2, TcpState.LAST_ACK),
    TcpState.LAST_ACK: (TcpState.CLOSE_WAIT, TcpState.TIME_WAIT, TcpState.CLOSED),
    TcpState.TIME_WAIT: (TcpState.CLOSED, TcpState.FIN_WAIT_2, TcpState.LAST_ACK),
    TcpState.CLOSED: (TcpState.TIME_WAIT, TcpState.LAST_ACK, TcpState.LISTEN),
}
"""For each state, the states a class confuses it with (its neighbours in RFC 9293's
diagram): the wrong choices of a state question."""

CHINESE_NUMERALS = "零一二三四五六七八九十"
"""A count typed as a word (三 is 3), up to ten."""

SHORT_STATES = {"ESTAB": "ESTABLISHED", "SYN-RCVD": "SYN-RECEIVED", "FIN-WT1": "FIN-WAIT-1",
                "FIN-WT2": "FIN-WAIT-2", "CLOSE-WT": "CLOSE-WAIT", "TIME-WT": "TIME-WAIT",
                "SYN-RECV": "SYN-RECEIVED"}  # fmt: skip
"""Short names a free answer may use (the ladder's and ss's)."""


class Kind(StrEnum):
    """What a question asks; its words are ``predict.ask.<kind>`` in the catalogs."""

    COUNT = "count"
    """How many packets a step puts on the wire."""
    FLAGS = "flags"
    SIDE = "side"
    """Which side sends the next packet (the next FIN, the next datagram)."""
    SEQ = "seq"
    ACK = "ack"
    STATE = "state"
    """Which state one end is in after the packet."""


Truth = int | str | frozenset[str]
"""The right answer: a number, a side ("client"/"server"), a state name, or a set of flags."""


@dataclass(frozen=True, slots=True)
class Question:
    """One question, in the lesson's language."""

    kind: Kind
    prompt: str
    choices: tuple[str, ...]
    """As shown after their numbers (1, 2, ...)."""
    right: int
    """Index of the right choice."""
    truth: Truth
    answer: str
    """The right answer as the verdict says it ("ack = 1")."""
    row: int | None = None
    """The timeline row that answering reveals (None: a step's count question)."""

    def check(self, given: int | str) -> bool:
        """Is `given` right: a choice's index (int), or a free answer (str, any language)?"""
        if isinstance(given, int):
            return given == self.right
        return free_answer(self.kind, given) == self.truth


def free_answer(kind: Kind, text: str) -> Truth | None:
    """A typed answer read as `kind` expects (None: it cannot be read as one)."""
    text = text.strip()
    if kind in (Kind.COUNT, Kind.SEQ, Kind.ACK):
        m = re.search(r"\d+", text)  # any script's digits: ３ is read as 3
        if m:
            return int(m.group())
        spelled = re.search(f"[{CHINESE_NUMERALS}]", text)  # 三个 (how many packets)
        return CHINESE_NUMERALS.index(spelled.group()) if spelled else None
    if kind is Kind.FLAGS:
        words = re.findall(r"[A-Za-z]+", text.upper())
        flags = set()
        for w in words:
            flags.update(re.findall(r"SYN|ACK|FIN|RST|PSH|URG", w))
        return frozenset(flags - {"PSH"}) or None
    if kind is Kind.SIDE:
        return _side_of(text)
    return _state_of(text)


def _side_of(text: str) -> str | None:
    low = text.lower()
    for side in ("client", "server"):
        names = {side, side[0]} | {load(lang).text(f"word.{side}") for lang in languages()}
        if low in names or any(len(n) > 1 and n in low for n in names):
            return side
    return "server" if "服务端" in text else None


def _state_of(text: str) -> str | None:
    name = re.sub(r"[\s_]+", "-", text.strip().upper())
    name = SHORT_STATES.get(name, name)
    for state in TcpState:
        if name in (state.value, state.value.replace("-", "")):
            return state.value
    for lang in languages():  # a state's name in a catalog, or the gloss in its brackets
        cat = load(lang)
        for state in TcpState:
            said = cat.text(f"state.{state.value}")
            gloss = re.search(r"[（(](.+)[）)]", said)
            if text.strip() in (said, gloss.group(1) if gloss else None):
                return state.value
    return None


# -- building questions ------------------------------------------------------------------------


def _flags_text(bits: int) -> str:
    return ", ".join(flag_names(bits & (SYN | ACK | FIN | RST | PSH)))


def _numbers(right: int, wrong: Sequence[int]) -> tuple[tuple[str, ...], int]:
    """`right` and the first distinct wrong numbers (none negative), in ascending order."""
    picked = [right]
    for n in (*wrong, right + 1, right + 2, right + 3):
        if n >= 0 and n not in picked:
            picked.append(n)
        if len(picked) == CHOICES:
            break
    ordered = sorted(picked)
    return tuple(str(n) for n in ordered), ordered.index(right)


def _placed(right: str, wrong: Sequence[str], salt: int) -> tuple[tuple[str, ...], int]:
    """`right` among the first wrong choices, at a place that depends on `salt` (so that the
    right answer is not always the first, and a test can tell where it is)."""
    others = [w for w in dict.fromkeys(wrong) if w != right][: CHOICES - 1]
    at = salt % (len(others) + 1)
    return tuple(others[:at] + [right] + others[at:]), at


def count_question(packets: int, cat: Catalog) -> Question:
    """How many packets a step put on the wire (`packets`, counted once it went quiet)."""
    choices, right = _numbers(packets, (packets - 1, packets + 1, packets + 2, packets - 2))
    return Question(Kind.COUNT, cat.text("predict.ask.count"), choices, right, packets,
                    cat.text("predict.answer.count", n=packets))  # fmt: skip


def packet_question(ev: PacketEvent, before: Sequence[PacketEvent], cat: Catalog,
                    row: int | None = None) -> Question:  # fmt: skip
    """The question to ask before showing `ev`.

    Args:
        ev: the packet the class does not see yet.
        before: the packets before it in its connection, oldest first.
        cat: the lesson's language.
        row: its timeline row (kept in the question: answering shows it).
    """
    sender = "client" if ev.dir == "c2s" else "server"
    values = {"sender": cat.text(f"word.{sender}"), "flags": _flags_text(ev.flags),
              "len": ev.len}  # fmt: skip
    kind, side = _kind_for(ev, before)
    salt = ev.frame
    if kind is Kind.SIDE:
        topic = "udp" if ev.proto == "udp" else "fin" if ev.flags & FIN else "packet"
        choices: tuple[str, ...] = (cat.text("word.client"), cat.text("word.server"))
        return Question(Kind.SIDE, cat.text(f"predict.ask.side_{topic}"), choices,
                        0 if sender == "client" else 1, sender,
                        cat.text("predict.answer.side", side=values["sender"]), row)  # fmt: skip
    if kind is Kind.FLAGS:
        right = _flags_text(ev.flags)
        choices, at = _placed(right, FLAG_CHOICES, salt)
        truth = frozenset(flag_names(ev.flags & (SYN | ACK | FIN | RST)))
        return Question(Kind.FLAGS, cat.text("predict.ask.flags"), choices, at, truth,
                        cat.text("predict.answer.flags", flags=right), row)  # fmt: skip
    if kind in (Kind.SEQ, Kind.ACK):
        number = (ev.seq if kind is Kind.SEQ else ev.ack) or 0
        choices, at = _numbers(number, _wrong_numbers(kind, ev, before, number))
        prompt = cat.text(f"predict.ask.{kind.value}", **values)
        return Question(kind, prompt, choices, at, number,
                        cat.text(f"predict.answer.{kind.value}", n=number), row)  # fmt: skip
    state = (ev.client_state if side == "client" else ev.server_state) or TcpState.CLOSED
    choices, at = _placed(
        cat.text(f"state.{state.value}"),
        [cat.text(f"state.{s.value}") for s in NEAR_STATES[state]],
        salt,
    )
    prompt = cat.text("predict.ask.state", side=cat.text(f"word.{side}"), **values)
    return Question(Kind.STATE, prompt, choices, at, state.value,
                    cat.text("predict.answer.state", side=cat.text(f"word.{side}"),
                             state=cat.text(f"state.{state.value}")), row)  # fmt: skip


def _kind_for(ev: PacketEvent, before: Sequence[PacketEvent]) -> tuple[Kind, str]:
    """What to ask about `ev`, and (for a state) about which end."""
    sender = "client" if ev.dir == "c2s" else "server"
    if ev.proto == "udp":
        return Kind.SIDE, sender
    if ev.flags & (RST | SYN) and not (ev.flags & SYN and ev.flags & ACK):
        return Kind.FLAGS, sender  # SYN (or again), RST: what the kernel sends
    kind = packet_kind(ev)
    if kind == "synack":
        return Kind.ACK, sender
    if kind == "handshake_ack":
        return Kind.STATE, "server"
    if ev.flags & FIN:
        if not any(p.flags & FIN for p in before):
            return Kind.SIDE, sender  # who closes first
        return (Kind.ACK, sender) if ev.flags & ACK else (Kind.STATE, sender)
    if "duplicate_ack" in ev.analysis:
        return Kind.ACK, sender
    if ev.len > 0:
        return Kind.SEQ, sender
    last = before[-1] if before else None
    receiver = "server" if sender == "client" else "client"
    for side in (sender, receiver):  # an ACK that moves an end on (into TIME-WAIT, CLOSED)
        now = ev.client_state if side == "client" else ev.server_state
        was = None if last is None else last.client_state if side == "client" else last.server_state
        if now is not None and now != was:
            return Kind.STATE, side
    return Kind.ACK, sender


def _wrong_numbers(kind: Kind, ev: PacketEvent, before: Sequence[PacketEvent],
                   right: int) -> list[int]:  # fmt: skip
    """The numbers a class gets wrong for this seq or ack."""
    if kind is Kind.SEQ:
        last_own = next((p for p in reversed(before) if p.dir == ev.dir), None)
        own_len = last_own.len if last_own is not None else 0
        return [right - 1, right + 1, right + ev.len, right + own_len, 0]
    heard = next((p for p in reversed(before) if p.dir != ev.dir and (p.len or p.flags & 3)),
                 None)  # fmt: skip
    if heard is None:
        return [right - 1, right + 1, 0]
    # the peer's seq (not the next byte), its length alone, and one past the right answer
    return [heard.seq or 0, right - 1, heard.len, right + 1]
