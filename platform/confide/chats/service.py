"""Conversation logic. A sequence number is taken by incrementing the conversation's counter in the
same transaction that inserts the message, so a rolled-back insert leaves no gap and two writers on
two nodes never share a number. Functions flush but never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
    fields: dict[str, Any] = {
        "id": new_id("msg"),
        "tenant_id": tenant_id,
        "conversation_id": conversation_id,
        "kind": kind,
        "author": author,
        "operator_id": operator_id,
        "client_message_id": client_message_id,
        "text": text,
        "event": event,
        "redacted": redacted,
        "verdict": verdict,
        "created_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        seq, status_after = await _append_in_one_statement(session, tenant_id=tenant_id, conversation_id=conversation_id, values=values, fields=fields, sequenced=kind != "note")
        message = Message(seq=seq, **fields)
        make_transient_to_detached(message)  # stored already: the session holds it as loaded, not to insert
        session.add(message)
    else:
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
        status_after = row.status
        message = Message(seq=seq, **fields)
        session.add(message)
    for rule_id in rule_ids:
        session.add(RuleHit(id=new_id("rhit"), tenant_id=tenant_id, conversation_id=conversation_id, message_id=message.id, rule_id=rule_id, direction=rule_direction))
    await session.flush()
    return message, status_after


_MESSAGE_FIELDS = ("id", "tenant_id", "conversation_id", "kind", "author", "operator_id", "client_message_id", "text", "event", "redacted", "verdict", "created_at")


async def _append_in_one_statement(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, values: dict[str, Any], fields: dict[str, Any], sequenced: bool
) -> tuple[int | None, str]:
    """PostgreSQL: the counter update and the insert as one statement (one round trip on the chat's hot
    path instead of two, and no unit-of-work flush):

        WITH counter AS (UPDATE conversation SET ... RETURNING last_seq, status)
        INSERT INTO chat_message (...) SELECT ..., counter.last_seq FROM counter RETURNING seq, (SELECT status FROM counter)

    Same transaction, same row lock, same gap-free seq; an unknown conversation inserts nothing and
    raises NoResultFound as the two statements did. A Conversation loaded in this session gets the new
    values, as the ORM's synchronize_session does for the UPDATE."""
    conversation, messages = Conversation.__table__, Message.__table__
    counter = (
        update(conversation)
        .where(conversation.c.id == conversation_id, conversation.c.tenant_id == tenant_id)
        .values(**values)
        .returning(conversation.c.last_seq, conversation.c.status)
        .cte("counter")
    )
    source = select(*(literal(fields[name], type_=messages.c[name].type) for name in _MESSAGE_FIELDS), counter.c.last_seq if sequenced else null()).select_from(counter)
    statement = (
        insert(messages)
        .from_select([*_MESSAGE_FIELDS, "seq"], source)
        .returning(messages.c.seq, select(counter.c.status).scalar_subquery())
        .add_cte(counter)
    )
    seq, status = (await session.execute(statement)).one()
    loaded = session.identity_map.get(identity_key(Conversation, conversation_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, status if name == "status" else (seq if name == "last_seq" else value))
    return seq, status


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
