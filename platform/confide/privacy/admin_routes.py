"""Platform-operator routes under /v1/admin (X-Operator-Token): the retention job's runs, contact
messages (staff answer and conclude them), sending a newsletter issue, retrying a failed tenant closure, and
carrying out a platform user's data-rights request sent by email to the controller (export, erasure,
restriction; privacy policy III.6 and VII.5), and those of a contact-form sender (export, objection) and of a
newsletter subscriber (withdrawal of consent).

The account is named by its email address, in the JSON body: that is what the operator has (the request
came from it), a user id would first need a look-up, and in the body it stays out of URLs and the logs of
anything in front of this server. The operator verifies the request before sending it here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from confide.accounts.routes import profile_of
from confide.accounts.schemas import Profile
from confide.accounts.service import correct_profile, find_user_by_email, normalise_email
from confide.core.clock import utcnow
from confide.core.db import SessionDep
from confide.core.errors import Conflict
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.privacy import consent, contact, rights
from confide.privacy.gate import PurposeGateDep
from confide.privacy.models import ContactMessage, RetentionRun
from confide.privacy.operators import OperatorDep
from confide.privacy.retention import RUN_HISTORY_DAYS, recent_runs, run_retention
from confide.privacy.erasure import wake_erasure_worker
from confide.privacy.me_routes import export_download, objection_out
from confide.privacy.notices import contact_sender_information
from confide.privacy.schemas import (
    AccountObjection,
    AccountRectification,
    AccountRequest,
    ContactObjectionOut,
    ContactOut,
    ContactSender,
    ContactSenderExport,
    ErasureReceipt,
    NewsletterIssue,
    NewsletterSent,
    NewsletterSubscriber,
    NewsletterWithdrawalOut,
    ObjectionOut,
    RestrictionOut,
    RetentionRunOut,
)
from confide.tenants.closure import CLOSING, announce_closed, closures_query, retry_failed_closure
from confide.tenants.models import TenantClosure
from confide.tenants.schemas import TenantClosureOut

router = APIRouter(prefix="/v1/admin", tags=["operators"])


@router.get(
    "/retention",
    response_model=Page[RetentionRunOut],
    summary="The retention job's runs, newest first",
    description=f"Paged like every list (`cursor`, `limit`, 50 by default, at most 200): the next page holds older runs. Runs are kept {RUN_HISTORY_DAYS} days (the retention job removes older ones).",
)
async def retention_runs(_: OperatorDep, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> dict[str, Any]:
    before = services.cursors.decode("retention-runs", cursor)["before"] if cursor else None
    runs = await recent_runs(session, limit=limit + 1, before=before)
    next_cursor = services.cursors.encode("retention-runs", {"before": runs[limit - 1].id}) if len(runs) > limit else None
    return {"items": runs[:limit], "next_cursor": next_cursor}


@router.post(
    "/retention/run",
    response_model=RetentionRunOut,
    summary="Run the retention job now",
    description="Platform operators only. Runs every retention step now (access logs, expired sessions and tokens, unverified accounts, contact "
    "messages, chat data past each tenant's period, …) and answers when the pass is done, with what it removed per table; a step that fails is listed "
    "in `failed_steps` (`status` `failed`) and the others still ran, each in its own transaction. One run at a time in the cluster: 409 while "
    "another node runs it. Same as `confide retention run`.",
    responses={409: {"description": "The job is running on another node right now (problem type `conflict`)."}},
)
async def retention_run_now(_: OperatorDep, request: Request) -> RetentionRun:
    run = await run_retention(request.app.state.engine, request.app.state.settings)
    if run is None:
        raise Conflict("The retention job is running on another node right now; see GET /v1/admin/retention shortly.")
    return run


@router.get(
    "/contact-messages",
    response_model=Page[ContactOut],
    summary="Contact messages, oldest first",
    description="Platform operators only. Messages sent with `POST /v1/contact`, with the sender's name, email address and text, in the order they "
    "arrived, cursor-paged; `concluded` picks open or concluded ones. A message is gone once its sender objects (at once) or the retention job "
    "deletes it: `CONFIDE_CONTACT_RETENTION_DAYS` after it was concluded, or `CONFIDE_CONTACT_MAX_OPEN_DAYS` after it arrived if nobody concluded "
    "it.",
)
async def list_contact_messages(
    _: OperatorDep,
    session: SessionDep,
    services: ServicesDep,
    concluded: Annotated[bool | None, Query(description="true: concluded only; false: open only.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
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


@router.get(
    "/contact-messages/{message_id}",
    response_model=ContactOut,
    summary="Read a contact message",
    description="Platform operators only. The message with the sender's name, email address and text, the version of the consent given with it, and "
    "when it was concluded. 404 once it was deleted, after the sender's objection or at the end of its retention period.",
)
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


@router.post(
    "/contact-messages/objection",
    response_model=ContactObjectionOut,
    summary="Delete a sender's contact messages on their objection by email or in writing (policy VIII.5)",
    description="Platform operators only, once they have verified the request. Deletes at once every contact message received from `email` "
    "and the outbox copies of their acknowledgements, as the sender's own `POST /v1/contact/objection` does with the mailed token; no account "
    "is needed. `deleted` counts the messages: 0 when none are stored (deleted before, or never received), which is no error.",
)
async def object_for_contact_sender(body: ContactSender, _: OperatorDep, session: SessionDep, services: ServicesDep) -> ContactObjectionOut:
    deleted, _ = await contact.erase_contacts(session, services.settings.resolved_outbox_dir, emails=[body.email])
    await session.commit()
    return ContactObjectionOut(deleted=deleted, detail="The sender's contact messages and the details in them are deleted.")


@router.post(
    "/contact-messages/export",
    response_model=ContactSenderExport,
    summary="Everything held about a contact sender, on their request by email or in writing (Art. 15 and 20)",
    description="Platform operators only, once they have verified the request (policy III.6: every right may be addressed by email). "
    "Every stored contact message from `email` (case is ignored), oldest first, with its name, text, consent version and dates, and what "
    "Art. 15 asks beside them (purpose, legal basis, retention, recipients, rights), to send to the sender; no account is needed. "
    "`contact_messages` is empty when none is held (deleted after an objection or at the end of the retention period, or never "
    "received), which is no error. A POST so that the address stays out of the URL; it changes nothing.",
)
async def export_contact_sender(body: ContactSender, _: OperatorDep, session: SessionDep, services: ServicesDep, gate: PurposeGateDep) -> ContactSenderExport:
    messages = await contact.contacts_of(session, email=body.email)
    return ContactSenderExport(
        email=normalise_email(body.email),
        generated_at=utcnow(),
        contact_messages=[ContactOut.model_validate(m) for m in messages],
        information=contact_sender_information(services.settings, gate.register),
    )


@router.post(
    "/newsletter/withdrawal",
    response_model=NewsletterWithdrawalOut,
    summary="Withdraw a subscriber's newsletter consent, on their request by email or in writing (Art. 7(3))",
    description="Platform operators only, once they have verified the request. Withdraws only the newsletter consent of the account "
    "whose email address is `email` (confirmed or still unconfirmed after registration), as the unsubscribe link does: the pending or "
    "active subscription ends, and a consent record with the channel `operator-email-request` and the current consent version keeps "
    "the proof; nothing else changes (unlike `POST /v1/admin/accounts/objection`, which also deletes contact messages). Idempotent: "
    "an address that is not subscribed, was unsubscribed before, or has no account answers 200 with `withdrawn: false`.",
)
async def withdraw_newsletter_for_subscriber(body: NewsletterSubscriber, _: OperatorDep, session: SessionDep, services: ServicesDep) -> NewsletterWithdrawalOut:
    user = await find_user_by_email(session, body.email)
    withdrawn = user is not None and await consent.withdraw_newsletter(session, services, user_id=user.id, channel=consent.OPERATOR_CHANNEL, quiet=True)
    await session.commit()
    detail = "The newsletter consent is withdrawn; no newsletter goes to this address." if withdrawn else "This address has no newsletter subscription, so nothing was withdrawn; no newsletter goes to it."
    return NewsletterWithdrawalOut(withdrawn=withdrawn, status="none", consent_version=services.settings.newsletter_consent_version, detail=detail)


@router.post(
    "/newsletter",
    response_model=NewsletterSent,
    summary="Send a newsletter issue to every confirmed subscriber",
    description="In subscription order. If the mail server stops taking mail part-way, the answer says how many got the issue "
    "(`sent`), how many did not (`not_sent`) and where to go on (`resume_after`): send the same issue again with it, and only "
    "those get it. A 503 means nobody got it.",
    responses={503: {"description": "The mail server took none of the issue's mails (problem type `service-unavailable`): nobody got it; send it again later."}},
)
async def send_newsletter_issue(body: NewsletterIssue, _: OperatorDep, session: SessionDep, services: ServicesDep) -> NewsletterSent:
    run = await consent.send_newsletter(session, services, subject=body.subject, body=body.body, resume_after=body.resume_after)
    return NewsletterSent(sent=run.sent, not_sent=run.not_sent, resume_after=run.resume_after)


@router.get(
    "/tenant-closures",
    response_model=Page[TenantClosureOut],
    summary="Tenant closures, e.g. the failed ones to retry",
    description="Platform operators only. Every tenant closure on record, in the order they were requested, cursor-paged; `status=failed` lists "
    "those that gave up after 3 rounds and wait for `POST …/tenant-closures/{closure_id}/retry`. A `closed` closure stays as the proof of deletion, "
    "with its receipt of counts, never content. Same as `confide closures list`.",
)
async def list_tenant_closures(
    _: OperatorDep,
    session: SessionDep,
    services: ServicesDep,
    closure_status: Annotated[Literal["closing", "closed", "failed"] | None, Query(alias="status", description="Only closures in this status.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
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


# A platform user's rights, on their request by email to the controller (policy III.6, VII.5): the same as /v1/me/….

NO_ACCOUNT = {404: {"description": "No account has this confirmed email address (problem type `not-found`)."}}


@router.post(
    "/accounts/export",
    summary="Export an account's data, on its user's emailed request (Art. 15 and 20)",
    description="The same JSON as the user's own `GET /v1/me/export`, for the account whose confirmed address is `email`, "
    "to send to the user. A POST so that the address stays out of the URL; it changes nothing.",
    response_description="A JSON document, offered as a download.",
    responses=NO_ACCOUNT,
)
async def export_account(body: AccountRequest, _: OperatorDep, session: SessionDep, services: ServicesDep, gate: PurposeGateDep) -> JSONResponse:
    user = await rights.find_account(session, email=body.email)
    return export_download(await rights.export_my_data(session, user_id=user.id, information=rights.export_information(services.settings, gate.register)))


@router.post(
    "/accounts/erasure",
    response_model=ErasureReceipt,
    summary="Erase an account, on its user's emailed request (Art. 17)",
    description="The same erasure as the user's own `POST /v1/me/erasure`, without the password: the operator has verified "
    "the request. Removes the account whose confirmed address is `email` and everything linked to it, unlinks its staff ids, "
    "withdraws the API keys and invitations it handed out, deletes the outbox copies of its mails, and returns the receipt "
    "with counts, which says `carried_out_by: operator`. If the account is the only owner of a tenant, someone else must "
    "become owner or the tenant be closed first (409 names the tenants).",
    responses={**NO_ACCOUNT, 409: {"description": "The account is the sole owner of a tenant (problem type `sole-owner`, with `tenants`)."}},
)
async def erase_account(body: AccountRequest, _: OperatorDep, session: SessionDep, services: ServicesDep) -> dict[str, Any]:
    user = await rights.find_account(session, email=body.email)
    receipt = await rights.erase_my_account(session, services, user_id=user.id, operator_verified=True)
    await session.commit()
    return receipt


@router.post(
    "/accounts/rectification",
    response_model=Profile,
    summary="Correct an account's profile, on its user's emailed request (Art. 16)",
    description="The same corrections as the user's own `PATCH /v1/me`, for the account whose confirmed address is `email`: names, phone and "
    "company at once (null clears phone and company_name; name at least one field, else 422). The email address itself is not corrected here: "
    "the user changes it, and the new mailbox confirms it. A restricted account may be corrected too. Answers the corrected profile.",
    responses=NO_ACCOUNT,
)
async def rectify_account(body: AccountRectification, _: OperatorDep, session: SessionDep) -> Profile:
    user = await rights.find_account(session, email=body.email)
    correct_profile(user, body.corrections())
    await session.commit()
    return profile_of(user)


@router.post(
    "/accounts/restriction",
    response_model=RestrictionOut,
    summary="Restrict an account, on its user's emailed request (Art. 18)",
    description="The same as the user's own `POST /v1/me/restriction`: freezes the account whose confirmed address is `email`; "
    "its data is kept but not processed (no tenant work, no newsletter, no changes but corrections of names, phone and company). The user "
    "can still sign in, read, export and lift it. Restricting twice is harmless.",
    responses=NO_ACCOUNT,
)
async def restrict_account(body: AccountRequest, _: OperatorDep, session: SessionDep) -> RestrictionOut:
    user = await rights.find_account(session, email=body.email)
    user = await rights.restrict(session, user_id=user.id)
    await session.commit()
    return RestrictionOut(status=user.status, detail="The account is restricted. DELETE /v1/admin/accounts/restriction, or the user, lifts it.")


@router.delete(
    "/accounts/restriction",
    response_model=RestrictionOut,
    summary="Lift an account's restriction, on its user's emailed request",
    description="The same as the user's own `DELETE /v1/me/restriction`, for the account whose confirmed address is `email` (in the body).",
    responses={404: {"description": "No account has this confirmed email address (`not-found`), or it is not restricted (`not-restricted`)."}},
)
async def lift_account_restriction(body: AccountRequest, _: OperatorDep, session: SessionDep) -> RestrictionOut:
    user = await rights.find_account(session, email=body.email)
    user = await rights.lift_restriction(session, user_id=user.id)
    await session.commit()
    return RestrictionOut(status=user.status, detail="The restriction is lifted.")


@router.post(
    "/accounts/objection",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    summary="Record an account's objection, on its user's emailed request (Art. 21)",
    description="The same as the user's own `POST /v1/me/objection`, for the account whose confirmed address is `email`: recorded "
    "at once, stops the newsletter and deletes the user's contact messages (and the outbox copies of their acknowledgements); "
    "says what cannot stop and why.",
    responses=NO_ACCOUNT,
)
async def object_for_account(body: AccountObjection, _: OperatorDep, session: SessionDep, services: ServicesDep) -> ObjectionOut:
    user = await rights.find_account(session, email=body.email)
    result = await rights.object_to_processing(session, services, user_id=user.id, grounds=body.grounds)
    await session.commit()
    return objection_out(result)
