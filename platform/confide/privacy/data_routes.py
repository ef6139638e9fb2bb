"""A tenant's data routes: streamed exports of its chat data, erasure requests with receipts, and legal
holds. Exports need `data:export`, erasure `data:erase`, holds `privacy:manage` (reading them
`privacy:read`): owners and admins; editors, operators and analysts get 403."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from confide.core.clock import as_utc, utcnow
from confide.core.dates import RANGE_TEXT, Instant, check_instant_range
from confide.core.db import SessionDep
from confide.core.errors import InvalidInput
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from confide.privacy import holds
from confide.privacy.data_schemas import ErasureRequestBody, ErasureRequestOut, ExportManifestOut, HoldReleaseBody, LegalHoldBody, LegalHoldOut
from confide.privacy.erasure import get_request, request_erasure, requests_query, subject_keys, wake_erasure_worker
from confide.privacy.erasure_models import ErasureRequest, LegalHold
from confide.privacy.export import MEDIA_TYPES, Export, ExportFilter, ExportResponse, ExportSlot, ExportSlots, count_in_scope
from confide.privacy.gate import SUBJECT_REF, Purpose, authorize
from confide.settings import Settings

router = APIRouter(prefix="/v1/tenants/{tenant_id}", tags=["data"])

Exporter = Annotated[TenantContext, require(Permission.DATA_EXPORT)]
Eraser = Annotated[TenantContext, require(Permission.DATA_ERASE)]
HoldReader = Annotated[TenantContext, require(Permission.PRIVACY_READ)]
HoldManager = Annotated[TenantContext, require(Permission.PRIVACY_MANAGE)]
Format = Annotated[Literal["ndjson", "csv"], Query(description="ndjson (one JSON record per line) or csv (one row per record).")]
VisitorFilter = Annotated[str | None, Query(min_length=1, max_length=64, description="Only this end customer's conversations (visitor id).")]
CustomerFilter = Annotated[str | None, Query(min_length=1, max_length=200, description="Only this end customer's conversations (your own customer id).")]
FromFilter = Annotated[Instant | None, Query(alias="from", description=f"Conversations started at or after this time, inclusive (ISO 8601, {RANGE_TEXT}).")]
ToFilter = Annotated[
    Instant | None,
    Query(description=f"Conversations started before this time, exclusive: this instant itself is not included (ISO 8601, {RANGE_TEXT}; a date means its midnight UTC)."),
]

EXPORT_DESCRIPTION = (
    "Streamed, memory-flat whatever the size. Records: a header, then per conversation its `conversation` record followed by its "
    "`message`, `event`, `note` (private staff notes, the tenant's own data, marked as notes) and `rating` records and the rows of "
    "related tables (`rule_hit`, evaluation rows); the last record is the `manifest` with counts per type and the SHA-256 of every "
    "byte before it. Filters combine: one end customer (visitor_id and/or customer_ref) and/or the conversations started in [from, to). "
    "Each export is written to your processing log with its counts. A tenant runs at most a few exports (and manifests) at once, "
    "and each server a few in all (see CONFIDE_EXPORT_CONCURRENCY_PER_TENANT and _PER_NODE); more answer 429 (the tenant's) or 503 (the server's), with Retry-After. "
    "Read the download as it comes: an export whose client takes no data for CONFIDE_EXPORT_STALL_SECONDS (30 by default), or that "
    "streams longer than CONFIDE_EXPORT_MAX_SECONDS (an hour), is ended mid-body, without its manifest; export a long history in "
    "parts with from/to."
)
_RETRY_AFTER = {"Retry-After": {"description": "Whole seconds to wait before trying again.", "schema": {"type": "integer"}}}
BUSY = {
    429: {
        "description": "This tenant already runs as many exports (and manifests) at once as it may, `export_concurrency_per_tenant` "
        "(problem type `rate-limited`); `Retry-After` says when to try again.",
        "headers": _RETRY_AFTER,
    },
    503: {
        "description": "This server reads as many exports at once as it may, whichever tenants' (problem type `service-unavailable`); "
        "`Retry-After` says when to try again, here or on another node.",
        "headers": _RETRY_AFTER,
    },
}


def _filter(ctx: TenantContext, visitor_id: str | None, customer_ref: str | None, since: datetime | None, until: datetime | None) -> ExportFilter:
    since, until = as_utc(since), as_utc(until)
    check_instant_range(since, until)
    return ExportFilter(ctx.tenant_id, visitor_id=visitor_id, customer_ref=customer_ref, since=since, until=until)


def _export_subject(settings: Settings, flt: ExportFilter) -> str | None:
    if flt.customer_ref is not None:
        return subject_keys(settings).ref(flt.tenant_id, "customer", flt.customer_ref)
    if flt.visitor_id is not None:
        return flt.visitor_id if SUBJECT_REF.match(flt.visitor_id) else subject_keys(settings).ref(flt.tenant_id, "visitor", flt.visitor_id)
    return None


def _export_slots(app: FastAPI) -> ExportSlots:
    """The app's export slots, made at its first export."""
    slots = getattr(app.state, "export_slots", None)
    if slots is None:
        settings = app.state.settings
        slots = app.state.export_slots = ExportSlots(
            app.state.services.broker, per_node=settings.export_concurrency_per_node, per_tenant=settings.export_concurrency_per_tenant
        )
    return slots


async def _authorized_export(
    request: Request, ctx: TenantContext, session: SessionDep, services: ServicesDep, flt: ExportFilter, fmt: str
) -> tuple[Export, ExportSlot]:
    """A slot first (a refused export is neither counted nor logged), then the purpose gate; the slot is the caller's to release."""
    slot = await _export_slots(request.app).claim_export_slot(ctx.tenant_id)
    try:
        counts = await count_in_scope(session, flt)
        await authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.EXPORT, actor=ctx.actor, subject_ref=_export_subject(services.settings, flt), counts=counts)
        await session.commit()  # the request's session gives its connection back: the export reads on its own
    except BaseException:
        await slot.release()
        raise
    return Export(request.app.state.sessionmaker, flt, fmt), slot


@router.get(
    "/exports/conversations",
    summary="Export conversations, messages, notes, ratings and evaluations (streamed NDJSON or CSV)",
    description=EXPORT_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "The export, streamed."}, **BUSY},
)
async def export_conversations(
    request: Request,
    ctx: Exporter,
    session: SessionDep,
    services: ServicesDep,
    format: Format = "ndjson",  # noqa: A002 - the query parameter's name
    visitor_id: VisitorFilter = None,
    customer_ref: CustomerFilter = None,
    since: FromFilter = None,
    to: ToFilter = None,
) -> StreamingResponse:
    export, slot = await _authorized_export(request, ctx, session, services, _filter(ctx, visitor_id, customer_ref, since, to), format)
    name = f"confide-export-{ctx.tenant_id}-{utcnow():%Y%m%dT%H%M%SZ}.{format}"
    settings = services.settings
    return ExportResponse(
        export, slot, stall_seconds=settings.export_stall_seconds, max_seconds=settings.export_max_seconds, media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/exports/manifest",
    response_model=ExportManifestOut,
    summary="The manifest an export with these filters would end with: counts and SHA-256, without the content",
    description="Reads everything an export would (so it takes as long, and counts towards the same limits of exports at once), "
    "to check a downloaded file or size one up front.",
    responses=BUSY,
)
async def export_manifest(
    request: Request,
    ctx: Exporter,
    session: SessionDep,
    services: ServicesDep,
    format: Format = "ndjson",  # noqa: A002
    visitor_id: VisitorFilter = None,
    customer_ref: CustomerFilter = None,
    since: FromFilter = None,
    to: ToFilter = None,
) -> ExportManifestOut:
    export, slot = await _authorized_export(request, ctx, session, services, _filter(ctx, visitor_id, customer_ref, since, to), format)
    try:
        async for _ in export.chunks():
            pass
    finally:
        await slot.release()
    manifest = export.manifest
    return ExportManifestOut(
        format=manifest["format"], counts=manifest["counts"], records=manifest["records"], sha256=manifest["sha256"],
        sha256_of=manifest["sha256_of"], generated_at=manifest["generated_at"], bytes=export.size,
    )


@router.post(
    "/erasure-requests",
    response_model=ErasureRequestOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Erase one end customer's data, one conversation, everything older than a date, or the whole tenant",
    description="Queued and carried out in the background in batches; follow it with GET. Reaches the database, the broker "
    "(rate limits, connection groups), the mail outbox and search data; skips what a legal hold covers and says so; leaves a "
    "receipt with counts and no content. Messages and the link to the person go; anonymous conversation statistics stay "
    "(except for scope `tenant`, which deletes everything). The same scope already queued or running answers 200 with that "
    "request. Nothing to erase answers 422 naming the field, except a conversation that was already erased: 409 "
    "conversation-erased, as DELETE …/conversations/{conversation_id} answers.",
    responses={
        200: {"model": ErasureRequestOut, "description": "The same scope is already queued or running: that request."},
        409: {"description": "Scope `conversation`: the conversation was already erased (`conversation-erased`)"},
    },
)
async def create_erasure_request(
    body: ErasureRequestBody, request: Request, response: Response, ctx: Eraser, session: SessionDep, services: ServicesDep
) -> ErasureRequestOut:
    erasure, created = await request_erasure(
        session,
        ctx,
        settings=services.settings,
        scope=body.scope,
        visitor_id=body.visitor_id,
        customer_ref=body.customer_ref,
        conversation_id=body.conversation_id,
        before=body.before,
        confirm_tenant_id=body.confirm_tenant_id,
    )
    await session.commit()
    if created:
        wake_erasure_worker(request.app)
    else:
        response.status_code = status.HTTP_200_OK
    return ErasureRequestOut.of(erasure)


@router.get(
    "/erasure-requests",
    response_model=Page[ErasureRequestOut],
    summary="Erasure requests, oldest first",
    description="Owners and admins (`data:erase`). Every erasure request of the tenant in the order it was made, cursor-paged: those sent here, "
    "those queued by deleting conversations (one by one or in bulk), and those the ledger repeats automatically when erased data reappears (`origin` "
    "`ledger`); `status` narrows the list. Receipts carry counts, never content.",
)
async def list_erasure_requests(
    ctx: Eraser,
    session: SessionDep,
    services: ServicesDep,
    status_: Annotated[Literal["pending", "running", "done", "failed"] | None, Query(alias="status", description="Only this status.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ErasureRequestOut]:
    rows, next_cursor = await paginate(
        session, requests_query(ctx, status=status_), ErasureRequest.id, cursors=services.cursors,
        scope=f"erasure-requests:{ctx.tenant_id}:{status_ or ''}", cursor=cursor, limit=limit,
    )
    return Page(items=[ErasureRequestOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/erasure-requests/{request_id}",
    response_model=ErasureRequestOut,
    summary="One erasure request: status, progress and, when done, its receipt",
    description="Owners and admins (`data:erase`). Poll it after asking for an erasure: `progress` counts the conversations done, `counts` what was "
    "removed per store so far, `held` what legal holds kept, `error` why the last attempt failed; once `done`, `receipt` says what was erased, by "
    "whom and when, in counts only.",
)
async def read_erasure_request(request_id: str, ctx: Eraser, session: SessionDep) -> ErasureRequestOut:
    return ErasureRequestOut.of(await get_request(session, ctx, request_id))


@router.post(
    "/legal-holds",
    response_model=LegalHoldOut,
    status_code=status.HTTP_201_CREATED,
    summary="Keep a conversation, or everything of one end customer, despite erasure and retention",
    description="For data the law requires you to keep (e.g. litigation). Name exactly one of conversation_id, visitor_id or "
    "customer_ref, and the reason. Several holds may cover the same data; it is kept until the last is released.",
    responses={409: {"description": "The tenant is being closed (`tenant-closing`): a hold can no longer be placed"}},
)
async def create_legal_hold(body: LegalHoldBody, ctx: HoldManager, session: SessionDep) -> LegalHoldOut:
    hold = await holds.create_hold(
        session, ctx, conversation_id=body.conversation_id, visitor_id=body.visitor_id, customer_ref=body.customer_ref, reason=body.reason
    )
    await session.commit()
    return LegalHoldOut.of(hold)


@router.get(
    "/legal-holds",
    response_model=Page[LegalHoldOut],
    summary="Legal holds, oldest first",
    description="Owners and admins (`privacy:read`). The tenant's legal holds in the order they were placed, cursor-paged: those in force and those "
    "released, which stay on record with who released them, when and why; `active` picks one or the other.",
)
async def list_legal_holds(
    ctx: HoldReader,
    session: SessionDep,
    services: ServicesDep,
    active: Annotated[bool | None, Query(description="true: only holds in force; false: only released ones.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[LegalHoldOut]:
    rows, next_cursor = await paginate(
        session, holds.holds_query(ctx, active=active), LegalHold.id, cursors=services.cursors,
        scope=f"legal-holds:{ctx.tenant_id}:{active}", cursor=cursor, limit=limit,
    )
    return Page(items=[LegalHoldOut.of(h) for h in rows], next_cursor=next_cursor)


@router.get(
    "/legal-holds/{hold_id}",
    response_model=LegalHoldOut,
    summary="One legal hold",
    description="Owners and admins (`privacy:read`). What the hold covers (a conversation, a visitor or one of your customer ids), why, who placed "
    "it and when, and once released, who released it, when and why. Once released and its subject erased, a visitor or customer hold shows the "
    "subject's pseudonym (`sub_…`) instead of the id, and its reasons read `(erased with the subject's data)`.",
)
async def read_legal_hold(hold_id: str, ctx: HoldReader, session: SessionDep) -> LegalHoldOut:
    return LegalHoldOut.of(await holds.get_hold(session, ctx, hold_id))


@router.delete(
    "/legal-holds/{hold_id}",
    response_model=LegalHoldOut,
    summary="Release a legal hold, with the reason (a JSON body)",
    description="The hold stays on record as released. Erasure requests that skipped data because of it are queued again and "
    "finish; retention takes what is past its period at its next run.",
    responses={409: {"description": "The hold was released already (problem type `conflict`, with its `released_at`)."}},
    # Optional to FastAPI only so that another tenant's hold answers 404 before the body is read; a release without
    # a reason is a 422 (body.reason), so the document says the body is required.
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HoldReleaseBody"}}}}},
)
async def release_legal_hold(hold_id: str, request: Request, ctx: HoldManager, session: SessionDep, body: HoldReleaseBody | None = None) -> LegalHoldOut:
    hold = await holds.get_hold(session, ctx, hold_id)  # first, so a foreign id answers 404 whatever the body
    if body is None:
        raise InvalidInput("body.reason", "Say why the hold is released: send {\"reason\": …}.")
    requeued = await holds.release_hold(session, ctx, hold=hold, reason=body.reason)
    await session.commit()
    if requeued:
        wake_erasure_worker(request.app)
    return LegalHoldOut.of(hold, requeued)
