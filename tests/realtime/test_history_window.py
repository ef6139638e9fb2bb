"""The LLM history window of one visitor connection: each text is redacted at most once, including
the visitor's message, which its own turn redacts before the message has a seq."""

from __future__ import annotations

import pytest

from confide.realtime.replies import HistoryWindow


def redacting(calls: list[str]):  # noqa: ANN201
    def redact(text: str) -> str:
        calls.append(text)
        return text.replace("4711", "<PHONE_NUMBER>")

    return redact


@pytest.mark.parametrize("stored_first", [False, True], ids=["turn-first", "store-first"])
def test_the_visitor_text_its_own_turn_redacted_is_not_redacted_again(stored_first: bool) -> None:
    window = HistoryWindow()
    window.add(1, "avatar", "Hello, I am an AI assistant.")
    if stored_first:
        window.add(2, "visitor", "call me on 4711")
    window.remember("call me on 4711", "call me on <PHONE_NUMBER>")  # the speculative turn's own redaction
    if not stored_first:
        window.add(2, "visitor", "call me on 4711")
    window.add(3, "avatar", "Sure, 4711 it is.")
    calls: list[str] = []

    turns = window.turns(after_seq=0, before_seq=4, redact_with=redacting(calls))

    assert [t.text for t in turns] == ["Hello, I am an AI assistant.", "call me on <PHONE_NUMBER>", "Sure, <PHONE_NUMBER> it is."]
    assert calls == ["Hello, I am an AI assistant.", "Sure, 4711 it is."]
    assert window.turns(after_seq=0, before_seq=4, redact_with=redacting(calls)) == turns and len(calls) == 2, "cached"


def test_remembered_texts_that_never_arrive_are_bounded() -> None:
    window = HistoryWindow()
    for n in range(10):
        window.remember(f"text {n}", f"redacted {n}")
    window.add(1, "visitor", "text 9")
    window.add(2, "visitor", "text 0")  # long forgotten: redacted afresh
    calls: list[str] = []
    assert [t.text for t in window.turns(after_seq=0, before_seq=3, redact_with=redacting(calls))] == ["redacted 9", "text 0"]
    assert calls == ["text 0"]


def test_a_repeated_text_lends_its_redaction_to_the_newest_visitor_message() -> None:
    window = HistoryWindow()
    window.add(1, "visitor", "ok 4711")  # an earlier message with the same text
    window.add(2, "avatar", "Noted.")
    window.add(3, "visitor", "ok 4711")  # stored before its turn redacted it
    window.remember("ok 4711", "ok <PHONE_NUMBER>")
    calls: list[str] = []
    assert [t.text for t in window.turns(after_seq=2, before_seq=4, redact_with=redacting(calls))] == ["ok <PHONE_NUMBER>"]
    assert calls == []
