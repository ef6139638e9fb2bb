"""Style instructions whose negation follows the decision verb (GDPR Art. 22).

German and Dutch put the negation after the verb ("Genehmige Erstattungen nie selbst", "Keur
terugbetalingen nooit goed"): such an instruction forbids deciding and must pass. A negation that
follows but belongs to something else (a later clause, a subordinate clause, a participle, a limit)
must not let an instruction to decide through. "never reject" without whose decision it is ("Lehne
Kreditanträge nie ab") grants every case, as in English, and is refused (test_decisions_gaps_2026.py)."""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision

LAWFUL_POST_VERB_NEGATIONS = [
    "Genehmige Erstattungen nie selbst.",
    "Genehmige Kündigungen niemals selbst.",
    "Entscheide niemals selbst über Kündigungen.",
    "Lehne Kreditanträge nie selbst ab.",  # without "selbst" it grants every one (test_decisions_gaps_2026.py)
    "Nimm Kündigungen nicht selbst an.",
    "Sage Kündigungen niemals zu.",
    "Genehmige keine Erstattungen.",
    "Gewähre niemals Rabatte.",
    "Gib Kunden niemals Rabatt.",
    "Genehmige Erstattungen bis 50 EUR nie selbst.",
    "Storniere Bestellungen nicht selbst, sondern leite sie an das Team weiter.",
    # Dutch: the negation inside a separable verb or before the thing given
    "Betaal klanten nooit terug.",
    "Geef klanten nooit korting.",
]

STILL_INSTRUCTS_TO_DECIDE = [
    "Genehmige Erstattungen unter 50 EUR selbst.",
    "Lehne Kreditanträge ohne Rückfrage ab.",
    # the negation belongs to a later clause
    "Genehmige Kündigungen selbst, frag nicht nach.",
    "Genehmige Kündigungen selbst und frag nicht nach.",
    # ... to a subordinate clause, with or without its comma
    "Genehmige Erstattungen selbst, wenn der Kunde nicht warten will.",
    "Genehmige Erstattungen selbst wenn der Kunde nicht warten will.",
    "Lehne Anträge ab, falls keine Unterlagen vorliegen.",
    "Lehne Anträge ab falls keine Unterlagen vorliegen.",
    # ... to a participle it qualifies
    "Storniere nicht bezahlte Bestellungen selbst.",
    "Erstatte nicht genutzte Abonnements anteilig.",
    "Genehmige Erstattungen bei nicht gelieferter Ware selbst.",
    # ... to a limit
    "Gewähre Rabatte nie über 10 %.",
    "Erstatte Versandkosten nie mehr als 20 EUR.",
]


@pytest.mark.parametrize("text", LAWFUL_POST_VERB_NEGATIONS)
def test_a_negation_after_the_verb_forbids_deciding(text: str) -> None:
    assert instructs_decision(text) is None


@pytest.mark.parametrize("text", STILL_INSTRUCTS_TO_DECIDE)
def test_a_negation_of_something_else_does_not_hide_an_instruction_to_decide(text: str) -> None:
    assert instructs_decision(text)
