"""The inbox: filtering, full-text search, sorting and keyset pagination of a tenant's conversations,
and the actions staff take on them (tags, assignment). Close and reopen are state transitions the
operator websocket shares: confide.realtime.transitions. Functions flush but never commit.

Sorting is keyset pagination on (sort key, id), both in the same direction. `rating` is nullable:
rated conversations come first (in the requested direction), then unrated ones by id, so each part
walks an index instead of sorting the tenant's conversations for every page.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, literal, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from confide.chats import search
from confide.chats.models import Conversation, ConversationTag, Message, RuleHit
from confide.core.clock import utcnow
from confide.core.db import lock_rows
from confide.core.errors import Conflict, InvalidInput
from confide.core.identity import Membership, User
from confide.core.ids import new_id
from confide.core.tenancy import Permission, has_permission
from confide.privacy.holds import ERASED

STATUSES = ("avatar", "waiting", "operator", "closed")
UNASSIGNED = "unassigned"
TAG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
TAG_RULE = "a lowercase slug of 1 to 32 letters, digits and inner hyphens, e.g. 'refund' or 'vip-customer'"
MAX_TAGS = 20
# For this transaction only (the page's): plan for storage with cheap random reads (SSD or cached: the
# PostgreSQL manual's 1.1 instead of 4, else a search matching a thousand messages scans every conversation
# of the tenant rather than fetching those it needs), and without parallel workers, whose start costs
# more than the few thousand rows a keyset page reads at most (see bench/admin.py).
PLANNER_SETTINGS = text("SELECT set_config('random_page_cost', '1.1', true), set_config('max_parallel_workers_per_gather', '0', true)")
_SORT_COLUMNS = {"updated_at": Conversation.updated_at, "created_at": Conversation.created_at, "rating": Conversation.rating}


class ConversationErased(Conflict):
    slug, title = "conversation-erased", "Conversation erased"

    def __init__(self) -> None:
        super().__init__("The conversation's data was erased; only an anonymous stub is left for statistics.")


def ensure_not_erased(conversation: Conversation) -> Conversation:
    if conversation.status == ERASED:
        raise ConversationErased()
    return conversation


def check_tag(tag: str, field: str) -> str:
    if not TAG_PATTERN.match(tag):
        raise InvalidInput(field, f"Tags are {TAG_RULE}; got {tag[:40]!r}.")
    return tag


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """Validated filters. `assignee` is a user id, UNASSIGNED or None (anyone); `q` the search text as given."""

    avatar_id: str | None = None
    statuses: tuple[str, ...] = ()
    date_field: str = "created_at"
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    rating: int | None = None
    rating_min: int | None = None
    rating_max: int | None = None
    handed_off: bool | None = None
    rule_id: str | None = None
    assignee: str | None = None
    q: str | None = None
    sort: str = "updated_at"
    order: str = "desc"

    def fingerprint(self) -> str:
        """Identifies the exact query, so a cursor only continues the query that issued it."""
        values = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=list).encode()).hexdigest()[:24]


def _conditions(tenant_id: str, query: InboxQuery, dialect: str) -> list[Any]:
    c = Conversation
    conditions: list[Any] = [c.tenant_id == tenant_id]
    if not query.statuses:
        conditions.append(c.status != ERASED)  # anonymous stubs left by erasure are statistics, not inbox items
    if query.avatar_id:
        conditions.append(c.avatar_id == query.avatar_id)
    if query.statuses:
        conditions.append(c.status.in_(query.statuses))
    date_column = _SORT_COLUMNS[query.date_field]
    if query.since is not None:
        conditions.append(date_column >= query.since)
    if query.until is not None:
        conditions.append(date_column < query.until)
    if query.language:
        # Stored tags are standardised (guidelines.rules.LanguageTag), and so is the filter.
        conditions.append(or_(c.language == query.language, c.language.like(query.language + "-%")))
    for tag in query.tags:
        conditions.append(exists().where(ConversationTag.conversation_id == c.id, ConversationTag.tenant_id == tenant_id, ConversationTag.tag == tag))
    if query.rating is not None:
        conditions.append(c.rating == query.rating)
    if query.rating_min is not None:
        conditions.append(c.rating >= query.rating_min)
    if query.rating_max is not None:
        conditions.append(c.rating <= query.rating_max)
    if query.handed_off is not None:
        conditions.append(c.handed_off.is_(query.handed_off))
    if query.rule_id:
        conditions.append(exists().where(RuleHit.conversation_id == c.id, RuleHit.tenant_id == tenant_id, RuleHit.rule_id == query.rule_id))
    if query.assignee == UNASSIGNED:
        conditions.append(c.assignee_id.is_(None))
    elif query.assignee:
        conditions.append(c.assignee_id == query.assignee)
    if query.q:
        words = search.parse(query.q)
        matching = select(Message.conversation_id).where(
            Message.tenant_id == tenant_id, Message.kind.in_(search.SEARCHED_KINDS), search.message_matches(dialect, words)
        )
        conditions.append(c.id.in_(matching))
    return conditions


def _position_value(conversation: Conversation, sort: str) -> Any:
    value = getattr(conversation, sort)
    return value.isoformat() if isinstance(value, datetime) else value


def _bind(sort: str, value: Any) -> Any:
    return datetime.fromisoformat(value) if sort != "rating" else value


def first_part(tenant_id: str, query: InboxQuery, position: dict[str, Any] | None, limit: int, dialect: str) -> Select[Any]:
    """The statement for a page (of the rated part, for a rating sort): limit + 1 rows after `position`."""
    c = Conversation
    key = _SORT_COLUMNS[query.sort]
    desc = query.order == "desc"
    stmt = select(c).where(*_conditions(tenant_id, query, dialect))
    if query.sort == "rating":
        stmt = stmt.where(key.is_not(None))
    if position:
        after = tuple_(literal(_bind(query.sort, position["key"]), key.type), literal(position["id"], c.id.type))
        stmt = stmt.where(tuple_(key, c.id) < after if desc else tuple_(key, c.id) > after)
    return stmt.order_by(key.desc() if desc else key.asc(), c.id.desc() if desc else c.id.asc()).limit(limit + 1)


async def page(
    session: AsyncSession, *, tenant_id: str, query: InboxQuery, position: dict[str, Any] | None, limit: int
) -> tuple[list[Conversation], dict[str, Any] | None]:
    """One page of conversations and the position after it (None on the last page)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(PLANNER_SETTINGS)
    c = Conversation
    key = _SORT_COLUMNS[query.sort]
    desc = query.order == "desc"
    nullable = query.sort == "rating"
    part = int(position.get("part", 0)) if position else 0
    rows: list[Conversation] = []

    if part == 0:
        rows = list((await session.scalars(first_part(tenant_id, query, position, limit, dialect))).all())
        if len(rows) > limit:
            last = rows[limit - 1]
            return rows[:limit], {"part": 0, "key": _position_value(last, query.sort), "id": last.id}
        if not nullable:
            return rows, None
        position = None

    # The unrated part of a rating sort, by id in the same direction.
    need = limit - len(rows)
    stmt = select(c).where(*_conditions(tenant_id, query, dialect), key.is_(None))
    if position and position.get("id"):
        stmt = stmt.where(c.id < position["id"] if desc else c.id > position["id"])
    more = list((await session.scalars(stmt.order_by(c.id.desc() if desc else c.id.asc()).limit(need + 1))).all())
    rows.extend(more[:need])
    if len(more) > need:
        return rows, {"part": 1, "id": rows[-1].id if need else None}
    return rows, None


async def tags_of(session: AsyncSession, *, tenant_id: str, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {cid: [] for cid in conversation_ids}
    if conversation_ids:
        rows = await session.execute(
            select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.tenant_id == tenant_id, ConversationTag.conversation_id.in_(list(conversation_ids)))
            .order_by(ConversationTag.tag)
        )
        for conversation_id, tag in rows:
            found[conversation_id].append(tag)
    return found


async def rule_hits_of(session: AsyncSession, *, tenant_id: str, conversation_id: str, message_ids: Sequence[str]) -> dict[str | None, list[RuleHit]]:
    """The guideline rules that fired on these messages of a conversation (one transcript page), by message id."""
    hits: dict[str | None, list[RuleHit]] = {}
    if not message_ids:
        return hits
    rows = await session.scalars(
        select(RuleHit)
        .where(RuleHit.tenant_id == tenant_id, RuleHit.conversation_id == conversation_id, RuleHit.message_id.in_(message_ids))  # type: ignore[union-attr]
        .order_by(RuleHit.created_at, RuleHit.id)
    )
    for hit in rows:
        hits.setdefault(hit.message_id, []).append(hit)
    return hits


def tag_counts_query(tenant_id: str) -> Select[Any]:
    """The tenant's tags with how many conversations carry each, one row (`tag`, `conversations`) per tag;
    for keyset paging on `ConversationTag.tag` (the pager orders by it)."""
    return select(ConversationTag.tag, func.count().label("conversations")).where(ConversationTag.tenant_id == tenant_id).group_by(ConversationTag.tag)


async def conversations_by_id(session: AsyncSession, *, tenant_id: str, conversation_ids: Sequence[str]) -> dict[str, Conversation]:
    """The tenant's conversations among `conversation_ids`; ids of other tenants are simply absent."""
    if not conversation_ids:
        return {}
    rows = await session.scalars(select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.id.in_(list(conversation_ids))))
    return {c.id: c for c in rows}


async def add_tags(session: AsyncSession, *, tenant_id: str, conversation_id: str, tags: Sequence[str], actor: str) -> list[str]:
    """Add tags (already validated) to a conversation; existing ones stay, and a tag added concurrently
    by someone else is no error. Raises ValueError when the conversation would carry more than MAX_TAGS.
    The conversation's row is locked before its tags are counted, so tags added at the same moment are counted
    one request after another and never pass the limit together (core.db.lock_rows: a message being stored waits
    a moment; inserts naming the conversation do not)."""
    await lock_rows(session, Conversation.last_seq, Conversation.id == conversation_id, Conversation.tenant_id == tenant_id)
    current = (await tags_of(session, tenant_id=tenant_id, conversation_ids=[conversation_id]))[conversation_id]
    new = [t for t in dict.fromkeys(tags) if t not in current]
    if len(current) + len(new) > MAX_TAGS:
        raise ValueError(f"A conversation carries at most {MAX_TAGS} tags.")
    if new:
        rows = [
            {"id": new_id("ctag"), "tenant_id": tenant_id, "conversation_id": conversation_id, "tag": tag, "created_by": actor[:40], "created_at": utcnow()}
            for tag in new
        ]
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(insert(ConversationTag).values(rows).on_conflict_do_nothing(index_elements=["conversation_id", "tag"]))
    return sorted([*current, *new])


async def remove_tags(session: AsyncSession, *, tenant_id: str, conversation_id: str, tags: Sequence[str]) -> None:
    await session.execute(
        delete(ConversationTag).where(ConversationTag.tenant_id == tenant_id, ConversationTag.conversation_id == conversation_id, ConversationTag.tag.in_(list(tags)))
    )


async def operator_user_id(session: AsyncSession, *, tenant_id: str, member_or_user_id: str, field: str) -> str:
    """The user id of the tenant's member named by its member id (`mem_…`) or its user id (`usr_…`),
    when that member's role may operate chats; InvalidInput on `field` otherwise. Only this tenant's memberships
    are read, so another tenant's member or user id is refused exactly as an unknown id. A member whose account
    is restricted (Art. 18 GDPR: kept, not processed) takes no work, so is refused too."""
    row = (
        await session.execute(
            select(Membership.user_id, Membership.role, User.status)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == tenant_id, or_(Membership.id == member_or_user_id, Membership.user_id == member_or_user_id))
        )
    ).first()
    if row is None or not has_permission(row.role, Permission.CHATS_OPERATE):
        raise InvalidInput(field, "No member of this tenant with this id may operate chats (the permission chats:operate).")
    if row.status != "active":
        raise InvalidInput(field, "This member's account is restricted (Art. 18 GDPR): it takes no work until the restriction is lifted.")
    return str(row.user_id)


async def set_assignee(session: AsyncSession, *, conversation: Conversation, assignee_id: str | None) -> bool:
    """Assign (or with None, unassign) a conversation; True when that changed anything. The caller has
    checked the assignee with `operator_user_id`. The activity time (`updated_at`) stays: assigning is not activity."""
    if conversation.assignee_id == assignee_id:
        return False
    conversation.assignee_id = assignee_id
    await session.flush()
    return True
