"""Gaps in the decision guard (GDPR Art. 22) from the 2026 review, each with close variants and lawful near-misses.

1. "Never refuse to give a discount" grants (the avatar decides to give discounts), as "Never refuse a refund"
   does: a giving verb after "never refuse to" is read with what it gives.
2. What is given after Italian "e" is still given ("Dai ai clienti informazioni e uno sconto"), as after
   English "and", German "und", French "et", Spanish "y" and Dutch "en".
3. Refusing to promise or guarantee decides nothing, also before a singular noun that reads like a decision
   verb ("Decline to guarantee a refund", like "Refuse to promise refunds").
4. "never reject <decision object>" grants in German and Dutch too ("Lehne Erstattungen nie ab", "Wijs
   terugbetalingen nooit af"), as in English, French, Spanish and Italian.
"""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision
from tests.guidelines.test_decisions_gaps import _cases

# 1. "never refuse to" a giving verb grants what is given.
NEVER_REFUSE_TO_GIVE_DECIDES = [
    "Never refuse to give a discount.",
    "Never refuse to give customers a discount.",
    "Never refuse to offer a discount.",
    "Never refuse to grant a refund.",
    "Never decline to give a 10 % discount.",
    "Don't ever refuse to give a refund.",
    "Ne refuse jamais de donner une remise.",
    "Non rifiutare mai di dare uno sconto.",
]

NEVER_REFUSE_TO_GIVE_SOMETHING_ELSE_LAWFUL = [
    "Never refuse to pass a request on to the team.",
    "Never refuse to give customers information about discounts.",
    "Never refuse to give a refund form to a customer.",
    "Never refuse to give a discount yourself; forward the request to a colleague.",
    "Never refuse to give advice.",
    "Never refuse to offer help.",
    "Never refuse to give customers a free consultation.",
    "Never refuse to give a discount code.",
    "Never refuse to give customers the refund policy.",
    "Decline to give legal advice.",
    "Never promise a discount.",
    "Ne refuse jamais de donner des informations sur les remises.",
    "Non rifiutare mai di dare informazioni sugli sconti.",
]

# 2. What is given after "and" in every language.
GIVEN_AFTER_AND_DECIDES = [
    "Dai ai clienti informazioni e uno sconto.",
    "Dai ai clienti informazioni dettagliate e uno sconto del 10 %.",
    "Dai ai clienti informazioni e sconti.",
    "Dai sempre ai clienti tutte le informazioni necessarie e anche uno sconto.",
    "Dai ai clienti il modulo e uno sconto se lo chiedono.",
    "Give customers information and also a discount.",
    "Gib Kunden Informationen und auch einen Rabatt.",
    "Geef klanten informatie en ook korting.",
    "Gib Kunden Informationen und einen Rabatt.",
    "Donne aux clients des informations et une remise.",
    "Da a los clientes información y un descuento.",
    "Geef klanten informatie en een korting.",
]

GIVEN_AFTER_AND_SOMETHING_ELSE_LAWFUL = [
    "Dai ai clienti informazioni sui rimborsi e sugli sconti.",
    "Dai ai clienti informazioni e il modulo di rimborso.",
    "Dai ai clienti le istruzioni e il rimborso arriva in una settimana.",
    "Non dare ai clienti informazioni e sconti.",
    "Dai ai clienti informazioni e inoltra le richieste di sconto a un collega.",
    "Give customers information about refunds and about discounts.",
    "Gib Kunden Informationen über Rabatte und über Erstattungen.",
    "Il rimborso e approvato se dai le informazioni.",
    "Dai ai clienti informazioni e anche il numero del team.",
    # the topic of the information, as in English and German ("information about returns and a discount")
    "Dai ai clienti informazioni sui resi e uno sconto.",
    "Give customers information about returns and a discount.",
]

# 3. Refusing to promise or guarantee.
REFUSE_TO_PROMISE_A_REFUND_LAWFUL = [
    "Decline to guarantee a refund.",
    "Refuse to promise a refund.",
    "Decline to promise a full refund.",
    "Refuse to guarantee a refund to anyone.",
    "Decline to guarantee a refund, forward the request to a colleague.",
]

REFUSE_TO_PROMISE_BUT_DECIDE_DECIDES = [
    "Decline to guarantee a refund and approve refunds yourself.",
    "Refuse to promise a refund but refund customers yourself.",
    "Decline to guarantee a refund to customers who complain, reject their claims.",
    "Decline to approve a refund.",
    "Refuse to refund a customer.",
]


REFUSED = [
    (NEVER_REFUSE_TO_GIVE_DECIDES, "never_refusing_to_give_is_refused"),
    (GIVEN_AFTER_AND_DECIDES, "a_grant_after_and_is_refused_in_every_language"),
    (REFUSE_TO_PROMISE_BUT_DECIDE_DECIDES, "a_decision_beside_a_refused_promise_is_refused"),
]
LAWFUL = [
    (NEVER_REFUSE_TO_GIVE_SOMETHING_ELSE_LAWFUL, "never_refusing_to_give_something_else_is_lawful"),
    (GIVEN_AFTER_AND_SOMETHING_ELSE_LAWFUL, "something_else_after_and_is_lawful"),
    (REFUSE_TO_PROMISE_A_REFUND_LAWFUL, "refusing_to_promise_a_refund_is_lawful"),
]


@pytest.mark.parametrize("instruction", _cases(REFUSED))
def test_an_instruction_to_decide_is_refused(instruction):
    assert instructs_decision(instruction)


@pytest.mark.parametrize("instruction", _cases(LAWFUL))
def test_a_lawful_instruction_passes(instruction):
    assert instructs_decision(instruction) is None
