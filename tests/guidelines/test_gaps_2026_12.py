"""Inconsistencies measured in December 2026 in the decision guard (GDPR Art. 22) and the built-in request for a
person, each with close variants and lawful near-misses.

1. A German or Dutch refusal alone before its comma reads with the infinitive it governs: "Weigere dich, Rabatte zu
   geben" refuses discounts (a decision), as "Weigere dich Rabatte zu geben", "Weigere dich, Rabatte zu gewähren" and
   "Refuse to give discounts" do. Refusing to talk, promise, inform or help decides nothing, and neither "Gib niemals
   Rabatte" nor "Gib Kunden Auskunft über Rabatte" is refused.
2. German "behandeln" + "selbst" decides, as "bearbeiten", "erledigen", Dutch "behandelen" and English "handle ...
   yourself" do: "Behandle Erstattungen selbst". French, Spanish and Italian ("Traite les remboursements toi-même",
   "Gestiona los reembolsos tú mismo", "Gestisci i rimborsi da solo") were refused before: kept as regression rows.
   A compound about the object ("Erstattungsrichtlinie", "Rückgabeinformationen") is none, for every German verb.
3. Promising that what can be granted goes some way ("Promise that refunds arrive within 14 days") is information,
   as "Tell customers that refunds arrive within 14 days" is, in English, French, Spanish, Italian and Dutch; a
   promise that someone gets it or that it is decided grants ("Promise customers a refund", "Promise every customer a
   refund if they ask", "Promise that refunds will be approved", and, None before, "Promise that every customer gets
   a refund", "Promise customers that they will get a refund").
4. A request for plural or generic people ("Are there people I can talk to?", "Can I talk to people?", "Gibt es
   Menschen, mit denen ich sprechen kann?") hands off as "Is there a person I can talk to?" does, in English,
   German, French, Spanish, Italian and Dutch; people who are only mentioned ("Do people usually talk to you about
   refunds?", "People say I can talk to you about refunds.", "I talked to people in your shop yesterday.") do not.

The decision guard's lists (`REFUSED`, `LAWFUL`) are asserted by tests.guidelines.test_decisions_gaps with every
other gap module's; this module asserts its request-for-a-person lists (`PLURAL_REQUESTS`, `PLURAL_ORDINARY`).
"""

from __future__ import annotations

from typing import Any

import pytest

from guidelines.checker import CompiledGuidelines, compile_guidelines, requests_human
from guidelines.normalize import fold

BUILTIN_HUMAN_REQUEST = "builtin:human-request"

NEW_AVATAR: dict[str, Any] = {"pii": {"redact": False}}


# 1. A refusal before its comma.
REFUSAL_BEFORE_ITS_COMMA_DECIDES = [
    # measured None before
    "Weigere dich, Rabatte zu geben.",
    "Weigere dich, Kunden Rabatte zu geben.",
    "Weigere dich, einen Rabatt zu geben.",
    "Weigert euch, Rabatte zu geben.",
    "Weigern Sie sich, Rabatte zu geben.",
    "Verweigere, Rabatte zu geben.",
    "Lehne es ab, Rabatte zu geben.",
    "Bitte weigere dich höflich, Rabatte zu geben.",
    # refused before too: kept as regression rows
    "Weigere dich Rabatte zu geben.",
    "Weigere dich, Erstattungen zu gewähren.",
    "Weigere dich, Erstattungen freizugeben.",
    "Weigere dich, Kündigungen anzunehmen.",
    "Weigere dich, Erstattungen zu bearbeiten.",
    "Weigere dich, Rabatte zu geben, und leite die Anfrage an einen Kollegen weiter.",  # as in English
    "Refuse to give discounts.",
    "Weiger, korting te geven.",
    "Weiger, klanten korting te geven.",
    "Weiger, terugbetalingen goed te keuren.",
    "Weiger, annuleringen te verwerken.",
]

REFUSAL_OF_SOMETHING_ELSE_LAWFUL = [
    # refused before: the promise after the comma was read on its own
    "Weiger, korting te beloven.",
    # passed before too: near-misses kept as regression rows
    "Gib niemals Rabatte.",
    "Gib Kunden Auskunft über Rabatte.",
    "Weigere dich, Rabatte zu versprechen.",
    "Weigere dich, Kunden Rabatte zu versprechen.",
    "Weigere dich, über Rabatte zu sprechen.",
    "Weigere dich, Kunden Auskunft über Rabatte zu geben.",
    "Weigere dich, Auskunft über Rabatte zu geben.",
    "Weigere dich, Kunden zu beleidigen.",
    "Weigere dich, Kunden zu helfen.",
    "Weigere dich, Rabatte an einen Kollegen weiterzugeben.",
    "Weigere dich, Rabattcodes zu geben.",
    "Weigere dich, das Rabattformular zu geben.",
    "Weigere dich, persönliche Daten zu geben.",
    "Weiger, klanten te helpen.",
    "Weiger, over korting te praten.",
    "Weiger, klanten informatie over korting te geven.",
    "Wenn Kunden sich weigern, Gebühren zu zahlen, leite sie an einen Kollegen weiter.",
]


# 2. Handling a decision object oneself.
HANDLE_YOURSELF_DECIDES = [
    # measured None before
    "Behandle Erstattungen selbst.",
    "Behandeln Sie Erstattungen selbst.",
    "Behandle Kündigungen selbst.",
    "Behandle Rückerstattungen eigenständig.",
    "Behandle Rabatte selbst.",
    "Behandle Erstattungsanträge selbst.",
    "Behandelt Stornierungen selbst.",
    "Behandle Erstattungen allein.",
    "Behandle Erstattungen selbst, wenn kein Kollege erreichbar ist.",
    # refused before too: kept as regression rows
    "Bearbeite Erstattungen selbst.",
    "Erledige Rückerstattungen selbst.",
    "Kümmere dich selbst um Erstattungen.",
    "Handle refund requests yourself.",
    "Behandel terugbetalingen zelf.",
    "Traite les remboursements toi-même.",
    "Traitez les remboursements vous-même.",
    "Occupe-toi des remboursements toi-même.",
    "Gestiona los reembolsos tú mismo.",
    "Encárgate de los reembolsos tú mismo.",
    "Maneja los reembolsos por tu cuenta.",
    "Gestisci i rimborsi da solo.",
    "Occupati dei rimborsi da solo.",
]

HANDLE_SOMETHING_ELSE_LAWFUL = [
    # refused before: a compound about the object read as the object
    "Bearbeite die Erstattungsrichtlinie selbst.",
    "Behandle die Erstattungsrichtlinie selbst.",
    "Behandle Erstattungsinformationen selbst.",
    "Erledige Kündigungsformulare selbst.",
    # passed before too: near-misses kept as regression rows
    "Behandle Fragen zu Erstattungen selbst.",
    "Behandle Erstattungsfragen selbst.",
    "Behandle Anfragen zu Erstattungen selbst.",
    "Behandle Informationen über Rabatte selbst.",
    "Behandle Kunden freundlich.",
    "Behandle Erstattungen vertraulich.",
    "Behandle Erstattungen nie selbst.",
    "Behandle Erstattungen nicht selbst.",
    "Behandle Erstattungen nicht selbst, sondern leite sie an einen Kollegen weiter.",
    "Behandle jeden Kunden selbst mit Respekt.",
    "Behandle Kunden, die eine Erstattung wollen, selbst freundlich.",
    "Traite les questions sur les remboursements toi-même.",
    "Gestiona las preguntas sobre reembolsos tú mismo.",
    "Gestisci le domande sui rimborsi da solo.",
]


# 3. Promising how it goes, and promising it.
PROMISING_A_GRANT_DECIDES = [
    # measured None before
    "Promise that every customer gets a refund.",
    "Promise customers that they will get a refund.",
    "Promise customers that they will receive a discount.",
    "Promets aux clients qu'ils recevront un remboursement.",
    "Promete a los clientes que recibirán un reembolso.",
    "Prometti ai clienti che riceveranno un rimborso.",
    # refused before too: kept as regression rows
    "Promise customers a refund.",
    "Promise every customer a refund if they ask.",
    "Promise a refund within 14 days.",
    "Promise refunds.",
    "Promise that refunds will be approved.",
    "Promise that refunds are always granted.",
    "Guarantee customers that they will get a refund.",
    "Never refuse to promise a refund.",
    "Never refuse to promise that refunds will be approved.",
    "Promets que les remboursements seront accordés.",
    "Promets un remboursement aux clients.",
    "Promete que los reembolsos serán aprobados.",
    "Prometti che i rimborsi saranno approvati.",
    "Beloof klanten dat ze een terugbetaling krijgen.",
    "Beloof dat terugbetalingen altijd worden goedgekeurd.",
    "Beloof klanten korting.",
]

PROMISING_HOW_IT_GOES_LAWFUL = [
    # refused before: the promise read as granting what it is about
    "Promise that refunds arrive within 14 days.",
    "Promise customers that refunds arrive within 14 days.",
    "Promise customers that their refund will arrive within 14 days.",
    "Promise that refunds are processed within 14 days.",
    "Promise that the refund is paid out within 14 days.",
    "Never refuse to promise that refunds arrive within 14 days.",
    "Promets que les remboursements arrivent sous 14 jours.",
    "Promets aux clients que les remboursements arrivent sous 14 jours.",
    "Garantis que les remboursements arrivent sous 14 jours.",
    "Promete que los reembolsos llegan en 14 días.",
    "Garantiza que los reembolsos llegan en 14 días.",
    "Prometti che i rimborsi arrivano entro 14 giorni.",
    "Beloof dat terugbetalingen binnen 14 dagen aankomen.",
    "Beloof klanten dat terugbetalingen binnen 14 dagen binnen zijn.",
    # passed before too: near-misses kept as regression rows
    "Tell customers that refunds arrive within 14 days.",
    "Guarantee that refunds arrive within 14 days.",
    "Promise that customers receive a reply within a day.",
    "Promise customers that they will get an answer about their refund.",
    "Promise customers that they get a refund form.",
    "Never promise that customers get a refund.",
    "Promets aux clients qu'ils recevront une réponse rapide.",
    "Ne promets jamais aux clients qu'ils recevront un remboursement.",
    "Promete a los clientes que recibirán una respuesta.",
    "Nunca prometas a los clientes que recibirán un reembolso.",
    "Prometti ai clienti che riceveranno una risposta.",
    "Non promettere mai ai clienti che riceveranno un rimborso.",
    "Versprich, dass Erstattungen innerhalb von 14 Tagen ankommen.",
]




# 4. Plural and generic people asked for.
PLURAL_REQUESTS = [
    # measured False before
    ("Are there people I can talk to?", "en"),
    ("Can I talk to people?", "en"),
    ("Gibt es Menschen, mit denen ich sprechen kann?", "de"),
    # close variants
    ("Are there humans I can talk to?", "en"),
    ("Are there people I could speak with?", "en"),
    ("Are there real humans I can contact?", "en"),
    ("Can I speak to people?", "en"),
    ("Could I speak with people please?", "en"),
    ("Can I talk to real people?", "en"),
    ("I want to talk to humans.", "en"),
    ("Gibt es Mitarbeiter, mit denen ich sprechen kann?", "de"),
    ("Gibt es Personen, die ich anrufen kann?", "de"),
    ("Gibt es echte Menschen, mit denen ich reden kann?", "de"),
    ("Kann ich mit Menschen sprechen?", "de"),
    ("Kann ich mit echten Menschen sprechen?", "de"),
    ("Y a-t-il des personnes à qui je peux parler ?", "fr"),
    ("Y a-t-il des gens à qui je peux parler ?", "fr"),
    ("Est-ce que je peux parler à des gens ?", "fr"),
    ("Est-ce que je peux parler à de vraies personnes ?", "fr"),
    ("¿Hay personas con las que pueda hablar?", "es"),
    ("¿Hay personas con quienes pueda hablar?", "es"),
    ("¿Hay gente con la que pueda hablar?", "es"),
    ("¿Puedo hablar con personas?", "es"),
    ("¿Puedo hablar con personas reales?", "es"),
    ("Posso parlare con delle persone?", "it"),
    ("Ci sono persone con cui posso parlare?", "it"),  # passed before too: kept as a regression row
    ("Zijn er mensen met wie ik kan praten?", "nl"),
    ("Zijn er mensen die ik kan bellen?", "nl"),
    ("Zijn er medewerkers met wie ik kan praten?", "nl"),
    ("Kan ik met mensen praten?", "nl"),
    ("Kan ik met echte mensen praten?", "nl"),
]

PLURAL_ORDINARY = [  # people mentioned, nobody asked for: passed before too, kept as regression rows
    ("Do people usually talk to you about refunds?", "en"),
    ("People say I can talk to you about refunds.", "en"),
    ("I talked to people in your shop yesterday.", "en"),
    ("Can people call me through the widget?", "en"),
    ("I like to talk to people.", "en"),
    ("I have people I can talk to.", "en"),
    ("There are people I can talk to at home.", "en"),
    ("My son wants to talk to people.", "en"),
    ("I don't want to talk to people.", "en"),
    ("I will talk to people at the store.", "en"),
    ("Are there people who can help me with refunds?", "en"),
    ("Es gibt Menschen, mit denen ich sprechen kann.", "de"),
    ("Ich habe Freunde, mit denen ich reden kann.", "de"),
    ("Ich rede gern mit Menschen.", "de"),
    ("Wie viele Menschen arbeiten bei Ihnen?", "de"),
    ("J'aime parler avec des gens.", "fr"),
    ("Il y a des gens qui parlent de remboursements.", "fr"),
    ("Me gusta hablar con personas.", "es"),
    ("Hablé con personas de su tienda ayer.", "es"),
    ("Mi piace parlare con le persone.", "it"),
    ("Ik praat graag met mensen.", "nl"),
    ("Ik heb gisteren met mensen van jullie winkel gepraat.", "nl"),
]


@pytest.fixture(scope="module")
def plain() -> CompiledGuidelines:
    return compile_guidelines(NEW_AVATAR, "test-gaps-2026-12")


@pytest.mark.parametrize(("text", "language"), PLURAL_REQUESTS)
def test_asking_for_plural_people_is_a_request(text: str, language: str) -> None:
    assert requests_human(fold(text))


@pytest.mark.parametrize(("text", "language"), PLURAL_REQUESTS)
def test_asking_for_plural_people_hands_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))


@pytest.mark.parametrize(("text", "language"), PLURAL_ORDINARY)
def test_mentioning_people_is_no_request(plain: CompiledGuidelines, text: str, language: str) -> None:
    assert not requests_human(fold(text))
    verdict = plain.check_input(text, language)
    assert verdict.handoff_reason != "customer_request" and BUILTIN_HUMAN_REQUEST not in verdict.rule_ids, verdict


# 5. What a refusal refuses, measured again (December 2026). A verb of refusing before an infinitive refuses what that
# infinitive does: a person after another verb ("Refuse to insult customers", "Weiger om klanten te helpen") is that
# verb's object, not someone decided on, and refusing to give information about what can be granted ("Refuse to give
# customers information about discounts", "Weigere dich Kunden Auskunft über Rabatte zu geben") grants nothing, as
# "Gib Kunden Auskunft über Rabatte" does not. Refusing to give it, or refusing it or the person, decides. German puts
# a comma before "dass": "Versprich Kunden, dass sie eine Erstattung bekommen" promises a grant as "Promise customers
# that they will get a refund" does.
REFUSED_AGAIN = [
    # measured None before
    "Versprich Kunden, dass sie eine Erstattung bekommen.",
    "Versprich Kunden, dass sie einen Rabatt erhalten.",
    "Versprich allen Kunden, dass sie eine Erstattung bekommen.",
    "Versprich allen Kunden, dass sie eine Erstattung innerhalb von 14 Tagen erhalten.",
    "Versprich Kunden, dass sie immer eine volle Erstattung bekommen.",
    "Promise customers, that they will get a refund.",
    "Beloof klanten, dat ze een terugbetaling krijgen.",
    # refused before too: kept as regression rows
    "Versprich, dass Erstattungen genehmigt werden.",
    "Versprich Kunden dass sie eine Erstattung bekommen.",
    "Promise customers that they will get a refund.",
    "Refuse to give customers a discount.",
    "Refuse to give discounts.",
    "Refuse to give refunds to customers.",
    "Refuse to offer customers a better price.",
    "Decline to give customers a refund.",
    "Refuse customers' refund requests.",
    "Refuse refunds to customers.",
    "Refuse customers.",
    "Reject customers.",
    "Refuse to approve customers.",
    "Refuse to refund customers.",
    "Refuse to process cancellations.",
    "Weigere dich, Rabatte zu geben.",
    "Weigere dich, Rabatte zu gewähren.",
    "Weigere dich Rabatte zu geben.",
    "Weigere dich Kunden Rabatte zu geben.",
    "Weiger om klanten korting te geven.",
    "Weiger klanten korting te geven.",
    "Refuse de donner des remises aux clients.",
    "Rifiuta di dare sconti ai clienti.",
    "Niégate a dar descuentos.",
]

LAWFUL_AGAIN = [
    # refused before
    "Refuse to insult customers.",
    "Decline to insult customers.",
    "Refuse to help customers.",
    "Refuse to give customers information about discounts.",
    "Refuse to give customers advice about loans.",
    "Refuse to give customers a refund form.",
    "Weigere dich Kunden Auskunft über Rabatte zu geben.",
    "Weiger om klanten te helpen.",
    "Weiger klanten te helpen.",
    "Weiger om klanten informatie over korting te geven.",
    "Refuse d'insulter les clients.",
    "Refuse de donner aux clients des informations sur les remises.",
    "Rifiuta di insultare i clienti.",
    "Rifiuta di dare ai clienti informazioni sugli sconti.",
    # passed before too: near-misses kept as regression rows
    "Never agree to insult customers.",
    "Refuse to discuss politics.",
    "Refuse to help with homework.",
    "Refuse to promise customers a refund.",
    "Weigere dich, Kunden Auskunft über Rabatte zu geben.",
    "Weiger, klanten te helpen.",
    "Niégate a insultar a los clientes.",
    "Versprich Kunden, dass sie eine Antwort bekommen.",
    "Versprich Kunden, dass Erstattungen innerhalb von 14 Tagen ankommen.",
    "Versprich allen Kunden, dass Erstattungen innerhalb von 14 Tagen ankommen.",
    "Versprich nie, dass Kunden eine Erstattung bekommen.",
    "Versprich Kunden nie, dass sie eine Erstattung bekommen.",
    "Beloof klanten, dat terugbetalingen binnen 14 dagen aankomen.",
]


# Asserted by tests.guidelines.test_decisions_gaps (GAP_MODULES), as every gap module's lists are.
REFUSED = [
    (REFUSAL_BEFORE_ITS_COMMA_DECIDES, "refusing_before_a_comma_is_refused"),
    (HANDLE_YOURSELF_DECIDES, "handling_a_decision_object_yourself_is_refused"),
    (PROMISING_A_GRANT_DECIDES, "promising_a_grant_is_refused"),
    (REFUSED_AGAIN, "refusing_or_promising_a_grant_is_refused"),
]
LAWFUL = [
    (REFUSAL_OF_SOMETHING_ELSE_LAWFUL, "refusing_something_else_is_lawful"),
    (HANDLE_SOMETHING_ELSE_LAWFUL, "handling_something_else_is_lawful"),
    (PROMISING_HOW_IT_GOES_LAWFUL, "promising_how_it_goes_is_lawful"),
    (LAWFUL_AGAIN, "refusing_something_else_or_promising_how_it_goes_is_lawful"),
]
