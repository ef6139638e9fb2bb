"""Conversation logic. A sequence number is taken by incrementing the conversation's counter in the
same transaction that inserts the message, so a rolled-back insert leaves no gap and two writers on
two nodes never share a number. Functions flush but never commit."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, insert, null, or_, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from confide.chats.models import Conversation, CustomerTokenSecret, Message, RuleHit
from confide.core.clock import utcnow
from confide.core.ids import new_id

LIVE_STATUSES = ("avatar", "waiting", "operator")
# A conversation's activity time (updated_at, the inbox's default order) moves on a message only once
# it is this much behind: updates within it change no indexed column, so PostgreSQL keeps them on the
# page (HOT, migration c0003) instead of adding an entry to each of the conversation's nine indexes.
# With one second, 17% of bench.chat's updates still left their page. A status change always moves
# it, and so does anything written to a conversation that is not live.
ACTIVITY_RESOLUTION = timedelta(seconds=10)


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


@dataclass(slots=True)
class AppendPlan:
    """One message to append: the conversation's new values and the message's fields. A sequenced
    row (anything but a note) also takes the conversation's next `last_seq`."""

    tenant_id: str
    conversation_id: str
    values: dict[str, Any]
    fields: dict[str, Any]
    sequenced: bool
    rule_hits: list[dict[str, Any]]
    when: tuple[str, ...] | None = None  # the statuses the conversation must be in; None: any

    @property
    def statement_key(self) -> tuple[tuple[str, ...], bool, tuple[str, ...] | None]:
        return tuple(self.values), self.sequenced, self.when

    def counter_params(self) -> dict[str, Any]:
        """The parameters of `counter_update`."""
        params = {"where_conversation_id": self.conversation_id, "where_tenant_id": self.tenant_id}
        for name, value in self.values.items():
            params[f"set_{name}"] = value
        params["activity_before"] = self.values["updated_at"] - ACTIVITY_RESOLUTION
        return params

    def params(self) -> dict[str, Any]:
        """The parameters of `append_statement`: the counter's and the message's."""
        params = self.counter_params()
        for name in MESSAGE_FIELDS:
            params[f"new_{name}"] = self.fields[name]
        return params

    def message(self, seq: int | None) -> Message:
        return Message(seq=seq if self.sequenced else None, **self.fields)

    def stored(self, seq: int | None) -> StoredMessage:
        """The row as written, without an ORM instance (building one cost more than the write)."""
        return StoredMessage(seq=seq if self.sequenced else None, **self.fields)


@dataclass(slots=True, frozen=True)
class StoredMessage:
    """A chat_message row just written on the hot path; reads like a `Message`."""

    id: str
    tenant_id: str
    conversation_id: str
    kind: str
    author: str
    operator_id: str | None
    client_message_id: str | None
    text: str
    event: str | None
    redacted: bool
    verdict: dict[str, Any] | None
    created_at: datetime
    seq: int | None


def plan_append(
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
    when: Sequence[str] | None = None,
) -> AppendPlan:
    """`when`: the statuses the conversation must be in for the append to happen, checked in the same statement
    (so a close, a take-over or an erasure committed meanwhile wins); otherwise the append raises WrongStatus."""
    now = utcnow()
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
    sequenced = kind != "note"
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
    rule_hits = [
        {"id": new_id("rhit"), "tenant_id": tenant_id, "conversation_id": conversation_id, "message_id": fields["id"], "rule_id": rule_id, "direction": rule_direction}
        for rule_id in rule_ids
    ]
    return AppendPlan(tenant_id, conversation_id, values, fields, sequenced, rule_hits, tuple(when) if when is not None else None)


async def append(session: AsyncSession, **kwargs: Any) -> tuple[Message, str]:
    """Store one message (or event, or note) and return it with the conversation's status after it.
    Passing `status` changes the conversation's status in the same statement. Arguments: `plan_append`."""
    return await append_planned(session, plan_append(**kwargs))


class WrongStatus(Exception):
    """The conversation is not in a status the append allows (`when`): it was closed, taken over or erased meanwhile.
    Nothing was stored."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the conversation is {status}")
        self.status = status


async def refusal(session: AsyncSession, plan: AppendPlan) -> Exception:
    """Why an append wrote nothing: WrongStatus for a conversation in another status, else NoResultFound."""
    status = await session.scalar(select(Conversation.status).where(Conversation.id == plan.conversation_id, Conversation.tenant_id == plan.tenant_id))
    if status is not None and plan.when is not None:
        return WrongStatus(status)
    return NoResultFound(f"no conversation {plan.conversation_id} in this tenant")


async def append_planned(session: AsyncSession, plan: AppendPlan) -> tuple[Message, str]:
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        row = (await connection.execute(append_statement(*plan.statement_key), plan.params())).first()
        if row is None:
            raise await refusal(session, plan)
        seq, status_after, _, activity = row
        message = plan.message(seq)  # stored already: not added to the session
    else:
        if session.new or session.dirty:
            await session.flush()  # as the ORM update this replaced would have (autoflush)
        row = (await session.execute(counter_update(*plan.statement_key), plan.counter_params())).first()
        if row is None:
            raise await refusal(session, plan)
        seq, status_after, activity = row
        message = plan.message(seq)
        session.add(message)
    loaded = session.identity_map.get(identity_key(Conversation, plan.conversation_id))
    if loaded is not None:  # as the ORM's synchronize_session would for an UPDATE
        for name, value in plan.values.items():
            set_committed_value(loaded, name, value)
        set_committed_value(loaded, "status", status_after)
        set_committed_value(loaded, "updated_at", activity)
        if plan.sequenced:
            set_committed_value(loaded, "last_seq", seq)
    for hit in plan.rule_hits:
        session.add(RuleHit(**hit))
    if session.new or session.dirty:
        await session.flush()
    return message, status_after


MESSAGE_FIELDS = ("id", "tenant_id", "conversation_id", "kind", "author", "operator_id", "client_message_id", "text", "event", "redacted", "verdict", "created_at")


@functools.cache
def counter_update(value_names: tuple[str, ...], sequenced: bool, when: tuple[str, ...] | None = None) -> Any:
    """The conversation's side of an append, for one shape of new values, with bind parameters
    (`AppendPlan.counter_params`): the new values, the activity time (`_activity`) and, for a
    sequenced row, the next seq. Returns last_seq, status and updated_at; no row for an unknown
    conversation or another tenant's, or one not in a status of `when`."""
    conversation = Conversation.__table__
    values: dict[str, Any] = {name: bindparam(f"set_{name}", type_=conversation.c[name].type) for name in value_names}
    values["updated_at"] = _activity(conversation, value_names, values["updated_at"], bindparam("activity_before", type_=conversation.c.updated_at.type))
    if sequenced:
        values["last_seq"] = conversation.c.last_seq + 1
    where = [conversation.c.id == bindparam("where_conversation_id"), conversation.c.tenant_id == bindparam("where_tenant_id")]
    if when is not None:
        where.append(or_(*(conversation.c.status == status for status in when)))  # not IN: run precompiled (see _activity)
    return update(conversation).where(*where).values(values).returning(conversation.c.last_seq, conversation.c.status, conversation.c.updated_at)


@functools.cache
def append_statement(value_names: tuple[str, ...], sequenced: bool, when: tuple[str, ...] | None = None) -> Any:
    """The PostgreSQL append for one shape of counter update, built once with bind parameters
    (building it per message, coercing a dozen literals, cost more than running it). The counter
    update and the insert are one statement: one round trip, the same row lock, the same gap-free
    seq; an unknown conversation inserts nothing and returns no row.

        WITH counter AS (UPDATE conversation SET ..., last_seq = last_seq + 1 RETURNING last_seq, status, updated_at)
        INSERT INTO chat_message (...) SELECT :new_id, ..., counter.last_seq FROM counter
        RETURNING seq, (SELECT status FROM counter), id, (SELECT updated_at FROM counter)
    """
    messages = Message.__table__
    counter = counter_update(value_names, sequenced, when).cte("counter")
    source = select(*(bindparam(f"new_{name}", type_=messages.c[name].type) for name in MESSAGE_FIELDS), counter.c.last_seq if sequenced else null()).select_from(counter)
    return (
        insert(messages)
        .from_select([*MESSAGE_FIELDS, "seq"], source)
        .returning(messages.c.seq, select(counter.c.status).scalar_subquery(), messages.c.id, select(counter.c.updated_at).scalar_subquery())
        .add_cte(counter)
    )


def _activity(conversation: Any, value_names: tuple[str, ...], now: Any, before: Any) -> Any:
    """The new activity time: `now` on a status change or in a conversation that is not live, else
    `now` only once the stored one is older than `before` (now - ACTIVITY_RESOLUTION); otherwise
    unchanged, which keeps the update HOT."""
    if "status" in value_names:
        return now
    # Only live conversations are busy; anything written to a closed or erased one moves it at once
    # (the erasure ledger finds late arrivals by updated_at > closed_at).
    live = or_(*(conversation.c.status == status for status in LIVE_STATUSES))  # not IN: the writer runs it precompiled, without expanding parameters
    recent = and_(live, conversation.c.updated_at >= before)
    return case((recent, conversation.c.updated_at), else_=now)


async def find_by_client_id(session: AsyncSession, *, conversation_id: str, client_message_id: str) -> Message | None:
    return await session.scalar(select(Message).where(Message.conversation_id == conversation_id, Message.client_message_id == client_message_id))


async def replay(session: AsyncSession, *, conversation_id: str, after_seq: int, upto_seq: int | None = None) -> Sequence[Message]:
    """Visible messages and events after `after_seq`, in order: what a resuming client missed."""
    stmt = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if upto_seq is not None:
        stmt = stmt.where(Message.seq <= upto_seq)
    return (await session.scalars(stmt.order_by(Message.seq))).all()


async def transcript(
    session: AsyncSession, *, conversation_id: str, include_notes: bool, after: tuple[datetime, str] | None = None, limit: int | None = None
) -> Sequence[Message]:
    """Messages, events and (with include_notes) notes in the order they happened: by time, then id. `after`
    (created_at, id) and `limit` read one page of it (keyset: stable while the conversation goes on)."""
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if not include_notes:
        stmt = stmt.where(Message.kind != "note")
    if after is not None:
        at, message_id = after
        stmt = stmt.where(or_(Message.created_at > at, and_(Message.created_at == at, Message.id > message_id)))
    stmt = stmt.order_by(Message.created_at, Message.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.scalars(stmt)).all()


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


async def rotate_customer_secret(session: AsyncSession, *, tenant_id: str, secret: str, revoke_previous: bool = False) -> CustomerTokenSecret:
    """A new secret; the previous one stays valid for overlap until this is called again, or ends now
    (`revoke_previous`, for a secret that leaked)."""
    now = utcnow()
    current = (
        await session.scalars(
            select(CustomerTokenSecret).where(CustomerTokenSecret.tenant_id == tenant_id, CustomerTokenSecret.revoked_at.is_(None)).order_by(CustomerTokenSecret.id)
        )
    ).all()
    for old in current if revoke_previous else current[:-1]:
        old.revoked_at = now
    row = CustomerTokenSecret(id=new_id("cts"), tenant_id=tenant_id, secret=secret)
    session.add(row)
    await session.flush()
    return row
