"""Gaps found in the decision guard (GDPR Art. 22), each with its close variants.

- French and Spanish "en" is a preposition, not the Dutch "and": it must not cut a clause ("quand
  l'équipe est en vacances", "en appelant le service client").
"""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision

# "en" read as a preposition outside Dutch: the absence stays in its condition, the hand-off in its clause.
FRENCH_SPANISH_EN_DECIDES = [
    "Approuve les remboursements toi-même quand l'équipe est en vacances.",
    "Accorde des remises toi-même si les conseillers sont en congé.",
    "Approuve les remboursements toi-même si l'équipe est en grève.",
    "Approuve les remboursements toi-même si aucun conseiller n'est en ligne.",
    "Aprueba los reembolsos tú mismo si el equipo está en huelga.",
    "Aprueba los reembolsos tú mismo si ningún asesor está en línea.",
    # "en" still ends a clause in Dutch
    "Keur terugbetalingen zelf goed en stuur de rest door naar een medewerker.",
]

FRENCH_SPANISH_EN_LAWFUL = [
    # passed before too: kept as regression rows
    "Si le client demande un remboursement pendant que l'équipe est en vacances, transmets la demande à un conseiller.",
    "Quand le client demande un remboursement en ligne, transmets la demande à un conseiller.",
    "Ne rembourse en aucun cas les clients.",
    # refused before: the hand-off after "en" was read as a clause of its own
    "Dis aux clients qu'ils peuvent annuler leur commande en appelant le service client.",
    "Le client peut résilier son contrat en appelant un conseiller.",
    "Indica que el cliente puede cancelar el pedido en la tienda con un empleado.",
]


@pytest.mark.parametrize("instruction", FRENCH_SPANISH_EN_DECIDES)
def test_french_and_spanish_en_does_not_cut_a_clause_that_decides(instruction):
    assert instructs_decision(instruction)


@pytest.mark.parametrize("instruction", FRENCH_SPANISH_EN_LAWFUL)
def test_french_and_spanish_en_does_not_cut_off_a_hand_off(instruction):
    assert instructs_decision(instruction) is None


# "instead of" right before the decision verb replaces it: the instruction is to do something else.
INSTEAD_OF_DECIDING_LAWFUL = [
    "Invece di approvare i rimborsi, inoltra la richiesta a un collega.",
    "Anziché decidere sui rimborsi, passa la richiesta a un operatore.",
    "Invece di rimborsare il cliente, inoltra la richiesta a un collega.",
    "Anziché approvare i rimborsi da solo, trasferisci la richiesta a un collega.",
    "Au lieu d'approuver les remboursements, transmets la demande à un conseiller.",
    "Statt Erstattungen selbst zu genehmigen, leite die Anfrage an einen Kollegen weiter.",
    "En lugar de aprobar los reembolsos, reenvía la solicitud a un compañero.",
    "En vez de conceder descuentos, deriva la solicitud a un asesor.",
    "In plaats van terugbetalingen goed te keuren, stuur je het verzoek door naar een collega.",
    # passed before: English reads no "-ing" verb
    "Instead of approving refunds, forward the request to a colleague.",
]

INSTEAD_OF_HANDING_OVER_DECIDES = [
    "Approva i rimborsi invece di inoltrarli a un collega.",
    "Invece di inoltrare la richiesta a un collega, approva i rimborsi da solo.",
    "Invece di inoltrare la richiesta a un collega approva i rimborsi da solo.",
    "Anziché chiedere a un operatore, decidi tu sui rimborsi.",
    "Statt die Anfrage an einen Kollegen weiterzuleiten genehmige Erstattungen selbst.",
    "Rather than asking a colleague approve refunds yourself.",
    "Invece di approvare i rimborsi, rifiuta i rimborsi da solo.",
    "Au lieu de transmettre la demande à un conseiller, approuve les remboursements toi-même.",
]


@pytest.mark.parametrize("instruction", INSTEAD_OF_DECIDING_LAWFUL)
def test_instead_of_deciding_hands_over(instruction):
    assert instructs_decision(instruction) is None


@pytest.mark.parametrize("instruction", INSTEAD_OF_HANDING_OVER_DECIDES)
def test_deciding_instead_of_handing_over_is_refused(instruction):
    assert instructs_decision(instruction)
