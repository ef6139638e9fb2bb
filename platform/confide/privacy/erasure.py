"""Tenants' erasure requests: one end customer (by visitor id or the tenant's customer reference), one
conversation, everything last active before a date, or the whole tenant at the end of its contract
(Art. 28(3)(g) GDPR). A request is tracked (pending, running, done, failed); the erasure worker
(privacy/erasure_worker.py) carries it out in batches and leaves a receipt with counts, never content.

Another domain erasing something on a tenant's behalf (e.g. the inbox's "delete") calls

    request, created = await request_erasure(session, ctx, settings=services.settings, scope="conversation", conversation_id=cid)
    await session.commit()
    wake_erasure_worker(request.app)   # or leave it to the worker's next poll

and gets the tracked request back (the existing one when the same scope is already queued)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from confide.chats.inbox import ConversationErased
from confide.chats.models import Conversation
from confide.core.clock import as_utc, utcnow
from confide.core.errors import InvalidInput
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext, get_for_tenant, tenant_select
from confide.privacy.erasure_models import ErasureLedgerEntry, ErasureRequest
from confide.privacy.gate import Purpose, authorize
from confide.privacy.holds import ERASED, active_key
from confide.privacy.purge import Mode, Selection, count_conversations
from confide.privacy.subjects import SubjectKeys
from confide.settings import Settings

SCOPES = ("visitor", "customer", "conversation", "before", "tenant")
SCOPE_FIELD = {"visitor": "visitor_id", "customer": "customer_ref", "conversation": "conversation_id", "before": "before", "tenant": "confirm_tenant_id"}
ACTIVE = ("pending", "running")
OUTSIDE_DATABASE = ("broker_keys", "outbox_files", "processing_log_unlinked")

KEPT = {
    Mode.PURGE: "Each erased conversation stays as an anonymous stub for the tenant's statistics: avatar, language, status 'erased', "
    "times, rating and whether it was handed off, with its guideline rule hits and evaluation figures. Its visitor id and customer "
    "reference are removed, and every message, note and rating comment is deleted.",
    Mode.DELETE: "Nothing: every conversation row and every row that refers to one is deleted. The processing log keeps its entries "
    "(what was done, when, under which instructions) without any subject reference.",
}


def subject_keys(settings: Settings) -> SubjectKeys:
    return SubjectKeys(*settings.secret_keys)


def selection_of(t: str, scope: str, target: str | None, before: datetime | None) -> tuple[Selection, Mode]:
    if scope == "visitor":
        return Selection(t, visitor_id=target), Mode.PURGE
    if scope == "customer":
        return Selection(t, customer_ref=target), Mode.PURGE
    if scope == "conversation":
        return Selection(t, conversation_ids=(target or "",)), Mode.PURGE
    if scope == "before":
        return Selection(t, idle_before=before), Mode.PURGE
    if scope == "tenant":
        return Selection(t, include_erased=True), Mode.DELETE
    raise ValueError(f"no selection for scope {scope!r}")


def selection_for(request: ErasureRequest) -> tuple[Selection, Mode]:
    return selection_of(request.tenant_id, request.scope, request.target, request.before)


def _validate(
    ctx: TenantContext, scope: str, given: dict[str, Any]
) -> tuple[str | None, datetime | None]:
    """The scope's target (or cut-off); 422 naming the field for anything missing, stray or impossible."""
    if scope not in SCOPES:
        raise InvalidInput("body.scope", f"Unknown scope; use one of {', '.join(SCOPES)}.")
    field = SCOPE_FIELD[scope]
    stray = [f for f, v in given.items() if v is not None and f != field]
    if stray:
        raise InvalidInput(f"body.{stray[0]}", f"Not used with scope '{scope}', which takes only {field}; send one request per scope.")
    value = given.get(field)
    if value is None or value == "":
        raise InvalidInput(f"body.{field}", f"Required for scope '{scope}'.")
    if scope == "before":
        before = as_utc(value)
        assert before is not None
        if before > utcnow():
            raise InvalidInput("body.before", "Must not be in the future: everything last active before this time is erased.")
        return None, before
    if scope == "tenant":
        if value != ctx.tenant_id:
            raise InvalidInput("body.confirm_tenant_id", "Must repeat this tenant's id: erasing the whole tenant cannot be undone.")
        return None, None
    return str(value), None


def _subject_ref(keys: SubjectKeys, tenant_id: str, scope: str, target: str | None) -> str | None:
    if scope in ("visitor", "customer") and target is not None:
        return keys.ref(tenant_id, scope, target)
    if scope == "conversation":
        return target  # an opaque id already
    return None


async def _nothing_to_erase(
    session: AsyncSession, ctx: TenantContext, keys: SubjectKeys, scope: str, target: str | None
) -> InvalidInput | ConversationErased:
    """Why there is nothing to erase: 422 naming the field, except for a conversation of this tenant that
    was erased already, which is 409 conversation-erased, as DELETE …/conversations/{id} answers."""
    field = f"body.{SCOPE_FIELD[scope]}"
    if scope == "before":
        return InvalidInput(field, "No conversation of this tenant was last active before this time: there is nothing to erase.")
    if scope == "conversation":
        stub = await session.scalar(select(Conversation.status).where(Conversation.tenant_id == ctx.tenant_id, Conversation.id == target))
        if stub == ERASED:
            return ConversationErased()
        return InvalidInput(field, "No conversation of this tenant has this id.")
    assert target is not None
    erased = await session.scalar(
        select(ErasureLedgerEntry.request_id).where(
            ErasureLedgerEntry.tenant_id == ctx.tenant_id, ErasureLedgerEntry.kind == scope, ErasureLedgerEntry.subject_hash.in_(keys.digests(ctx.tenant_id, scope, target))
        )
    )
    what = "visitor id" if scope == "visitor" else "customer reference"
    if erased is not None:
        return InvalidInput(field, f"This {what}'s data was already erased (request {erased}); nothing of it is left.")
    return InvalidInput(field, f"No conversation of this tenant has this {what}.")


async def request_erasure(
    session: AsyncSession,
    ctx: TenantContext,
    *,
    settings: Settings,
    scope: str,
    visitor_id: str | None = None,
    customer_ref: str | None = None,
    conversation_id: str | None = None,
    before: datetime | None = None,
    confirm_tenant_id: str | None = None,
) -> tuple[ErasureRequest, bool]:
    """Queue an erasure; returns (request, created). The same scope already pending or running returns
    that request (created False). Nothing to erase is refused with 422 naming the field; a conversation
    already erased with 409 conversation-erased. Flushes, never commits."""
    keys = subject_keys(settings)
    given = {"visitor_id": visitor_id, "customer_ref": customer_ref, "conversation_id": conversation_id, "before": before, "confirm_tenant_id": confirm_tenant_id}
    target, cutoff = _validate(ctx, scope, given)
    subject_ref = _subject_ref(keys, ctx.tenant_id, scope, target)
    key = active_key(scope, subject_ref, cutoff)
    existing = await session.scalar(tenant_select(ctx, ErasureRequest).where(ErasureRequest.active_key == key))
    if existing is not None:
        return existing, False
    selection, _ = selection_of(ctx.tenant_id, scope, target, cutoff)
    in_scope = await count_conversations(session, selection)
    if in_scope == 0 and scope != "tenant":
        raise await _nothing_to_erase(session, ctx, keys, scope, target)
    principal = ctx.principal
    request = ErasureRequest(
        id=new_id("era"),
        tenant_id=ctx.tenant_id,
        scope=scope,
        subject_ref=subject_ref,
        target=target,
        before=cutoff,
        active_key=key,
        requested_by_user_id=principal.user_id if principal.kind == "user" else None,
        requested_by_api_key_id=principal.id if principal.kind == "api_key" else None,
        conversations_total=in_scope,
    )
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
            # Counted again now that the insert holds its place (SQLite's one write lock; on PostgreSQL the active key,
            # whose unique index let this insert through only once the same request queued just before had finished):
            # that request may have erased everything between the count above and the insert, and a second request
            # then ran, erased nothing and left an empty receipt (fuzzing found two, and five, of a burst of twelve).
            if scope != "tenant" and await count_conversations(session, selection) == 0:
                raise _ErasedMeanwhile
    except IntegrityError:  # queued at the same moment by someone else
        existing = await session.scalar(tenant_select(ctx, ErasureRequest).where(ErasureRequest.active_key == key))
        if existing is None:
            raise
        return existing, False
    except _ErasedMeanwhile:
        raise await _nothing_to_erase(session, ctx, keys, scope, target) from None
    await authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.ERASE, actor=ctx.actor, subject_ref=subject_ref, counts={"conversations": in_scope})
    return request, True


class _ErasedMeanwhile(Exception):
    """The request's subject was erased between its count and its insert (see request_erasure)."""


async def get_request(session: AsyncSession, ctx: TenantContext, request_id: str) -> ErasureRequest:
    return await get_for_tenant(session, ctx, ErasureRequest, request_id, "erasure request")


def requests_query(ctx: TenantContext, *, status: str | None) -> Any:
    stmt = tenant_select(ctx, ErasureRequest)
    if status is not None:
        stmt = stmt.where(ErasureRequest.status == status)
    return stmt


def requested_by(request: ErasureRequest) -> dict[str, str | None]:
    if request.origin != "tenant":
        return {"kind": "system", "id": f"erasure-{request.origin}"}
    if request.requested_by_user_id:
        return {"kind": "user", "id": request.requested_by_user_id}
    if request.requested_by_api_key_id:
        return {"kind": "api_key", "id": request.requested_by_api_key_id}
    return {"kind": "erased", "id": None}


def receipt(request: ErasureRequest) -> dict[str, Any] | None:
    """What a finished request did, per store, with counts and no content."""
    if request.status != "done" or request.finished_at is None:
        return None
    counts = request.counts or {}
    mode = Mode.DELETE if request.scope == "tenant" else Mode.PURGE
    return {
        "request_id": request.id,
        "tenant_id": request.tenant_id,
        "scope": request.scope,
        "subject_ref": request.subject_ref,
        "before": request.before.isoformat() if request.before else None,
        "requested_by": requested_by(request),
        "requested_at": request.requested_at.isoformat(),
        "completed_at": request.finished_at.isoformat(),
        "erased": {
            "database": {k: v for k, v in sorted(counts.items()) if k not in OUTSIDE_DATABASE},
            "broker": {"keys": counts.get("broker_keys", 0)},
            "outbox": {"files": counts.get("outbox_files", 0)},
            "search": "Search entries belong to the message rows and were removed with them.",
        },
        "unlinked": {"processing_log": counts.get("processing_log_unlinked", 0)},
        "held": {"conversations": request.held_count, "legal_holds": list(request.held_by or [])},
        "kept": KEPT[mode],
    }


def wake_erasure_worker(app: FastAPI) -> None:
    """Start on a request at once on this node, instead of at the worker's next poll."""
    worker = getattr(app.state, "erasure_worker", None)
    if worker is not None:
        worker.wake()
