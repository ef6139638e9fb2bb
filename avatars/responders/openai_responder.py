"""The OpenAI-compatible responder: streams a chat completion from OpenAI, Azure OpenAI, vLLM, Ollama
or any server speaking the same API, grounded in the avatar's retrieved knowledge.

Whatever goes wrong (no connection, a non-2xx status, no first token in time, the stream breaking
off) the visitor gets the fallback message and an offer of a person, never an error text; the
outcome names the error category and the log names only the category and exception type."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import orjson

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
    # What a reply may ask for on this deployment's key (settings.openai_models, openai_max_tokens): a model
    # outside `models` answers with default_model, max_tokens is capped. Empty / 0: no restriction.
    models: tuple[str, ...] = ()
    max_tokens_cap: int = 0


def client_timeout(config: OpenAIConfig) -> openai.Timeout:
    # read: the per-attempt wait for the response headers and the longest silence between chunks
    return openai.Timeout(config.first_token_timeout, connect=config.connect_timeout)


# The client's telemetry headers and user agent describe our servers (OS, CPU, Python and library
# versions) to the LLM provider, which needs none of it; left out (the user agent says only
# "Confide"), and every request is ~0.15 ms cheaper to build.
USER_AGENT = "Confide"
PLATFORM_HEADERS = (
    "X-Stainless-Lang",
    "X-Stainless-Package-Version",
    "X-Stainless-OS",
    "X-Stainless-Arch",
    "X-Stainless-Runtime",
    "X-Stainless-Runtime-Version",
    "X-Stainless-Async",
)


def make_client(config: OpenAIConfig) -> openai.AsyncOpenAI:
    """One client per endpoint and key: it owns the connection pool, so reuse it for every reply.
    Its aiohttp transport (the `aiohttp` extra) costs ~0.6 ms less per streamed reply than the default."""
    return openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key,
        timeout=client_timeout(config),
        max_retries=config.max_retries,
        http_client=openai.DefaultAioHttpClient(),
        default_headers={**dict.fromkeys(PLATFORM_HEADERS, openai.Omit()), "User-Agent": USER_AGENT},
    )


class _Incomplete(Exception):
    """The stream ended without a finish reason: the server or a proxy cut it short."""


class _StreamBroken(Exception):
    """Reading the stream failed in the client's transport (a cut connection) after the headers came."""


class _StreamError(Exception):
    """The server reported an error inside the stream (an `error` event after the headers)."""


def _choice(line: bytes) -> dict[str, Any] | None:
    """The first choice of one server-sent event line, or None for comments, blank lines, other
    fields and chunks without choices (usage). `[DONE]` before a finish reason is a cut-off stream."""
    if not line.startswith(b"data:"):
        return None
    data = line[5:].strip()
    if data == b"[DONE]":
        raise _Incomplete("done before a finish reason")
    chunk = orjson.loads(data)
    if not isinstance(chunk, dict):
        raise _StreamError("not a chunk")
    if chunk.get("error"):
        raise _StreamError("error event")
    choices = chunk.get("choices")
    return choices[0] if choices else None


class _Lines:
    """Server-sent event lines from the body's byte chunks, as they come: every line a read
    completes (ended by CR LF, LF or CR, as the event-stream format allows), the rest kept for the
    next read. One read usually carries several events, so the stream costs one await per read
    rather than one per line."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._rest + chunk).splitlines(keepends=True)
        self._rest = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        return [line.rstrip(b"\r\n") for line in lines]

    def end(self) -> list[bytes]:
        rest, self._rest = self._rest, b""
        return [rest] if rest else []


def _os_error_in_chain(error: BaseException) -> bool:
    """A refused or reset connection somewhere under `error` (the aiohttp transport reports a
    refused connect as a connect timeout)."""
    cause = error.__cause__ or error.__context__
    for _ in range(8):  # chains are short; the bound guards against a cycle
        if cause is None:
            return False
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _category(error: BaseException, sent_text: bool) -> ErrorCategory:
    if isinstance(error, openai.APITimeoutError) and _os_error_in_chain(error):
        return "interrupted" if sent_text else "connection_error"
    if isinstance(error, (TimeoutError, openai.APITimeoutError)):
        return "timeout"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if sent_text:
        return "interrupted"
    if isinstance(error, openai.APIStatusError):
        return "upstream_error"
    if isinstance(error, (openai.APIConnectionError, _StreamBroken)):
        return "connection_error"
    return "upstream_error"


DRAIN_SECONDS = 2.0  # how long a finished stream's remainder may take before its connection is dropped


async def _drain(response: httpx2.Response, chunks: AsyncIterator[bytes]) -> None:
    """Read what follows a finish reason (`[DONE]`, the end of the body) and close the response.
    A response closed before its body ends takes its connection with it; read to the end, the
    connection goes back to the pool and the next reply skips a TCP (and TLS) handshake."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in chunks:
                pass
    except Exception:  # noqa: BLE001 - the reply is complete; a broken tail only costs the connection
        pass
    finally:
        with contextlib.suppress(Exception):
            await response.aclose()


class OpenAIResponder:
    """Streams replies from one OpenAI-compatible endpoint through one pooled client."""

    engine: Engine = "openai"

    def __init__(self, config: OpenAIConfig, client: openai.AsyncOpenAI | None = None) -> None:
        self.config = config
        self.client = client or make_client(config)
        # The endpoint as the client would join it to its base URL on every request (a URL parse
        # less per reply); absolute, so the client takes it as it is. (A client passed in must be
        # a plain AsyncOpenAI: AsyncAzureOpenAI rewrites only the relative path to its deployment.)
        base = self.client.base_url
        self._completions_url = str(base.copy_with(raw_path=base.raw_path + b"chat/completions"))
        self._draining: set[asyncio.Task[None]] = set()  # _drain tasks, held until they end

    def _model(self, named: str) -> str:
        """The avatar's model if this deployment offers it, else its default (a model taken off the list since)."""
        if not named or (self.config.models and named not in self.config.models):
            return self.config.default_model
        return named

    def stream(self, request: ReplyRequest) -> Reply:
        return Reply(self.engine, lambda outcome: self._deltas(request, outcome))

    async def aclose(self) -> None:
        """Stop reading finished streams and close the client's connection pool (only for a
        responder that owns its client; the registry stops the draining and closes shared ones)."""
        await self.stop_draining()
        await self.client.close()

    async def stop_draining(self) -> None:
        """Shutting down: the connections the drains would hand back are about to go with their
        pool, so stop them (each still closes its response) rather than wait for them."""
        for task in list(self._draining):
            task.cancel()
        await self.drained()

    async def drained(self) -> None:
        """Wait until every finished stream has been read to its end and closed."""
        await asyncio.gather(*self._draining, return_exceptions=True)

    def _drain_later(self, response: httpx2.Response, chunks: AsyncIterator[bytes]) -> None:
        task = asyncio.create_task(_drain(response, chunks), name="confide-llm-drain")
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    async def _deltas(self, request: ReplyRequest, outcome: ReplyOutcome) -> AsyncIterator[str]:
        hits = retrieve(request)
        outcome.knowledge_ids = [hit.id for hit in hits]
        settings = request.settings
        loop = asyncio.get_running_loop()
        started = loop.time()
        total_deadline = started + self.config.total_timeout
        deadline = min(started + self.config.first_token_timeout, total_deadline)
        sent: list[str] = []  # the texts yielded so far
        last = ""  # the text that came with the finish reason
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout_at(deadline):
                    # The client's raw streaming response (its transport, retries, status errors; the
                    # custom-request form, cast to the response itself, left unread), with the
                    # server-sent events read here. The typed create() costs ~1 ms more a reply (its
                    # parameter transform and per-chunk models, ~3 ms with 13 messages). The body goes
                    # as content, JSON bytes (orjson, not the client's json.dumps), under the client's
                    # default Content-Type: application/json.
                    response = await self.client.post(
                        self._completions_url,
                        cast_to=httpx2.Response,
                        content=orjson.dumps(
                            {
                                "model": self._model(settings.model),
                                "messages": chat_messages(request, hits),
                                "temperature": settings.temperature,
                                "max_tokens": min(settings.max_tokens, self.config.max_tokens_cap) if self.config.max_tokens_cap else settings.max_tokens,
                                "stream": True,
                            }
                        ),
                        stream=True,
                    )
                    stack.push_async_callback(response.aclose)
                chunks = response.aiter_bytes()
                lines = _Lines()
                finish_reason = None
                while finish_reason is None:
                    # a timeout around each await only, never across a yield to the caller
                    async with asyncio.timeout_at(deadline):
                        try:
                            read = lines.feed(await chunks.__anext__())
                        except StopAsyncIteration:
                            read = lines.end()
                            if not read:
                                raise _Incomplete from None
                        except Exception as exc:  # the transport's own errors (openai's HTTP library)
                            if "Timeout" in type(exc).__name__:
                                raise TimeoutError from exc
                            raise _StreamBroken(type(exc).__name__) from exc
                    # The text of every event this read brought goes on as one delta: tokens that
                    # arrived together are shown together, for one pass through the guard and the
                    # chat rather than one per token.
                    texts: list[str] = []
                    failed: Exception | None = None
                    for line in read:
                        try:
                            choice = _choice(line)
                            if choice is None:
                                continue
                            finish_reason = choice.get("finish_reason")
                            text = (choice.get("delta") or {}).get("content")
                        except Exception as exc:  # noqa: BLE001 - a malformed event: raised below, after the text before it
                            failed = exc
                            break
                        if isinstance(text, str) and text:
                            texts.append(text)
                        if finish_reason is not None:
                            break
                    if texts:
                        text = "".join(texts)
                        if not sent:
                            deadline = total_deadline
                        if finish_reason is not None:
                            last = text  # yielded below, once the outcome is final
                            break
                        sent.append(text)
                        yield text
                    if failed is not None:
                        raise failed
                # Finished: the rest of the body is read off the reply's path (and the response
                # closed there), so its connection can be used again.
                stack.pop_all()
                self._drain_later(response, chunks)
            whole = "".join(sent) + last
            if not whole.strip():
                raise _Incomplete("empty reply")
        except Exception as error:  # noqa: BLE001 - every failure becomes the fallback, never a trace
            shown = any(text.strip() for text in sent)  # whitespace alone showed the visitor nothing
            outcome.error = _category(error, shown)
            outcome.fallback_used = True
            outcome.offered_human = True
            log.warning(
                "llm reply failed",
                extra={"error_category": outcome.error, "error_type": type(error).__name__},
            )
            outcome.last = True
            yield ("\n\n" if shown else "") + fallback_text(request)
            return
        outcome.offered_human = offers_human(whole, request.language)
        if last:
            outcome.last = True
            yield last
