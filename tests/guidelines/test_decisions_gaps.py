"""Gaps found in the decision guard (GDPR Art. 22), each with its close variants.

- French and Spanish "en" is a preposition, not the Dutch "and": it must not cut a clause ("quand
  l'équipe est en vacances", "en appelant le service client").
- A decision verb right after "instead of" is the one not to do ("Invece di approvare i rimborsi,
  inoltra la richiesta a un collega").
- A purpose clause that spares staff ("so that the team does not have to") is no hand-off.
- A Dutch "niet" in a relative clause about the customer ("klanten die niet tevreden zijn") or in an
  adjective phrase ("voor niet tevreden klanten") does not forbid the decision.
- A pronoun after a decision verb may stand for the decision object of the clause before ("If a customer
  asks for a refund, reject it").
- French, Spanish and Italian "without" negates only the verb it governs ("sans rembourser"), not a
  later one ("Sans hésiter approuve les remboursements toi-même").
- A purpose clause in which staff do something else ("so that the team can focus on other work") or an
  infinitive that spares them ("to spare the team", "um das Team zu entlasten") is no hand-off.
- Giving information about what can be granted is not granting it ("Give customers information about
  discounts").
- "issue" with something other than a decision ("Issue a ticket for refund requests") and "decline to"
  another verb ("Decline to discuss refunds") decide nothing.
- Italian "rimborsi", "rifiuti" after an article or preposition are nouns ("sui rimborsi").

The lists of every gap module (this one, `test_decisions_gaps_2026`, `test_decisions_gaps_more`,
`test_decisions_gaps_infinitive`, `test_decisions_gaps_refusing`) are asserted by the one test at the end of this
module.
"""

from __future__ import annotations

import pytest

from guidelines.decisions import instructs_decision, states_decision
from tests.guidelines import test_decisions_gaps_2026 as gaps_2026
from tests.guidelines import test_decisions_gaps_infinitive as gaps_infinitive
from tests.guidelines import test_decisions_gaps_more as gaps_more
from tests.guidelines import test_decisions_gaps_refusing as gaps_refusing
from tests.guidelines import test_gaps_2026_12 as gaps_2026_12

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


# A purpose clause that spares staff is no hand-off; one in which they decide still is.
SPARES_STAFF_DECIDES = [
    "Approve refunds yourself so that the team does not have to.",
    "Grant discounts yourself so the staff don't need to.",
    "Approve refunds yourself so that colleagues do not have to.",
    "Cancel contracts yourself so the team is not bothered.",
    "Approve refunds yourself so that the staff are spared the work.",
    "Genehmige Erstattungen selbst damit die Kollegen nicht müssen.",
    "Gewähre Rabatte selbst damit die Mitarbeiter entlastet werden.",
    # with its comma it was refused before too
    "Genehmige Erstattungen selbst, damit das Team es nicht muss.",
    "Approuve les remboursements toi-même pour que l'équipe n'ait pas à le faire.",
    "Aprueba los reembolsos tú mismo para que el equipo no tenga que hacerlo.",
    "Approva i rimborsi da solo affinché i colleghi non debbano farlo.",
    "Keur terugbetalingen zelf goed zodat de collega's het niet hoeven te doen.",
    # the negation before whom it spares
    "Approve refunds yourself so that no colleague has to.",
    "Grant discounts yourself so no one on the team needs to.",
    "Genehmige Erstattungen selbst damit kein Kollege das tun muss.",
]

PURPOSE_HANDS_OVER = [
    "Collect the refund details so that a colleague can decide.",
    "Forward refund requests to a colleague so that the customer does not have to wait.",
    "Forward refund requests to a colleague so that the team does not miss them.",
    "Take the customer's details for refund requests so that a colleague does not have to ask again.",
    "Never approve refunds yourself so that the team does not have to undo them.",
    "Sammle die Angaben zur Erstattung, damit ein Kollege entscheiden kann.",
    "Stuur terugbetalingsverzoeken door naar een collega zodat de klant niet hoeft te wachten.",
    # German "damit" before a negation is "with it", no purpose clause
    # German "so" is an adverb, not "so that" (passed before too: a regression row)
    "Leite Erstattungsanträge so schnell wie möglich an einen Kollegen weiter, damit Kunden nicht warten.",
    "Gewähre damit nie Rabatte.",
    "Genehmige damit keine Erstattungen.",
    # "refund requests" is a noun, not the verb "refund" (refused once the purpose clause was cut)
    "Record refund requests so that the team does not lose them.",
    "Log refund requests so that colleagues don't have to search for them.",
]


def test_a_decision_stated_to_spare_staff_is_blocked():
    assert states_decision("Your refund has been approved so that our team does not have to deal with it.")


# Dutch: "niet" about the customer, in a relative clause or an adjective phrase, is no prohibition.
DUTCH_NIET_ABOUT_THE_CUSTOMER_DECIDES = [
    "Geef klanten die niet tevreden zijn tien procent korting.",
    "Geef klanten die niet tevreden zijn een korting van tien procent.",
    "Geef klanten die het product niet willen houden tien procent korting.",
    "Geef klanten die niet tevreden zijn 10 % korting.",
    "Geef tien procent korting voor niet tevreden klanten.",
    "Geef een korting van tien procent voor niet tevreden klanten.",
    "Geef korting aan niet-leden.",
    "Keur terugbetalingen goed voor niet tevreden klanten.",
    "Geef niet tevreden klanten tien procent korting.",
    # refused before too
    "Geef tien procent korting aan klanten die niet tevreden zijn.",
]

DUTCH_NIET_FORBIDS = [
    "Geef klanten die niet tevreden zijn nooit zelf korting.",
    "Geef klanten die niet tevreden zijn nooit tien procent korting.",
    "Geef klanten die een klacht hebben nooit tien procent korting.",
    "Geef nooit tien procent korting voor niet tevreden klanten.",
    "Geef niet zomaar korting.",
    "Geef niet zelf korting aan klanten.",
    "Geef klanten niet zomaar tien procent korting.",
    "Keur terugbetalingen voor klanten niet zelf goed.",
]


# A pronoun after the decision verb stands for the decision object of the clause before.
PRONOUN_FOR_THE_DECISION_OBJECT_DECIDES = [
    "If a customer asks for a refund, reject it.",
    "When a customer requests a refund, approve it yourself.",
    "If a customer asks for a discount, grant it.",
    "If a customer wants to cancel the contract, accept it.",
    "A customer may ask for a refund. Approve it yourself.",
    "Wenn ein Kunde eine Erstattung verlangt, lehne sie ab.",
    "Wenn ein Kunde eine Erstattung verlangt, genehmige sie selbst.",
    "Wenn ein Kunde einen Rabatt möchte, gewähre ihn.",
    "Si un client demande un remboursement, refuse-le.",
    "Si un client demande une remise, accorde-la toi-même.",
    "Si un cliente pide un reembolso, recházalo.",
    "Si un cliente pide un descuento, concédelo tú mismo.",
    "Se un cliente chiede un rimborso, rifiutalo.",
    "Se un cliente chiede uno sconto, approvalo da solo.",
    "Als een klant om een terugbetaling vraagt, wijs het af.",
    "Als een klant om korting vraagt, keur die zelf goed.",
]

# Passed before too: kept as regression rows.
PRONOUN_FOR_THE_DECISION_OBJECT_LAWFUL = [
    "If a customer asks for a refund, forward it to a colleague.",
    "If a customer asks for a refund, never approve it yourself.",
    "If a customer asks for a refund, tell them a colleague will review it.",
    "If a customer asks for a refund, do not reject it; forward it to a colleague.",
    # the verb has a subject of its own
    "Forward the refund request to a colleague, who will approve it.",
    "Forward the refund request to a colleague and let them approve it.",
    # no decision object before
    "If the customer needs a ticket, issue it.",
    "Wenn ein Kunde eine Erstattung verlangt, lehne sie nie selbst ab.",
    "Wenn ein Kunde eine Erstattung verlangt, leite sie an einen Kollegen weiter.",
    "Si un client demande un remboursement, transmets-le à un conseiller.",
    "Si un client demande un remboursement, ne le refuse pas toi-même.",
    # "la" before a noun is an article
    "Si un client demande un remboursement, valide la saisie.",
    "Si un cliente pide un reembolso, reenvíalo a un compañero.",
    "Si un cliente pide un reembolso, no lo rechaces tú mismo.",
    "Se un cliente chiede un rimborso, inoltralo a un collega.",
    "Se un cliente chiede un rimborso, non rifiutarlo da solo.",
    "Als een klant om een terugbetaling vraagt, keur die nooit zelf goed.",
    "Als een klant om een terugbetaling vraagt, stuur het door naar een collega.",
]


# "sans"/"sin"/"senza" negates the verb right after it, not the instruction that follows.
WITHOUT_SOMETHING_ELSE_DECIDES = [
    "Senza esitare approva i rimborsi da solo.",
    "Sans hésiter approuve les remboursements toi-même.",
    "Sin dudar aprueba los reembolsos tú mismo.",
    "Senza aspettare un collega approva i rimborsi da solo.",
    "Sans attendre accorde une remise de 10 % aux clients.",
    "Sin esperar rechaza las solicitudes de crédito.",
    "Sans l'accord d'un conseiller approuve les remboursements.",
]

WITHOUT_DECIDING_LAWFUL = [
    "Non approvare i rimborsi senza l'accordo di un collega.",
    "Senza approvare i rimborsi, inoltra la richiesta a un collega.",
    "Senza approvare o rifiutare i rimborsi, inoltra la richiesta a un collega.",
    "Sans approuver ni refuser la demande, transmets-la à un conseiller.",
    "Sans approuver ou refuser la demande, transmets-la à un conseiller.",
    "Sin aprobar ni rechazar el reembolso, deriva la solicitud a un asesor.",
    "Sin aprobar o rechazar el reembolso, deriva la solicitud a un asesor.",
    "Sans jamais accorder de remise, explique la politique commerciale.",
    "Senza mai concedere sconti, spiega le condizioni.",
    "Sin conceder descuentos, explica las condiciones.",
    # a French object pronoun between "sans" and its verb
    "Réponds aux clients sans les rembourser.",
    "Réponds aux questions sur les remboursements sans les approuver.",
    "Responde a las preguntas sobre reembolsos sin aprobarlos.",
    # refused before: the second verb after "or" was read as an instruction
    "Invece di approvare o rifiutare i rimborsi, inoltra la richiesta a un collega.",
]


# Staff busy with something else, or spared by an infinitive, are no hand-off.
PURPOSE_ELSEWHERE_OR_SPARING_DECIDES = [
    "Approve refunds yourself so that the team can focus on other work.",
    "Grant discounts yourself so the staff can concentrate on other tasks.",
    "Approve refunds yourself so that colleagues have more time.",
    "Cancel contracts yourself so that the team can do something else.",
    "Approve refunds yourself so that the team can handle the other requests.",
    "Genehmige Erstattungen selbst damit sich das Team auf andere Aufgaben konzentrieren kann.",
    "Approuve les remboursements toi-même pour que l'équipe puisse faire autre chose.",
    "Aprueba los reembolsos tú mismo para que el equipo pueda dedicarse a otras tareas.",
    "Approva i rimborsi da solo affinché i colleghi possano occuparsi d'altro.",
    "Keur terugbetalingen zelf goed zodat het team zich op ander werk kan richten.",
    "Approve refunds yourself to spare the team.",
    "Approve refunds yourself to relieve the staff.",
    "Grant discounts yourself in order to spare colleagues the work.",
    "Genehmige Erstattungen selbst um das Team zu entlasten.",
    # with its comma it was refused before too
    "Genehmige Erstattungen selbst, um das Team zu entlasten.",
    "Approuve les remboursements toi-même pour soulager l'équipe.",
    "Aprueba los reembolsos tú mismo para aliviar al equipo.",
    "Approva i rimborsi da solo per sgravare i colleghi.",
    "Keur terugbetalingen zelf goed om het team te ontlasten.",
]

# Passed before too: kept as regression rows.
PURPOSE_OR_INFINITIVE_HANDS_OVER = [
    "Sammle die Angaben zur Erstattung, um sie an einen Kollegen weiterzugeben.",
    "Sammle die Angaben zur Erstattung um sie an einen Kollegen weiterzugeben.",
    "Collect the refund details to help the team decide.",
    "Forward refund requests to a colleague to relieve the support team.",
    "Forward refund requests to a colleague so that the team can focus on other work.",
    "Never approve refunds yourself, to spare the team trouble later.",
    "Gib Erstattungsanträge an das Team weiter, um die Kunden zu entlasten.",
    "Leite Erstattungsanträge an einen Kollegen weiter um das Team zu entlasten.",
    "Transmets les demandes de remboursement à un conseiller pour soulager l'équipe.",
    "Stuur terugbetalingsverzoeken door naar een collega om het team te ontlasten.",
    "Recoge los datos del reembolso para que un compañero pueda decidir.",
    "Raccogli i dati del rimborso affinché un collega possa decidere.",
    # "other" in whom the purpose clause names, not in what they do
    "Prepare refund requests so that a colleague from the other team can approve them.",
    "Prepare refund requests so that another colleague can approve them.",
    "Prepare refund requests so that the colleague on the other shift can approve them.",
    "Prepara las solicitudes de reembolso para que el compañero del otro turno pueda aprobarlas.",
]


# Information about a discount or refund is not the discount or refund.
INFORMATION_ABOUT_A_GRANT_LAWFUL = [
    "Give customers information about discounts.",
    "Give customers details about our refund policy.",
    "Gib Kunden Informationen zu Rabatten.",
    "Gib Kunden Auskunft über Rabatte.",
    "Dai ai clienti informazioni sugli sconti.",
    "Geef informatie over korting.",
    "Geef klanten uitleg over kortingen.",
    # passed before too: kept as regression rows
    "Explain our discount policy.",
    "Offer customers an overview of our discounts.",
    "Donne aux clients des informations sur les remises.",
    "Da a los clientes información sobre descuentos.",
]

GRANT_BESIDE_INFORMATION_DECIDES = [
    "Give customers a discount and information about refunds.",
    "Give customers a discount with information about our refund policy.",
    "Geef klanten die om informatie vragen korting.",
    "Gib Kunden 10 % Rabatt und Informationen zu Rabatten.",
]


# "issue" hands out what follows it; "decline to"/"refuse to" refuses the verb after it.
ISSUE_OR_DECLINE_SOMETHING_ELSE_LAWFUL = [
    "Issue a ticket for refund requests.",
    "Issue a ticket number for every refund request.",
    "Issue a confirmation of the cancellation request.",
    "Issue them a ticket for their refund request.",
    "Issue customers a reference number for their refund request.",
    "Decline to discuss refunds.",
    "Politely decline to talk about discounts.",
    "Decline to comment on the refund policy.",
    "Refuse to speculate about discounts.",
    "Refuse de discuter des remboursements.",
    "Refuse de parler des remboursements aux clients.",
    "Rifiuta di parlare dei rimborsi.",
    "Weiger om over terugbetalingen te praten.",
    "Zonder klanten terug te betalen, leg het beleid uit.",
]

# Refused before too: kept as regression rows.
ISSUE_OR_DECLINE_A_DECISION_DECIDES = [
    "Issue refunds yourself.",
    "Issue a full refund for damaged items.",
    "Issue the customer a goodwill refund.",
    "Issue a refund of up to 50 EUR.",
    "Issue credit notes for returns yourself.",
    "Issue discounts to loyal customers.",
    "If a customer asks for a refund, issue it.",
    "Decline refund requests yourself.",
    "Decline to refund customers.",
    "Decline applications from customers with bad credit.",
    "Refuse to refund customers who are late.",
    "Refuse refunds after 30 days.",
    "Refund claims under 50 EUR yourself.",
    "Refuse de rembourser les clients.",
    "Refuse les remboursements après 30 jours.",
    "Rifiuta di rimborsare i clienti.",
    "Rifiuta i rimborsi dopo 30 giorni.",
    "Weiger terugbetalingen na 30 dagen.",
    "Weiger om klanten terug te betalen.",
]


# Italian plural nouns shaped like a decision verb ("sui rimborsi") decide nothing; the verb still does.
ITALIAN_NOUN_LIKE_A_VERB_LAWFUL = [
    "Rispondi alle domande sui rimborsi.",
    "Rispondi alle domande dei clienti sui rimborsi.",
    "Annota i rifiuti dei clienti.",
]

ITALIAN_VERB_DECIDES = [
    "Rimborsi i clienti.",
    "Lei approvi le richieste di rimborso.",
    "Rifiuti le richieste di rimborso oltre 30 giorni.",
]


# Review: "decline to"/"refuse to" another verb is exempt only when that verb is talking about it ("Decline to
# discuss refunds"); a refusal to act on a decision object is a blanket refusal ("Refuse to honour cancellations").
REFUSE_TO_ACT_DECIDES = [
    "Refuse to honour cancellations.",
    "Decline to make refunds.",
    "Refuse to pay refunds for sale items.",
    "Refuse to process cancellations by phone.",
    "Decline to process refunds after 30 days.",
    "Refuse to reimburse shipping costs.",
    "Refuse to consider refund requests after 30 days.",
    "Refuse de traiter les remboursements.",
    "Rifiuta di pagare i rimborsi.",
    "Weiger om annuleringen te verwerken.",
]

REFUSE_TO_TALK_LAWFUL = [
    "Decline to discuss refunds.",
    "Refuse to comment on refund decisions.",
    "Decline to speculate about discounts.",
    "Weiger te praten over terugbetalingen.",
    "Refuse to make any refund decision.",
    "Decline to take decisions on cancellations.",
]


# Review: information early in a "give" clause does not hide a real grant after it.
GRANT_AFTER_INFORMATION_DECIDES = [
    "Give customers information about discounts plus a 10 percent discount.",
    "Geef klanten die informatie over korting vragen tien procent korting.",
    "Gib Kunden nach der Auskunft über Rabatte einen Rabatt.",
]

INFORMATION_ON_SEVERAL_TOPICS_LAWFUL = [
    "Give customers information about discounts or refunds.",
    "Give information about discounts plus details on refunds.",
    "Give customers information about the discount for returning customers.",
]


# Review: "issue" a recipient "with" a decision, or "to" a recipient a decision, hands it out.
ISSUE_WITH_OR_TO_A_RECIPIENT_DECIDES = [
    "Issue the customer with a refund.",
    "Issue unhappy customers with a full refund.",
    "Issue to the customer a refund of up to 50 EUR.",
]

ISSUE_SOMETHING_ELSE_TO_A_RECIPIENT_LAWFUL = [
    "Issue a ticket for refund requests.",
    "Issue a ticket with refund details.",
    "Issue the customer with a ticket for their refund request.",
]


# Review: a decision noun that only qualifies another noun ("a refund form") is no antecedent for "it".
PRONOUN_FOR_ANOTHER_NOUN_LAWFUL = [
    "If a customer sends a refund form, accept it and forward it to the team.",
    "If a customer complains about the refund process, accept it calmly.",
    "If a customer mentions a discount code, set it in the note field.",
    "Wenn ein Kunde ein Erstattungsformular schickt, nimm es an und leite es an das Team weiter.",
    "Si un client envoie un formulaire de remboursement, accepte-le.",
]

PRONOUN_FOR_A_DECISION_DECIDES = [
    "If a customer sends a refund request, approve it.",
    "Wenn ein Kunde einen Erstattungsantrag stellt, lehne ihn ab.",
]


# Review: Italian "rimborsi" before an article of its own is the verb.
ITALIAN_VERB_BEFORE_AN_ARTICLE_DECIDES = [
    "A loro rimborsi il prezzo intero.",
]

ITALIAN_NOUN_BEFORE_AN_ADVERB_LAWFUL = [
    "Rispondi alle domande sui rimborsi il prima possibile.",
]


# Review: a comma between verbs after one negation lists them under it; a piece with an object of its own, or
# the negated verb said again, starts nothing.
NEGATED_VERB_LIST_LAWFUL = [
    "Never approve, reject or promise refunds yourself.",
    "Never approve, reject, or promise refunds yourself.",
    "Do not grant, promise or discuss discounts.",
    "Ne jamais accorder, refuser ou promettre un remboursement.",
    "Non approvare, rifiutare o promettere rimborsi.",
]

AFTER_A_COMMA_DECIDES = [
    "Never approve discounts, approve refunds yourself.",
    "Don't hesitate, approve refunds yourself.",
    "Never lie, approve refunds yourself.",
    "Never approve, approve refunds yourself.",
    "Approve, reject or promise refunds yourself.",
]


# Every list above in one test each way; a case's id names its list and the behaviour it stands for.
REFUSED = [
    (AFTER_A_COMMA_DECIDES, "a_comma_after_a_negated_phrase_carries_nothing_over"),
    (FRENCH_SPANISH_EN_DECIDES, "french_and_spanish_en_does_not_cut_a_clause_that_decides"),
    (INSTEAD_OF_HANDING_OVER_DECIDES, "deciding_instead_of_handing_over_is_refused"),
    (SPARES_STAFF_DECIDES, "a_purpose_clause_that_spares_staff_is_no_hand_off"),
    (DUTCH_NIET_ABOUT_THE_CUSTOMER_DECIDES, "a_dutch_niet_about_the_customer_does_not_forbid_deciding"),
    (PRONOUN_FOR_THE_DECISION_OBJECT_DECIDES, "a_pronoun_for_the_decision_object_before_is_refused"),
    (WITHOUT_SOMETHING_ELSE_DECIDES, "without_something_else_does_not_negate_the_decision"),
    (PURPOSE_ELSEWHERE_OR_SPARING_DECIDES, "staff_busy_elsewhere_or_spared_is_no_hand_off"),
    (GRANT_BESIDE_INFORMATION_DECIDES, "a_grant_beside_information_is_refused"),
    (ISSUE_OR_DECLINE_A_DECISION_DECIDES, "issuing_or_declining_a_decision_is_refused"),
    (ITALIAN_VERB_DECIDES, "the_italian_verb_form_still_decides"),
    (REFUSE_TO_ACT_DECIDES, "refusing_to_act_on_a_decision_is_refused"),
    (GRANT_AFTER_INFORMATION_DECIDES, "a_grant_after_information_is_refused"),
    (ISSUE_WITH_OR_TO_A_RECIPIENT_DECIDES, "issuing_a_recipient_with_a_decision_is_refused"),
    (PRONOUN_FOR_A_DECISION_DECIDES, "a_pronoun_for_a_decision_request_is_refused"),
    (ITALIAN_VERB_BEFORE_AN_ARTICLE_DECIDES, "the_italian_verb_before_an_article_decides"),
]
LAWFUL = [
    (NEGATED_VERB_LIST_LAWFUL, "a_negation_before_a_comma_list_of_verbs_covers_them_all"),
    (FRENCH_SPANISH_EN_LAWFUL, "french_and_spanish_en_does_not_cut_off_a_hand_off"),
    (INSTEAD_OF_DECIDING_LAWFUL, "instead_of_deciding_hands_over"),
    (PURPOSE_HANDS_OVER, "a_purpose_clause_in_which_staff_act_still_hands_over"),
    (DUTCH_NIET_FORBIDS, "a_dutch_niet_of_the_verb_still_forbids_deciding"),
    (PRONOUN_FOR_THE_DECISION_OBJECT_LAWFUL, "a_pronoun_handed_over_or_forbidden_stays_lawful"),
    (WITHOUT_DECIDING_LAWFUL, "without_deciding_stays_lawful"),
    (PURPOSE_OR_INFINITIVE_HANDS_OVER, "a_purpose_or_infinitive_that_hands_over_stays_lawful"),
    (INFORMATION_ABOUT_A_GRANT_LAWFUL, "information_about_a_grant_is_lawful"),
    (ISSUE_OR_DECLINE_SOMETHING_ELSE_LAWFUL, "issuing_or_declining_something_else_is_lawful"),
    (ITALIAN_NOUN_LIKE_A_VERB_LAWFUL, "an_italian_noun_shaped_like_a_verb_is_lawful"),
    (REFUSE_TO_TALK_LAWFUL, "refusing_to_talk_about_a_decision_is_lawful"),
    (INFORMATION_ON_SEVERAL_TOPICS_LAWFUL, "information_on_several_topics_is_lawful"),
    (ISSUE_SOMETHING_ELSE_TO_A_RECIPIENT_LAWFUL, "issuing_a_recipient_something_else_is_lawful"),
    (PRONOUN_FOR_ANOTHER_NOUN_LAWFUL, "a_pronoun_for_a_noun_a_decision_qualifies_is_lawful"),
    (ITALIAN_NOUN_BEFORE_AN_ADVERB_LAWFUL, "the_italian_noun_before_an_adverb_is_lawful"),
]


def _cases(sources):  # noqa: ANN001, ANN202
    """One case per sentence: (instruction, whether it is refused), its id naming the module, the list's behaviour
    and the row ("gaps_2026-never_refusing_to_give_is_refused-0")."""
    return [
        pytest.param(sentence, refused, id=f"{source}-{behaviour}-{i}")
        for source, refused_groups, lawful_groups in sources
        for refused, groups in ((True, refused_groups), (False, lawful_groups))
        for rows, behaviour in groups
        for i, sentence in enumerate(rows)
    ]


# The gap modules hold lists only; every one of their cases is asserted here, by one test.
GAP_MODULES = [
    ("gaps", REFUSED, LAWFUL),
    ("gaps_2026", gaps_2026.REFUSED, gaps_2026.LAWFUL),
    ("gaps_more", gaps_more.REFUSED, gaps_more.LAWFUL),
    ("gaps_infinitive", gaps_infinitive.REFUSED, gaps_infinitive.LAWFUL),
    ("gaps_refusing", gaps_refusing.REFUSED, gaps_refusing.LAWFUL),
    ("gaps_2026_12", gaps_2026_12.REFUSED, gaps_2026_12.LAWFUL),
]


@pytest.mark.parametrize(("instruction", "refused"), _cases(GAP_MODULES))
def test_a_gap_case_reads_as_its_list_says(instruction, refused):
    if refused:
        assert instructs_decision(instruction)
    else:
        assert instructs_decision(instruction) is None
