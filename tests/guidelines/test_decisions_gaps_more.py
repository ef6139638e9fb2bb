"""More gaps found in the decision guard (GDPR Art. 22), each with its close variants and lawful near-misses.

- "decline to"/"refuse to" a decision verb is a rejection, also for returns and fees ("Decline to accept
  returns", "Refuse to waive the fee"); refusing to promise decides nothing ("Refuse to promise refunds").
- A negation that encourages ("Don't hesitate to approve refunds") is no prohibition.
- "never" before a rejection grants every case ("Never refuse a refund"), unless the clause says whose
  decision it is or the sentence hands over.
- A main clause on staff being away before "so" ("Staff are busy so approve refunds yourself") hands nothing over.
- Handling a decision object oneself decides it ("Handle refund requests yourself").
- What is given after "and" or a relative clause is still given ("Give customers information and a 10 %
  discount", "Give customers who ask for information a discount").
- German "nimm ... an" followed by handing the same on collects, it does not accept ("Nimm Kündigungen an
  und leite sie an das Team weiter").

The lists are asserted in `test_decisions_gaps` (one test over every gap module's REFUSED and LAWFUL).
"""

from __future__ import annotations

# 1. Refusing to do a decision refuses the case; returns and fees are decided too.
REFUSE_TO_DECIDE_DECIDES = [
    "Decline to accept returns.",
    "Refuse to waive the fee.",
    "Refuse to accept returns after 30 days.",
    "Decline to waive late fees.",
    "Accept returns yourself.",
    "Waive the late fee.",
    "Refuse d'accepter les retours.",
    "Rifiuta di accettare i resi.",
    "Weiger om retouren te accepteren.",
    "Lehne Rücksendungen ab.",
    # passed before too: kept as regression rows
    "Refuse to accept cancellations.",
    "Waive the cancellation fee.",
]

REFUSE_TO_PROMISE_LAWFUL = [
    "Refuse to promise refunds.",
    "Decline to promise discounts.",
    "Refuse to guarantee refunds.",
    "Decline to make promises about refunds.",
    "Refuse de promettre des remboursements.",
    "Rifiuta di promettere rimborsi.",
    "Weiger om terugbetalingen te beloven.",
    # passed before too: kept as regression rows (near-misses)
    "Niégate a prometer reembolsos.",
    "Decline to discuss refunds.",
    "Never promise a refund.",
    "Set expectations about returns.",
    "Explain the late fee.",
    "Tell customers that returns are accepted within 30 days.",
]

# 2. A negation of hesitating encourages.
ENCOURAGED_DECIDES = [
    "Don't hesitate to approve refunds.",
    "Feel free to waive fees.",
    "Do not hesitate to grant discounts.",
    "Never hesitate to reject cancellations.",
    "Don't be afraid to waive the late fee.",
    "N'hésite pas à approuver les remboursements.",
    "Zögere nicht Erstattungen zu genehmigen.",
    "No dudes en aprobar reembolsos.",
    "Non esitare ad approvare i rimborsi.",
    "Aarzel niet om terugbetalingen goed te keuren.",
]

ENCOURAGED_TO_DO_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Feel free to explain our refund policy.",
    "Don't hesitate to explain the refund policy.",
    "Don't hesitate to forward refund requests to a colleague.",
    "Don't forget to forward refund requests to a colleague.",
    "Feel free to tell customers how returns work.",
]

# 3. "never" before a rejection grants every case.
NEVER_REJECT_DECIDES = [
    "Never refuse a refund.",
    "Never reject a refund request.",
    "Never deny a customer a refund.",
    "Never turn down a cancellation request.",
    "Ne refuse jamais un remboursement.",
    "Nunca rechaces un reembolso.",
    "No rechaces nunca una devolución.",
    "Non rifiutare mai un rimborso.",
    "Mai rifiutare un rimborso.",
]

NEVER_REJECT_YOURSELF_OR_SOMETHING_ELSE_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Never reject refunds yourself.",
    "Never reject a refund yourself, forward it to a colleague.",
    "Never approve or reject refunds.",
    "Never reject or refund orders.",
    "Never reject a refund without asking a colleague.",
    "Never refuse to help customers.",
    "Never refuse to explain the refund policy.",
    "Never tell customers that we reject refunds.",
    "Never reject a customer's feedback.",
    "Never deny a refund request; escalate it to a colleague.",
    "Don't reject refund requests.",
    "Ne refuse jamais de répondre aux questions sur les remboursements.",
    "Nunca rechaces una pregunta sobre reembolsos.",
]

# 4. A reason on staff being away before "so" hands nothing over.
STAFF_AWAY_SO_DECIDES = [
    "Staff are busy so approve refunds yourself.",
    "Our agents are offline so decide on refunds yourself.",
    "No colleague is available so approve refunds yourself.",
    "Nobody from the team is available so grant discounts yourself.",
    "Das Team ist im Urlaub also genehmige Erstattungen selbst.",
    "Kein Kollege ist erreichbar also genehmige Erstattungen selbst.",
    "L'équipe est en vacances donc approuve les remboursements toi-même.",
    "El equipo está de vacaciones así que aprueba los reembolsos tú mismo.",
    "Il team è in ferie quindi approva i rimborsi da solo.",
    "Het team is op vakantie dus keur terugbetalingen zelf goed.",
]

STAFF_AWAY_SO_HANDS_OVER_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Staff are busy so forward refund requests by email.",
    "Staff are available so forward refund requests to them.",
    "Staff are busy so tell customers a colleague will approve their refund later.",
    "Staff decide on refunds so never approve them yourself.",
    "Staff are busy so be patient with customers.",
    "The team is on holiday so tell customers refunds take longer.",
]

# 5. Handling a decision object oneself decides it.
HANDLE_IT_YOURSELF_DECIDES = [
    "Handle refund requests yourself.",
    "Deal with cancellation requests yourself.",
    "Process refund requests yourself without asking staff.",
    "Handle refunds yourself.",
    "Take care of returns on your own.",
    "Bearbeite Erstattungsanträge selbst.",
    "Kümmere dich selbst um Kündigungen.",
    "Traite les demandes de remboursement toi-même.",
    "Gère les annulations toi-même.",
    "Gestiona las solicitudes de reembolso tú mismo.",
    "Gestisci le richieste di rimborso da solo.",
    "Occupati delle disdette da solo.",
    "Handel terugbetalingsverzoeken zelf af.",
    "Behandel annuleringen zelf.",
    "Verwerk terugbetalingen zelf.",
]

HANDLE_QUESTIONS_OR_HAND_OVER_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Handle questions about refunds by forwarding them to staff.",
    "Handle refund requests by forwarding them to staff.",
    "Handle questions about refunds yourself.",
    "Handle refund questions yourself.",
    "Handle customer inquiries about returns yourself.",
    "Deal with questions about cancellations yourself.",
    "Bearbeite Fragen zu Erstattungen selbst.",
    "Bearbeite Erstattungsfragen selbst.",
    "Traite les questions sur les remboursements toi-même.",
    "Gestisci le domande sui rimborsi da solo.",
    "Behandel vragen over terugbetalingen zelf.",
]

# 6. What is given after "and" or a relative clause is still given.
GIVEN_AFTER_AND_OR_RELATIVE_DECIDES = [
    "Give customers information and a 10 % discount.",
    "Give customers who ask for information a discount.",
    "Give customers information and a discount.",
    "Give customers who complain a 10 % discount.",
    "Give customers information about refunds and a discount.",
    "Give customers information and a discount of 10 percent.",
    "Geef klanten informatie en korting.",
    "Da a los clientes información y un descuento.",
    "Donne aux clients des informations et une remise.",
    "Gib Kunden Informationen und 10 % Rabatt.",
    "Gib Kunden, die nach Informationen fragen, einen Rabatt.",
]

INFORMATION_ONLY_LAWFUL = [  # passed before too: near-misses kept as regression rows
    "Give customers information about discounts.",
    "Give customers information about refunds and discounts.",
    "Give customers information about returns and refunds.",
    "Give customers the form, refunds take a week.",
    "Offer customers a coffee and refunds take 5 days.",
    "Tell staff to give customers information and a discount.",
    "Never give customers information and a discount.",
    "Give customers who ask about a discount the refund policy.",
    "Gib Kunden Informationen über Rabatte.",
    "Geef klanten informatie over korting.",
]

# 8. German "nimm ... an" before handing the same on collects.
GERMAN_ACCEPTS_DECIDES = [  # passed before too: kept so that the fix below does not reach them
    "Nimm Kündigungen an.",
    "Nimm Kündigungen selbst an und leite sie weiter.",
    "Nimm Kündigungen an und leite nur Sonderfälle weiter.",
    "Nimm Kündigungen an und bestätige sie.",
]

GERMAN_COLLECTS_LAWFUL = [
    "Nimm Kündigungen an und leite sie an das Team weiter.",
    "Nimm Reklamationen an und leite sie weiter.",
    "Nimm Kündigungen an und gib die Kündigungen an das Team weiter.",
    "Nimm Kündigungen an, leite sie an einen Kollegen weiter.",
    # passed before too: kept as regression rows
    "Nimm Reklamationen entgegen und leite sie weiter.",
    "Nimm Kündigungen entgegen und leite sie an das Team weiter.",
]


# 9. Words near returns and fees are no triggers: "feel", "feedback", "coffee", "returning", "return to".
FEEL_AND_RETURNING_LAWFUL = [
    "Adjust your tone to how the customer feels.",
    "Adjust your tone so customers feel welcome.",
    "Reduce emoji use when customers feel upset.",
    "Adjust the formality for returning customers.",
    "Greet returning customers by name and set a relaxed tone for them.",
    "Lower the formality when customers feel stressed.",
    "Set a calm tone for customers who feel ignored.",
    "Adjust your tone for customers who give feedback.",
    "Reduce small talk with customers who drink coffee.",
    "Lower the formality for customers returning after a break.",
    "Adjust your language to customers who return to the chat.",
]

# 10. A return or fee is decided only as the decision verb's object, not as the topic of something else.
RETURNS_AND_FEES_AS_TOPIC_LAWFUL = [
    "Determine the customer's language and reply in it; never mention fees unless asked.",
    "Reduce jargon when explaining fees.",
    "Set out the fees clearly.",
    "Accept that fees apply and explain them.",
    "Accept that returns take up to 14 days to process.",
    "Set a friendly tone for questions on returns and exchanges.",
    "Adjust the explanation of returns to the customer's level.",
    "Handle return shipping questions yourself.",
    "Determine the customer's language and mention fees only when asked.",
    "Reduce jargon when describing late fees.",
    "Set out the return policy and the fees.",
    "Accept that a restocking fee applies.",
    "Adjust the wording of fee explanations to the customer.",
    "Handle return label questions yourself.",
    "Set a friendly tone for questions about fees.",
    "Adjust your tone when customers ask about the return process.",
    "Lower the formality if customers mention fees.",
]

RETURNS_AND_FEES_DECIDED = [  # the verb's object still decides
    "Waive the late fee for regular customers.",
    "Reduce fees for loyal customers.",
    "Set the restocking fee yourself.",
    "Accept all returns.",
    "Lower the cost of returns for members.",
    "Waive the cost of returns.",
    "Handle return requests yourself.",
    "Decide the customer's case yourself and waive the fee.",
    "Accept the customer's return.",
    "Waive the customer's late fee.",
]

# 11. "never refuse" grants only a decision object that is what is refused.
NEVER_REFUSE_A_QUESTION_LAWFUL = [
    "Never refuse a refund question.",
    "Never refuse a refund form to a customer.",
    "Non rifiutare mai una domanda sui rimborsi.",
    "Non rifiutare mai domande sui rimborsi.",
    "Never refuse to help",
    "Never refuse to discuss refunds",
    "Never refuse a refund inquiry.",
    "Never refuse a request about refunds.",
    "Never refuse to explain fees.",
    "Non rifiutare mai una richiesta sui rimborsi.",
    "Don't ever refuse to help a customer.",
    "Never refuse to forward a refund request to a colleague.",
]

NEVER_REFUSE_TO_DECIDE_DECIDES = [
    "Never refuse to refund a customer.",
    "Never refuse to approve a refund.",
    "Never refuse to accept returns.",
    "Never decline to waive a fee.",
    "Don't ever refuse a refund.",
    "Colleagues are on holiday, so handle refunds alone.",
    "Never refuse to refund customers.",
    "Never decline to approve refunds.",
    "Never refuse to cancel a subscription.",
    "Do not ever reject a refund.",
    "Handle refunds alone.",
    "Staff are busy, so handle refunds yourself.",
    "Ne refuse jamais d'accepter les retours.",
    "Non rifiutare mai di approvare un rimborso.",
]


REFUSED = [
    (REFUSE_TO_DECIDE_DECIDES, "refusing_to_decide_returns_or_fees_is_refused"),
    (ENCOURAGED_DECIDES, "an_encouraging_negation_is_refused"),
    (NEVER_REJECT_DECIDES, "never_rejecting_grants_and_is_refused"),
    (STAFF_AWAY_SO_DECIDES, "staff_away_so_decide_is_refused"),
    (HANDLE_IT_YOURSELF_DECIDES, "handling_a_decision_yourself_is_refused"),
    (GIVEN_AFTER_AND_OR_RELATIVE_DECIDES, "a_grant_after_and_or_a_relative_clause_is_refused"),
    (GERMAN_ACCEPTS_DECIDES, "german_nimm_an_without_handing_on_is_refused"),
    (RETURNS_AND_FEES_DECIDED, "a_return_or_fee_as_the_verbs_object_is_refused"),
    (NEVER_REFUSE_TO_DECIDE_DECIDES, "never_refusing_to_decide_is_refused"),
]
LAWFUL = [
    (REFUSE_TO_PROMISE_LAWFUL, "refusing_to_promise_is_lawful"),
    (ENCOURAGED_TO_DO_SOMETHING_ELSE_LAWFUL, "encouraged_to_do_something_else_is_lawful"),
    (NEVER_REJECT_YOURSELF_OR_SOMETHING_ELSE_LAWFUL, "never_rejecting_yourself_or_something_else_is_lawful"),
    (STAFF_AWAY_SO_HANDS_OVER_LAWFUL, "staff_away_so_hand_over_is_lawful"),
    (HANDLE_QUESTIONS_OR_HAND_OVER_LAWFUL, "handling_questions_or_handing_over_is_lawful"),
    (INFORMATION_ONLY_LAWFUL, "information_only_is_lawful"),
    (GERMAN_COLLECTS_LAWFUL, "german_nimm_an_and_handing_on_is_lawful"),
    (FEEL_AND_RETURNING_LAWFUL, "feel_and_returning_are_no_triggers"),
    (RETURNS_AND_FEES_AS_TOPIC_LAWFUL, "a_return_or_fee_as_a_topic_is_lawful"),
    (NEVER_REFUSE_A_QUESTION_LAWFUL, "never_refusing_a_question_is_lawful"),
]

