"""Built-in wordings (English, German, French, Spanish, Italian, Dutch) and how a language tag picks one.

The defaults make the always-on protections work for a set that configures nothing: the AI
disclosure (EU AI Act Art. 50), what the avatar says when it hands a conversation to a human,
and what it says when a reply is blocked.
"""

from __future__ import annotations

from collections.abc import Mapping

DISCLOSURE = {
    "en": "Hello! Please note: I am an AI assistant, an automated system, not a human.",
    "de": "Hallo! Bitte beachten Sie: Ich bin ein KI-Assistent, ein automatisiertes System, kein Mensch.",
    "fr": "Bonjour ! Veuillez noter : je suis un assistant IA, un système automatisé, et non un être humain.",
    "es": "¡Hola! Tenga en cuenta: soy un asistente de IA, un sistema automatizado, y no una persona.",
    "it": "Salve! Tenga presente: sono un assistente IA, un sistema automatizzato, e non una persona.",
    "nl": "Hallo! Let op: ik ben een AI-assistent, een geautomatiseerd systeem, en geen mens.",
}
HANDOFF = {
    "en": "I am passing your request to a human colleague, who will get back to you here.",
    "de": "Ich gebe Ihr Anliegen an eine Mitarbeiterin oder einen Mitarbeiter weiter, die sich hier bei Ihnen meldet.",
    "fr": "Je transmets votre demande à une personne de notre équipe, qui vous répondra ici.",
    "es": "Paso su consulta a una persona de nuestro equipo, que le responderá aquí.",
    "it": "Inoltro la sua richiesta a una persona del nostro team, che le risponderà qui.",
    "nl": "Ik geef uw vraag door aan een medewerker, die hier contact met u opneemt.",
}
DECISION_HANDOFF = {
    "en": "Decisions like this are made by a person, not by an AI. I am passing your request to a human colleague.",
    "de": "Solche Entscheidungen trifft ein Mensch, keine KI. Ich gebe Ihr Anliegen an eine Mitarbeiterin oder einen Mitarbeiter weiter.",
    "fr": "Ce type de décision est pris par une personne, pas par une IA. Je transmets votre demande à une personne de notre équipe.",
    "es": "Las decisiones de este tipo las toma una persona, no una IA. Paso su consulta a una persona de nuestro equipo.",
    "it": "Decisioni come questa le prende una persona, non un'IA. Inoltro la sua richiesta a una persona del nostro team.",
    "nl": "Zulke beslissingen neemt een mens, geen AI. Ik geef uw vraag door aan een medewerker.",
}
REFUSAL = {
    "en": "I am sorry, I cannot help with that.",
    "de": "Das kann ich leider nicht beantworten.",
    "fr": "Je suis désolé, je ne peux pas vous aider sur ce point.",
    "es": "Lo siento, no puedo ayudarle con eso.",
    "it": "Mi dispiace, non posso aiutarla su questo punto.",
    "nl": "Het spijt me, daar kan ik u niet mee helpen.",
}


def primary(tag: str) -> str:
    """The primary language subtag: "de-AT" -> "de"."""
    return tag.split("-", 1)[0].lower()


def pick(messages: Mapping[str, str], language: str) -> str | None:
    """The wording for a language: exact tag first, then the same primary language."""
    if language in messages:
        return messages[language]
    wanted = primary(language)
    for tag, text in messages.items():
        if primary(tag) == wanted:
            return text
    return None


def choose(configured: Mapping[str, str], defaults: Mapping[str, str], language: str, fallback: str) -> str:
    """Configured wording for the language, else the built-in one, else the fallback language's."""
    return (
        pick(configured, language)
        or pick(defaults, language)
        or pick(configured, fallback)
        or pick(defaults, fallback)
        or defaults["en"]
    )


def default_disclosure(language: str) -> str | None:
    return pick(DISCLOSURE, language)
