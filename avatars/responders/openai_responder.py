"""The OpenAI-compatible responder: streams a chat completion from OpenAI, Azure OpenAI, vLLM, Ollama
or any server speaking the same API, grounded in the avatar's retrieved knowledge.

Whatever goes wrong (no connection, a non-2xx status, no first token in time, the stream breaking
off) the visitor gets the fallback message and an offer of a person, never an error text; the
outcome names the error category and the log names only the category and exception type."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import openai

from avatars.responders.base import Engine, ErrorCategory, Reply, ReplyOutcome, ReplyRequest
from avatars.responders.prompt import chat_messages, fallback_text, offers_human, retrieve

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpenAIConfig:
    """Where the LLM is and how long to wait for it.

    Retries are the client's own (``max_retries``): on connection errors, timeouts, 408, 409, 429
    and 5xx, with its backoff or the server's Retry-After, and only before any text arrives. The
    first-token timeout bounds all of that together, so a visitor never waits longer for the first
    word; the total timeout bounds the whole reply."""

    base_url: str
    api_key: str = "unused"  # local servers ignore it, the client insists on one
    default_model: str = "gpt-4o-mini"
    connect_timeout: float = 5.0
    first_token_timeout: float = 20.0
    total_timeout: float = 60.0
    max_retries: int = 2


def client_timeout(config: OpenAIConfig) -> openai.Timeout:
    # read: the per-attempt wait for the response headers and the longest silence between chunks
    return openai.Timeout(config.first_token_timeout, connect=config.connect_timeout)


def make_client(config: OpenAIConfig) -> openai.AsyncOpenAI:
    """One client per endpoint and key: it owns the connection pool, so reuse it for every reply."""
    return openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key,
        timeout=client_timeout(config),
        max_retries=config.max_retries,
    )


class _Incomplete(Exception):
    """The stream ended without a finish reason: the server or a proxy cut it short."""


def _category(error: BaseException, sent_text: bool) -> ErrorCategory:
    if isinstance(error, (TimeoutError, openai.APITimeoutError)):
        return "timeout"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if sent_text:
        return "interrupted"
    if isinstance(error, openai.APIStatusError):
        return "upstream_error"
    if isinstance(error, openai.APIConnectionError):
        return "connection_error"
    return "upstream_error"


class OpenAIResponder:
    """Streams replies from one OpenAI-compatible endpoint through one pooled client."""

    engine: Engine = "openai"

    def __init__(self, config: OpenAIConfig, client: openai.AsyncOpenAI | None = None) -> None:
        self.config = config
        self.client = client or make_client(config)

    def stream(self, request: ReplyRequest) -> Reply:
        return Reply(self.engine, lambda outcome: self._deltas(request, outcome))

    async def aclose(self) -> None:
        """Close the client's connection pool (only for a responder that owns its client)."""
        await self.client.close()

    async def _deltas(self, request: ReplyRequest, outcome: ReplyOutcome) -> AsyncIterator[str]:
        hits = retrieve(request)
        outcome.knowledge_ids = [hit.id for hit in hits]
        settings = request.settings
        loop = asyncio.get_running_loop()
        started = loop.time()
        total_deadline = started + self.config.total_timeout
        deadline = min(started + self.config.first_token_timeout, total_deadline)
        sent: list[str] = []
        stream = None
        try:
            async with asyncio.timeout_at(deadline):
                stream = await self.client.chat.completions.create(
                    model=settings.model or self.config.default_model,
                    messages=chat_messages(request, hits),  # type: ignore[arg-type]
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                    stream=True,
                )
            finish_reason = None
            while finish_reason is None:
                # a timeout around each await only, never across a yield to the caller
                async with asyncio.timeout_at(deadline):
                    try:
                        chunk = await stream.__anext__()
                    except StopAsyncIteration:
                        raise _Incomplete from None
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish_reason = choice.finish_reason
                text = choice.delta.content if choice.delta else None
                if text:
                    if not sent:
                        deadline = total_deadline
                    sent.append(text)
                    yield text
            if not "".join(sent).strip():
                raise _Incomplete("empty reply")
        except Exception as error:  # noqa: BLE001 - every failure becomes the fallback, never a trace
            outcome.error = _category(error, bool(sent))
            outcome.fallback_used = True
            outcome.offered_human = True
            log.warning(
                "llm reply failed",
                extra={"error_category": outcome.error, "error_type": type(error).__name__},
            )
            yield ("\n\n" if sent else "") + fallback_text(request)
            return
        finally:
            if stream is not None:
                await stream.close()
        outcome.offered_human = offers_human("".join(sent), request.language)
