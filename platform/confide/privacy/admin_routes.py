"""Platform-operator routes under /v1/admin (X-Operator-Token): the retention job's runs, contact
messages (staff answer and conclude them), sending a newsletter issue, and retrying a failed tenant closure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status

from confide.core.db import SessionDep
from confide.core.errors import Conflict
from confide.core.schemas import Page, paginate
from confide.core.services import ServicesDep
from confide.privacy import consent, contact
from confide.privacy.models import ContactMessage, RetentionRun
from confide.privacy.operators import OperatorDep
from confide.privacy.retention import recent_runs, run_retention
from confide.privacy.erasure import wake_erasure_worker
from confide.privacy.schemas import ContactOut, NewsletterIssue, NewsletterSent, RetentionRunOut
from confide.tenants.closure import CLOSING, announce_closed, closures_query, retry_failed_closure
from confide.tenants.models import TenantClosure
from confide.tenants.schemas import TenantClosureOut

router = APIRouter(prefix="/v1/admin", tags=["operators"])


@router.get("/retention", response_model=list[RetentionRunOut], summary="The retention job's latest runs, newest first")
async def retention_runs(_: OperatorDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[RetentionRun]:
    return await recent_runs(session, limit=limit)


@router.post(
    "/retention/run",
    response_model=RetentionRunOut,
    summary="Run the retention job now",
    responses={409: {"description": "The job is running on another node right now (problem type `conflict`)."}},
)
async def retention_run_now(_: OperatorDep, request: Request) -> RetentionRun:
    run = await run_retention(request.app.state.engine, request.app.state.settings)
    if run is None:
        raise Conflict("The retention job is running on another node right now; see GET /v1/admin/retention shortly.")
    return run


@router.get("/contact-messages", response_model=Page[ContactOut], summary="Contact messages, oldest first")
async def list_contact_messages(
    _: OperatorDep,
    session: SessionDep,
    services: ServicesDep,
    concluded: Annotated[bool | None, Query(description="true: concluded only; false: open only.")] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ContactOut]:
    items, next_cursor = await paginate(
        session,
        contact.contacts_query(concluded=concluded),
        ContactMessage.id,
        cursors=services.cursors,
        scope=f"contact-messages:{concluded}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/contact-messages/{message_id}", response_model=ContactOut, summary="Read a contact message")
async def read_contact_message(message_id: str, _: OperatorDep, session: SessionDep) -> ContactMessage:
    return await contact.get_contact(session, message_id=message_id)


@router.post(
    "/contact-messages/{message_id}/conclude",
    response_model=ContactOut,
    summary="Conclude a conversation",
    description="The message is deleted contact_retention_days after this (policy VIII.4).",
)
async def conclude_contact_message(message_id: str, _: OperatorDep, session: SessionDep) -> ContactMessage:
    message = await contact.conclude_contact(session, message_id=message_id)
    await session.commit()
    return message


@router.post("/newsletter", response_model=NewsletterSent, summary="Send a newsletter issue to every confirmed subscriber")
async def send_newsletter_issue(body: NewsletterIssue, _: OperatorDep, session: SessionDep, services: ServicesDep) -> NewsletterSent:
    return NewsletterSent(sent=await consent.send_newsletter(session, services, subject=body.subject, body=body.body))


@router.get("/tenant-closures", response_model=Page[TenantClosureOut], summary="Tenant closures, e.g. the failed ones to retry")
async def list_tenant_closures(
    _: OperatorDep,
    session: SessionDep,
    services: ServicesDep,
    closure_status: Annotated[Literal["closing", "closed", "failed"] | None, Query(alias="status", description="Only closures in this status.")] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[TenantClosureOut]:
    items, next_cursor = await paginate(
        session, closures_query(status=closure_status), TenantClosure.id, cursors=services.cursors, scope=f"tenant-closures:{closure_status}", cursor=cursor, limit=limit
    )
    return Page(items=[TenantClosureOut.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post(
    "/tenant-closures/{closure_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TenantClosureOut,
    summary="Retry a failed tenant closure",
    description="A closure is retried automatically 3 rounds in all, then it is `failed` with the reason in `error`, and nobody "
    "else may be left to retry it (the memberships ended, the requester may have erased their account). This queues it "
    "again: the chat data's erasure, or the deletion of the tenant's rows where that had begun. Follow it at "
    "`GET /v1/admin/tenant-closures`. Same as `confide closures retry CLOSURE_ID`.",
    responses={
        404: {"description": "No such closure (problem+json, `not-found`)."},
        409: {"description": "The closure is not `failed` (`closure-not-failed`, with `closure_status`), or a legal hold is in force (`legal-holds-active`)."},
    },
)
async def retry_tenant_closure(closure_id: str, _: OperatorDep, request: Request, session: SessionDep, services: ServicesDep) -> TenantClosureOut:
    closure = await retry_failed_closure(session, closure_id, settings=services.settings)
    await session.commit()
    if closure.status == CLOSING:  # queued again: every node cuts the tenant's open chats, as the DELETE did (a lost notice made good)
        await announce_closed(services.broker, closure.tenant_id, this_node=request.app.state.chat.live)
    wake_erasure_worker(request.app)
    return TenantClosureOut.model_validate(closure)
