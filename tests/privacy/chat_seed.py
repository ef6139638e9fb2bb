"""Chat data for the export, erasure and retention tests, written through the chat service (the same
calls the websockets make), with times set where a test needs old data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select, update

from confide.chats import service as chats
from confide.chats.models import Conversation, Message, RuleHit
from tests.support.factory import Factory, User


@dataclass
class Shop:
    owner: User
    tenant_id: str
    avatar_id: str
    members: dict[str, User] = field(default_factory=dict)


async def make_shop(client: httpx.AsyncClient, factory: Factory, name: str = "Shop GmbH") -> Shop:
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    body = {
        "name": "Mia",
        "persona": {"role_description": "Support"},
        "languages": ["en"],
        "default_language": "en",
        "messages": {"en": {"greeting": "Hi", "fallback": "Sorry"}},
    }
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return Shop(owner, tenant_id, r.json()["id"])


async def seed_conversation(
    app: Any,
    shop: Shop,
    *,
    visitor_id: str,
    customer_ref: str | None = None,
    texts: tuple[str, ...] = ("Hello, where is my parcel?", "It is on its way."),
    note: str | None = None,
    rating: tuple[int, str] | None = None,
    rule_id: str | None = None,
    close: bool = True,
    at: datetime | None = None,
) -> str:
    """A conversation with alternating visitor/avatar messages, optionally a staff note, a rating with a
    comment, a rule hit and a close; `at` moves all its times (created, updated, closed, messages) there."""
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=shop.tenant_id, avatar_id=shop.avatar_id, avatar_version_id=None, visitor_id=visitor_id, customer_ref=customer_ref, language="en"
        )
        for i, text in enumerate(texts):
            await chats.append(
                session, tenant_id=shop.tenant_id, conversation_id=conversation.id, author="visitor" if i % 2 == 0 else "avatar", text=text,
                rule_ids=(rule_id,) if (rule_id and i == 0) else (),
            )
        if note:
            await chats.append(session, tenant_id=shop.tenant_id, conversation_id=conversation.id, author="operator", kind="note", text=note, operator_id=shop.owner.id)
        if close:
            await chats.append(session, tenant_id=shop.tenant_id, conversation_id=conversation.id, author="visitor", kind="event", event="closed", status="closed")
        if rating:
            score, comment = rating
            await chats.append(
                session, tenant_id=shop.tenant_id, conversation_id=conversation.id, author="visitor", kind="event", event="rating", text=comment,
                verdict={"score": score, "resolved": True}, rating=score,
            )
        if at is not None:
            await session.execute(
                update(Conversation).where(Conversation.id == conversation.id).values(created_at=at, updated_at=at, closed_at=at if close else None)
            )
            await session.execute(update(Message).where(Message.conversation_id == conversation.id).values(created_at=at))
            await session.execute(update(RuleHit).where(RuleHit.conversation_id == conversation.id).values(created_at=at))
        await session.commit()
        return conversation.id


async def messages_of(app: Any, conversation_id: str) -> list[Message]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id))).all())


async def conversation(app: Any, conversation_id: str) -> Conversation | None:
    async with app.state.sessionmaker() as session:
        return await session.get(Conversation, conversation_id)


async def count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
