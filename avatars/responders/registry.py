"""The responders of one process: the builtin one, and OpenAI responders sharing one pooled client
per (base URL, API key). Built in the app's lifespan, closed with ``aclose()``."""

from __future__ import annotations

import asyncio

import openai as openai_sdk

from avatars.responders.base import Reply, ReplyRequest, Responder
from avatars.responders.builtin import BuiltinResponder
from avatars.responders.openai_responder import OpenAIConfig, OpenAIResponder, client_timeout, make_client


class Responders:
    """Picks the responder for a request and keeps LLM connections alive between messages."""

    def __init__(self, openai: OpenAIConfig | None = None) -> None:
        self.default_openai = openai
        self.builtin = BuiltinResponder()
        self._clients: dict[tuple[str, str], openai_sdk.AsyncOpenAI] = {}
        self._responders: dict[OpenAIConfig, OpenAIResponder] = {}

    def openai(self, config: OpenAIConfig | None = None) -> OpenAIResponder | None:
        """The OpenAI responder for ``config`` (default: the deployment's); None if there is none."""
        config = config or self.default_openai
        if config is None:
            return None
        responder = self._responders.get(config)
        if responder is None:
            key = (config.base_url, config.api_key)
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = make_client(config)
            else:  # same endpoint, other timeouts: a view on the same connection pool
                client = client.with_options(timeout=client_timeout(config), max_retries=config.max_retries)
            responder = self._responders[config] = OpenAIResponder(config, client)
        return responder

    def for_request(
        self, request: ReplyRequest, *, external_llm: bool, openai: OpenAIConfig | None = None
    ) -> Responder:
        """The OpenAI responder if the avatar uses "openai", an endpoint is configured and sending
        chats to an external LLM is allowed (``external_llm``, the tenant's instruction); else builtin."""
        if request.settings.engine == "openai" and external_llm:
            responder = self.openai(openai)
            if responder is not None:
                return responder
        return self.builtin

    def stream(
        self, request: ReplyRequest, *, external_llm: bool, openai: OpenAIConfig | None = None
    ) -> Reply:
        """Stream a reply from the right responder. An "openai" avatar with no endpoint configured
        answers from its knowledge, and ``outcome.error`` says "not_configured". ``external_llm`` has no
        default: every caller says whether the tenant's instructions allow the LLM."""
        responder = self.for_request(request, external_llm=external_llm, openai=openai)
        reply = responder.stream(request)
        if request.settings.engine == "openai" and external_llm and responder is self.builtin:
            reply.outcome.error = "not_configured"
        return reply

    async def aclose(self) -> None:
        """Stop reading finished streams, then close the clients."""
        await asyncio.gather(*(responder.stop_draining() for responder in self._responders.values()))
        clients = list(self._clients.values())
        self._clients.clear()
        self._responders.clear()
        for client in clients:
            await client.close()
