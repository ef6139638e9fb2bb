"""A tenant's privacy routes: its processing instructions, their history, its processing log and the
records we keep as its processor. All under /v1/tenants/{tenant_id}/privacy/…"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from confide.core.clock import as_utc
from confide.core.dates import RANGE_TEXT, Instant, check_instant_range
from confide.core.db import SessionDep
from confide.core.errors import InvalidInput
from confide.core.schemas import Cursor, Limit, Page, paginate, query_scope
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from confide.privacy.gate import Purpose, PurposeGateDep
from confide.privacy.instructions import add_version, current_instructions, from_row, history_query, llm_provider_authorised
from confide.privacy.models import ProcessingInstructions, ProcessingLogEntry
from confide.privacy.processing_log import log_query
from confide.privacy.records import processor_records, tenant_recipients
from confide.privacy.schemas import InstructionsChange, InstructionsOut, ProcessingLogOut
from confide.tenants.service import get_tenant

router = APIRouter(prefix="/v1/tenants/{tenant_id}/privacy", tags=["privacy"])

Reader = Annotated[TenantContext, require(Permission.PRIVACY_READ)]
Manager = Annotated[TenantContext, require(Permission.PRIVACY_MANAGE)]


def _out(instructions: Any) -> InstructionsOut:
    return InstructionsOut.of(instructions, llm_authorised=llm_provider_authorised(instructions))


@router.get(
    "/instructions",
    response_model=InstructionsOut,
    summary="The processing instructions in force (Art. 28(3)(a))",
    description="Version 0 means the defaults: transcripts stored for 30 days, evaluation and operator review on, "
    "PII redacted before anything leaves for an LLM, no external LLM.",
)
async def read_instructions(ctx: Reader, session: SessionDep, gate: PurposeGateDep) -> InstructionsOut:
    return _out(await current_instructions(session, tenant_id=ctx.tenant_id, register=gate.register))


@router.post(
    "/instructions",
    status_code=status.HTTP_201_CREATED,
    response_model=InstructionsOut,
    summary="Give new instructions: adds a version, never changes one",
    description="Fields you omit keep their current value. Contradictions (e.g. external_llm without the LLM provider "
    "authorised) are refused with 422 saying why. Every node applies the new version within seconds. A change that alters "
    "nothing (`{}`, or today's values) still adds a version on purpose: it records who confirmed the instructions and when, "
    "e.g. to adopt the defaults (version 0) as your documented instructions.",
    responses={
        409: {
            "description": "Someone else added a version at the same moment (problem type `conflict`): nothing was added; "
            "read the instructions again and send the change again if it is still wanted."
        }
    },
)
async def change_instructions(body: InstructionsChange, ctx: Manager, session: SessionDep, gate: PurposeGateDep) -> InstructionsOut:
    instructions = await add_version(session, ctx, change=body.model_dump(exclude_unset=True), register=gate.register)
    await session.commit()
    gate.invalidate(ctx.tenant_id)
    return _out(instructions)


@router.get(
    "/instructions/history",
    response_model=Page[InstructionsOut],
    summary="Every stored version, oldest first",
    description="Owners and admins (`privacy:read`). Every version the tenant gave, from version 1, each with who set it (`set_by`) and when, "
    "cursor-paged; a version is never changed afterwards. A tenant that never gave instructions gets an empty list: the defaults (version 0) are not "
    "stored.",
)
async def instructions_history(
    ctx: Reader, session: SessionDep, services: ServicesDep, gate: PurposeGateDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[InstructionsOut]:
    rows, next_cursor = await paginate(
        session,
        history_query(ctx),
        ProcessingInstructions.id,
        cursors=services.cursors,
        scope=f"instructions:{ctx.tenant_id}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[_out(from_row(r, gate.register)) for r in rows], next_cursor=next_cursor)


def _bound(current: datetime | None, deprecated: datetime | None, name: str, alias: str) -> datetime | None:
    """`from`/`to`, or their former names `since`/`until` (deprecated): one spelling per bound."""
    if current is not None and deprecated is not None:
        raise InvalidInput(f"query.{alias}", f"Deprecated alias of `{name}`; give `{name}` only.")
    return as_utc(current if current is not None else deprecated)


@router.get(
    "/processing-log",
    response_model=Page[ProcessingLogOut],
    summary="What was done with your data, oldest first",
    description="One entry per allowed operation: purpose, actor, pseudonymous subject reference, counts and time; never content. "
    "`from` (inclusive) and `to` (exclusive) bound the entries' time, as on every other route; `since` and `until` are their "
    "former names, deprecated but still accepted (not together with `from`/`to`).",
)
async def processing_log(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    gate: PurposeGateDep,
    purpose: Annotated[Purpose | None, Query(description="Only this purpose.")] = None,
    from_: Annotated[Instant | None, Query(alias="from", description=f"Entries at or after this time, inclusive (ISO 8601, {RANGE_TEXT}).")] = None,
    to: Annotated[
        Instant | None,
        Query(description=f"Entries before this time, exclusive: this instant itself is not included (ISO 8601, {RANGE_TEXT}; a date means its midnight UTC)."),
    ] = None,
    subject_ref: Annotated[str | None, Query(max_length=100, description="Only entries about this subject reference.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    since: Annotated[Instant | None, Query(deprecated=True, description="Deprecated: use `from`.")] = None,
    until: Annotated[Instant | None, Query(deprecated=True, description="Deprecated: use `to` (the same: exclusive).")] = None,
) -> Page[ProcessingLogOut]:
    start, end = _bound(from_, since, "from", "since"), _bound(to, until, "to", "until")
    check_instant_range(start, end)
    await gate.flush()  # what this node has buffered is visible at once
    scope = query_scope("processing-log", ctx.tenant_id, purpose, start, end, subject_ref)
    stmt = log_query(ctx, purpose=purpose.value if purpose else None, since=start, until=end, subject_ref=subject_ref)
    items, next_cursor = await paginate(session, stmt, ProcessingLogEntry.id, cursors=services.cursors, scope=scope, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/records",
    summary="Records of processing we keep as your processor (Art. 30(2))",
    description="Categories of processing under your instructions in force, your authorised sub-processors with their "
    "transfer safeguards, the retention period, and our technical and organisational measures.",
)
async def tenant_records(ctx: Reader, session: SessionDep, services: ServicesDep, gate: PurposeGateDep) -> dict[str, Any]:
    tenant = await get_tenant(session, ctx)
    instructions = await current_instructions(session, tenant_id=ctx.tenant_id, register=gate.register)
    recipients = await tenant_recipients(session, ctx.tenant_id)
    return processor_records(
        services.settings, tenant={"id": tenant.id, "name": tenant.name}, instructions=instructions, register=gate.register, recipients=recipients
    )
