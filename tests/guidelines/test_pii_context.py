"""Context words in French, Spanish, Italian and Dutch raise the score of a weak PII match.

A phone number written without "+" scores 0.4 and an IP address 0.6 on their own; a tenant who
raises the minimum score above that still wants them found when the customer says what they are
("mon portable", "mi dirección"). Each case is a real sentence with the context word and the same
sentence with a neutral word instead, which must stay below the minimum score: the word alone makes
the difference. These languages run on the English pipeline, so accented words ("tél.", "móvil") must
survive its tokenizer and lower-casing as they are written."""

from __future__ import annotations

import pytest

from guidelines.pii import detect_pii

# language, entity, minimum score, sentence with the context word, the same with a neutral word, the match
CASES = [
    ("fr", "PHONE_NUMBER", 0.5, "Tél. 01 42 68 53 00", "Réf. 01 42 68 53 00", "01 42 68 53 00"),
    ("fr", "PHONE_NUMBER", 0.5, "Vous pouvez me joindre sur mon portable au 06 12 34 56 78.",
     "Vous pouvez me trouver chez moi au 06 12 34 56 78.", "06 12 34 56 78"),
    ("fr", "PHONE_NUMBER", 0.5, "Mon numéro est le 06 12 34 56 78, merci.", "Mon code est le 06 12 34 56 78, merci.",
     "06 12 34 56 78"),
    ("es", "PHONE_NUMBER", 0.5, "Mi móvil es el 612 345 678.", "Mi piso es el 612 345 678.", "612 345 678"),
    ("es", "PHONE_NUMBER", 0.5, "Llámame al 612 345 678, por favor.", "Escríbeme al 612 345 678, por favor.",
     "612 345 678"),
    ("it", "PHONE_NUMBER", 0.5, "Chiamami al 333 123 4567 domani.", "Scrivimi al 333 123 4567 domani.", "333 123 4567"),
    ("it", "PHONE_NUMBER", 0.5, "Il mio recapito è 333 123 4567.", "Il mio ufficio è 333 123 4567.", "333 123 4567"),
    ("nl", "PHONE_NUMBER", 0.5, "Mijn mobiel is 06 12345678.", "Mijn kantoor is 06 12345678.", "06 12345678"),
    ("nl", "PHONE_NUMBER", 0.5, "Je kunt me bellen op 06 12345678.", "Je kunt me vinden op 06 12345678.", "06 12345678"),
    ("es", "IP_ADDRESS", 0.7, "Mi dirección es 192.168.10.25.", "Mi casa es 192.168.10.25.", "192.168.10.25"),
    ("it", "IP_ADDRESS", 0.7, "Il mio indirizzo è 192.168.10.25.", "Il mio server è 192.168.10.25.", "192.168.10.25"),
    ("nl", "IP_ADDRESS", 0.7, "Mijn adres is 192.168.10.25.", "Mijn server is 192.168.10.25.", "192.168.10.25"),
]


@pytest.mark.parametrize(("language", "entity", "min_score", "with_word", "without_word", "found"), CASES)
def test_a_weak_match_is_found_thanks_to_a_context_word_in_the_customers_language(
    language: str, entity: str, min_score: float, with_word: str, without_word: str, found: str
) -> None:
    spans = detect_pii(with_word, language, min_score=min_score)
    assert [(s.entity, with_word[s.start : s.end]) for s in spans] == [(entity, found)]
    assert detect_pii(without_word, language, min_score=min_score) == []
