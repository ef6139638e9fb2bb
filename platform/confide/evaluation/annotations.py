"""Staff annotations: score definitions (numeric with a range, categorical with labels, or boolean) and
the scores staff, or an automatic evaluator with an API key, put on conversations. A score is about
the conversation and its avatar, never about the person who chatted."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from confide.chats.inbox import ConversationErased, ensure_not_erased
from confide.chats.models import Conversation
from confide.core.clock import utcnow
from confide.core.db import take_sqlite_write_lock
from confide.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.core.ids import new_id
from confide.core.tenancy import Permission, TenantContext, get_for_tenant, has_permission, tenant_select
from confide.evaluation.models import ConversationScore, ScoreDefinition
from confide.privacy.holds import ERASED

KINDS = ("numeric", "categorical", "boolean")
SOURCES = ("staff", "automatic")


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())[:100]


def check_definition(kind: str, min_value: float | None, max_value: float | None, labels: list[str] | None) -> list[str]:
    """Refuse a definition that cannot be scored against, naming the field; returns the cleaned labels."""
    labels = labels or []
    if kind == "numeric":
        if min_value is None or max_value is None:
            raise InvalidInput("body.min_value" if min_value is None else "body.max_value", "a numeric score needs min_value and max_value")
        for field, value in (("body.min_value", min_value), ("body.max_value", max_value)):
            if not math.isfinite(value):
                raise InvalidInput(field, "the range must be finite")
        if min_value >= max_value:
            raise InvalidInput("body.max_value", "max_value must be greater than min_value")
        if labels:
            raise InvalidInput("body.labels", "a numeric score has no labels")
        return []
    if min_value is not None or max_value is not None:
        raise InvalidInput("body.min_value" if min_value is not None else "body.max_value", f"a {kind} score has no range")
    if kind == "boolean":
        if labels:
            raise InvalidInput("body.labels", "a boolean score has no labels (its values are true and false)")
        return []
    cleaned = [label.strip() for label in labels]
    if len(cleaned) < 2:
        raise InvalidInput("body.labels", "a categorical score needs at least two labels")
    if any(not label for label in cleaned):
        raise InvalidInput("body.labels", "labels must not be empty")
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise InvalidInput("body.labels", "labels must be unique (ignoring case)")
    return cleaned


# Score definitions per tenant: their list (labels included) must stay a small answer, and every summary and
# score refers to one.
MAX_SCORE_DEFINITIONS = 100


async def create_definition(session: AsyncSession, ctx: TenantContext, *, name: str, description: str, kind: str,
                            min_value: float | None, max_value: float | None, labels: list[str] | None) -> ScoreDefinition:
    """409 `conflict` past MAX_SCORE_DEFINITIONS. Two created at the same moment may both pass the count: the limit
    can be overrun by the requests in flight, never by more."""
    cleaned = check_definition(kind, min_value, max_value, labels)
    count = await session.scalar(select(func.count()).select_from(ScoreDefinition).where(ScoreDefinition.tenant_id == ctx.tenant_id))
    if (count or 0) >= MAX_SCORE_DEFINITIONS:
        raise Conflict(f"A tenant has at most {MAX_SCORE_DEFINITIONS} score definitions: delete one it no longer uses before creating another.")
    row = ScoreDefinition(
        id=new_id("sdef"), tenant_id=ctx.tenant_id, name=name, name_key=name_key(name), description=description, kind=kind,
        min_value=min_value, max_value=max_value, labels=cleaned,
    )
    session.add(row)
    await _flush_unique(session, name)
    return row


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A score definition named '{name}' exists already.") from exc


async def update_definition(session: AsyncSession, ctx: TenantContext, definition_id: str, *, name: str | None, description: str | None) -> ScoreDefinition:
    """Name and description only: changing the kind, range or labels would orphan scores already given."""
    row = await get_for_tenant(session, ctx, ScoreDefinition, definition_id, "score definition")
    if name is not None:
        row.name, row.name_key = name, name_key(name)
    if description is not None:
        row.description = description
    row.updated_at = utcnow()
    await _flush_unique(session, row.name)
    return row


def check_value(definition: ScoreDefinition, value: Any) -> tuple[float | None, str | None]:
    """The stored form of a score's value: (number, label). A value outside the definition is a 422 on body.value."""
    if definition.kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput("body.value", f"'{definition.name}' is boolean: the value must be true or false")
        return (1.0 if value else 0.0), None
    if definition.kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput("body.value", f"'{definition.name}' is numeric: the value must be a number")
        low, high = definition.min_value, definition.max_value
        if value < low or value > high:  # type: ignore[operator]
            raise InvalidInput("body.value", f"{value} is outside the range of '{definition.name}' ({low:g} to {high:g})")
        return float(value), None
    if not isinstance(value, str) or value not in definition.labels:
        raise InvalidInput("body.value", f"'{definition.name}' takes one of the labels {', '.join(definition.labels)}")
    return None, value


def shown_value(definition_kind: str, number: float | None, label: str | None) -> Any:
    if definition_kind == "boolean":
        return bool(number)
    if definition_kind == "categorical":
        return label
    return number


async def add_score(session: AsyncSession, ctx: TenantContext, *, conversation_id: str, definition_id: str, value: Any,
                    comment: str | None, source: str) -> tuple[ConversationScore, ScoreDefinition]:
    """The definition is locked until the score is stored, so a DELETE of it at the same moment comes wholly before
    (this is the 404 an unknown definition gets) or after (it takes the new score with it), never between the check
    and the insert, whose foreign key then failed: a 500 (API review). PostgreSQL: FOR KEY SHARE, which a DELETE
    waits for but other scores of the definition do not. SQLite: its one write lock, taken before anything is read."""
    await take_sqlite_write_lock(session, ScoreDefinition.name, ScoreDefinition.tenant_id == ctx.tenant_id, ScoreDefinition.id == definition_id)
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    stmt = tenant_select(ctx, ScoreDefinition).where(ScoreDefinition.id == definition_id).execution_options(populate_existing=True)
    definition = await session.scalar(stmt.with_for_update(read=True, key_share=True))
    if definition is None:  # named, as avatars name an unknown guideline_set_id: the path's conversation exists
        field = "body.definition_id"
        raise NotFound(f"{field}: no such score definition in this tenant.", errors=[{"field": field, "message": "No such score definition.", "type": "not_found"}])
    number, label = check_value(definition, value)
    principal = ctx.principal
    row = ConversationScore(
        id=new_id("scr"), tenant_id=ctx.tenant_id, definition_id=definition.id, conversation_id=conversation.id,
        avatar_id=conversation.avatar_id, source=source, value_number=number, value_label=label, comment=comment or None,
        author_user_id=principal.user_id if principal.kind == "user" else None,
        author_api_key_id=principal.id if principal.kind == "api_key" else None,
    )
    session.add(row)
    await session.flush()
    return row, definition


async def _ensure_conversation_kept(session: AsyncSession, ctx: TenantContext, conversation_id: str | None) -> None:
    """A score is changed only while its conversation's data is kept: not on an erased stub (409 conversation-erased),
    nor once the conversation is gone (the score is left as a statistic). Deleting the score stays possible."""
    status = None
    if conversation_id is not None:
        status = await session.scalar(tenant_select(ctx, Conversation, Conversation.status).where(Conversation.id == conversation_id))
    if status is None or status == ERASED:
        raise ConversationErased()


def ensure_may_change(ctx: TenantContext, score: ConversationScore) -> None:
    """A score is its author's word: only they (the person, or the API key that wrote it) or an admin change or delete it."""
    principal = ctx.principal
    own = score.author_api_key_id == principal.id if principal.kind == "api_key" else score.author_user_id == principal.user_id
    if not own and not has_permission(ctx.role, Permission.TENANT_MANAGE):
        raise PermissionDenied(Permission.TENANT_MANAGE.value, "Only the score's author or an admin may change or delete it.")


async def update_score(session: AsyncSession, ctx: TenantContext, score_id: str, *, value: Any, value_set: bool, comment: str | None,
                       comment_set: bool) -> tuple[ConversationScore, ScoreDefinition]:
    row = await get_for_tenant(session, ctx, ConversationScore, score_id, "score")
    ensure_may_change(ctx, row)
    await _ensure_conversation_kept(session, ctx, row.conversation_id)
    definition = await get_for_tenant(session, ctx, ScoreDefinition, row.definition_id, "score definition")
    if value_set:
        row.value_number, row.value_label = check_value(definition, value)
    if comment_set:
        row.comment = comment or None
    row.updated_at = utcnow()
    await session.flush()
    return row, definition


def scores_query(ctx: TenantContext, *, conversation_id: str | None = None, definition_id: str | None = None, avatar_id: str | None = None,
                 source: str | None = None) -> Any:
    stmt = tenant_select(ctx, ConversationScore)
    if conversation_id:
        stmt = stmt.where(ConversationScore.conversation_id == conversation_id)
    if definition_id:
        stmt = stmt.where(ConversationScore.definition_id == definition_id)
    if avatar_id:
        stmt = stmt.where(ConversationScore.avatar_id == avatar_id)
    if source:
        stmt = stmt.where(ConversationScore.source == source)
    return stmt


async def definition_kinds(session: AsyncSession, ctx: TenantContext, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(tenant_select(ctx, ScoreDefinition, ScoreDefinition.id, ScoreDefinition.kind).where(ScoreDefinition.id.in_(ids)))
    return {r[0]: r[1] for r in rows.all()}


async def summary(session: AsyncSession, ctx: TenantContext, definition_id: str, *, avatar_id: str | None, start: date | None,
                  end: date | None) -> dict[str, Any]:
    """Per avatar: count and mean (numeric, boolean: the share of true) or the distribution of labels."""
    definition = await get_for_tenant(session, ctx, ScoreDefinition, definition_id, "score definition")
    where = [ConversationScore.tenant_id == ctx.tenant_id, ConversationScore.definition_id == definition.id]
    if avatar_id:
        where.append(ConversationScore.avatar_id == avatar_id)
    if start:
        where.append(ConversationScore.created_at >= day_start(start))
    if end:
        where.append(ConversationScore.created_at < day_start(end + timedelta(days=1)))
    stmt = (
        select(ConversationScore.avatar_id, ConversationScore.source, ConversationScore.value_label, func.count(),
               func.avg(ConversationScore.value_number), func.min(ConversationScore.value_number), func.max(ConversationScore.value_number))
        .where(*where)
        .group_by(ConversationScore.avatar_id, ConversationScore.source, ConversationScore.value_label)
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for avatar, source, label, count, mean, low, high in (await session.execute(stmt)).all():
        group = groups.setdefault((avatar, source), {"avatar_id": avatar, "source": source, "count": 0})
        group["count"] += int(count)
        if definition.kind == "categorical":
            group.setdefault("distribution", dict.fromkeys(definition.labels, 0))[label] = int(count)
        else:
            group["mean"] = round(float(mean), 4) if mean is not None else None
            if definition.kind == "numeric":
                group["min"], group["max"] = low, high
    return {"definition_id": definition.id, "name": definition.name, "kind": definition.kind, "groups": sorted(groups.values(), key=lambda g: (g["avatar_id"], g["source"]))}
