"""A person named where they hand nothing over does not excuse a decision (GDPR Art. 22).

"Forward refund requests to a colleague" defers to a human; "Approve refunds yourself if no colleague
is available" tells the avatar to decide whenever nobody is there, and used to pass because it names a
colleague. The same holds for "unless", "without" and "instead of", and for reasons ("because our team
is busy") in what the avatar says. A condition on what staff do, or on their being there ("once a
colleague is available"), still defers."""

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
    # a person named after 'without' / 'instead of', or away in other words
    'Approve refunds yourself without asking a colleague.',
    'Approve refunds yourself instead of the team.',
    'Genehmige Erstattungen selbst statt sie an einen Kollegen weiterzuleiten.',
    'Approuve les remboursements toi-même sans consulter un conseiller.',
    'Approva i rimborsi da solo senza chiedere a un collega.',
    'Aprueba los reembolsos tú mismo sin consultar a un compañero.',
    'Keur terugbetalingen zelf goed zonder een collega te raadplegen.',
    'Approve refunds yourself when no staff member answers.',
    'Approve refunds yourself when staff are on holiday.',
    "Approuve les remboursements toi-même car aucun conseiller n'est disponible.",
    'Keur terugbetalingen zelf goed als de medewerkers er niet zijn.',
    # Dutch 'want' (because) starts a clause; a longer 'in plaats van'
    'Keur terugbetalingen zelf goed want de medewerkers zijn er niet.',
    'Keur terugbetalingen zelf goed in plaats van ze door te sturen naar een collega.',
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
    # a condition on what staff do or on their being there; Italian 'da', Spanish 'se' and 'da' (review of ba1e4e7)
    'Fai approvare i rimborsi da un collega disponibile.',
    'Approva i rimborsi solo se il responsabile dà il via libera.',
    'Aprueba reembolsos solo si un compañero da su visto bueno.',
    'Las solicitudes de reembolso se aprueban por un compañero disponible.',
    'Approve refunds only once the manager on duty has signed off.',
    'Approve refunds only as instructed by the manager on duty.',
    'Genehmige Erstattungen nur wenn der Kollege im Büro zugestimmt hat.',
    'Approuve les remboursements seulement si un conseiller présent a donné son accord.',
    'Keur terugbetalingen alleen goed als een collega die vrij is akkoord geeft.',
    'Tell customers that their refund will be processed once a colleague is available.',
    'Let our colleagues approve refunds.',
    'Forward refund requests to a colleague without delay.',
    'Leite Erstattungsanträge ohne Verzögerung an einen Kollegen weiter.',
    # their lawful twins
    'Keur terugbetalingen nooit zelf goed want de medewerkers beslissen daarover.',
    'Stuur terugbetalingsverzoeken door naar een collega in plaats van ze zelf goed te keuren.',
    # 'without delay' hands over; 'unless' a person acts is no absence (review of a3a607c)
    'Gib Erstattungsanträge ohne Verzögerung an einen Kollegen weiter.',
    'Give refund requests without delay to a colleague.',
    'Geef terugbetalingsverzoeken zonder vertraging door aan een collega.',
    'Unless a manager approves the refund tell the customer to wait.',
]

STATES_A_DECISION = [
    "Your refund is approved because our team is busy.",
    "Your refund has been approved since no colleague is available.",
    "Ihre Erstattung ist genehmigt, weil kein Mitarbeiter erreichbar ist.",
    # more languages, and 'without involving a colleague'
    'Your refund has been approved without involving a colleague.',
    'Ihre Erstattung wurde genehmigt, weil unser Team überlastet ist.',
    "Votre remboursement est accepté car aucun conseiller n'est disponible.",
    'Il suo rimborso è approvato perché nessun collega risponde.',
    'Uw terugbetaling is goedgekeurd want het team heeft het druk.',
]

DEFERS_THE_DECISION = [
    "A colleague will decide on your refund when they are available.",
    "I have passed your request to a colleague; our team is available until 6 pm.",
    "Ein Mitarbeiter entscheidet über Ihre Erstattung, sobald er erreichbar ist.",
    # a hand-off message that names when a person will be there (review of ba1e4e7)
    'Your request will be processed as soon as a colleague is available.',
    'Your cancellation will be processed as soon as an agent is online.',
    'Uw aanvraag wordt verwerkt zodra een medewerker beschikbaar is.',
    'Su reembolso será procesado cuando un compañero esté disponible.',
    'La sua richiesta sarà elaborata quando un collega sarà disponibile.',
    'Unless you withdraw it, your refund request will be processed by a colleague.',
    'Il suo reclamo sarà elaborato da un operatore disponibile al più presto.',
    'A colleague will contact you about your refund without delay.',
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
