"""Inbox fixtures: a tenant with a published avatar, and conversations written straight through the
chats service (as the chat would store them), with their times set so sorting is deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from confide.chats import service as chats
from confide.chats.models import Conversation
from tests.support.chat import shop_with_avatar

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    return await shop_with_avatar(client, factory, "Inbox GmbH")


async def make_conversation(
    app: Any,
    tenant_id: str,
    avatar_id: str,
    *,
    messages: tuple[str, ...] = ("Hello",),
    notes: tuple[str, ...] = (),
    language: str = "en",
    status: str | None = None,
    rating: int | None = None,
    rule_ids: tuple[str, ...] = (),
    assignee_id: str | None = None,
    created: datetime | None = None,
    updated: datetime | None = None,
    visitor_id: str = "vis_test",
) -> str:
    """A conversation with visitor messages (rule_ids fire on the first), notes, and the given state."""
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id=visitor_id, customer_ref=None, language=language
        )
        for i, text in enumerate(messages):
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", text=text, rule_ids=rule_ids if i == 0 else ())
        for text in notes:
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="operator", kind="note", text=text)
        if status == "waiting":
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="system", kind="event", event="handoff", text="A human will take over.", status="waiting", handoff_reason="customer_request")
        elif status == "closed":
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="system", kind="event", event="closed", status="closed")
        elif status == "operator":
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="operator", kind="event", event="operator_joined", status="operator", assignee_id=assignee_id)
        values: dict[str, Any] = {}
        if rating is not None:
            values["rating"] = rating
        if assignee_id is not None:
            values["assignee_id"] = assignee_id
        if created is not None:
            values["created_at"] = created
        if updated is not None or created is not None:
            values["updated_at"] = updated or created
        if values:
            await session.execute(update(Conversation).where(Conversation.id == conversation.id).values(**values))
        await session.commit()
    return conversation.id


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
