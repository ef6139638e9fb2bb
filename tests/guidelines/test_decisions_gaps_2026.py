"""Gaps in the decision guard (GDPR Art. 22) from the 2026 review, each with close variants and lawful near-misses.

1. "Never refuse to give a discount" grants (the avatar decides to give discounts), as "Never refuse a refund"
   does: a giving verb after "never refuse to" is read with what it gives.
2. What is given after Italian "e" is still given ("Dai ai clienti informazioni e uno sconto"), as after
   English "and", German "und", French "et", Spanish "y" and Dutch "en".
3. Refusing to promise or guarantee decides nothing, also before a singular noun that reads like a decision
   verb ("Decline to guarantee a refund", like "Refuse to promise refunds").
4. "never reject <decision object>" grants in German and Dutch too ("Lehne Erstattungen nie ab", "Wijs
   terugbetalingen nooit af"), as in English, French, Spanish and Italian; also before an infinitive at the end
   ("Erstattungen nie ablehnen") and for two objects ("Lehne Erstattungen und Rabatte nie ab"). Not when the
   clause says whose decision it is, or the sentence hands over or asks staff first, also after a comma ("Lehne
   Erstattungen nie ab, ohne einen Kollegen zu fragen").
5. What only qualifies or is the topic of what can be granted is not granted: a noun after it ("a refund form"), the
   head of a compound ("Rabattcode", "Rückgabeinformationen"), a noun before it in Romance order ("il modulo di
   rimborso", "le code de réduction", "il codice sconto") or a topic noun with its preposition ("feedback about
   discounts", "klachten over terugbetalingen").
6. A pronoun stands for the object of a negated clause before it too: "Never promise a refund, approve it yourself".
7. Close variants: provide-type giving verbs, "verweigern" at the clause end, Spanish "negarse a", Italian "negare".

The lists are asserted in `test_decisions_gaps` (one test over every gap module's REFUSED and LAWFUL).
"""

from __future__ import annotations

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

# 4. "never reject <decision object>" in German and Dutch.
NEVER_REJECT_DE_NL_DECIDES = [
    "Lehne Erstattungen nie ab.",
    "Lehne Kreditanträge nie ab.",
    "Lehne eine Erstattung niemals ab.",
    "Lehne Kündigungen nie ab.",
    "Verweigere nie eine Erstattung.",
    "Erstattungen nie ablehnen.",
    "Terugbetalingen nooit afwijzen.",
    "Lehne Erstattungen und Rabatte nie ab.",
    "Wijs terugbetalingen en kortingen nooit af.",
    "Lehne niemals Kündigungen ab.",
    "Lehne Erstattungen unter keinen Umständen ab.",
    "Wijs terugbetalingen nooit af.",
    "Wijs leningaanvragen nooit af.",
    "Wijs nooit een terugbetaling af.",
    "Weiger nooit een terugbetaling.",
    # lawful rows before, now read as in English ("Never reject applications because a document is missing")
    "Wijs aanvragen nooit af omdat er een document ontbreekt.",
    "Wijs aanvragen nooit af als de klant documenten niet aanlevert.",
    "Lehne Anträge nie ab, weil ein Dokument fehlt.",
    "Lehne Erstattungsanfragen nie ab.",
    # the other languages, as before
    "Never reject refunds.",
    "Ne refuse jamais les remboursements.",
    "Nunca rechaces reembolsos.",
    "Non rifiutare mai i rimborsi.",
]

NEVER_REJECT_DE_NL_YOURSELF_OR_SOMETHING_ELSE_LAWFUL = [
    "Lehne Erstattungen nie selbst ab.",
    "Lehne Erstattungen nie ab, leite sie an das Team weiter.",
    "Lehne Erstattungen nie ab, ohne einen Kollegen zu fragen.",
    "Never reject a refund, without asking a colleague.",
    "Wijs terugbetalingen nooit af zonder een medewerker te vragen.",
    "Lehne Erstattungen nicht ab.",
    "Lehne es nie ab, eine Frage weiterzuleiten.",
    "Nie ablehnen, eine Frage weiterzuleiten.",
    "Lehne Fragen zu Erstattungen nie ab.",
    "Lehne Erstattungsfragen nie ab.",
    "Fragen zu Erstattungen nie ablehnen.",
    "Verweigere nie die Auskunft über Erstattungen.",
    "Lehne Erstattungen und Rabatte nie selbst ab.",
    "Wijs terugbetalingen en kortingen nooit af, stuur ze door naar het team.",
    "Genehmige oder lehne Erstattungen nie ab.",
    "Wijs terugbetalingen nooit zelf af.",
    "Wijs terugbetalingen nooit af, stuur ze door naar een medewerker.",
    "Wijs klanten nooit op kortingen.",
    "Terugbetalingen nooit afwijzen zonder overleg met het team.",
    "Weiger nooit een vraag over terugbetalingen.",
    "Weiger nooit om een vraag door te sturen naar het team.",
    "Keur terugbetalingen nooit goed en wijs ze nooit af.",
    "Wijs terugbetalingsvragen nooit af.",
    "Lehne Kunden nie ab.",
]


# 5. (review) What qualifies or is about what can be granted is not granted: a qualifier noun after the grant noun or,
#    in Romance order, before it ("modulo di rimborso", "code de réduction"), a topic noun before it ("feedback about
#    discounts", "klachten over terugbetalingen"), a compound head ("Rabattcode", "Rückgabeinformationen").
QUALIFIED_OR_TOPIC_LAWFUL = [
    "Non rifiutare mai di dare il modulo di rimborso.",
    "Non rifiutare mai di dare il codice sconto.",
    "Non rifiutare mai di dare la politica di rimborso.",
    "Ne refuse jamais de donner le formulaire de remboursement.",
    "Ne refuse jamais de donner la politique de remboursement.",
    "Ne refuse jamais de donner le code de réduction.",
    "Never refuse to give feedback about discounts.",
    "Never refuse to give tips on discounts.",
    "Never refuse to give a quick answer about refunds.",
    "Never refuse to give customers a hint about discounts.",
    "Never refuse to give customers the discount terms.",
    "Never refuse to give a refund estimate.",
    "Never refuse to give a refund timeline.",
    "Never refuse to give a refund reference number.",
    "Gib Kunden Informationen und auch einen Rabattcode.",
    "Geef klanten informatie en ook de kortingscode.",
    "Verweigere nie die Rückgabeinformationen.",
    "Lehne Erstattungshinweise nie ab.",
    "Wijs klachten over terugbetalingen nooit af.",
    "Nunca te niegues a dar el formulario de reembolso.",
    "Never refuse to provide the refund policy.",
    "Lehne Beschwerden über Erstattungen nie ab.",
    "Wijs klanten altijd op kortingen, maar keur ze nooit zelf goed.",
    # refused before this session too
    "Give customers the refund form when they ask for it.",
    "Give a refund timeline of five to seven working days.",
    "Gib Kunden den Rabattcode aus dem Newsletter.",
    "Dai ai clienti il codice sconto della newsletter.",
    "Geef klanten het terugbetalingsformulier.",
    "Geef klanten tips over kortingen.",
    "Wijs klanten op de voorwaarden voor korting.",
]

# 6. (review) A pronoun refers back to the object of a negated clause before: "Never promise a refund, approve it
#    yourself" grants it.
PRONOUN_AFTER_NEGATED_CLAUSE_DECIDES = [
    "Decline to guarantee a refund, approve it yourself.",
    "Never promise a refund, approve it yourself.",
    "Do not guarantee a refund, approve it yourself.",
]

# 7. (review) Close variants: provide-type giving verbs, "verweigern" at the clause end, Spanish "negarse a",
#    Italian "negare".
CLOSE_VARIANTS_DECIDE = [
    "Never refuse to provide a refund.",
    "Never refuse to issue a refund.",
    "Erstattungen niemals verweigern.",
    "Nunca te niegues a dar un reembolso.",
    "No te niegues nunca a dar un descuento.",
    "Non negare mai uno sconto.",
    "Non negare mai un rimborso ai clienti.",
    "Provide customers a discount when they complain.",
    "Give customers a discount code and a discount.",
    "Proporciona un descuento a los clientes.",
    "Fornisci uno sconto ai clienti.",
    "Verstrek klanten een korting.",
]

CLOSE_VARIANTS_LAWFUL = [
    "Never refuse to provide information about refunds.",
    "Fragen zu Erstattungen niemals verweigern.",
    "Nunca te niegues a dar información sobre reembolsos.",
    "Non negare mai che i rimborsi richiedono qualche giorno.",
    "Non negare mai informazioni sugli sconti.",
    "Never promise a refund, forward it to a colleague.",
]


REFUSED = [
    (NEVER_REFUSE_TO_GIVE_DECIDES, "never_refusing_to_give_is_refused"),
    (GIVEN_AFTER_AND_DECIDES, "a_grant_after_and_is_refused_in_every_language"),
    (REFUSE_TO_PROMISE_BUT_DECIDE_DECIDES, "a_decision_beside_a_refused_promise_is_refused"),
    (NEVER_REJECT_DE_NL_DECIDES, "never_rejecting_grants_in_every_language"),
    (PRONOUN_AFTER_NEGATED_CLAUSE_DECIDES, "a_pronoun_for_a_negated_clause_object_is_refused"),
    (CLOSE_VARIANTS_DECIDE, "close_variants_of_never_refusing_are_refused"),
]
LAWFUL = [
    (NEVER_REFUSE_TO_GIVE_SOMETHING_ELSE_LAWFUL, "never_refusing_to_give_something_else_is_lawful"),
    (GIVEN_AFTER_AND_SOMETHING_ELSE_LAWFUL, "something_else_after_and_is_lawful"),
    (REFUSE_TO_PROMISE_A_REFUND_LAWFUL, "refusing_to_promise_a_refund_is_lawful"),
    (NEVER_REJECT_DE_NL_YOURSELF_OR_SOMETHING_ELSE_LAWFUL, "never_rejecting_yourself_or_something_else_is_lawful"),
    (QUALIFIED_OR_TOPIC_LAWFUL, "a_qualifier_or_topic_of_a_grant_is_lawful"),
    (CLOSE_VARIANTS_LAWFUL, "close_variants_on_something_else_are_lawful"),
]

