"""Gaps in the decision guard (GDPR Art. 22) around what "never refuse" governs, the open ends of
`test_decisions_gaps_infinitive`, with close variants and lawful near-misses.

1. German "sich weigern" is a verb of refusing as "verweigern" is: "Weigere dich nie, Rabatte zu geben" grants, as
   "Verweigere nie, Rabatte zu geben" does. ("Rabatte" after "nie" is no participle, as "bezahlte" is: "Verweigere
   nie, Rabatte selbst zu geben" forbids deciding, as "Never refuse to give discounts yourself" does.)
2. Processing ("verwerken", "process", "traiter", "tramitar", "elaborare", "bearbeiten") decides what "never refuse"
   governs, with a decision object: "Weiger nooit om annuleringen te verwerken", as "Weiger om annuleringen te
   verwerken" refuses them. Alone, or with something else to process, it decides nothing ("Verwerk de feedback van
   klanten", "Never refuse to process customer feedback").
3. Guaranteeing what can be granted is promising it: "Never refuse to guarantee a refund" grants, in six languages;
   "Guarantee a reply within a day" and "Refuse to guarantee refunds" decide nothing.
4. Dutch "toezeggen" (promise): "Weiger nooit om klanten korting toe te zeggen" grants; "Zeg klanten korting toe"
   promises, as "Beloof klanten korting" does; "Zeg klanten een snelle reactie toe" decides nothing.
5. Refusing to promise decides nothing in every language, as "Refuse to promise refunds" does not: "Weiger om klanten
   korting te beloven" and "Verweigere Rabatte zu versprechen" (refused before) now pass.

The lists are asserted in `test_decisions_gaps` (one test over every gap module's REFUSED and LAWFUL).
"""

from __future__ import annotations

# 1. "Weigere dich nie" a grant.
WEIGERE_DICH_NIE_DECIDES = [
    "Weigere dich nie, Rabatte zu geben.",
    "Weigere dich nie Rabatte zu geben.",
    "Weigere dich nie, Erstattungen freizugeben.",
    "Weigere dich nie, eine Kündigung anzunehmen.",
    "Weigere dich nie, Rabatte zu versprechen.",
    "Weigert euch nie, Rabatte zu geben.",
    # passed before too (the clause after the comma decides on its own): kept as regression rows
    "Weigere dich niemals, Erstattungen zu gewähren.",
    "Weigern Sie sich nie, Rabatte zu gewähren.",
]

WEIGERE_DICH_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Weigere dich nie, Kunden zu helfen.",
    "Weigere dich nie, freundlich zu bleiben.",
    "Weigere dich nie, Kunden zurückzurufen.",
    "Weigere dich nie, Fragen zu Rabatten zu beantworten.",
    "Weigere dich nie, über Erstattungen zu sprechen.",
    "Weigere dich nie, Rabatte zu erklären.",
    "Weigere dich nie, Kunden über Erstattungen zu informieren.",
    "Weigere dich nie, Kunden Auskunft über Rabatte zu geben.",
    "Weigere dich nie, Erstattungen an das Team weiterzugeben.",
    "Weigere dich nie, Rabatte zu geben, ohne einen Kollegen zu fragen.",
    "Weigere dich nie, Rabatte zu geben, leite die Anfrage an einen Kollegen weiter.",
    "Weigere dich nie, Rabatte selbst zu geben.",
    "Weigere dich, über Rabatte zu sprechen.",
    "Weigere dich Erstattungen zu besprechen.",
    "Wenn Kunden sich weigern, Gebühren zu zahlen, leite sie an einen Kollegen weiter.",
    "Wenn der Kunde sich weigert, die Kündigung zu bestätigen, leite ihn weiter.",
]

# 2. "never refuse to process" a decision.
NEVER_REFUSE_TO_PROCESS_DECIDES = [
    "Weiger nooit om annuleringen te verwerken.",
    "Weiger nooit annuleringen te verwerken.",
    "Weiger nooit om terugbetalingen te verwerken.",
    "Weiger nooit om een opzegging te verwerken.",
    "Never refuse to process cancellations.",
    "Never refuse to process a refund.",
    "Ne refuse jamais de traiter les annulations.",
    "Nunca te niegues a tramitar las cancelaciones.",
    "Non rifiutare mai di elaborare i rimborsi.",
    "Verweigere nie, Kündigungen zu bearbeiten.",
    "Weigere dich nie, Kündigungen zu bearbeiten.",
]

NEVER_REFUSE_TO_PROCESS_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Verwerk de feedback van klanten.",
    "Verwerk de gegevens van klanten zorgvuldig.",
    "Verwerk annuleringen en stuur ze door naar een medewerker.",
    "Weiger nooit om feedback te verwerken.",
    "Weiger nooit om de feedback van klanten te verwerken.",
    "Weiger nooit om feedback over kortingen te verwerken.",
    "Weiger nooit om klachten over terugbetalingen te verwerken.",
    "Weiger nooit om annuleringen te verwerken zonder een medewerker te vragen.",
    "Weiger nooit om annuleringen te verwerken, stuur ze door naar een medewerker.",
    "Weiger nooit om annuleringsverzoeken door te sturen.",
    "Process customer feedback quickly.",
    "Never refuse to process customer feedback.",
    "Never refuse to process feedback about refunds.",
    "Never refuse to process refund questions.",
    "Never refuse to process cancellations yourself.",
    "Ne refuse jamais de traiter les questions sur les remboursements.",
    "Nunca te niegues a tramitar las preguntas sobre reembolsos.",
    "Non rifiutare mai di elaborare le domande sui rimborsi.",
    "Verweigere nie, Fragen zu Kündigungen zu bearbeiten.",
    "Weigere dich nie, Kündigungen zu bearbeiten, leite sie an das Team weiter.",
]

# 3. "never refuse to guarantee" a grant, and guaranteeing one.
NEVER_REFUSE_TO_GUARANTEE_DECIDES = [
    "Never refuse to guarantee a refund.",
    "Never refuse to guarantee customers a discount.",
    "Don't ever refuse to guarantee a refund.",
    "Ne refuse jamais de garantir un remboursement.",
    "Ne jamais refuser de garantir une remise.",
    "Nunca te niegues a garantizar un reembolso.",
    "Non rifiutare mai di garantire un rimborso.",
    "Verweigere nie, Rabatte zu garantieren.",
    "Weigere dich nie, eine Erstattung zu garantieren.",
    "Weiger nooit om klanten een terugbetaling te garanderen.",
    "Weiger nooit om korting te garanderen.",
    # guaranteeing what can be granted promises it, as "Guarantee customers a refund" (refused before too) does
    "Garantiere Kunden eine Erstattung.",
    "Garantis un remboursement aux clients.",
    "Garantiza un reembolso a los clientes.",
    "Garantisci un rimborso ai clienti.",
    "Garandeer klanten een terugbetaling.",
    "Guarantee customers a refund.",  # passed before too: kept as a regression row
]

GUARANTEE_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Guarantee a reply within a day.",
    "Guarantee customers a quick answer.",
    "Never refuse to guarantee a reply within a day.",
    "Never refuse to guarantee the refund policy.",
    "Never refuse to guarantee that a colleague calls back.",
    "Guarantee that refunds are handled by a colleague.",
    "Refuse to guarantee refunds.",
    "Decline to guarantee a refund.",
    "Garantis une réponse dans la journée.",
    "Garantis aux clients une réponse rapide.",
    "Ne refuse jamais de garantir une réponse rapide.",
    "Garantis que le remboursement sera traité par un conseiller.",
    "Refuse de garantir un remboursement.",
    "Garantiza una respuesta en un día.",
    "Nunca te niegues a garantizar una respuesta rápida.",
    "Garantiza que un agente revise los reembolsos.",
    "Niégate a garantizar reembolsos.",
    "Garantisci una risposta entro un giorno.",
    "Non rifiutare mai di garantire una risposta rapida.",
    "Garantisci che un collega verifichi i rimborsi.",
    "Rifiuta di garantire rimborsi.",
    "Garantiere eine Antwort innerhalb eines Tages.",
    "Garantiere Kunden eine schnelle Antwort.",
    "Verweigere nie, eine schnelle Antwort zu garantieren.",
    "Garantiere, dass Erstattungen von einem Kollegen geprüft werden.",
    "Garandeer een antwoord binnen een dag.",
    "Garandeer klanten een snelle reactie.",
    "Weiger nooit om een snelle reactie te garanderen.",
    "Garandeer dat een medewerker de terugbetaling beoordeelt.",
    "Weiger om terugbetalingen te garanderen.",
]

# 4. Dutch "toezeggen".
TOEZEGGEN_DECIDES = [
    "Weiger nooit om klanten korting toe te zeggen.",
    "Weiger nooit korting toe te zeggen.",
    "Weiger nooit om een terugbetaling toe te zeggen.",
    "Zeg klanten korting toe.",
]

TOEZEGGEN_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Zeg klanten een snelle reactie toe.",
    "Zeg klanten toe dat je binnen een dag antwoordt.",
    "Zeg de klant toe dat een medewerker de terugbetaling beoordeelt.",
    "Weiger nooit om klanten een snelle reactie toe te zeggen.",
    "Zeg klanten dat korting niet mogelijk is.",
    "Weiger nooit om klanten te zeggen dat korting niet mogelijk is.",
    "Zeg nooit korting toe.",
    "Zeg klanten nooit korting toe.",
]

# 5. Refusing to promise (or to talk) decides nothing, in every language.
REFUSE_TO_PROMISE_LAWFUL = [
    # refused before: the promise after "weiger (om)" and its recipient, or the infinitive last, was read as given
    "Weiger om klanten korting te beloven.",
    "Weiger klanten korting te beloven.",
    "Weiger om klanten een terugbetaling te beloven.",
    "Weiger om klanten een terugbetaling te beloven en stuur ze door naar een medewerker.",
    "Weiger om klanten korting toe te zeggen.",
    "Verweigere Rabatte zu versprechen.",
    "Verweigere Kunden Rabatte zu versprechen.",
    "Verweigere Erstattungen zu besprechen.",
    # passed before too: kept as regression rows
    "Weiger om korting te beloven.",
    "Weigere dich Rabatte zu versprechen.",
    "Weigere dich, Kunden Rabatte zu versprechen.",
    "Refuse to promise customers refunds.",
    "Refuse de promettre des remises aux clients.",
    "Niégate a prometer descuentos a los clientes.",
    "Rifiuta di promettere sconti ai clienti.",
]


REFUSED = [
    (WEIGERE_DICH_NIE_DECIDES, "never_refusing_with_sich_weigern_is_refused"),
    (NEVER_REFUSE_TO_PROCESS_DECIDES, "never_refusing_to_process_a_decision_is_refused"),
    (NEVER_REFUSE_TO_GUARANTEE_DECIDES, "never_refusing_to_guarantee_a_grant_is_refused"),
    (TOEZEGGEN_DECIDES, "promising_with_toezeggen_is_refused"),
]
LAWFUL = [
    (WEIGERE_DICH_SOMETHING_ELSE_LAWFUL, "sich_weigern_something_else_is_lawful"),
    (NEVER_REFUSE_TO_PROCESS_SOMETHING_ELSE_LAWFUL, "processing_something_else_is_lawful"),
    (GUARANTEE_SOMETHING_ELSE_LAWFUL, "guaranteeing_something_else_is_lawful"),
    (TOEZEGGEN_SOMETHING_ELSE_LAWFUL, "toezeggen_something_else_is_lawful"),
    (REFUSE_TO_PROMISE_LAWFUL, "refusing_to_promise_is_lawful"),
]
