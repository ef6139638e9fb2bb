"""Conversation logic. A sequence number is taken by incrementing the conversation's counter in the
same transaction that inserts the message, so a rolled-back insert leaves no gap and two writers on
two nodes never share a number. Functions flush but never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from confide.chats.models import Conversation, CustomerTokenSecret, Message, RuleHit
from confide.core.clock import utcnow
from confide.core.ids import new_id

LIVE_STATUSES = ("avatar", "waiting", "operator")


async def create_conversation(
    session: AsyncSession,
    *,
    tenant_id: str,
    avatar_id: str,
    avatar_version_id: str | None,
    visitor_id: str,
    customer_ref: str | None,
    language: str,
) -> Conversation:
    conversation = Conversation(
        id=new_id("cnv"),
        tenant_id=tenant_id,
        avatar_id=avatar_id,
        avatar_version_id=avatar_version_id,
        visitor_id=visitor_id,
        customer_ref=customer_ref,
        language=language,
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def get_conversation(session: AsyncSession, *, tenant_id: str, conversation_id: str) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.id == conversation_id, Conversation.tenant_id == tenant_id))


async def append(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    author: str,
    text: str = "",
    kind: str = "message",
    client_message_id: str | None = None,
    operator_id: str | None = None,
    event: str | None = None,
    redacted: bool = False,
    verdict: dict[str, Any] | None = None,
    status: str | None = None,
    handoff_reason: str | None = None,
    assignee_id: str | None = None,
    rule_ids: tuple[str, ...] | list[str] = (),
    rule_direction: str = "input",
    rating: int | None = None,
) -> tuple[Message, str]:
    """Store one message (or event, or note) and return it with the conversation's status after it.
    Passing `status` changes the conversation's status in the same statement."""
    now = utcnow()
    seq: int | None = None
    values: dict[str, Any] = {"updated_at": now}
    if status is not None:
        values["status"] = status
        if status in ("waiting",):
            values["handoff_reason"] = handoff_reason
            values["handed_off"] = True
        if status == "closed":
            values["closed_at"] = now
        elif status in LIVE_STATUSES:
            values["closed_at"] = None
    if assignee_id is not None or status in ("avatar", "waiting"):
        values["assignee_id"] = assignee_id
    if rating is not None:
        values["rating"] = rating
    if kind != "note":
        values["last_seq"] = Conversation.last_seq + 1
    row = (
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.tenant_id == tenant_id)
            .values(**values)
            .returning(Conversation.last_seq, Conversation.status)
        )
    ).one()
    if kind != "note":
        seq = row.last_seq
    message = Message(
        id=new_id("msg"),
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        seq=seq,
        kind=kind,
        author=author,
        operator_id=operator_id,
        client_message_id=client_message_id,
        text=text,
        event=event,
        redacted=redacted,
        verdict=verdict,
        created_at=now,
    )
    session.add(message)
    for rule_id in rule_ids:
        session.add(RuleHit(id=new_id("rhit"), tenant_id=tenant_id, conversation_id=conversation_id, message_id=message.id, rule_id=rule_id, direction=rule_direction))
    await session.flush()
    return message, row.status


async def find_by_client_id(session: AsyncSession, *, conversation_id: str, client_message_id: str) -> Message | None:
    return await session.scalar(select(Message).where(Message.conversation_id == conversation_id, Message.client_message_id == client_message_id))


async def replay(session: AsyncSession, *, conversation_id: str, after_seq: int, upto_seq: int | None = None) -> Sequence[Message]:
    """Visible messages and events after `after_seq`, in order: what a resuming client missed."""
    stmt = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if upto_seq is not None:
        stmt = stmt.where(Message.seq <= upto_seq)
    return (await session.scalars(stmt.order_by(Message.seq))).all()


async def transcript(session: AsyncSession, *, conversation_id: str, include_notes: bool) -> Sequence[Message]:
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if not include_notes:
        stmt = stmt.where(Message.kind != "note")
    return (await session.scalars(stmt.order_by(Message.created_at, Message.id))).all()


async def has_reply_after(session: AsyncSession, *, conversation_id: str, seq: int) -> bool:
    found = await session.scalar(
        select(Message.id).where(Message.conversation_id == conversation_id, Message.seq > seq, Message.author.in_(("avatar", "operator"))).limit(1)
    )
    return found is not None


async def purge_text(session: AsyncSession, *, conversation_id: str) -> int:
    """Without stored transcripts, messages live only for the conversation: remove them when it ends."""
    result = await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    return int(result.rowcount or 0)


async def conversations_in(session: AsyncSession, *, tenant_id: str, statuses: Sequence[str], limit: int = 200) -> Sequence[Conversation]:
    stmt = (
        select(Conversation)
        .where(Conversation.tenant_id == tenant_id, Conversation.status.in_(statuses))
        .order_by(Conversation.updated_at.desc())
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def customer_secrets(session: AsyncSession, *, tenant_id: str) -> list[str]:
    rows = await session.scalars(
        select(CustomerTokenSecret.secret).where(CustomerTokenSecret.tenant_id == tenant_id, CustomerTokenSecret.revoked_at.is_(None))
    )
    return list(rows.all())


async def rotate_customer_secret(session: AsyncSession, *, tenant_id: str, secret: str) -> CustomerTokenSecret:
    """A new secret; the previous one stays valid for overlap until this is called again."""
    now = utcnow()
    current = (
        await session.scalars(
            select(CustomerTokenSecret).where(CustomerTokenSecret.tenant_id == tenant_id, CustomerTokenSecret.revoked_at.is_(None)).order_by(CustomerTokenSecret.id)
        )
    ).all()
    for old in current[:-1]:
        old.revoked_at = now
    row = CustomerTokenSecret(id=new_id("cts"), tenant_id=tenant_id, secret=secret)
    session.add(row)
    await session.flush()
    return row
