"""A local OpenAI-compatible server for tests and benchmarks: the real ``openai`` client talks to it
over a loopback socket, as it would to OpenAI, vLLM or Ollama.

It answers ``POST /v1/chat/completions`` (plain JSON, or SSE ``chat.completion.chunk`` events ending
with ``data: [DONE]`` when ``stream`` is true) and ``GET /v1/models``; it records every request;
and a script sets how it behaves: the reply text, the time to first token and between tokens,
failing the first N requests with a status, hanging, or closing the connection mid-stream.

    async with run_fake_llm() as llm:           # anywhere, e.g. a benchmark
        llm.script("Hello there.", first_token_delay=0.05)
        client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="x")
        ...
        assert llm.requests[-1].body["model"] == "m"

In pytest, ``fake_llm`` gives the session's server with a clean script and request log per test."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

Scope = dict[str, Any]

_TOKEN = re.compile(r"\s*\S+(?:\s+$)?")


@dataclass(frozen=True)
class Script:
    """How the server answers chat completions until the next ``script()`` or ``reset()``."""

    reply: str = "Hello from the fake LLM."
    tokens: Sequence[str] | None = None  # explicit deltas; default: the reply split before each word
    first_token_delay: float = 0.0  # seconds from receiving the request to the first token
    token_delay: float = 0.0  # seconds between tokens
    fail_first: int = 0  # answer this many chat requests with fail_status before behaving
    fail_status: int = 500
    retry_after_ms: int | None = 1  # sent with failures, so the client's retries do not sleep 0.5 s+
    hang: bool = False  # never answer (until the client gives up or the server stops)
    close_after: int | None = None  # drop the connection after this many tokens, without [DONE]
    finish_reason: str = "stop"
    finish_delay: float = 0.0  # seconds between the last token and the finish reason (a read of its own)
    done_delay: float = 0.0  # seconds between the finish reason and [DONE] (the end of the body)
    error_after: int | None = None  # after this many tokens, an `error` event ends the stream

    def deltas(self) -> list[str]:
        return list(self.tokens) if self.tokens is not None else _TOKEN.findall(self.reply)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None
    client: tuple[str, int] | None = None  # the peer's address: one port per connection

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


@dataclass
class FakeLLM:
    """The ASGI app and its state. ``base_url`` is set once the server listens."""

    base_url: str = ""
    model: str = "fake-model"
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: Script = field(default_factory=Script)
    _failed: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    # -- test-facing ----------------------------------------------------------------------------

    def script(self, reply: str = Script.reply, **behaviour: Any) -> Script:
        """Set the behaviour for the next requests (see ``Script``) and restart the failure count."""
        self._script = Script(reply=reply, **behaviour)
        self._failed = 0
        return self._script

    def reset(self) -> None:
        """Default script, empty request log, and any hanging request let go."""
        self._release.set()
        self._release = asyncio.Event()
        self._script = Script()
        self._failed = 0
        self.requests.clear()

    async def wait_for_requests(self, count: int = 1) -> list[RecordedRequest]:
        """Wait until ``count`` requests have arrived (e.g. one that now hangs)."""
        while len(self.requests) < count:
            self._arrived.clear()
            await self._arrived.wait()
        return self.requests[:count]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        self.requests.append(RecordedRequest(scope["method"], path, headers, parsed, tuple(client) if client else None))
        self._arrived.set()

        if scope["method"] == "GET" and path == "/v1/models":
            await _json(send, 200, {"object": "list", "data": [_model_object(self.model)]})
        elif scope["method"] == "POST" and path == "/v1/chat/completions":
            if not isinstance(parsed, dict) or "messages" not in parsed:
                await _json(send, 400, _error("invalid_request_error", "messages is required"))
                return
            await self._chat(parsed, receive, send)
        else:
            await _json(send, 404, _error("invalid_request_error", f"unknown route {path}"))

    async def _chat(self, body: dict[str, Any], receive: Any, send: Any) -> None:
        script, release = self._script, self._release
        if self._failed < script.fail_first:
            self._failed += 1
            headers = {"retry-after-ms": str(script.retry_after_ms)} if script.retry_after_ms is not None else {}
            kind = "rate_limit_exceeded" if script.fail_status == 429 else "server_error"
            await _json(send, script.fail_status, _error(kind, "scripted failure"), headers)
            return
        if script.hang:
            if await _released_before_disconnect(release, receive):
                await _json(send, 503, _error("server_error", "the fake LLM is stopping"))
            return
        await _pause(release, script.first_token_delay)
        completion_id = f"chatcmpl-fake{next(self._ids)}"
        model = body.get("model") or self.model
        tokens = script.deltas()
        if not body.get("stream"):
            await _json(send, 200, _completion(completion_id, model, "".join(tokens), script.finish_reason))
            return

        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")],
            }
        )
        await _event(send, _chunk(completion_id, model, {"role": "assistant", "content": ""}, None, usage))
        for number, token in enumerate(tokens):
            if number == script.close_after:
                return  # uvicorn drops the connection: the client sees the stream cut off
            if number == script.error_after:
                error = b"data: " + json.dumps(_error("server_error", "scripted failure mid-stream")).encode() + b"\n\n"
                await send({"type": "http.response.body", "body": error, "more_body": False})
                return
            if number:
                await _pause(release, script.token_delay)
            await _event(send, _chunk(completion_id, model, {"content": token}, None, usage))
        if script.close_after is not None:
            return  # every token sent, but cut off before the finish reason and [DONE]
        await _pause(release, script.finish_delay)
        await _event(send, _chunk(completion_id, model, {}, script.finish_reason, usage))
        if usage:
            final = _chunk(completion_id, model, {}, None, False)
            final["choices"] = []
            final["usage"] = _usage(body, "".join(tokens))
            await _event(send, final)
        await _pause(release, script.done_delay)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


# ---------------------------------------------------------------------------------------------------
# Wire format


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1700000000, "owned_by": "confide-tests"}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(completion_id: str, model: str, text: str, finish_reason: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(text.split()), "total_tokens": len(text.split())},
    }


def _chunk(
    completion_id: str, model: str, delta: dict[str, Any], finish_reason: str | None, usage: bool
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage:
        chunk["usage"] = None
    return chunk


async def _json(send: Any, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(payload).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw, "more_body": False})


async def _event(send: Any, payload: dict[str, Any]) -> None:
    data = b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _pause(release: asyncio.Event, seconds: float) -> None:
    """Sleep, but end early when the server stops or the test resets."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await release.wait()


async def _released_before_disconnect(release: asyncio.Event, receive: Any) -> bool:
    """Hang until the server stops or the test resets (True) or the client gives up (False)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    released = asyncio.ensure_future(release.wait())
    gone = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait((released, gone), return_when=asyncio.FIRST_COMPLETED)
        return released.done() and not gone.done()
    finally:
        for waiter in (released, gone):
            waiter.cancel()
        await asyncio.gather(released, gone, return_exceptions=True)


# ---------------------------------------------------------------------------------------------------
# Running it


class _Server(uvicorn.Server):
    """uvicorn that says when it listens and leaves the host's signal handlers alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def run_fake_llm(host: str = "127.0.0.1") -> AsyncIterator[FakeLLM]:
    """Serve a ``FakeLLM`` on a free loopback port for the duration of the block."""
    app = FakeLLM()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no delayed-ACK wait per streamed chunk
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = _Server(
        uvicorn.Config(
            app,
            lifespan="off",
            http="h11",
            access_log=False,
            log_config=None,
            log_level=None,
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]), name=f"fake-llm:{port}")
    try:
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if serving.done():
            serving.result()  # raise what stopped it
            raise RuntimeError("the fake LLM server stopped during startup")
        app.base_url = f"http://{host}:{port}/v1"
        yield app
    finally:
        app._release.set()  # let hanging requests go, so shutdown does not wait for them
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        sock.close()


@pytest.fixture(scope="session")
async def fake_llm_server() -> AsyncIterator[FakeLLM]:
    async with run_fake_llm() as llm:
        yield llm


@pytest.fixture
async def fake_llm(fake_llm_server: FakeLLM) -> AsyncIterator[FakeLLM]:
    """The session's fake LLM with the default script and an empty request log."""
    fake_llm_server.reset()
    yield fake_llm_server
    fake_llm_server.reset()
