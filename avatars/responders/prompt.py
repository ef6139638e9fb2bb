"""The texts responders say or send: the human offer, the fallback, and the LLM's system prompt and
messages built from persona, guidelines, disclosure, retrieved knowledge and history.

Kept apart from the engines so the builtin responder, the OpenAI responder and the preview route
say the same fallback and so the prompt can be read and tested as one piece."""

from __future__ import annotations

from collections.abc import Sequence

from avatars.responders.base import ReplyRequest, Turn
from avatars.responders.knowledge import Hit, primary_language

HUMAN_OFFER = {
    "en": "Would you like me to connect you with a person?",
    "de": "Soll ich Sie mit einem Menschen aus unserem Team verbinden?",
    "fr": "Souhaitez-vous que je vous mette en relation avec une personne ?",
    "es": "¿Quiere que le ponga en contacto con una persona?",
    "it": "Vuole che la metta in contatto con una persona?",
    "nl": "Wilt u dat ik u met een medewerker in contact breng?",
}
DEFAULT_FALLBACK = {
    "en": "I'm sorry, I can't answer that reliably.",
    "de": "Das kann ich leider nicht verlässlich beantworten.",
}
DEFAULT_GREETING = {
    "en": "Hello! How can I help you?",
    "de": "Hallo! Wie kann ich Ihnen helfen?",
}
LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch",
    "pt": "Portuguese", "pl": "Polish", "da": "Danish", "sv": "Swedish", "fi": "Finnish", "cs": "Czech",
}
ROLES = {"visitor": "user", "avatar": "assistant", "operator": "assistant"}

KNOWLEDGE_HITS = 4  # retrieved entries put into the prompt
KNOWLEDGE_MIN_SCORE = 0.2  # below this a hit is noise, not context
KNOWLEDGE_MAX_CHARS = 4000  # prompt budget for knowledge
HISTORY_TURNS = 20  # most recent turns sent along


def _pick(table: dict[str, str], language: str) -> str:
    return table.get(primary_language(language) or "en", table["en"])


def human_offer(language: str) -> str:
    """The question offering a person, in the conversation's language (English if unknown)."""
    return _pick(HUMAN_OFFER, language)


def greeting_text(request: ReplyRequest) -> str:
    return request.greeting.strip() or _pick(DEFAULT_GREETING, request.language)


SENTENCE_ENDS = (".", "!", "?", "…", ":", ";")  # a text ending so (before closing quotes or brackets) needs no full stop
CLOSERS = ")]\"'»“”’"


def fallback_text(request: ReplyRequest) -> str:
    """The avatar's fallback message followed by the offer of a person, unless it already offers one."""
    fallback = request.fallback.strip() or _pick(DEFAULT_FALLBACK, request.language)
    offer = human_offer(request.language)
    if offer.casefold() in fallback.casefold():
        return fallback
    if not fallback.rstrip(CLOSERS).endswith(SENTENCE_ENDS):  # a tenant's "Sorry" would run on into the offer
        fallback += "."
    return f"{fallback} {offer}"


def offers_human(text: str, language: str) -> bool:
    """Whether a reply contains the human offer (the prompt asks the LLM to use it verbatim)."""
    return human_offer(language).casefold() in text.casefold()


def retrieve(request: ReplyRequest, limit: int = KNOWLEDGE_HITS) -> list[Hit]:
    """The knowledge worth showing the LLM for this message, within the prompt budget."""
    hits = []
    used = 0
    for hit in request.knowledge.search(request.message, language=request.language, limit=limit):
        if hit.score < KNOWLEDGE_MIN_SCORE:
            break
        size = len(hit.text) + len(hit.matched)
        if used + size > KNOWLEDGE_MAX_CHARS:
            break
        hits.append(hit)
        used += size
    return hits


def _knowledge_block(hits: Sequence[Hit]) -> str:
    if not hits:
        return "Knowledge: none matches this message."
    lines = ["Knowledge (answer only from this):"]
    for number, hit in enumerate(hits, 1):
        if hit.kind == "qa":
            lines.append(f"[{number}] Q: {hit.matched}\nA: {hit.text}")
        else:
            source = f" (from {hit.matched!r})" if hit.matched else ""
            lines.append(f"[{number}]{source}\n{hit.text}")
    return "\n\n".join(lines)


def system_prompt(request: ReplyRequest, hits: Sequence[Hit]) -> str:
    """Who the avatar is, how it speaks, what it must and must not do, and what it knows."""
    persona = request.persona
    language = LANGUAGE_NAMES.get(primary_language(request.language) or "", request.language)
    offer = human_offer(request.language)
    who = f"You are {persona.name}, an AI assistant"
    who += f": {persona.role}." if persona.role else "."
    parts = [who]
    if persona.tone:
        parts.append(f"Tone: {persona.tone}")
    parts.append(f"Reply in {language} ({request.language}) unless the visitor writes in another language.")
    if request.style:
        parts.append("Style instructions:\n" + "\n".join(f"- {line}" for line in request.style))
    disclosure = request.disclosure.strip()
    parts.append(
        "You are an AI, not a person; never claim otherwise."
        + (f' When asked, or when it helps, say: "{disclosure}"' if disclosure else "")
    )
    parts.append(
        "Answer only from the knowledge below. If it does not answer the question, or you are unsure, "
        f'say so briefly and ask: "{offer}" Do not make anything up.'
    )
    parts.append(
        "Never decide, approve, refuse or promise anything about an application, a contract, a refund, "
        "credit, eligibility or an individual price or discount: people decide these (GDPR Art. 22). "
        f'Give the general information from the knowledge and ask: "{offer}"'
    )
    parts.append(_knowledge_block(hits))
    return "\n\n".join(parts)


def history_messages(history: Sequence[Turn], limit: int = HISTORY_TURNS) -> list[dict[str, str]]:
    """Earlier turns as chat messages: visitor -> user; avatar and human operator -> assistant."""
    return [{"role": ROLES[turn.author], "content": turn.text} for turn in history[-limit:] if turn.text]


def chat_messages(request: ReplyRequest, hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The full message list for a chat completion."""
    return [
        {"role": "system", "content": system_prompt(request, hits)},
        *history_messages(request.history),
        {"role": "user", "content": request.message},
    ]
