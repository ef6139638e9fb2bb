"""Legal holds: data the law requires a tenant to keep (Art. 17(3)(b), (e) GDPR, e.g. for litigation) is
skipped by erasure and retention while a hold covers it. A hold covers one conversation, or everything of
one end customer (by visitor id or by the tenant's own customer reference). It is set and released with a
reason; releasing it re-queues the erasure requests that skipped data because of it.

A hold and the tenant's closure (confide.tenants.closure) are serialised on the tenant row: a hold placed
first refuses the closure (409 `legal-holds-active`), and once a closure has started no hold can be placed
(409 `tenant-closing`), so no hold can appear that nobody could release any more (the closure ends every
membership)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from confide.chats.models import Conversation
from confide.core.clock import utcnow
from confide.core.db import lock_rows
from confide.core.errors import Conflict, InvalidInput
from confide.core.identity import Tenant
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext, get_for_tenant, tenant_select
from confide.privacy.erasure_models import ErasureRequest, LegalHold
from confide.tenants.models import TenantClosure

ERASED = "erased"  # status and visitor id of a conversation whose personal data was erased (statistics kept)
HOLD_FIELDS = {"conversation_id": "conversation", "visitor_id": "visitor", "customer_ref": "customer"}


def held_clause() -> ColumnElement[bool]:
    """True for a conversation (correlated to `Conversation`) that an active legal hold covers."""
    c, h = Conversation, LegalHold
    return exists().where(
        h.tenant_id == c.tenant_id,
        h.released_at.is_(None),  # type: ignore[union-attr]
        or_(
            and_(h.scope == "conversation", h.target == c.id),
            and_(h.scope == "visitor", h.target == c.visitor_id),
            and_(h.scope == "customer", h.target == c.customer_ref),
        ),
    )


class TenantClosing(Conflict):
    slug, title = "tenant-closing", "Tenant closing"


async def lock_tenant(session: AsyncSession, tenant_id: str) -> None:
    """Lock the tenant row until the transaction ends, so placing a hold and closing the tenant never interleave.
    PostgreSQL: SELECT … FOR NO KEY UPDATE, which two of these still wait for, but an insert whose foreign key
    names the tenant does not: a webhook delivery or its log entry being written while the closure switches the
    tenant's endpoints off would otherwise wait for the closure while the closure waits for its endpoint row (a
    deadlock, and a 500 for one of them). On SQLite, the database's one write lock (core.db.lock_rows)."""
    await lock_rows(session, Tenant.name, Tenant.id == tenant_id)


def _author(ctx: TenantContext) -> dict[str, str | None]:
    principal = ctx.principal
    return {"user_id": principal.user_id if principal.kind == "user" else None, "api_key_id": principal.id if principal.kind == "api_key" else None}


async def create_hold(
    session: AsyncSession, ctx: TenantContext, *, conversation_id: str | None, visitor_id: str | None, customer_ref: str | None, reason: str
) -> LegalHold:
    named = {k: v for k, v in {"conversation_id": conversation_id, "visitor_id": visitor_id, "customer_ref": customer_ref}.items() if v}
    if len(named) != 1:
        raise InvalidInput("body", "Name exactly one of conversation_id, visitor_id or customer_ref: what the hold covers.")
    field, target = next(iter(named.items()))
    scope = HOLD_FIELDS[field]
    await lock_tenant(session, ctx.tenant_id)
    if await session.scalar(select(TenantClosure.id).where(TenantClosure.tenant_id == ctx.tenant_id)) is not None:
        raise TenantClosing("This tenant is being closed: all its data is being deleted, so no legal hold can be placed on it any more.")
    column = {"conversation": Conversation.id, "visitor": Conversation.visitor_id, "customer": Conversation.customer_ref}[scope]
    found = await session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.tenant_id == ctx.tenant_id, column == target, Conversation.status != ERASED)
    )
    if not found:
        what = {"conversation": "No conversation of this tenant has this id", "visitor": "No conversation of this tenant has this visitor id",
                "customer": "No conversation of this tenant has this customer reference"}[scope]
        raise InvalidInput(f"body.{field}", f"{what} (or its data was already erased); there is nothing to hold.")
    author = _author(ctx)
    hold = LegalHold(
        id=new_id("lh"),
        tenant_id=ctx.tenant_id,
        scope=scope,
        target=target,
        reason=reason,
        created_by_user_id=author["user_id"],
        created_by_api_key_id=author["api_key_id"],
    )
    session.add(hold)
    await session.flush()
    return hold


async def get_hold(session: AsyncSession, ctx: TenantContext, hold_id: str) -> LegalHold:
    return await get_for_tenant(session, ctx, LegalHold, hold_id, "legal hold")


async def release_hold(session: AsyncSession, ctx: TenantContext, *, hold: LegalHold, reason: str) -> list[str]:
    """Release the hold and re-queue the done erasure requests that skipped data because of it; returns their ids."""
    if hold.released_at is not None:
        raise Conflict(f"This legal hold was already released at {hold.released_at.isoformat()}.", released_at=hold.released_at.isoformat())
    author = _author(ctx)
    now = utcnow()
    # Claimed in the statement: of two releases at the same moment one wins, the other waits for it and is
    # refused as a repeat is (its reason would otherwise overwrite the first's).
    claimed = await session.execute(
        update(LegalHold)
        .where(LegalHold.id == hold.id, LegalHold.released_at.is_(None))  # type: ignore[union-attr]
        .values(released_at=now, released_by_user_id=author["user_id"], released_by_api_key_id=author["api_key_id"], release_reason=reason)
    )
    if int(claimed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        await session.refresh(hold)
        released = hold.released_at.isoformat() if hold.released_at else ""
        raise Conflict(f"This legal hold was already released at {released}.", released_at=released)
    await session.refresh(hold)
    candidates = (
        await session.scalars(
            select(ErasureRequest).where(ErasureRequest.tenant_id == ctx.tenant_id, ErasureRequest.status == "done", ErasureRequest.held_count > 0)
        )
    ).all()
    requeued = []
    for request in candidates:
        if hold.id not in (request.held_by or []):
            continue
        try:
            async with session.begin_nested():
                request.status = "pending"
                request.active_key = active_key(request.scope, request.subject_ref, request.before)
                request.error = None
                await session.flush()
            requeued.append(request.id)
        except IntegrityError:
            pass  # the same scope is queued already: that request covers the released data too
    return requeued


def active_key(scope: str, subject_ref: str | None, before: Any) -> str:
    """What makes two requests the same while they are pending or running."""
    if scope == "before":
        return f"before:{before.isoformat()}"
    return f"{scope}:{subject_ref or ''}"


def holds_query(ctx: TenantContext, *, active: bool | None) -> Any:
    stmt = tenant_select(ctx, LegalHold)
    if active is True:
        stmt = stmt.where(LegalHold.released_at.is_(None))  # type: ignore[union-attr]
    elif active is False:
        stmt = stmt.where(LegalHold.released_at.is_not(None))  # type: ignore[union-attr]
    return stmt
