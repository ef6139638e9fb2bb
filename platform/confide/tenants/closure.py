"""Closing a tenant (DELETE /v1/tenants/{tenant_id}): the end of its contract, by its owner.

In the request, in one transaction: the tenant goes off the air (every avatar archived, so no widget key
resolves and no chat starts; webhooks stopped; API keys and open invitations revoked), every membership
ends (so the owner's account can be erased at once, and nobody works in the tenant any more), and the
chat data is queued for erasure as a `tenant`-scope erasure request, the same tracked machinery a tenant
uses at the end of its contract (privacy/erasure.py): it reaches the database, the broker and the mail
outbox in batches and resumes after a crash. Once that has committed, `announce_closed` cuts the tenant's
open chat connections on this node at once and tells every other node to cut theirs (realtime/live.py);
a node that missed the notice (Redis away) finds the tenant with `closed_among` when it resubscribes.

After each pass of the erasure worker, `finish_closures` deletes every tenant whose erasure is done: every
row that names it, in batches of `erasure_batch_rows` committed one by one (with the counts so far on the
closure row, so a crash resumes where it stopped), the tenant row last. What stays is the `TenantClosure`
row: who asked (unlinked when their account is erased), when, and the receipt with counts per table, never
content.

Nobody has to come back for it: the requester may have erased their account, and nobody else is a member
any more. So a closure whose erasure failed is queued again by `finish_closures` itself, and one whose
finishing raises is tried again at the next pass, up to MAX_ATTEMPTS rounds in all; then it is `failed`
with the reason, and a platform operator retries it (POST /v1/admin/tenant-closures/{id}/retry, or
`confide closures retry ID`); the requester sending the DELETE again does the same.

A tenant under an active legal hold is not closed (its held data could not be kept without it). Closing
and placing a hold lock the tenant row (privacy/holds.py), so a hold either exists before the closure
(409 `legal-holds-active`) or is refused once the closure has started (409 `tenant-closing`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from avatars.models import Avatar
from confide.core.auth import Principal
from confide.core.broker import TENANT_CLOSED_CHANNEL, Broker
from confide.core.clock import utcnow
from confide.core.db import batched
from confide.core.errors import Conflict, InvalidInput, NotFound
from confide.core.identity import ApiKey, Membership, Tenant
from confide.core.ids import new_id
from confide.core.tenancy import Role, TenantContext
from confide.evaluation.models import WebhookEndpoint
from confide.privacy.erasure import receipt as erasure_receipt
from confide.privacy.erasure import request_erasure
from confide.privacy.erasure_models import ErasureRequest, LegalHold
from confide.privacy.holds import lock_tenant
from confide.settings import Settings
from confide.tables import metadata
from confide.tenants.models import Invitation, TenantClosure

log = logging.getLogger("confide.tenants.closure")

CLOSING, CLOSED, FAILED = "closing", "closed", "failed"
DELETING = "deleting"  # not a stored status: a `closing` closure with a receipt is deleting the tenant's rows
MAX_ATTEMPTS = 3  # rounds (an erasure that failed, a finishing that raised) before a closure is `failed`
RETRY_ACTOR = "tenant-closure"  # who queues the erasure again, in the processing log
OPERATOR_ACTOR = "platform-operator"
OPERATOR_RETRY = "a platform operator can retry it (POST /v1/admin/tenant-closures/{id}/retry, or `confide closures retry {id}`)"
KEPT = (
    "This closure record: the tenant's id, when it was asked for and completed, and these counts. Who asked is kept as a "
    "user id until that account is erased. The tenant's processing log and erasure requests were deleted with it; their "
    "subject references had been removed first."
)


class LegalHoldsActive(Conflict):
    slug, title = "legal-holds-active", "Legal holds in force"


class ClosureNotFailed(Conflict):
    slug, title = "closure-not-failed", "Closure not failed"


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
    tenant_id refuses the second: created False). The tenant row stays locked until the caller commits, so a
    legal hold cannot be placed between the check here and the closure (privacy/holds.py)."""
    _confirm(ctx.tenant_id, confirm_tenant_id)
    await lock_tenant(session, ctx.tenant_id)
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


class ClosureListener(Protocol):
    def tenant_closed(self, tenant_id: str) -> None:
        """Cut the tenant's open chat connections on this node (realtime/live.py's LiveConnections)."""


async def announce_closed(broker: Broker, tenant_id: str, *, this_node: ClosureListener | None) -> None:
    """After the closure committed: every node closes the tenant's open visitor and operator websockets (4404).
    This node's are cut directly, first, so they go even when the broker is away; the other nodes hear the
    notice, or find the closure in the database when their subscription comes back (`closed_among`).
    Never fatal: the closure stands."""
    if this_node is not None:
        this_node.tenant_closed(tenant_id)
    try:
        await broker.publish(TENANT_CLOSED_CHANNEL, tenant_id)
    except Exception as exc:  # noqa: BLE001 - the broker away must not fail an accepted closure
        log.warning("announcing a tenant closure failed", extra={"tenant_id": tenant_id, "error_type": type(exc).__name__})


# Tenant ids per query in `closed_among`: far below the bind-parameter limits of PostgreSQL and SQLite.
CLOSED_AMONG_BATCH = 5_000


async def closed_among(session: AsyncSession, tenant_ids: Collection[str]) -> set[str]:
    """Which of these tenants are closed: a closure row (closing, failed or closed: a closure is never undone)
    or no tenant row any more. One query (per CLOSED_AMONG_BATCH ids), for a node that may have missed
    closure notices while its broker was away (realtime/live.py)."""
    wanted = list(dict.fromkeys(tenant_ids))
    closed: set[str] = set()
    for batch in batched(wanted, CLOSED_AMONG_BATCH):
        still_open = await session.scalars(
            select(Tenant.id).where(Tenant.id.in_(batch), ~exists().where(TenantClosure.tenant_id == Tenant.id))  # type: ignore[attr-defined]
        )
        closed.update(set(batch) - set(still_open.all()))
    return closed


async def _restart(session: AsyncSession, closure: TenantClosure, *, settings: Settings, principal: Principal) -> None:
    """Closing again after a failure: where the rows were being deleted already, that resumes; otherwise the
    chat data is queued for erasure again. Within the caller's transaction, the tenant row locked."""
    await lock_tenant(session, closure.tenant_id)
    await _refuse_if_held(session, closure.tenant_id)
    if closure.receipt is None:
        # Whoever retries acts as the owner who asked: every membership ended with the request.
        request = await _queue_erasure(session, TenantContext(closure.tenant_id, Role.OWNER, principal), settings)
        closure.erasure_request_id = request.id
    await _take_off_air(session, closure.tenant_id)  # anything that came back meanwhile goes off the air again
    closure.status, closure.error, closure.finished_at, closure.attempts = CLOSING, None, None, 0
    await session.flush()


async def retry_closure(session: AsyncSession, closure: TenantClosure, *, principal: Principal, settings: Settings, confirm_tenant_id: str) -> bool:
    """The requester sends the DELETE again: harmless while closing or closed; a failed closure is queued again.
    Returns True when work was queued again. Flushes, never commits."""
    _confirm(closure.tenant_id, confirm_tenant_id)
    if closure.status != FAILED:
        return False
    # Locked and read again, in the order the operator's retry takes (closure, then tenant): the two
    # retries at once neither deadlock nor queue the erasure twice.
    await session.refresh(closure, with_for_update=True)
    if closure.status != FAILED:
        return False
    if await session.get(Tenant, closure.tenant_id) is None:  # deleted after all: nothing left to do
        closure.status, closure.error = CLOSED, None
        await session.flush()
        return False
    await _restart(session, closure, settings=settings, principal=principal)
    return True


async def retry_failed_closure(session: AsyncSession, closure_id: str, *, settings: Settings) -> TenantClosure:
    """A platform operator retries a `failed` closure (nobody else may be left to do it); returns it, `closing`
    again. 404 for an unknown id, 409 for a closure that is not failed or a tenant under a legal hold.
    Flushes, never commits; the caller commits and wakes the erasure worker."""
    closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
    if closure is None:
        raise NotFound("No such tenant closure.")
    if closure.status != FAILED:
        raise ClosureNotFailed(f"This closure is {closure.status}; only a failed closure is retried.", closure_status=closure.status)
    if await session.get(Tenant, closure.tenant_id) is None:  # deleted after all
        closure.status, closure.error = CLOSED, None
        await session.flush()
        return closure
    await _restart(session, closure, settings=settings, principal=Principal("user", OPERATOR_ACTOR))
    log.info("tenant closure retried by an operator", extra={"tenant_id": closure.tenant_id, "closure_id": closure.id})
    return closure


def closures_query(*, status: str | None) -> Any:
    stmt = select(TenantClosure)
    return stmt.where(TenantClosure.status == status) if status else stmt


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


def _fail(closure: TenantClosure, error: str) -> None:
    closure.status, closure.error, closure.finished_at = FAILED, error[:300], utcnow()
    log.error("tenant closure failed", extra={"tenant_id": closure.tenant_id, "closure_id": closure.id, "attempts": closure.attempts})


def _kind(error: str | None) -> str:
    """The error's type from an erasure request's error ("BrokerError: a batch failed; …"), never more."""
    return (error or "").split(":", 1)[0].strip()[:60] or "unknown error"


async def _erasure_failed(session: AsyncSession, closure: TenantClosure, request: ErasureRequest | None, settings: Settings) -> str:
    """The chat data's erasure failed (or its request is gone): queue it again, up to MAX_ATTEMPTS rounds, then fail."""
    closure.attempts += 1
    why = f"erasing the tenant's chat data failed ({_kind(request.error) if request is not None else 'its erasure request is missing'})"
    if closure.attempts >= MAX_ATTEMPTS:
        _fail(closure, f"After {closure.attempts} attempts {why}; " + OPERATOR_RETRY.format(id=closure.id) + ".")
        return FAILED
    request = await _queue_erasure(session, TenantContext(closure.tenant_id, Role.OWNER, Principal("user", RETRY_ACTOR)), settings)
    closure.erasure_request_id = request.id
    closure.error = f"Attempt {closure.attempts}: {why}; queued again."[:300]
    log.warning("tenant closure: erasure queued again", extra={"tenant_id": closure.tenant_id, "closure_id": closure.id, "attempts": closure.attempts})
    return CLOSING


async def finish_closure(session: AsyncSession, closure: TenantClosure, *, settings: Settings) -> str:
    """Where a closing closure stands, moving it on: CLOSING while its erasure runs (or after queueing it again),
    DELETING when its rows are to be deleted (the receipt is started), CLOSED or FAILED. Within the caller's
    transaction, with the closure row locked."""
    if closure.status != CLOSING:
        return closure.status
    if await session.get(Tenant, closure.tenant_id) is None:  # already gone (a finisher on another node)
        closure.status = CLOSED
        closure.finished_at = closure.finished_at or utcnow()
        return CLOSED
    if closure.receipt is not None:  # deleting the rows already: resume
        return DELETING
    request = await session.get(ErasureRequest, closure.erasure_request_id) if closure.erasure_request_id else None
    if request is not None and request.status in ("pending", "running"):
        return CLOSING
    if request is None or request.status == "failed":
        return await _erasure_failed(session, closure, request, settings)
    held = await _active_holds(session, closure.tenant_id)
    if held or request.held_count:  # placed before holds and closures were serialised: its data must be kept
        _fail(closure, "A legal hold is in force on data of this tenant, so it cannot be deleted; once it is released, " + OPERATOR_RETRY.format(id=closure.id) + ".")
        return FAILED
    chat_data = erasure_receipt(request)
    if chat_data is not None:
        chat_data.pop("requested_by", None)  # the requester is the closure's own (unlinkable) column, not a copy in JSON
    closure.receipt = {"chat_data": chat_data, "deleted_with_tenant": {}}
    return DELETING


BatchHook = Callable[[str, int], None]


async def _locked_closing(session: AsyncSession, closure_id: str) -> TenantClosure | None:
    closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
    return closure if closure is not None and closure.status == CLOSING and closure.receipt is not None else None


async def _delete_tenant(
    sessionmaker: async_sessionmaker[AsyncSession], closure_id: str, tenant_id: str, *, batch: int, on_batch: BatchHook | None = None
) -> str:
    """Every row of the tenant, `batch` rows per transaction (each committing the counts so far on the closure,
    so the chat on the same database is never stalled and a crash resumes exactly), then in one last transaction
    whatever arrived meanwhile and the tenant row; returns the closure's status."""
    for table, column in tenant_tables():
        (pk,) = table.primary_key.columns
        while True:
            async with sessionmaker() as session, session.begin():
                closure = await _locked_closing(session, closure_id)
                if closure is None:  # finished or changed by someone else meanwhile
                    return CLOSING
                chunk = select(pk).where(column == tenant_id).limit(batch)
                n = int((await session.execute(delete(table).where(pk.in_(chunk)))).rowcount or 0)  # type: ignore[attr-defined]
                if n:
                    closure.receipt = _counted(closure.receipt, {str(table.name): n})
            if n and on_batch is not None:
                on_batch(str(table.name), n)
            if n < batch:
                break
            await asyncio.sleep(0)  # let the chat in between batches
    async with sessionmaker() as session, session.begin():
        closure = await _locked_closing(session, closure_id)
        if closure is None:
            return CLOSING
        late: dict[str, int] = {}
        for table, column in tenant_tables():  # rows written while the batches ran (a buffered log entry): few or none
            late[str(table.name)] = int((await session.execute(delete(table).where(column == tenant_id))).rowcount or 0)  # type: ignore[attr-defined]
        late["tenant"] = int((await session.execute(delete(Tenant).where(Tenant.id == tenant_id))).rowcount or 0)  # type: ignore[arg-type, attr-defined]
        receipt = _counted(closure.receipt, late)
        closure.receipt = {
            "closure_id": closure.id,
            "tenant_id": closure.tenant_id,
            "requested_at": closure.requested_at.isoformat(),
            "completed_at": utcnow().isoformat(),
            "chat_data": receipt.get("chat_data"),
            "deleted_with_tenant": dict(sorted(receipt["deleted_with_tenant"].items())),
            "kept": KEPT,
        }
        closure.status, closure.error, closure.finished_at = CLOSED, None, utcnow()
    log.info("tenant closed", extra={"tenant_id": tenant_id, "closure_id": closure_id, "deleted": closure.receipt["deleted_with_tenant"]})
    return CLOSED


def _counted(receipt: dict[str, Any] | None, delta: dict[str, int]) -> dict[str, Any]:
    """A new receipt (a new object, so the JSON column is written) with `delta` added to the counts."""
    receipt = dict(receipt or {})
    counts = dict(receipt.get("deleted_with_tenant") or {})
    for table, n in delta.items():
        if n:
            counts[table] = counts.get(table, 0) + n
    receipt["deleted_with_tenant"] = counts
    return receipt


async def _finish_one(
    sessionmaker: async_sessionmaker[AsyncSession], closure_id: str, *, settings: Settings, on_batch: BatchHook | None
) -> tuple[str | None, str | None]:
    """The closure's status after this round, and its tenant's id."""
    async with sessionmaker() as session, session.begin():
        closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
        if closure is None:
            return None, None
        status = await finish_closure(session, closure, settings=settings)
        tenant_id = closure.tenant_id
    if status != DELETING:
        return status, tenant_id
    return await _delete_tenant(sessionmaker, closure_id, tenant_id, batch=settings.erasure_batch_rows, on_batch=on_batch), tenant_id


async def _count_failure(sessionmaker: async_sessionmaker[AsyncSession], closure_id: str, exc: Exception) -> None:
    """A round that raised: the error's type on the closure (never its text, which may quote data); tried again
    at the next pass, up to MAX_ATTEMPTS rounds, then failed."""
    kind = type(exc).__name__
    async with sessionmaker() as session, session.begin():
        closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
        if closure is None or closure.status != CLOSING:
            return
        closure.attempts += 1
        if closure.attempts >= MAX_ATTEMPTS:
            _fail(closure, f"After {closure.attempts} attempts finishing the closure still fails ({kind}); " + OPERATOR_RETRY.format(id=closure.id) + ".")
        else:
            closure.error = f"Attempt {closure.attempts}: finishing the closure failed ({kind}); tried again after the next erasure pass."
            log.warning("tenant closure: finishing failed: %s", kind, extra={"tenant_id": closure.tenant_id, "closure_id": closure.id, "attempts": closure.attempts})


ClosedHook = Callable[[str], Awaitable[None]]


async def finish_closures(
    sessionmaker: async_sessionmaker[AsyncSession], *, settings: Settings, on_batch: BatchHook | None = None, on_closed: ClosedHook | None = None
) -> int:
    """The erasure worker's after-pass hook: move every closing closure on (queue a failed erasure again, delete
    the tenants whose erasure is done); returns how many closed. Each closure on its own, with its row locked
    (PostgreSQL) so two finishers never both delete; one that raises is counted on its row and the next goes on.
    `on_closed(tenant_id)` runs for each tenant closed here (the app announces the closure again: a node that
    missed the first notice cuts its sockets now); its failure is only logged."""
    await _reopen_restored(sessionmaker, settings=settings)
    async with sessionmaker() as session:
        ids = list((await session.scalars(select(TenantClosure.id).where(TenantClosure.status == CLOSING).order_by(TenantClosure.requested_at))).all())
    closed = 0
    for closure_id in ids:
        try:
            status, tenant_id = await _finish_one(sessionmaker, closure_id, settings=settings, on_batch=on_batch)
            if status == CLOSED:
                closed += 1
                if on_closed is not None and tenant_id is not None:
                    try:
                        await on_closed(tenant_id)
                    except Exception as exc:  # noqa: BLE001 - the closure stands; the notice is a courtesy to other nodes
                        log.warning("announcing a finished closure failed", extra={"closure_id": closure_id, "error_type": type(exc).__name__})
        except Exception as exc:  # this closure only: the others go on
            log.error("tenant closure round failed: %s", type(exc).__name__, extra={"closure_id": closure_id})
            try:
                await _count_failure(sessionmaker, closure_id, exc)
            except Exception as again:  # the database itself is away: the next pass tries again
                log.error("tenant closure: recording a failure failed: %s", type(again).__name__, extra={"closure_id": closure_id})
    return closed


async def _reopen_restored(sessionmaker: async_sessionmaker[AsyncSession], *, settings: Settings) -> None:
    """A closed tenant whose row is in the database again (a restore of some tenants or tables from a backup
    taken before its closure) is closed again: off the air, and its rows deleted as the first time (its erasure
    ledger went with it, so the ledger's sweep would not find it). The closure's receipt then counts those rows too."""
    async with sessionmaker() as session:
        restored = list(
            (await session.scalars(select(TenantClosure.id).where(TenantClosure.status == CLOSED, exists().where(Tenant.id == TenantClosure.tenant_id)))).all()
        )
    for closure_id in restored:
        try:
            async with sessionmaker() as session, session.begin():
                closure = await session.scalar(select(TenantClosure).where(TenantClosure.id == closure_id).with_for_update())
                if closure is None or closure.status != CLOSED:
                    continue
                log.warning("a closed tenant is in the database again (restored from a backup?): closing it again", extra={"closure_id": closure_id, "tenant_id": closure.tenant_id})
                await _restart(session, closure, settings=settings, principal=Principal("user", OPERATOR_ACTOR))
        except Exception as exc:  # a restored legal hold refuses it (LegalHoldsActive): an operator decides; the next pass tries again
            log.error("closing a restored tenant again failed: %s", type(exc).__name__, extra={"closure_id": closure_id})
            try:  # off the air all the same: no chat, no key, no webhook of a closed tenant while it waits
                async with sessionmaker() as session, session.begin():
                    tenant_id = await session.scalar(select(TenantClosure.tenant_id).where(TenantClosure.id == closure_id))
                    if tenant_id is not None:
                        await _take_off_air(session, tenant_id)
            except Exception as again:  # noqa: BLE001 - the next pass tries again
                log.error("taking a restored tenant off the air failed: %s", type(again).__name__, extra={"closure_id": closure_id})


async def count_rows(session: AsyncSession, tenant_id: str) -> dict[str, int]:
    """Rows per table that name this tenant (the tenant row under `tenant`); for tests and operators."""
    counts = {}
    for table, column in tenant_tables():
        counts[str(table.name)] = int(await session.scalar(select(func.count()).select_from(table).where(column == tenant_id)) or 0)
    counts["tenant"] = int(await session.scalar(select(func.count()).select_from(Tenant).where(Tenant.id == tenant_id)) or 0)  # type: ignore[arg-type]
    return counts
