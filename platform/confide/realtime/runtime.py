"""What every chat connection of one node shares: services, caches of immutable avatar versions and
compiled guidelines, the responders, the purpose gate, the visitor-token signer and the node's open
connections by tenant (live.py). Built in lifespan."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from avatars.responders import KnowledgeIndex
from avatars.runtime import openai_config
from avatars.responders.registry import Responders
from avatars.service import get_version_by_id
from avatars.snapshot import AvatarSnapshot
from confide.chats.tokens import VisitorTokens
from confide.chats.writer import MessageWriter
from confide.core.broker import Broker
from confide.core.events import EventBus
from confide.core.services import Services
from confide.privacy.gate import PurposeGate
from confide.realtime.live import LiveConnections
from confide.realtime.protocol import encode
from confide.settings import Settings
from guidelines.checker import CompiledGuidelines, compile_guidelines
from guidelines.rules import GuidelineSetSpec

_DEFAULT_SPEC = GuidelineSetSpec()
log = logging.getLogger("confide.realtime")


@dataclass(frozen=True, slots=True)
class LoadedAvatar:
    """An immutable avatar version, ready to answer: its snapshot, knowledge index and compiled guidelines."""

    snapshot: AvatarSnapshot
    knowledge: KnowledgeIndex
    guidelines: CompiledGuidelines


def compile_for(snapshot: AvatarSnapshot) -> CompiledGuidelines:
    ref = snapshot.guideline
    if ref is None:
        return compile_guidelines(_DEFAULT_SPEC, "default")
    return compile_guidelines(ref.spec, ref.version_key)


class ChatRuntime:
    def __init__(self, services: Services, sessionmaker: async_sessionmaker[AsyncSession], gate: PurposeGate) -> None:
        settings = services.settings
        self.services = services
        self.settings: Settings = settings
        self.broker: Broker = services.broker
        self.events: EventBus = services.events
        self.sessionmaker = sessionmaker
        self.gate = gate
        self.tokens = VisitorTokens(settings.secret_keys, settings.chat_visitor_token_days)
        self.responders = Responders(openai=openai_config(settings))
        self._versions: OrderedDict[str, LoadedAvatar] = OrderedDict()
        self.writer = MessageWriter(sessionmaker.kw["bind"], sessionmaker, pool_size=max(2, settings.database_pool_size // 2))
        self.live = LiveConnections(self.broker, sessionmaker)  # this node's connections by tenant: a tenant's closure cuts them

    async def start(self) -> None:
        await self.writer.start()
        await self.live.start()

    async def load_version(self, session: AsyncSession, *, tenant_id: str, version_id: str) -> LoadedAvatar | None:
        """An avatar version from the cache, or loaded and compiled once (versions never change)."""
        loaded = self._versions.get(version_id)
        if loaded is not None:
            self._versions.move_to_end(version_id)
            return loaded if loaded.snapshot.tenant_id == tenant_id else None
        snapshot = await get_version_by_id(session, version_id, tenant_id=tenant_id)
        if snapshot is None:
            return None
        loaded = LoadedAvatar(snapshot, snapshot.knowledge_index(), compile_for(snapshot))
        self._versions[version_id] = loaded
        if len(self._versions) > 256:
            self._versions.popitem(last=False)
        return loaded

    def emit(self, name: str, conversation: Any, **extra: Any) -> None:
        """A domain event about a conversation (ids and categories only, never text)."""
        self.events.emit(name, {"tenant_id": conversation.tenant_id, "conversation_id": conversation.id, "avatar_id": conversation.avatar_id, **extra})

    async def publish(self, channel: str, frame: dict[str, Any], origin: str = "") -> None:
        """Fan a frame out to other connections (but the subscription named by `origin`). Never fatal:
        everything sequenced is stored first, and a client that misses a frame gets it from the
        database (gap fill or resume)."""
        try:
            await self.broker.publish(channel, encode(frame), origin)
        except Exception as exc:
            log.warning("broker publish failed; clients will catch up from storage", extra={"error": type(exc).__name__})

    async def aclose(self) -> None:
        await self.live.stop()
        await self.responders.aclose()
        await self.writer.close()
