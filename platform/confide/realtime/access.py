"""Announcing that someone's access changed, so open websockets that lost it close at once on every node.

Three notices, each a broker control channel every node subscribes to once (realtime/live.py listens):

- ACCESS_CHANGED_CHANNEL, for a user in one tenant (a membership removed, a role changed) or in every
  tenant (`tenant_id` None: a logout, a password change or reset, the account erased). Each node re-checks
  that user's operator sockets at once with the check they pass on every frame: those that still may
  operate stay (a role change that keeps the operate permission), the others close with 4401.
- AVATAR_ACCESS_CHANGED_CHANNEL, for an avatar whose widget key was rotated or whose allowed origins
  changed. Each node reads the avatar's key and origins once and closes its visitor sockets that opened on
  another key (4404 `unknown-widget`) or from an origin no longer allowed (4403 `origin-not-allowed`),
  what a new connection would get.
- CONVERSATIONS_ERASED_CHANNEL, for conversations an erasure has just purged (privacy/purge.py, once its
  batch has committed). Each node closes its visitor sockets on them with 4410 `conversation-erased`, and
  its operator sockets stop watching them (`left` with `reason: "erased"`); the erasing node also sends the
  operators a `queue_update` for those that were still in a queue or live. Before, an open widget kept
  showing an erased conversation until the visitor's next write.

Service code never commits and often holds no broker, so it notes the change on its session
(`access_changed_after_commit`, `avatar_access_changed_after_commit`): once that session's transaction
commits, the node that runs it cuts its own sockets directly (so they go even with the broker away) and
publishes the notice for the others; a rollback announces nothing. Best effort: a failed publish is
logged, never raised into the request. A node that missed a notice (its Redis subscription was down)
re-checks all its operator and visitor sockets once it is subscribed again (live.py `_catch_up`), and
an operator socket is re-checked every 20 s anyway.

Only core imports here: domains (accounts, privacy, tenants, avatars) call this module."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from confide.core import after_commit
from confide.core.broker import ACCESS_CHANGED_CHANNEL, AVATAR_ACCESS_CHANGED_CHANNEL, CONVERSATIONS_ERASED_CHANNEL, Broker
from confide.realtime import channels

log = logging.getLogger("confide.realtime.access")



class AccessListener(Protocol):
    """A node's open connections (live.py's LiveConnections)."""

    def announce_access_changed(self, *, user_id: str, tenant_id: str | None) -> None:
        """Re-check the user's operator sockets on this node now, and tell the other nodes."""

    def announce_avatar_access_changed(self, avatar_id: str) -> None:
        """Re-check the avatar's visitor sockets on this node now, and tell the other nodes."""

    def announce_conversations_erased(self, tenant_id: str, conversation_ids: list[str], queue_updates: list[dict[str, Any]]) -> None:
        """Cut the conversations' sockets on this node now, tell the other nodes, and send the tenant's
        operators `queue_updates` (for erased conversations that were in a queue or live)."""


# The node serving each database engine (one per app): an after-commit hook finds its node by the session's bind.
_nodes: dict[Engine, AccessListener] = {}


class BrokerOnlyNode:
    """The AccessListener of a process that holds no sockets (`confide retention run`): it cuts nothing itself and
    publishes each notice for the chat nodes, as a node does for the others. `flush()` before the broker closes."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._publishing: list[asyncio.Task[None]] = []

    def _publish(self, channel: str, message: str) -> None:
        self._publishing.append(asyncio.create_task(self._broker.publish(channel, message, ""), name="confide-access-announce"))

    def announce_access_changed(self, *, user_id: str, tenant_id: str | None) -> None:
        self._publish(ACCESS_CHANGED_CHANNEL, access_message(user_id=user_id, tenant_id=tenant_id))

    def announce_avatar_access_changed(self, avatar_id: str) -> None:
        self._publish(AVATAR_ACCESS_CHANGED_CHANNEL, avatar_id)

    def announce_conversations_erased(self, tenant_id: str, conversation_ids: list[str], queue_updates: list[dict[str, Any]]) -> None:
        for channel, message in erased_notices(tenant_id, conversation_ids, queue_updates):
            self._publish(channel, message)

    async def flush(self) -> None:
        """Wait until every notice has been handed to the broker and sent; failures are logged."""
        publishing, self._publishing = self._publishing, []
        for result in await asyncio.gather(*publishing, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("announcing to the chat nodes failed", extra={"error_type": type(result).__name__})
        await self._broker.flush()


def register_node(engine: Engine, node: AccessListener) -> None:
    _nodes[engine] = node


def unregister_node(engine: Engine, node: AccessListener) -> None:
    if _nodes.get(engine) is node:
        del _nodes[engine]


def access_message(*, user_id: str, tenant_id: str | None) -> str:
    return orjson.dumps({"user_id": user_id, "tenant_id": tenant_id}).decode()


def parse_access_message(raw: str) -> tuple[str, str | None]:
    data = orjson.loads(raw)
    user_id, tenant_id = data["user_id"], data.get("tenant_id")
    if not isinstance(user_id, str) or not (tenant_id is None or isinstance(tenant_id, str)):
        raise ValueError("malformed access-changed notice")
    return user_id, tenant_id


def erased_message(tenant_id: str, conversation_ids: list[str]) -> str:
    return orjson.dumps({"tenant_id": tenant_id, "conversation_ids": conversation_ids}).decode()


def parse_erased_message(raw: str) -> tuple[str, list[str]]:
    data = orjson.loads(raw)
    tenant_id, ids = data["tenant_id"], data["conversation_ids"]
    if not isinstance(tenant_id, str) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("malformed conversations-erased notice")
    return tenant_id, ids


def erased_notices(tenant_id: str, conversation_ids: list[str], queue_updates: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What announces an erasure on the broker, as (channel, message): the control notice that cuts the
    sockets, then the tenant's operators' queue updates. A node publishes them (live.py) as the worker
    run on its own does (below)."""
    operators = channels.operators(tenant_id)
    return [(CONVERSATIONS_ERASED_CHANNEL, erased_message(tenant_id, conversation_ids)), *((operators, orjson.dumps(frame).decode()) for frame in queue_updates)]


async def announce_conversations_erased(
    sessionmaker: async_sessionmaker[AsyncSession], broker: Broker | None, tenant_id: str, conversation_ids: list[str], queue_updates: list[dict[str, Any]]
) -> None:
    """After an erasure's batch has committed: through the chat node serving its database when this process has
    one (it cuts its own sockets even with the broker away), else straight on the broker (the erasure
    worker run on its own, `confide erasure-worker`). Best effort: a failure is logged, never raised (the
    data is gone already; a socket left open is refused at its next write, with the same close code)."""
    try:
        node = _nodes.get(sessionmaker.kw["bind"].sync_engine)
        if node is not None:
            node.announce_conversations_erased(tenant_id, conversation_ids, queue_updates)
        elif broker is not None:
            for channel, message in erased_notices(tenant_id, conversation_ids, queue_updates):
                await broker.publish(channel, message, "")
    except Exception as exc:  # noqa: BLE001 - the erasure stands; see above
        log.warning("announcing erased conversations failed", extra={"error_type": type(exc).__name__})


def access_changed_after_commit(session: AsyncSession | Session, *, user_id: str, tenant_id: str | None = None) -> None:
    """Once `session` commits, the user's operator sockets are re-checked on every node: in `tenant_id`
    (a membership removed, a role changed), or in every tenant when None (signed out, password changed or
    reset, account erased). Nothing on a rollback."""
    _note(session, ("access", user_id, tenant_id))


def avatar_access_changed_after_commit(session: AsyncSession | Session, *, avatar_id: str) -> None:
    """Once `session` commits, the avatar's visitor sockets whose key or origin is no longer allowed close on every node."""
    _note(session, ("avatar", avatar_id))


def _note(session: AsyncSession | Session, note: tuple[Any, ...]) -> None:
    notes = after_commit.pending(session, "access-changes", _announce)
    if note not in notes:
        notes.append(note)


def _announce(session: Session, notes: list[tuple[Any, ...]]) -> None:
    try:
        node = _nodes.get(session.get_bind())  # type: ignore[arg-type]
        if node is None:  # no chat runtime on this engine (a CLI): operator sockets see it at their next re-check
            log.info("no chat node to announce an access change on")
            return
        for note in notes:
            if note[0] == "access":
                node.announce_access_changed(user_id=note[1], tenant_id=note[2])
            else:
                node.announce_avatar_access_changed(note[1])
    except Exception as exc:  # noqa: BLE001 - committed already: an announcement must never fail the request
        log.warning("announcing an access change failed", extra={"error_type": type(exc).__name__})
