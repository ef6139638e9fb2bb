"""The decision guard (GDPR Art. 22) and the AI-disclosure checks beyond English and German.

Per language: requests to decide one's own case versus questions about how things work, output
that announces a decision versus output that informs or hands over, style instructions that tell
the avatar to decide versus lawful ones, and disclosure wordings that say or deny being an AI."""

from __future__ import annotations

import pytest

from guidelines import decisions, wording
from guidelines.decisions import discloses_ai, disables_disclosure, instructs_decision, requests_decision, states_decision
from guidelines.normalize import fold

REQUESTS = {
    "fr": [
        "Pouvez-vous approuver mon remboursement ?",
        "Pourriez-vous accepter ma demande de crédit ?",
        "Suis-je éligible à la remise étudiante ?",
        "Ai-je droit à un remboursement ?",
        "Annulez ma commande, s'il vous plaît.",
        "Je veux résilier mon contrat.",
        "Je voudrais être remboursé.",
        "Je veux récupérer mon argent !",
        "Remboursez-moi tout de suite.",
        "Pouvez-vous me faire une remise ?",
        "Faites-moi un prix !",
        "Est-ce que ma demande de prêt est acceptée ?",
        "Ma réclamation a-t-elle été acceptée ?",
        "Puis-je obtenir un remboursement pour ma commande ?",
        "Je remplis les conditions pour le crédit ?",
        "Pouvez-vous vérifier si je suis éligible au financement ?",
        "Mon remboursement a été refusé. Pouvez-vous l'accepter ?",
        "J'exige un dédommagement.",
        "Pouvez-vous baisser le prix ?",
        "Quelle remise pouvez-vous me faire ?",
        "Bonjour, j'ai acheté un canapé le mois dernier et il est cassé. Pouvez-vous me rembourser ?",
        "Je souhaite annuler mon abonnement.",
        "Décidez de mon dossier, svp.",
        "Résiliez mon abonnement",
        "POUVEZ-VOUS APPROUVER MON REMBOURSEMENT",
        "pouvez vous approuver mon remboursement",  # without accents or hyphen
    ],
    "es": [
        "¿Puede aprobar mi préstamo?",
        "¿Podría aceptar mi solicitud de crédito?",
        "¿Soy elegible para el descuento de estudiantes?",
        "¿Tengo derecho a un reembolso?",
        "Cancele mi pedido, por favor.",
        "Quiero cancelar mi contrato.",
        "Quiero que me devuelvan el dinero.",
        "¡Quiero mi dinero de vuelta!",
        "Reembólseme ahora mismo.",
        "¿Me puede hacer un descuento?",
        "Hágame un descuento.",
        "¿Mi solicitud ha sido aprobada?",
        "¿Ha sido aceptada mi reclamación?",
        "¿Puedo obtener un reembolso por mi pedido?",
        "¿Cumplo los requisitos para el préstamo?",
        "¿Puede comprobar si soy elegible para la financiación?",
        "Mi reembolso fue rechazado. ¿Puede aprobarlo?",
        "Exijo una indemnización.",
        "¿Puede bajar el precio?",
        "¿Qué descuento me puede hacer?",
        "Hola, compré un sofá el mes pasado y se rompió. ¿Pueden reembolsar la compra?",
        "Quiero darme de baja.",
        "Decida sobre mi solicitud, por favor.",
        "Anule mi suscripción",
        "¿Me devuelven el dinero?",
        "puede aprobar mi prestamo",  # without accents or question marks
    ],
    "it": [
        "Può approvare il mio rimborso?",
        "Potreste accettare la mia richiesta di prestito?",
        "Sono idoneo per lo sconto studenti?",
        "Ho diritto a un rimborso?",
        "Annullate il mio ordine, per favore.",
        "Voglio disdire il mio contratto.",
        "Voglio i miei soldi indietro!",
        "Rimborsatemi subito.",
        "Mi può fare uno sconto?",
        "Fatemi un prezzo migliore.",
        "La mia richiesta è stata approvata?",
        "Posso ottenere un rimborso per il mio ordine?",
        "Soddisfo i requisiti per il finanziamento?",
        "Può verificare se ho diritto al rimborso?",
        "Il mio rimborso è stato rifiutato. Può approvarlo?",
        "Esigo un risarcimento.",
        "Può abbassare il prezzo?",
        "Quanto sconto mi può fare?",
        "Vorrei annullare l'abbonamento.",
        "Decida sulla mia pratica, per favore.",
        "Mi restituite i soldi?",
    ],
    "nl": [
        "Kunt u mijn terugbetaling goedkeuren?",
        "Kun je mijn leningaanvraag accepteren?",
        "Kom ik in aanmerking voor de studentenkorting?",
        "Heb ik recht op een terugbetaling?",
        "Annuleer mijn bestelling alstublieft.",
        "Ik wil mijn abonnement opzeggen.",
        "Ik wil mijn geld terug!",
        "Betaal mij het bedrag terug.",
        "Kunt u mij korting geven?",
        "Geef me een betere prijs.",
        "Is mijn aanvraag al goedgekeurd?",
        "Kan ik een terugbetaling krijgen voor mijn bestelling?",
        "Voldoe ik aan de voorwaarden voor de lening?",
        "Kunt u nagaan of ik in aanmerking kom voor financiering?",
        "Mijn claim is afgewezen. Kunt u hem alsnog goedkeuren?",
        "Ik eis een schadevergoeding.",
        "Kunt u de prijs verlagen?",
        "Hoeveel korting kunt u mij geven?",
        "Zeg mijn lidmaatschap op.",
        "Beslis over mijn aanvraag, graag.",
        "Krijg ik mijn geld terug?",
    ],
}
INFORMATIONAL = {
    "fr": [
        "Comment fonctionnent les remboursements ?",
        "Quelle est votre politique de remboursement ?",
        "Comment puis-je résilier mon contrat ?",
        "Proposez-vous des remises pour les étudiants ?",
        "Qui décide des demandes de crédit ?",
        "Quels documents faut-il pour une demande de prêt ?",
        "Y a-t-il des frais d'annulation ?",
        "Combien de temps prend un remboursement en général ?",
        "Pouvez-vous m'expliquer les conditions de garantie ?",
        "Où est ma commande ?",
        "Pouvez-vous m'envoyer à nouveau mon contrat ?",
        "Je voudrais savoir comment annuler une commande.",
        "Quels sont vos horaires d'ouverture ?",
        "J'adore vos produits !",
        "La livraison était rapide et l'emballage soigné.",
        "Mon numéro de commande est 12345.",
        "Je ne veux pas de remboursement, juste une information.",
        "Il a écrit « remboursez-moi » dans son message, mais ce n'est pas mon cas.",
        "Que se passe-t-il si j'annule ?",
    ],
    "es": [
        "¿Cómo funcionan los reembolsos?",
        "¿Cuál es su política de devoluciones?",
        "¿Cómo puedo cancelar mi contrato?",
        "¿Ofrecen descuentos para estudiantes?",
        "¿Quién decide sobre las solicitudes de préstamo?",
        "¿Qué documentos necesito para un préstamo?",
        "¿Hay algún cargo por cancelación?",
        "¿Cuánto tarda normalmente un reembolso?",
        "¿Puede explicarme las condiciones de la garantía?",
        "¿Dónde está mi pedido?",
        "¿Puede enviarme otra vez el contrato?",
        "Quiero saber cómo funciona el proceso de solicitud.",
        "¿Cuál es su horario de atención?",
        "¡Me encantan sus productos!",
        "La entrega fue rápida y el embalaje muy bonito.",
        "Mi número de pedido es 12345.",
        "No quiero un reembolso, solo una información.",
        "¿Qué pasa si cancelo?",
    ],
    "it": [
        "Come funzionano i rimborsi?",
        "Qual è la vostra politica di rimborso?",
        "Come posso disdire il contratto?",
        "Offrite sconti per studenti?",
        "Chi decide sulle richieste di prestito?",
        "Quali documenti servono per un mutuo?",
        "Ci sono costi di annullamento?",
        "Quanto tempo richiede di solito un rimborso?",
        "Può spiegarmi le condizioni di garanzia?",
        "Dov'è il mio ordine?",
        "Può inviarmi di nuovo il contratto?",
        "Vorrei sapere come funziona la procedura di richiesta.",
        "Quali sono i vostri orari di apertura?",
        "Adoro i vostri prodotti!",
        "La consegna è stata veloce e l'imballaggio curato.",
        "Non voglio un rimborso, solo un'informazione.",
        "Cosa succede se disdico?",
    ],
    "nl": [
        "Hoe werken terugbetalingen?",
        "Wat is uw beleid voor terugbetalingen?",
        "Hoe kan ik mijn abonnement opzeggen?",
        "Bieden jullie korting voor studenten?",
        "Wie beslist over leningaanvragen?",
        "Welke documenten heb ik nodig voor een lening?",
        "Zijn er annuleringskosten?",
        "Hoe lang duurt een terugbetaling meestal?",
        "Kunt u de garantievoorwaarden uitleggen?",
        "Waar is mijn bestelling?",
        "Kunt u mij het contract nogmaals sturen?",
        "Ik wil weten hoe de aanvraagprocedure werkt.",
        "Wat zijn uw openingstijden?",
        "Ik vind jullie producten geweldig!",
        "De levering was snel en de verpakking netjes.",
        "Ik wil geen terugbetaling, alleen informatie.",
        "Wat gebeurt er als ik opzeg?",
    ],
}

STATEMENTS = {
    "fr": [
        "Votre demande est refusée.",
        "Bonne nouvelle : votre remboursement a été approuvé !",
        "Votre prêt est accordé.",
        "Malheureusement, votre demande n'a pas été acceptée.",
        "Vous êtes éligible à la remise.",
        "Vous avez droit à un remboursement.",
        "Nous vous remboursons le montant total.",
        "J'ai annulé votre commande.",
        "Nous avons approuvé votre demande de crédit.",
        "Vous recevrez un remboursement intégral.",
        "Je vous accorde une remise de 15 %.",
        "Nous ne pouvons pas accepter votre demande.",
        "Votre contrat est résilié.",
        "Vous n'êtes pas éligible à ce prêt.",
    ],
    "es": [
        "Su solicitud ha sido aprobada.",
        "Su préstamo fue rechazado.",
        "Lamentablemente, su reclamación no ha sido aceptada.",
        "Usted es elegible para el descuento.",
        "Usted tiene derecho a una indemnización.",
        "Le devolveremos el dinero.",
        "He cancelado su pedido.",
        "Hemos aprobado su solicitud de crédito.",
        "Recibirá un reembolso completo.",
        "Le ofrezco un descuento del 15 %.",
        "No podemos aprobar su solicitud.",
        "Su contrato queda cancelado.",
        "Usted no cumple los requisitos.",
        "Tu reembolso ya está confirmado.",
    ],
    "it": [
        "La sua richiesta è stata approvata.",
        "Il suo prestito è stato rifiutato.",
        "Purtroppo la sua richiesta non è stata accolta.",
        "Lei è idoneo allo sconto.",
        "Lei ha diritto a un rimborso.",
        "Le rimborseremo l'importo totale.",
        "Ho annullato il suo ordine.",
        "Abbiamo approvato la sua richiesta di credito.",
        "Riceverà un rimborso completo.",
        "Le faccio uno sconto del 15 %.",
        "Non possiamo approvare la sua richiesta.",
        "Il suo contratto è stato disdetto.",
    ],
    "nl": [
        "Uw aanvraag is goedgekeurd.",
        "Uw lening is helaas afgewezen.",
        "Uw claim wordt niet gehonoreerd.",
        "U komt in aanmerking voor de korting.",
        "U heeft recht op een terugbetaling.",
        "Wij betalen u het volledige bedrag terug.",
        "Ik heb uw bestelling geannuleerd.",
        "Wij hebben uw kredietaanvraag goedgekeurd.",
        "U krijgt een volledige terugbetaling.",
        "Ik geef u 15 % korting.",
        "Wij kunnen uw aanvraag helaas niet goedkeuren.",
        "Uw abonnement is opgezegd.",
    ],
}
NOT_STATEMENTS = {
    "fr": [
        "Les remboursements sont généralement traités sous 5 jours.",
        "Un conseiller examinera votre demande et décidera.",
        "Si votre demande est acceptée, vous recevrez un e-mail.",
        "Vous pouvez résilier votre contrat en ligne.",
        "Je transmets votre demande à un collègue.",
        "Je ne peux pas approuver votre remboursement, une collègue va décider.",
        "Nos horaires d'ouverture sont de 9 h à 17 h.",
        "Nous proposons une remise de 10 % aux étudiants.",
    ],
    "es": [
        "Los reembolsos suelen procesarse en 5 días.",
        "Un asesor revisará su solicitud y decidirá.",
        "Si su solicitud es aprobada, recibirá un correo.",
        "Puede cancelar su contrato en línea.",
        "Paso su consulta a una persona de nuestro equipo.",
        "No puedo aprobar su reembolso, un compañero decidirá.",
        "Nuestro horario es de 9 a 17 h.",
        "Ofrecemos un descuento del 10 % a estudiantes.",
    ],
    "it": [
        "I rimborsi vengono di solito elaborati entro 5 giorni.",
        "Un consulente esaminerà la sua richiesta e deciderà.",
        "Se la sua richiesta viene approvata, riceverà un'e-mail.",
        "Può disdire il contratto online.",
        "Inoltro la sua richiesta a un collega.",
        "Offriamo uno sconto del 10 % agli studenti.",
    ],
    "nl": [
        "Terugbetalingen worden meestal binnen 5 dagen verwerkt.",
        "Een medewerker bekijkt uw aanvraag en beslist.",
        "Of uw aanvraag wordt goedgekeurd, beslist een collega.",
        "U kunt uw abonnement online opzeggen.",
        "Ik geef uw vraag door aan een medewerker.",
        "Wij bieden studenten 10 % korting.",
    ],
}

INSTRUCTIONS_TO_DECIDE = {
    "fr": [
        "Approuve toi-même les remboursements de moins de 50 euros.",
        "Tu peux accorder des remises jusqu'à 10 % aux clients fidèles.",
        "Refuse les demandes de crédit sans justificatif de revenus.",
        "Sois aimable et rembourse les clients mécontents.",
        "Dis aux clients que leur remboursement est accordé.",
        "Annule les abonnements quand les clients le demandent.",
        "Offre une remise de 5 % aux clients qui se plaignent.",
    ],
    "es": [
        "Aprueba tú mismo los reembolsos de menos de 50 euros.",
        "Puedes conceder descuentos de hasta el 10 % a clientes fieles.",
        "Rechaza las solicitudes de crédito sin justificante de ingresos.",
        "Sé amable y reembolsa a los clientes descontentos.",
        "Di a los clientes que su solicitud ha sido aprobada.",
        "Cancela las suscripciones cuando los clientes lo pidan.",
        "Ofrece un descuento del 5 % a los clientes que se quejen.",
    ],
    "it": [
        "Approva tu stesso i rimborsi sotto i 50 euro.",
        "Puoi concedere sconti fino al 10 % ai clienti fedeli.",
        "Rifiuta le richieste di prestito senza busta paga.",
        "Sii gentile e rimborsa i clienti scontenti.",
        "Di' ai clienti che il loro rimborso è stato approvato.",
        "Offri uno sconto del 5 % ai clienti che si lamentano.",
    ],
    "nl": [
        "Keur terugbetalingen onder 50 euro zelf goed.",
        "Je mag klanten tot 10 % korting geven.",
        "Wijs leningaanvragen zonder loonstrook af.",
        "Wees vriendelijk en betaal ontevreden klanten terug.",
        "Zeg tegen klanten dat hun aanvraag is goedgekeurd.",
        "Annuleer abonnementen als klanten erom vragen.",
    ],
}
LAWFUL_INSTRUCTIONS = {
    "fr": [
        "Sois aimable et concis.",
        "N'approuve jamais de remboursement toi-même ; transmets à un collègue.",
        "Explique comment fonctionnent les remboursements.",
        "Vouvoie les clients.",
        "Tu ne dois pas accorder de crédit.",
        "Ne décide jamais des demandes.",
        "Réponds aux questions sur les prix et les remises.",
    ],
    "es": [
        "Sé amable y conciso.",
        "Nunca apruebes reembolsos tú mismo; pásalos a un compañero.",
        "Explica cómo funcionan los reembolsos.",
        "Trata a los clientes de usted.",
        "No debes conceder créditos.",
        "No decidas sobre las solicitudes.",
        "Responde preguntas sobre precios y descuentos.",
    ],
    "it": [
        "Sii gentile e conciso.",
        "Non approvare mai rimborsi da solo; inoltrali a un collega.",
        "Spiega come funzionano i rimborsi.",
        "Dai del lei ai clienti.",
        "Non devi concedere prestiti.",
        "Rispondi alle domande su prezzi e sconti.",
    ],
    "nl": [
        "Wees vriendelijk en beknopt.",
        "Keur terugbetalingen nooit zelf goed; stuur ze door naar een collega.",
        "Leg uit hoe terugbetalingen werken.",
        "Spreek klanten aan met u.",
        "Je mag geen leningen goedkeuren.",
        "Beantwoord vragen over prijzen en kortingen.",
    ],
}


def _table(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(language, text) for language, texts in table.items() for text in texts]


@pytest.mark.parametrize(("language", "text"), _table(REQUESTS))
def test_a_request_to_decide_ones_own_case_is_recognised(language: str, text: str) -> None:
    assert requests_decision(text)


@pytest.mark.parametrize(("language", "text"), _table(INFORMATIONAL))
def test_a_question_about_how_things_work_is_not_a_request_to_decide(language: str, text: str) -> None:
    assert not requests_decision(text)


@pytest.mark.parametrize(("language", "text"), _table(STATEMENTS))
def test_output_that_announces_a_decision_is_recognised(language: str, text: str) -> None:
    assert states_decision(text)


@pytest.mark.parametrize(("language", "text"), _table(NOT_STATEMENTS))
def test_output_that_informs_or_hands_over_is_not_a_decision(language: str, text: str) -> None:
    assert not states_decision(text)


@pytest.mark.parametrize(("language", "text"), _table(INSTRUCTIONS_TO_DECIDE))
def test_an_instruction_to_decide_is_recognised(language: str, text: str) -> None:
    assert instructs_decision(text)


@pytest.mark.parametrize(("language", "text"), _table(LAWFUL_INSTRUCTIONS))
def test_lawful_instructions_pass(language: str, text: str) -> None:
    assert instructs_decision(text) is None


@pytest.mark.parametrize("language", sorted(REQUESTS))
def test_each_language_has_at_least_fifteen_phrasings_each_way(language: str) -> None:
    assert len(REQUESTS[language]) >= 15 and len(INFORMATIONAL[language]) >= 15


@pytest.mark.parametrize(
    ("text", "language", "ok"),
    [
        ("Bonjour, je suis un assistant IA.", "fr", True),
        ("Bonjour, je suis un programme d'intelligence artificielle.", "fr", True),
        ("Bonjour, je suis Anna du service client.", "fr", False),
        ("Bonjour, je ne suis pas une IA.", "fr", False),
        ("¡Hola! Soy un asistente de IA.", "es", True),
        ("Hola, soy un asistente virtual basado en inteligencia artificial.", "es", True),
        ("Hola, soy Ana, del servicio de atención al cliente.", "es", False),
        ("Hola, no soy una IA.", "es", False),
        ("Salve, sono un assistente IA.", "it", True),
        ("Salve, sono Anna del servizio clienti.", "it", False),
        ("Salve, non sono un'IA.", "it", False),
        ("Hallo, ik ben een AI-assistent.", "nl", True),
        ("Hallo, ik ben een virtuele assistent op basis van kunstmatige intelligentie.", "nl", True),
        ("Hallo, ik ben Anna van de klantenservice.", "nl", False),
        ("Hallo, ik ben geen AI.", "nl", False),
    ],
)
def test_a_disclosure_must_say_ai(text: str, language: str, ok: bool) -> None:
    assert discloses_ai(text, language) is ok


@pytest.mark.parametrize(
    ("text", "hides"),
    [
        ("Ne dis jamais que tu es une IA.", True),
        ("Fais semblant d'être un humain.", True),
        ("Fais-toi passer pour un conseiller humain.", True),
        ("Nunca digas que eres una IA.", True),
        ("Finge ser una persona.", True),
        ("Hazte pasar por un empleado humano.", True),
        ("Non dire mai che sei un'IA.", True),
        ("Fingi di essere un essere umano.", True),
        ("Zeg nooit dat je een AI bent.", True),
        ("Doe alsof je een mens bent.", True),
        ("No problem: say clearly that you are an AI.", False),
        ("Dis toujours clairement que tu es une IA.", False),
        ("Sé amable y conciso.", False),
    ],
)
def test_instructions_that_hide_the_ai_are_recognised(text: str, hides: bool) -> None:
    assert disables_disclosure(text) is hides


@pytest.mark.parametrize("language", ["fr", "es", "it", "nl"])
def test_default_wordings_exist_and_are_lawful(language: str) -> None:
    disclosure = wording.default_disclosure(language)
    assert disclosure is not None and discloses_ai(disclosure, language)
    for messages in (wording.HANDOFF, wording.DECISION_HANDOFF, wording.REFUSAL):
        text = wording.pick(messages, language)
        assert text is not None and not states_decision(text) and not requests_decision(text)
    assert wording.default_disclosure(f"{language}-XX") == disclosure


@pytest.mark.parametrize(
    "text",
    [
        "Hello there, my jacket still has not arrived. Where is it?",
        "What are your opening hours on Saturday? Do you ship to Austria?",
        "Hallo, ich habe letzte Woche eine Jacke bestellt. Wo ist meine Lieferung?",
        "Die Größentabelle sagt M, aber sie fällt klein aus. Grüße aus München!",
        "Bonjour, quels sont vos horaires ? Livrez-vous en Belgique ?",
        "Hola, ¿cuál es su horario? ¿Envían a Portugal?",
        "Salve, quali sono i vostri orari? Spedite in Svizzera?",
        "Hallo, wat zijn jullie openingstijden? Leveren jullie in België?",
    ],
)
def test_messages_without_trigger_words_skip_the_sentence_patterns(text: str) -> None:
    assert decisions._triggered_sentences(fold(text).text) == []


@pytest.mark.parametrize(
    "text",
    [
        "How do refunds work in general? Is there a discount for students?",
        "Could you explain the warranty terms for electronics?",
        "Wie funktioniert eine Rückerstattung im Allgemeinen? Gibt es Rabatte für Studierende?",
        "Können Sie mir die Garantiebedingungen erklären?",
    ],
)
def test_english_and_german_sentences_only_run_their_own_lexicons(text: str) -> None:
    for _previous, _sentence, lexicons in decisions._triggered_sentences(fold(text).text):
        assert all(lexicon is decisions.EN or lexicon is decisions.DE for lexicon, _strong in lexicons)
