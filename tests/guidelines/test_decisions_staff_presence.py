"""A person named in a condition on staff being there hands nothing over (GDPR Art. 22).

"Forward refund requests to a colleague" defers to a human; "Approve refunds yourself if no colleague
is available" tells the avatar to decide whenever nobody is there, and used to pass because it names a
colleague. The same holds for "unless" clauses and for reasons ("because our team is busy") in what
the avatar says."""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision, states_decision

DECIDES_WHEN_STAFF_ARE_AWAY = [
    'Approve refunds yourself if staff are not available.',
    'Approve refunds yourself when no agent is available.',
    'Approve refunds yourself unless a staff member is online.',
    'Cancel contracts yourself whenever the team is busy.',
    'Grant discounts when no colleague is around.',
    'Approve refunds yourself if the support team is offline.',
    'Genehmige Erstattungen selbst wenn kein Mitarbeiter erreichbar ist.',
    'Genehmige Erstattungen selbst falls das Team nicht da ist.',
    "Approuve les remboursements toi-même si aucun conseiller n'est disponible.",
    'Aprueba los reembolsos tú mismo si no hay ningún empleado disponible.',
    'Approva i rimborsi da solo se nessun operatore è disponibile.',
    'Keur terugbetalingen zelf goed als de medewerkers niet bereikbaar zijn.',
    'Keur terugbetalingen zelf goed tenzij een medewerker online is.',
]

DEFERS_TO_STAFF = [
    'Forward refund requests to a staff member.',
    'Let a staff member approve refunds.',
    'Only staff may approve refunds.',
    'Never approve refunds yourself, even when no staff member is available.',
    'Never approve refunds yourself if no staff member is available.',
    'Refer refund requests to a colleague when the customer insists.',
    'If no agent is available, take a message.',
    'Escalate refund requests to a human when no agent is online.',
    'Hand refund requests over to a colleague, even if no one is available right now.',
    'Leite Erstattungsanträge an einen Mitarbeiter weiter wenn niemand erreichbar ist.',
    "Transmets les demandes de remboursement à un conseiller si aucun n'est disponible.",
    'Stuur terugbetalingsverzoeken door naar een medewerker als er niemand bereikbaar is.',
    "Approve nothing yourself; when no staff member is available, take the customer's details.",
    'Tell customers that a staff member decides on refunds when they are back in the office.',
]

STATES_A_DECISION = [
    "Your refund is approved because our team is busy.",
    "Your refund has been approved since no colleague is available.",
    "Ihre Erstattung ist genehmigt, weil kein Mitarbeiter erreichbar ist.",
]

DEFERS_THE_DECISION = [
    "A colleague will decide on your refund when they are available.",
    "I have passed your request to a colleague; our team is available until 6 pm.",
    "Ein Mitarbeiter entscheidet über Ihre Erstattung, sobald er erreichbar ist.",
]


@pytest.mark.parametrize("instruction", DECIDES_WHEN_STAFF_ARE_AWAY)
def test_an_instruction_to_decide_while_staff_are_away_is_refused(instruction):
    assert instructs_decision(instruction)


@pytest.mark.parametrize("instruction", DEFERS_TO_STAFF)
def test_an_instruction_that_hands_over_to_staff_passes(instruction):
    assert instructs_decision(instruction) is None


@pytest.mark.parametrize("text", STATES_A_DECISION)
def test_a_decision_stated_because_staff_are_away_is_blocked(text):
    assert states_decision(text)


@pytest.mark.parametrize("text", DEFERS_THE_DECISION)
def test_a_decision_left_to_staff_is_not_blocked(text):
    assert not states_decision(text)
