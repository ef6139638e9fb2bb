"""The built-in responder: answers from the avatar's knowledge by BM25 retrieval, with no network.

Deterministic (same request, same reply) and fast enough to run on every chat message: the
knowledge index is built by the caller once per snapshot, so a reply costs one search."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from avatars.responders.base import Engine, Reply, ReplyOutcome, ReplyRequest
from avatars.responders.knowledge import chunk_body, words
from avatars.responders.prompt import fallback_text, greeting_text

# A message made only of these words (at least one from GREETINGS) is a greeting.
GREETINGS = frozenset(
    "hi hello hey hiya howdy hallo moin servus gruezi gruss gott morning morgen tag abend evening "
    "afternoon bonjour salut hola ciao buongiorno hoi".split()
)
GREETING_FILLERS = frozenset("good guten there everyone all zusammen ihr miteinander".split())

_SENTENCE_END = re.compile(r"(?<=[.!?…:])(?=\s)")


def is_greeting(message: str, avatar_name: str = "") -> bool:
    """"Hi", "Hallo!", "Guten Tag", "good morning, Mia": greetings and nothing else."""
    said = words(message)
    if not said or len(said) > 5:
        return False
    allowed = GREETINGS | GREETING_FILLERS | set(words(avatar_name))
    return all(w in allowed for w in said) and any(w in GREETINGS for w in said)


def split_deltas(text: str) -> list[str]:
    """Sentence-sized pieces that join back to ``text`` exactly."""
    return [piece for piece in _SENTENCE_END.split(text) if piece]


class BuiltinResponder:
    """Greets, answers with the best Q&A answer or document chunk, or falls back and offers a person."""

    engine: Engine = "builtin"

    def stream(self, request: ReplyRequest) -> Reply:
        return Reply(self.engine, lambda outcome: self._deltas(request, outcome))

    def answer(self, request: ReplyRequest, outcome: ReplyOutcome) -> str:
        """The whole reply, filling in the outcome. Pure: no I/O, no clock, no randomness."""
        if is_greeting(request.message, request.persona.name):
            outcome.greeting = True
            return greeting_text(request)
        hits = request.knowledge.search(request.message, language=request.language, limit=1)
        if hits and hits[0].score >= request.settings.min_score:
            hit = hits[0]
            outcome.knowledge_ids = [hit.id]
            return hit.text.strip() if hit.kind == "qa" else chunk_body(hit.text)
        outcome.fallback_used = True
        outcome.offered_human = True
        return fallback_text(request)

    async def _deltas(self, request: ReplyRequest, outcome: ReplyOutcome) -> AsyncIterator[str]:
        deltas = split_deltas(self.answer(request, outcome))
        for i, delta in enumerate(deltas, 1):
            outcome.last = i == len(deltas)
            yield delta
