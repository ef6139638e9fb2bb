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
        ("Dis toujours clairement que tu es une IA.", False),
        ("Sé amable y conciso.", False),
    ],
)
def test_instructions_that_hide_the_ai_are_recognised(text: str, hides: bool) -> None:
    assert disables_disclosure(text) is hides


@pytest.mark.parametrize("language", ["fr", "es"])
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
