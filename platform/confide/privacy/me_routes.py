"""Platform users' own rights, self-service under /v1/me/… (we are their controller). A restricted
account can still read, export, object, withdraw consent, lift the restriction and erase itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from confide.core.auth import ActiveUserDep, UserDep
from confide.core.db import SessionDep
from confide.core.services import ServicesDep, client_address
from confide.privacy import consent, rights
from confide.privacy.gate import PurposeGateDep
from confide.privacy.schemas import ErasureReceipt, ErasureRequest, NewsletterOut, ObjectionDeleted, ObjectionOut, ObjectionRequest, RestrictionOut

router = APIRouter(prefix="/v1/me", tags=["data rights"])


@router.get(
    "/export",
    summary="Export my data (Art. 15 and 20)",
    description="JSON with every table that holds data about you (generated from the data-classification registry), "
    "what each column is, why we keep it and for how long; secrets such as password and token hashes are left out. "
    "`in_tenants` lists the records tenants keep that name you as the staff member who acted (an invitation you sent, "
    "a conversation assigned to you, the processing log's actor): each row's id, tenant, the column naming you and its "
    "times, not its content, which is the tenant's (ask the tenant for that).",
    response_description="A JSON document, offered as a download.",
)
async def export_me(principal: UserDep, session: SessionDep, services: ServicesDep, gate: PurposeGateDep) -> JSONResponse:
    return export_download(await rights.export_my_data(session, user_id=principal.id, information=rights.export_information(services.settings, gate.register)))


def export_download(export: dict[str, Any]) -> JSONResponse:
    """An account's export as a JSON download named by its date (the user's own, or the operator's on request)."""
    filename = f"confide-export-{export['generated_at'][:10]}.json"
    return JSONResponse(export, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post(
    "/erasure",
    response_model=ErasureReceipt,
    summary="Erase my account (Art. 17)",
    description="Re-enter your password. Removes your account and everything linked to it and returns a receipt with counts. "
    "If you are the only owner of a tenant, make someone else owner or close it first (409 names the tenants).",
    responses={
        409: {"description": "You are the sole owner of a tenant (problem type `sole-owner`, with `tenants`)."},
        429: {"description": "Too many password checks for this account (erasure, password and address changes share one budget); see Retry-After"},
    },
)
async def erase_me(body: ErasureRequest, principal: UserDep, session: SessionDep, services: ServicesDep) -> dict[str, Any]:
    receipt = await rights.erase_my_account(session, services, user_id=principal.id, password=body.password)
    await session.commit()
    return receipt


@router.post(
    "/restriction",
    response_model=RestrictionOut,
    summary="Restrict processing of my data (Art. 18)",
    description="Freezes the account: data is kept but not processed (no tenant work, no newsletter, no other changes). "
    "You can still sign in, read, export, correct your names, phone and company (`PATCH /v1/me`; the email address stays) and lift it.",
)
async def restrict_me(principal: UserDep, session: SessionDep) -> RestrictionOut:
    user = await rights.restrict(session, user_id=principal.id)
    await session.commit()
    return RestrictionOut(status=user.status, detail="Your account is restricted. DELETE /v1/me/restriction lifts it.")


@router.delete(
    "/restriction",
    response_model=RestrictionOut,
    summary="Lift the restriction of my account",
    description="Makes the account `active` again: changes, tenant work and the newsletter resume. Meant for a restricted account (which may call "
    "it); an account that is not restricted answers 404 `not-restricted`. An API key answers 403 `person-required`.",
    responses={404: {"description": "The account is not restricted (problem type `not-restricted`)."}},
)
async def lift_my_restriction(principal: UserDep, session: SessionDep) -> RestrictionOut:
    user = await rights.lift_restriction(session, user_id=principal.id)
    await session.commit()
    return RestrictionOut(status=user.status, detail="The restriction is lifted.")


@router.post(
    "/objection",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    summary="Object to processing (Art. 21)",
    description="Recorded at once. Stops the newsletter and deletes your contact messages (and the outbox copies of their acknowledgements, "
    "counted apart); says what cannot stop and why.",
)
async def object_me(body: ObjectionRequest, principal: UserDep, session: SessionDep, services: ServicesDep) -> ObjectionOut:
    result = await rights.object_to_processing(session, services, user_id=principal.id, grounds=body.grounds)
    await session.commit()
    return objection_out(result)


def objection_out(result: rights.ObjectionResult) -> ObjectionOut:
    """What an objection stopped and deleted, and what continues (the user's own, or the operator's on request)."""
    objection = result.objection
    return ObjectionOut(
        id=objection.id,
        created_at=objection.created_at,
        stopped=objection.effects,
        deleted=ObjectionDeleted(contact_message=result.contact_messages, outbox_files=result.outbox_files),
        continues=rights.CONTINUES_AFTER_OBJECTION,
    )


def _newsletter_out(state: str, subscription: Any, services: Any) -> NewsletterOut:
    return NewsletterOut(
        status=state,
        consent_version=services.settings.newsletter_consent_version,
        requested_at=subscription.requested_at if subscription else None,
        confirmed_at=subscription.confirmed_at if subscription else None,
    )


@router.get(
    "/newsletter",
    response_model=NewsletterOut,
    summary="My newsletter subscription",
    description="`status` is `none`, `pending` (a confirmation token was mailed and not yet used) or `active`, with when the subscription was "
    "requested and confirmed, and `consent_version`, the version of the consent text in force now. A restricted account may read it too.",
)
async def my_newsletter(principal: UserDep, session: SessionDep, services: ServicesDep) -> NewsletterOut:
    state, subscription = await consent.newsletter_state(session, user_id=principal.id)
    return _newsletter_out(state, subscription, services)


@router.post(
    "/newsletter",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NewsletterOut,
    summary="Subscribe to the newsletter (double opt-in)",
    description="Mails a confirmation token; nothing is sent before you confirm it at POST /v1/newsletter/confirm.",
)
async def subscribe_me(principal: ActiveUserDep, request: Request, session: SessionDep, services: ServicesDep) -> NewsletterOut:
    user = await rights.get_user(session, user_id=principal.id)
    subscription = await consent.request_newsletter(session, services, user=user, ip=client_address(request), channel="account")
    await session.commit()
    return _newsletter_out(subscription.status, subscription, services)


@router.delete(
    "/newsletter",
    response_model=NewsletterOut,
    summary="Withdraw my newsletter consent (Art. 7(3))",
    description="Withdraws a pending or active subscription at once and records the withdrawal (time and truncated network address); no issue goes "
    "to it afterwards, and you may subscribe again later. Without one it answers 404 `not-subscribed`. A restricted account may withdraw too.",
    responses={404: {"description": "No pending or active subscription to withdraw (problem type `not-subscribed`)."}},
)
async def unsubscribe_me(principal: UserDep, request: Request, session: SessionDep, services: ServicesDep) -> NewsletterOut:
    await consent.withdraw_newsletter(session, services, user_id=principal.id, channel="account", ip=client_address(request))
    await session.commit()
    return _newsletter_out("none", None, services)
