"""Closing a tenant (DELETE /v1/tenants/{tenant_id}): the end of its contract, by its owner.

In the request, in one transaction: the tenant goes off the air (every avatar archived, so no widget key
resolves and no chat starts; webhooks stopped; API keys and open invitations revoked), every membership
ends (so the owner's account can be erased at once, and nobody works in the tenant any more), and the
chat data is queued for erasure as a `tenant`-scope erasure request, the same tracked machinery a tenant
uses at the end of its contract (privacy/erasure.py): it reaches the database, the broker and the mail
outbox in batches and resumes after a crash.

After each pass of the erasure worker, `finish_closures` deletes every tenant whose erasure is done: every
row that names it, in one transaction, then the tenant row. What stays is the `TenantClosure` row: who
asked (unlinked when their account is erased), when, and the receipt with counts per table, never content.
A tenant under an active legal hold is not closed (its held data could not be kept without it)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from avatars.models import Avatar
from confide.core.auth import Principal
from confide.core.clock import utcnow
from confide.core.errors import Conflict, InvalidInput
from confide.core.identity import ApiKey, Membership, Tenant
from confide.core.ids import new_id
from confide.core.tenancy import Role, TenantContext
from confide.evaluation.models import WebhookEndpoint
from confide.privacy.erasure import receipt as erasure_receipt
from confide.privacy.erasure import request_erasure
from confide.privacy.erasure_models import ErasureRequest, LegalHold
from confide.settings import Settings
from confide.tables import metadata
from confide.tenants.models import Invitation, TenantClosure

log = logging.getLogger("confide.tenants.closure")

CLOSING, CLOSED, FAILED = "closing", "closed", "failed"
KEPT = (
    "This closure record: the tenant's id, when it was asked for and completed, and these counts. Who asked is kept as a "
    "user id until that account is erased. The tenant's processing log and erasure requests were deleted with it; their "
    "subject references had been removed first."
)


class LegalHoldsActive(Conflict):
    slug, title = "legal-holds-active", "Legal holds in force"


def _confirm(ctx_tenant_id: str, confirm_tenant_id: str) -> None:
    if confirm_tenant_id != ctx_tenant_id:
        raise InvalidInput("body.confirm_tenant_id", "Must repeat this tenant's id: closing the tenant deletes all its data and cannot be undone.")


async def closure_of(session: AsyncSession, tenant_id: str, *, requested_by: str | None) -> TenantClosure | None:
    """The closure of this tenant that this user asked for (only they can follow it once the memberships are gone)."""
    if requested_by is None:
        return None
    return await session.scalar(select(TenantClosure).where(TenantClosure.tenant_id == tenant_id, TenantClosure.requested_by_user_id == requested_by))


async def _active_holds(session: AsyncSession, tenant_id: str) -> list[str]:
    rows = await session.scalars(
        select(LegalHold.id).where(LegalHold.tenant_id == tenant_id, LegalHold.released_at.is_(None)).order_by(LegalHold.id)  # type: ignore[union-attr]
    )
    return list(rows.all())


async def _refuse_if_held(session: AsyncSession, tenant_id: str) -> None:
    held = await _active_holds(session, tenant_id)
    if held:
        raise LegalHoldsActive(
            "Legal holds are in force for data of this tenant; the data they cover must be kept, so the tenant cannot be closed. "
            "Release them (DELETE …/legal-holds/{hold_id}) first.",
            legal_holds=held,
        )


async def _take_off_air(session: AsyncSession, tenant_id: str) -> dict[str, int]:
    """No chat starts, nothing is delivered, nobody works in the tenant any more; counts of what changed."""
    now = utcnow()
    done: dict[str, int] = {}
    statements = {
        "avatars_archived": update(Avatar).where(Avatar.tenant_id == tenant_id, Avatar.status != "archived").values(status="archived", archived_at=now, updated_at=now),
        "webhooks_stopped": update(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.active.is_(True)).values(active=False),  # type: ignore[attr-defined]
        "api_keys_revoked": update(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None)).values(revoked_at=now),  # type: ignore[union-attr]
        "invitations_revoked": update(Invitation)
        .where(Invitation.tenant_id == tenant_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now),
        "memberships_ended": delete(Membership).where(Membership.tenant_id == tenant_id),  # type: ignore[arg-type]
    }
    for name, stmt in statements.items():
        done[name] = int((await session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]
    return done


async def _queue_erasure(session: AsyncSession, ctx: TenantContext, settings: Settings) -> ErasureRequest:
    request, _ = await request_erasure(session, ctx, settings=settings, scope="tenant", confirm_tenant_id=ctx.tenant_id)
    return request


async def close_tenant(session: AsyncSession, ctx: TenantContext, *, settings: Settings, confirm_tenant_id: str) -> tuple[TenantClosure, bool]:
    """Start closing the owner's tenant; returns (closure, created). Flushes, never commits; the caller commits and
    wakes the erasure worker. Two owners closing at the same moment get the same closure (the unique key on
    tenant_id refuses the second: created False)."""
    _confirm(ctx.tenant_id, confirm_tenant_id)
    await _refuse_if_held(session, ctx.tenant_id)
    closure = TenantClosure(id=new_id("tcl"), tenant_id=ctx.tenant_id, requested_by_user_id=ctx.principal.user_id)
    try:
        async with session.begin_nested():
            session.add(closure)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(select(TenantClosure).where(TenantClosure.tenant_id == ctx.tenant_id))
        if existing is None:
            raise
        return existing, False
    request = await _queue_erasure(session, ctx, settings)
    closure.erasure_request_id = request.id
    changed = await _take_off_air(session, ctx.tenant_id)
    await session.flush()
    log.info("tenant closing", extra={"tenant_id": ctx.tenant_id, "closure_id": closure.id, "erasure_request_id": request.id, **changed})
    return closure, True


async def retry_closure(session: AsyncSession, closure: TenantClosure, *, principal: Principal, settings: Settings, confirm_tenant_id: str) -> bool:
    """The requester sends the DELETE again: harmless while closing or closed; a failed closure is queued again.
    Returns True when work was queued again. Flushes, never commits."""
    _confirm(closure.tenant_id, confirm_tenant_id)
    if closure.status != FAILED:
        return False
    if await session.get(Tenant, closure.tenant_id) is None:  # deleted after all: nothing left to do
        closure.status, closure.error = CLOSED, None
        await session.flush()
        return False
    await _refuse_if_held(session, closure.tenant_id)
    # The requester acts as the owner they were when they asked: their membership ended with the request.
    ctx = TenantContext(closure.tenant_id, Role.OWNER, principal)
    request = await _queue_erasure(session, ctx, settings)
    await _take_off_air(session, closure.tenant_id)  # anything that came back meanwhile goes off the air again
    closure.status, closure.error, closure.erasure_request_id, closure.finished_at = CLOSING, None, request.id, None
    await session.flush()
    return True


# ---- finishing: after the erasure worker's passes -------------------------------------------------


def tenant_tables() -> list[tuple[Table, Any]]:
    """Every table with a foreign key to the tenant, children before parents (the order that deletes safely)."""
    found = []
    for table in reversed(metadata.sorted_tables):
        for column in table.columns:
            if any(fk.column.table.name == Tenant.__tablename__ for fk in column.foreign_keys):
                found.append((table, column))
                break
    return found


async def _fail(session: AsyncSession, closure: TenantClosure, error: str) -> None:
    closure.status, closure.error, closure.finished_at = FAILED, error[:300], utcnow()
    log.error("tenant closure failed", extra={"tenant_id": closure.tenant_id, "closure_id": closure.id})


async def _delete_tenant(session: AsyncSession, closure: TenantClosure, request: ErasureRequest | None) -> dict[str, Any]:
    """Every row of the tenant, then the tenant; returns the receipt. Within the caller's transaction."""
    chat_data = erasure_receipt(request) if request is not None else None
    if chat_data is not None:
        chat_data.pop("requested_by", None)  # the requester is the closure's own (unlinkable) column, not a copy in JSON
    deleted: dict[str, int] = {}
    for table, column in tenant_tables():
        n = int((await session.execute(delete(table).where(column == closure.tenant_id))).rowcount or 0)  # type: ignore[attr-defined]
        if n:
            deleted[str(table.name)] = n
    deleted["tenant"] = int((await session.execute(delete(Tenant).where(Tenant.id == closure.tenant_id))).rowcount or 0)  # type: ignore[arg-type, attr-defined]
    return {
        "closure_id": closure.id,
        "tenant_id": closure.tenant_id,
        "requested_at": closure.requested_at.isoformat(),
        "completed_at": utcnow().isoformat(),
        "chat_data": chat_data,
        "deleted_with_tenant": dict(sorted(deleted.items())),
        "kept": KEPT,
    }


async def finish_closure(session: AsyncSession, closure: TenantClosure) -> str:
    """Delete the tenant once its chat data is erased; returns the closure's status. Within the caller's transaction."""
    if closure.status != CLOSING:
        return closure.status
    if await session.get(Tenant, closure.tenant_id) is None:  # already gone (a finisher on another node)
        closure.status = CLOSED
        closure.finished_at = closure.finished_at or utcnow()
        return CLOSED
    request = await session.get(ErasureRequest, closure.erasure_request_id) if closure.erasure_request_id else None
    if request is not None and request.status in ("pending", "running"):
        return CLOSING
    if request is None or request.status == "failed":
        await _fail(session, closure, "Erasing the tenant's chat data failed; send the DELETE again to retry.")
        return FAILED
    held = await _active_holds(session, closure.tenant_id)
    if held or request.held_count:
        await _fail(session, closure, "A legal hold was placed while the tenant was closing; release it, then send the DELETE again.")
        return FAILED
    closure.receipt = await _delete_tenant(session, closure, request)
    closure.status, closure.error, closure.finished_at = CLOSED, None, utcnow()
    log.info("tenant closed", extra={"tenant_id": closure.tenant_id, "closure_id": closure.id, "deleted": closure.receipt["deleted_with_tenant"]})
    return CLOSED


async def finish_closures(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The erasure worker's after-pass hook: finish every closure whose erasure is done; returns how many closed.
    Each in its own transaction, with the closure row locked (PostgreSQL), so two finishers never both delete."""
    async with sessionmaker() as session:
        ids = list((await session.scalars(select(TenantClosure.id).where(TenantClosure.status == CLOSING).order_by(TenantClosure.requested_at))).all())
    closed = 0
    for closure_id in ids:
        async with sessionmaker() as session, session.begin():
            closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
            if closure is not None and await finish_closure(session, closure) == CLOSED:
                closed += 1
    return closed


async def count_rows(session: AsyncSession, tenant_id: str) -> dict[str, int]:
    """Rows per table that name this tenant (the tenant row under `tenant`); for tests and operators."""
    counts = {}
    for table, column in tenant_tables():
        counts[str(table.name)] = int(await session.scalar(select(func.count()).select_from(table).where(column == tenant_id)) or 0)
    counts["tenant"] = int(await session.scalar(select(func.count()).select_from(Tenant).where(Tenant.id == tenant_id)) or 0)  # type: ignore[arg-type]
    return counts
