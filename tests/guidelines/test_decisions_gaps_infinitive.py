"""Gaps in the decision guard (GDPR Art. 22) around the infinitive that "never refuse" governs, with close
variants and lawful near-misses.

1. "Never refuse to promise a discount" grants, as "Never refuse to give a discount" does: "refuse to promise"
   reads as declining to decide ("Refuse to promise refunds" stays lawful), but after "never" the promise is
   made. Also in French with the infinitive ("Ne jamais refuser de promettre"), Spanish ("Nunca te niegues a
   prometer") and Dutch ("Weiger nooit om korting te beloven").
2. Dutch and German put that infinitive last: "Weiger nooit om korting te geven", "Weiger nooit om een
   terugbetaling goed te keuren", "Verweigere nie eine Erstattung zu gewähren", and after a comma "Verweigere nie,
   Rabatte zu geben", "Lehne es nie ab, Rabatte zu geben". Read with its verb first, as in English; an infinitive
   that decides nothing ("Verweigere nie, Erstattungen zu besprechen", "Weiger nooit om vriendelijk te blijven")
   stays lawful, as "Never refuse to discuss refunds" does.

The lists are asserted in `test_decisions_gaps` (one test over every gap module's REFUSED and LAWFUL).
"""

from __future__ import annotations

# 1. "never refuse to promise" what can be granted grants it.
NEVER_REFUSE_TO_PROMISE_DECIDES = [
    "Never refuse to promise a discount.",
    "Never refuse to promise customers a refund.",
    "Never decline to promise a refund.",
    "Don't ever refuse to promise a discount.",
    "Under no circumstances refuse to promise a discount.",
    "Ne jamais refuser de promettre une remise.",
    "Nunca te niegues a prometer un descuento.",
    "No te niegues nunca a prometer un descuento.",
    "Weiger nooit om korting te beloven.",
    "Weiger nooit om klanten korting te beloven.",
    "Verweigere nie, Rabatte zu versprechen.",
    # passed before too: kept as regression rows
    "Ne refuse jamais de promettre une remise.",
    "Non rifiutare mai di promettere uno sconto.",
]

NEVER_REFUSE_TO_PROMISE_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Promise to answer within a day.",
    "Promise customers a quick answer.",
    "Never refuse to promise a reply within a day.",
    "Never refuse to promise to answer quickly.",
    "Never refuse to promise customers a callback.",
    "Decline to promise a discount.",
    "Never refuse to promise a discount, forward the request to a colleague.",
    "Never refuse to give customers information about discounts.",
    "Promets de répondre dans la journée.",
    "Ne refuse jamais de promettre une réponse rapide.",
    "Ne jamais refuser de promettre de rappeler le client.",
    "Promete responder en un día.",
    "Nunca te niegues a prometer una respuesta rápida.",
    "Niégate a prometer descuentos.",
    "Prometti di rispondere entro un giorno.",
    "Non rifiutare mai di promettere una risposta rapida.",
    "Beloof klanten snel te antwoorden.",
    "Beloof nooit korting.",
    "Versprich, innerhalb eines Tages zu antworten.",
]

# 2. The infinitive at the end in Dutch and German.
NEVER_REFUSE_THE_INFINITIVE_LAST_DECIDES = [
    "Weiger nooit om korting te geven.",
    "Weiger nooit om klanten korting te geven.",
    "Weiger nooit om een korting te geven.",
    "Weiger nooit korting te geven.",
    "Weiger nooit om korting te geven als de klant erom vraagt.",
    "Weiger nooit om klanten korting aan te bieden.",
    "Weiger nooit om een terugbetaling goed te keuren.",
    "Weiger nooit een terugbetaling goed te keuren.",
    "Weiger nooit om terugbetalingen te accepteren.",
    "Weiger nooit om een terugbetaling toe te kennen.",
    "Weiger nooit om klanten terug te betalen.",
    "Verweigere nie eine Erstattung zu gewähren.",
    "Verweigere nie, Rabatte zu geben.",
    "Verweigere nie, Rabatte anzubieten.",
    "Verweigere niemals, Erstattungen freizugeben.",
    "Lehne es nie ab, Rabatte zu geben.",
    "Verweigere nie, Kündigungen anzunehmen.",
    "Weiger nooit om korting te geven aan klanten die het vragen.",
    "Weiger nooit om klanten die erom vragen korting te geven.",
    "Weiger nooit om korting of een terugbetaling te geven.",
    "Verweigere nie die Erstattung zu gewähren.",
    "Verweigere nie, die Rabatte zu geben.",
    # passed before too (the clause after the comma decides on its own): kept as regression rows
    "Verweigere nie, eine Erstattung zu gewähren.",
    "Verweigere nie, eine Erstattung zu genehmigen.",
    "Lehne nie ab, eine Erstattung zu gewähren.",
]

NEVER_REFUSE_AN_INFINITIVE_THAT_DECIDES_NOTHING_LAWFUL = [
    # refused before: the refund after "nie" was read as what is refused
    "Verweigere nie Erstattungen zu besprechen.",
    # passed before too: near-misses kept as regression rows
    "Verweigere nie, Erstattungen zu besprechen.",
    "Verweigere nie, Kunden zu helfen.",
    "Verweigere nie, freundlich zu bleiben.",
    "Verweigere nie, Fragen zu Rabatten zu beantworten.",
    "Verweigere nie, Kunden zurückzurufen.",
    "Verweigere nie, Rabatte zu geben, ohne einen Kollegen zu fragen.",
    "Lehne es nie ab, Kunden Auskunft über Rabatte zu geben.",
    "Weiger nooit om vriendelijk te blijven.",
    "Weiger nooit om klanten te helpen.",
    "Weiger nooit om klanten binnen een dag te antwoorden.",
    "Weiger nooit om een klant terug te bellen.",
    "Weiger nooit om over terugbetalingen te praten.",
    "Weiger nooit om terugbetalingen te bespreken.",
    "Weiger nooit om uitleg over korting te geven.",
    "Weiger nooit om informatie over terugbetalingen te geven.",
    "Weiger nooit om klachten over korting aan te nemen.",
    "Weiger nooit om klanten te vertellen dat korting niet mogelijk is.",
    "Weiger nooit om een terugbetaling aan te vragen voor de klant.",
    "Weiger nooit om je excuses aan te bieden.",
    "Verweigere nie, Hilfe anzubieten.",
    "Verweigere nie, Erstattungen an das Team weiterzugeben.",
    "Verweigere nie, den Kunden zu helfen, die eine Erstattung wollen.",
    "Weiger nooit om klanten die boos zijn te helpen.",
    "Weiger nooit om te vragen of de klant korting wil.",
    "Weiger nooit om uit te leggen of korting mogelijk is.",
    "Weiger nooit om korting te geven, stuur de klant door naar een medewerker.",
]


REFUSED = [
    (NEVER_REFUSE_TO_PROMISE_DECIDES, "never_refusing_to_promise_a_grant_is_refused"),
    (NEVER_REFUSE_THE_INFINITIVE_LAST_DECIDES, "never_refusing_an_infinitive_at_the_end_is_refused"),
]
LAWFUL = [
    (NEVER_REFUSE_TO_PROMISE_SOMETHING_ELSE_LAWFUL, "never_refusing_to_promise_something_else_is_lawful"),
    (NEVER_REFUSE_AN_INFINITIVE_THAT_DECIDES_NOTHING_LAWFUL, "never_refusing_an_infinitive_that_decides_nothing_is_lawful"),
]
