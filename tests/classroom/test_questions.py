"""Predict mode's questions and its rounds, on real packets (the bundled basic capture, a
Zeek capture with a fast retransmission): every right answer is read from the packet, and a
different packet makes a different answer."""

from __future__ import annotations

import dataclasses

import pytest

from handshake_viz.classroom.predict import HeldView, Predictor
from handshake_viz.classroom.questions import (
    Kind,
    count_question,
    free_answer,
    packet_question,
)
from handshake_viz.core.events import PacketEvent, SocketEvent
from handshake_viz.model.timeline import Timeline
from handshake_viz.words.catalog import languages, load
from tests.helpers.fakes import read_events
from tests.helpers.paths import ROOT, TSHARK_DATA

BASIC = ROOT / "captures" / "basic.pcap"


def basic_packets() -> list[PacketEvent]:
    return [e for e in read_events(BASIC) if isinstance(e, PacketEvent)]


def questions(packets: list[PacketEvent], lang: str = "en") -> list:
    cat = load(lang)
    out = []
    for i, ev in enumerate(packets):
        before = [p for p in packets[:i] if (p.proto, p.stream) == (ev.proto, ev.stream)]
        out.append(packet_question(ev, before, cat, i))
    return out


def test_each_packet_of_a_connection_gets_the_question_a_teacher_would_ask() -> None:
    qs = questions(basic_packets())
    assert [q.kind for q in qs] == [
        Kind.FLAGS, Kind.ACK, Kind.STATE,  # SYN; SYN-ACK's ack; the server after the ACK
        Kind.SEQ, Kind.ACK, Kind.SEQ, Kind.ACK,  # data and its ACK, each way
        Kind.SIDE, Kind.ACK, Kind.STATE,  # who closes first; ack of a FIN; the server CLOSED
    ]  # fmt: skip
    assert qs[7].prompt == load("en").text("predict.ask.side_fin")


def test_the_right_answer_is_the_packets_own_and_among_the_choices() -> None:
    packets = basic_packets()
    for q, ev in zip(questions(packets), packets, strict=True):
        assert q.check(q.right)
        assert not any(q.check(i) for i in range(len(q.choices)) if i != q.right)
        assert len(set(q.choices)) == len(q.choices) >= 2
        if q.kind is Kind.ACK:
            assert q.truth == ev.ack and q.choices[q.right] == str(ev.ack)
        if q.kind is Kind.SEQ:
            assert q.truth == ev.seq and q.choices[q.right] == str(ev.seq)


def test_another_packet_makes_another_answer() -> None:
    """Nothing is written in the lesson: a SYN-ACK acknowledging 5 asks for 5."""
    packets = basic_packets()
    odd = dataclasses.replace(packets[1], ack=5)
    q = packet_question(odd, packets[:1], load("en"), 1)
    assert q.truth == 5 and q.choices[q.right] == "5" and q.answer == "ack = 5"


def test_the_wrong_choices_are_the_usual_mistakes() -> None:
    """The ACK of 6 bytes sent at seq 1 acknowledges 7: the class may say 6 (the length), 1
    (the peer's seq) or 8; a FIN's ACK counts the FIN as one byte."""
    qs = questions(basic_packets())
    assert qs[4].choices == ("1", "6", "7", "8") and qs[4].truth == 7
    assert "7" in qs[8].choices and qs[8].truth == 8  # the FIN at seq 7: ack 8, not 7


def test_a_duplicate_ack_and_a_fast_retransmission() -> None:
    events = [e for e in read_events(TSHARK_DATA / "zeek__tcp_retransmit-fast009.pcap")
              if isinstance(e, PacketEvent)]  # fmt: skip
    qs = questions(events)
    dups = [(q, e) for q, e in zip(qs, events, strict=True) if "duplicate_ack" in e.analysis]
    fast = [(q, e) for q, e in zip(qs, events, strict=True) if "fast_retransmission" in e.analysis]
    assert dups and fast
    assert all(q.kind is Kind.ACK and q.truth == e.ack for q, e in dups)
    assert all(q.kind is Kind.SEQ and q.truth == e.seq for q, e in fast)


@pytest.mark.parametrize(("packets", "choices"), [(0, ("0", "1", "2", "3")),
                                                  (3, ("2", "3", "4", "5")),
                                                  (9, ("8", "9", "10", "11"))])  # fmt: skip
def test_how_many_packets(packets: int, choices: tuple[str, ...]) -> None:
    q = count_question(packets, load("en"))
    assert q.choices == choices and q.choices[q.right] == str(packets)


@pytest.mark.parametrize(
    ("kind", "typed", "read"),
    [
        (Kind.ACK, " 15 ", 15),
        (Kind.SEQ, "１５", 15),  # full-width digits, as a Chinese keyboard types them
        (Kind.COUNT, "三个", 3),
        (Kind.COUNT, "none", None),
        (Kind.FLAGS, "syn ack", frozenset({"SYN", "ACK"})),
        (Kind.FLAGS, "SYN-ACK", frozenset({"SYN", "ACK"})),
        (Kind.FLAGS, "synack", frozenset({"SYN", "ACK"})),
        (Kind.FLAGS, "PSH,ACK", frozenset({"ACK"})),
        (Kind.FLAGS, "hello", None),
        (Kind.STATE, "established", "ESTABLISHED"),
        (Kind.STATE, "ESTAB", "ESTABLISHED"),
        (Kind.STATE, "time wait", "TIME-WAIT"),
        (Kind.STATE, "已建立", "ESTABLISHED"),
        (Kind.STATE, "时间等待", "TIME-WAIT"),
        (Kind.STATE, "nowhere", None),
        (Kind.SIDE, "server", "server"),
        (Kind.SIDE, "c", "client"),
        (Kind.SIDE, "客户端", "client"),
        (Kind.SIDE, "服务器", "server"),
    ],
)
def test_typed_answers_in_either_language(kind: Kind, typed: str, read: object) -> None:
    assert free_answer(kind, typed) == read


@pytest.mark.parametrize("lang", languages())
def test_every_question_and_answer_has_its_words(lang: str) -> None:
    cat = load(lang)
    keys = [f"predict.ask.{k}" for k in ("count", "flags", "side_packet", "side_fin",
                                         "side_udp", "seq", "ack", "state")]  # fmt: skip
    keys += [f"predict.{part}.{k.value}" for k in Kind for part in ("answer", "hint")
             if k is not Kind.SIDE or part == "answer"] + ["predict.hint.side"]  # fmt: skip
    for key in keys:
        assert cat.has(key), (lang, key)
    if lang == "zh":
        for q in questions(basic_packets(), "zh"):
            assert not any(w in q.prompt for w in ("What", "Which", "will")), q.prompt


# -- a round, on a timeline that grows as a capture does -----------------------------------


def round_over(events: list, socket_first: bool = True) -> tuple[Predictor, Timeline]:
    tl = Timeline()
    view = HeldView(tl, live=True)
    p = Predictor(view, "en", on=True)
    p.begin()
    calls = [SocketEvent(events[0].time, "client", "connect", result="ok")] if socket_first else []
    tl.extend(calls + events)
    view.sync()
    return p, tl


def test_a_round_shows_nothing_until_asked_then_one_packet_per_answer() -> None:
    packets = basic_packets()[:3]
    p, tl = round_over(packets)
    assert p.view.visible_count == 0
    q = p.settle()
    assert q.kind is Kind.COUNT and q.truth == 3
    p.answer(q.right)
    p.view.sync()
    assert p.view.visible_count == 1  # the connect() call, not its packets
    shown = []
    while (q := p.next()) is not None:
        p.answer(None)
        p.view.sync()
        shown.append(p.view.visible_count)
        assert p.verdict is not None and p.verdict.given is None and not p.verdict.right
    assert shown == [2, 3, 4] and not p.holding and (p.right, p.asked) == (1, 4)


def test_a_step_with_no_packet_is_one_question() -> None:
    tl = Timeline()
    p = Predictor(HeldView(tl, live=True), "zh", on=True)
    p.begin()
    tl.extend([SocketEvent(1.0, "server", "listen", result="backlog 5")])
    q = p.settle()
    assert q.truth == 0 and q.answer == load("zh").text("predict.answer.count", n=0)
    p.answer("0")
    assert not p.holding and p.verdict is not None and p.verdict.right
