"""The typo re-read of a request for a person (a word one edit from a person: "humna", "Mitarbieter")
runs only on a message that can be a request: one holding a word that a request phrase needs
(wording.HUMAN_REQUEST_SIGNALS) or a short one. Most messages hold none and skip the ~30k-spelling
lookup; no request the typo pass catches is lost for it."""

from __future__ import annotations

from typing import Any

import pytest

from guidelines import checker, wording
from guidelines.normalize import fold

from tests.guidelines.test_handoff_request import EVAL_REQUESTS, REQUESTS, REVIEW_REQUESTS


class _CountingTable(dict):  # type: ignore[type-arg]
    """The typo table, counting the lookups of the typo pass (`keys()`, once a pass)."""

    lookups = 0

    def keys(self) -> Any:
        type(self).lookups += 1
        return super().keys()


@pytest.fixture()
def lookups(monkeypatch: pytest.MonkeyPatch) -> type[_CountingTable]:
    monkeypatch.setattr(_CountingTable, "lookups", 0)
    monkeypatch.setattr(wording, "_typo_table", _CountingTable(wording.human_request_typos()))
    return _CountingTable


WITHOUT_A_REQUEST_WORD = [
    "Hello there, I ordered a jacket last week and it still has not arrived. Where is it? What are your opening hours on Saturday?",
    "The size chart says medium but it fits like a small. How do refunds work in general? Is there a discount for students?",
    "Hallo, ich habe letzte Woche eine Jacke bestellt und sie ist immer noch nicht da. Wo ist meine Lieferung? Liefern Sie nach Österreich?",
    "The humna resources department sent me a letter about the order, the delivery was quick and the packaging was nice.",
]


@pytest.mark.parametrize("text", WITHOUT_A_REQUEST_WORD)
def test_a_long_message_without_a_request_word_skips_the_typo_pass(lookups: type[_CountingTable], text: str) -> None:
    assert len(text) > wording.HUMAN_REQUEST_SHORT_MESSAGE
    assert not checker.requests_human(fold(text))
    assert lookups.lookups == 0


@pytest.mark.parametrize("text", [
    "I have been waiting for twenty minutes now and nothing works, I will talk to my bank about the parcel.",  # "talk"
    "What are your opening hours?",  # short
    "Wie lange dauert der Versand in die Schweiz? Bitte schnell.",  # short, and "bitte"
])
def test_a_message_that_can_be_a_request_is_read_for_typos(lookups: type[_CountingTable], text: str) -> None:
    checker.requests_human(fold(text))
    assert lookups.lookups == 1


@pytest.mark.parametrize("text", [
    "I have been waiting for more than twenty minutes now and nothing works at all, I want to talk to a humna",
    "I have been waiting for more than twenty minutes now and nothing works at all. Hmuan please.",
    "Ich warte seit zwanzig Minuten und nichts funktioniert, ich möchte mit einem Mitarbieter sprechen",
    "J'attends depuis vingt minutes et rien ne marche, pouvez-vous me mettre en relation avec un conseiler ?",
    "Llevo veinte minutos esperando y nada funciona, quiero hablar con un opreador",
    "Aspetto da venti minuti e non funziona niente, voglio parlare con un operatroe",
    "Ik wacht al twintig minuten en niets werkt, ik wil graag met een medewekrer spreken",
])
def test_a_long_request_with_a_typo_still_hands_off(text: str) -> None:
    assert len(text) > wording.HUMAN_REQUEST_SHORT_MESSAGE
    assert checker.requests_human(fold(text))


@pytest.mark.parametrize(("text", "language"), REQUESTS + REVIEW_REQUESTS + EVAL_REQUESTS)
def test_every_listed_request_still_hands_off(text: str, language: str) -> None:
    assert checker.requests_human(fold(text))


def test_every_phrase_holds_a_request_word_besides_a_typo() -> None:
    """A phrase with one typo of a person ("talk to a humna", "humna agent") holds a signal among its
    other words, which the message then holds as written: the gate loses no phrase that a single typo
    makes. A message that is only a person ("hmuan please", "Mitarbieter!") is short: always read."""
    nouns = set(wording.HUMAN_REQUEST_TYPO_NOUNS)
    signals = [fold(signal).text for signal in wording.HUMAN_REQUEST_SIGNALS]
    for phrase in wording.HUMAN_REQUEST_DIRECT + wording.HUMAN_REQUEST_VAGUE + wording.HUMAN_REQUEST_WANT:
        words = fold(phrase).text.split()
        for i, word in enumerate(words):
            if word in nouns:
                rest = f" {' '.join(words[:i] + ['#'] + words[i + 1:])} "
                assert any(f" {signal} " in rest for signal in signals), phrase
    assert max(len(phrase) for phrase in wording.HUMAN_REQUEST_ALONE) + 2 <= wording.HUMAN_REQUEST_SHORT_MESSAGE  # "Humna!!"
