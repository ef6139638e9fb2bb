"""The one interface every responder speaks: a reply request in, a stream of text deltas out, and the
outcome (fallback used, human offered, knowledge used, error category) readable once the stream ends.

Pure data and no I/O, so storage, the realtime chat and the preview route can all build a request from
plain values and read the outcome without knowing which engine answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from avatars.responders.knowledge import KnowledgeIndex

Author = Literal["visitor", "avatar", "operator"]
Engine = Literal["builtin", "openai"]
ErrorCategory = Literal[
    "timeout",  # no first token or no end within the configured time
    "rate_limited",  # 429 still after the client's retries
    "upstream_error",  # non-2xx, malformed or empty answer from the LLM server
    "connection_error",  # the LLM server could not be reached
    "interrupted",  # the stream broke off after some text had been sent
    "not_configured",  # engine "openai" asked for but no endpoint configured
]


@dataclass(frozen=True, slots=True)
class Persona:
    """Who the avatar is, as the tenant described it."""

    name: str
    role: str = ""  # e.g. "customer service for Example GmbH"
    tone: str = ""  # free-text tone notes, e.g. "warm, concise, uses Sie"


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier message of the conversation. Text is already redacted by the caller."""

    author: Author
    text: str


@dataclass(frozen=True, slots=True)
class ResponderSettings:
    """Per-avatar engine choice and generation knobs."""

    engine: Engine = "builtin"
    model: str = ""  # empty: the deployment's default model
    temperature: float = 0.3
    max_tokens: int = 400
    min_score: float = 0.5  # builtin: least normalised knowledge score that counts as an answer


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """Everything a responder needs for one reply, as plain data."""

    persona: Persona
    language: str  # BCP 47, e.g. "en", "de-CH"
    greeting: str  # the avatar's greeting in that language
    fallback: str  # the fallback message in that language (a human offer is appended if missing)
    message: str  # the new visitor message, already redacted
    knowledge: KnowledgeIndex = field(default_factory=lambda: KnowledgeIndex.empty())
    history: Sequence[Turn] = ()
    style: Sequence[str] = ()  # the guidelines' style and tone instructions
    disclosure: str = ""  # the AI-disclosure sentence
    settings: ResponderSettings = ResponderSettings()


@dataclass(slots=True)
class ReplyOutcome:
    """What happened while answering. Final once the reply stream is exhausted."""

    engine: Engine
    fallback_used: bool = False
    offered_human: bool = False
    greeting: bool = False  # answered a greeting with the avatar's greeting
    knowledge_ids: list[str] = field(default_factory=list)  # Q&A entry or chunk ids the reply drew on
    error: ErrorCategory | None = None
    finished: bool = False
    # When set, the delta just yielded is the last and the rest of the outcome is final: the caller
    # may store the reply while that delta is still on its way to the visitor. It may stay unset
    # (a finish reason that came without text, an empty reply): then only the stream's end says so.
    last: bool = False


class Reply:
    """An async iterator of text deltas that also collects the full text and carries the outcome.

    ``async for delta in reply`` streams; afterwards ``reply.text`` is the whole answer and
    ``reply.outcome`` says how it came about. ``aclose()`` stops early (the visitor left)."""

    __slots__ = ("outcome", "_deltas", "_parts")

    def __init__(self, engine: Engine, produce: Callable[[ReplyOutcome], AsyncIterator[str]]) -> None:
        self.outcome = ReplyOutcome(engine=engine)
        self._deltas = produce(self.outcome)
        self._parts: list[str] = []

    def __aiter__(self) -> Reply:
        return self

    async def __anext__(self) -> str:
        try:
            delta = await self._deltas.__anext__()
        except StopAsyncIteration:
            self.outcome.finished = True
            raise
        self._parts.append(delta)
        return delta

    @property
    def text(self) -> str:
        return "".join(self._parts)

    async def collect(self) -> str:
        """Drain the stream and return the whole text."""
        async for _ in self:
            pass
        return self.text

    async def aclose(self) -> None:
        aclose = getattr(self._deltas, "aclose", None)
        if aclose is not None:
            await aclose()


class Responder(Protocol):
    """Answers one visitor message as a stream of text deltas."""

    engine: Engine

    def stream(self, request: ReplyRequest) -> Reply: ...
