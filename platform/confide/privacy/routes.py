"""Public privacy routes (records, notice, sub-processors, contact, newsletter links, the language
preference) and `router`, which gathers every privacy route for app.py."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response, status
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from confide.core.db import SessionDep
from confide.core.services import ServicesDep, client_address
from confide.privacy import admin_routes, consent, contact, me_routes, tenant_routes
from confide.privacy.cookies import clear_language_cookie, language_of, set_language_cookie
from confide.privacy.gate import PurposeGateDep
from confide.privacy.notices import privacy_notice
from confide.privacy.records import records_of_processing
from confide.privacy.schemas import Accepted, ContactObjectionOut, ContactRequest, LanguageBody, LanguageOut, NewsletterOut, TokenBody
from confide.privacy.subprocessors import Subprocessor

facts = APIRouter(prefix="/v1/privacy", tags=["privacy"])
public = APIRouter(prefix="/v1")


@facts.get(
    "/records",
    summary="Records of processing (Art. 30 GDPR)",
    description="Generated from the data-classification registry: for every table, whose data it holds (controller or processor), "
    "the categories of personal data per column, the purpose, legal basis and retention; with the controller and DPO from settings.",
)
async def records(services: ServicesDep) -> dict[str, Any]:
    return records_of_processing(services.settings)


@facts.get(
    "/notice",
    summary="The privacy notice's facts (Art. 13 GDPR)",
    description="Controller, data protection officer, processing and legal bases, recipients and sub-processors, retention periods, "
    "your rights and how to exercise them, cookies, and the statement that no automated decisions under Art. 22 take place.",
)
async def notice(services: ServicesDep, gate: PurposeGateDep) -> dict[str, Any]:
    return privacy_notice(services.settings, gate.register)


@facts.get(
    "/subprocessors",
    response_model=list[Subprocessor],
    summary="The sub-processor register (Art. 28(2))",
    description="No login. Who processes tenants' data on our behalf: each entry's `id` (what tenants name in the `authorised_subprocessors` of "
    "their processing instructions), purpose, location and transfer safeguard; `required` ones are in every tenant's instructions. The register "
    "comes from the platform's settings and names the provider of the configured LLM endpoint, if any.",
)
async def subprocessors(gate: PurposeGateDep) -> list[Subprocessor]:
    return list(gate.register.entries)


@public.post(
    "/contact",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    tags=["contact"],
    summary="Send us a message (no login)",
    description="Needs your consent to process it. An acknowledgement is mailed with a token that deletes the message at once if you object. "
    "Your client address is used for rate limiting and not stored with the message; like every request, this one is in the access log (IP address, time, method, route and status; seven days at most).",
    responses={429: {"description": "Too many messages from this client address or for this email address; see Retry-After"}},
)
async def send_contact(body: ContactRequest, request: Request, session: SessionDep, services: ServicesDep) -> Accepted:
    await contact.receive_contact(session, services, name=body.name, email=body.email, message=body.message, ip=client_address(request))
    await session.commit()
    return Accepted(detail="Thank you. We mailed you an acknowledgement; it says how to have your message deleted at any time.")


@public.post(
    "/contact/objection",
    response_model=ContactObjectionOut,
    tags=["contact"],
    summary="Object to our storing your contact messages: deletes them at once",
    description="No login: the token (`cfc_…`) mailed with the acknowledgement of `POST /v1/contact` is the proof. Deletes at once every contact "
    "message received from that email address, not only the one the token came with, and the outbox copies of their acknowledgements; `deleted` "
    "counts the messages. Afterwards the token answers 400 `invalid-token`, as does an unknown one or one whose message is already gone (retention "
    "period ended).",
)
async def contact_objection(body: TokenBody, session: SessionDep, services: ServicesDep) -> ContactObjectionOut:
    deleted = await contact.object_to_contact(session, services, token=body.token)
    await session.commit()
    return ContactObjectionOut(deleted=deleted, detail="Your contact messages and the details in them are deleted; the conversation has ended.")


@public.post(
    "/newsletter/confirm",
    response_model=NewsletterOut,
    tags=["newsletter"],
    summary="Confirm a newsletter subscription with the mailed token",
    description="No login: the token (`cfn_…`) mailed after a subscription request is the proof. Makes the pending subscription `active`, so "
    "newsletter issues go to it from now on, and records the consent with the consent text's version, the time and your network address truncated "
    "(IPv4 /24, IPv6 /48). The token works once and expires after `CONFIDE_VERIFICATION_TTL_HOURS` (48 by default): an unknown, used or expired one "
    "answers 400 `invalid-token`; a restricted account starts no subscription (403 `account-restricted`; the token still works once it is lifted).",
    responses={403: {"description": "The account is restricted (Art. 18) and makes no changes (problem type `account-restricted`)"}},
)
async def confirm_newsletter(body: TokenBody, request: Request, session: SessionDep, services: ServicesDep) -> NewsletterOut:
    subscription = await consent.confirm_newsletter(session, services, token=body.token, ip=client_address(request))
    await session.commit()
    return NewsletterOut(
        status=subscription.status,
        consent_version=services.settings.newsletter_consent_version,
        requested_at=subscription.requested_at,
        confirmed_at=subscription.confirmed_at,
    )


@public.post(
    "/newsletter/unsubscribe",
    response_model=NewsletterOut,
    tags=["newsletter"],
    summary="Unsubscribe with the link from a newsletter (no login)",
    description="No login: the token (`cfu_…`) from the unsubscribe link in every newsletter issue names one subscription and is the proof. "
    "Withdraws it at once and records the withdrawal with its time and your network address truncated (IPv4 /24, IPv6 /48). A token we did not issue "
    "answers 400 `invalid-unsubscribe-token`, one whose subscription is already withdrawn 400 `unsubscribe-token-used` (the one-click route answers "
    "200 instead).",
    responses={400: {"description": "invalid-unsubscribe-token (not ours) or unsubscribe-token-used (already unsubscribed)"}},
)
async def unsubscribe(body: TokenBody, request: Request, session: SessionDep, services: ServicesDep) -> NewsletterOut:
    await consent.unsubscribe_with_token(session, services, token=body.token, ip=client_address(request))
    await session.commit()
    return NewsletterOut(status="none", consent_version=services.settings.newsletter_consent_version)


ONE_CLICK_FORM = {
    "schema": {
        "type": "object",
        "required": ["List-Unsubscribe"],
        "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
    }
}


async def _one_click_fields(request: Request) -> list[str]:
    """The values of the form's List-Unsubscribe field: URL-encoded as RFC 8058 shows it, or multipart/form-data,
    which some mail clients send. A body without a content type is read as URL-encoded."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        try:
            async with request.form(max_files=0, max_fields=20) as form:
                return [value for value in form.getlist("List-Unsubscribe") if isinstance(value, str)]
        except (HTTPException, MultiPartException):  # a file part, too many fields, a malformed body: not one-click
            return []
    body = (await request.body()).decode("utf-8", errors="replace")
    return [value for name, value in parse_qsl(body, keep_blank_values=True) if name == "List-Unsubscribe"]


@public.post(
    "/newsletter/one-click-unsubscribe",  # consent.ONE_CLICK_ROUTE, the URL in the mails
    response_model=NewsletterOut,
    tags=["newsletter"],
    summary="One-click unsubscribe from a mail client (RFC 8058, no login)",
    description="The URL in the `List-Unsubscribe` header of every newsletter issue, which mail clients such as Gmail and "
    "Yahoo POST to when the reader presses their unsubscribe button, as the mail's `List-Unsubscribe-Post` header asks "
    "(RFC 8058): the token is in the query, the body is the form `List-Unsubscribe=One-Click` "
    "(`application/x-www-form-urlencoded`, or `multipart/form-data`), without cookies or login. Withdraws the "
    "subscription like `POST /v1/newsletter/unsubscribe` does, recorded with the channel `one-click`. Idempotent: "
    "a mail client may send it again, so a valid token whose subscription is already withdrawn also answers 200 and "
    "changes nothing (unlike `/v1/newsletter/unsubscribe`, which answers `unsubscribe-token-used`). Only POST "
    "unsubscribes: opening the URL, as mail scanners do, does nothing. The token is not written to the access log, "
    "which records the route template only.",
    responses={
        200: {"description": "Unsubscribed, now or earlier: no newsletter goes to this subscription"},
        400: {"description": "The body is not `List-Unsubscribe=One-Click` (problem type `not-one-click`), or the token "
              "was not issued by us (`invalid-unsubscribe-token`)"},
        422: {"description": "The `token` query parameter is missing or malformed; `errors` names `query.token`"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": ONE_CLICK_FORM, "multipart/form-data": ONE_CLICK_FORM}}},
)
async def one_click_unsubscribe(
    token: Annotated[str, Query(min_length=10, max_length=300, description="The unsubscribe token (`cfu_…`) of the mailed URL.")],
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> NewsletterOut:
    if [value.strip() for value in await _one_click_fields(request)] != ["One-Click"]:
        raise consent.NotOneClick(f"A one-click unsubscribe is a POST with the form body `{consent.ONE_CLICK_BODY}` (RFC 8058).")
    await consent.unsubscribe_with_token(session, services, token=token, ip=client_address(request), channel="one-click", quiet=True)
    await session.commit()
    return NewsletterOut(status="none", consent_version=services.settings.newsletter_consent_version)


@public.put(
    "/preferences/language",
    response_model=LanguageOut,
    tags=["preferences"],
    summary="Set the language cookie",
    description="Sets `lang`, the only cookie Confide uses (technically necessary; SameSite=Lax, Secure over HTTPS, at most a year).",
)
async def set_language(body: LanguageBody, request: Request, response: Response, services: ServicesDep) -> LanguageOut:
    set_language_cookie(response, request, services.settings, body.language)
    return LanguageOut(language=body.language)


@public.get(
    "/preferences/language",
    response_model=LanguageOut,
    tags=["preferences"],
    summary="The language in the cookie, if any",
    description="No login. The `lang` cookie this browser sent, as a standard BCP 47 tag; `null` when there is none or it holds no valid tag. The "
    "setting lives only in the cookie: the server keeps no copy.",
)
async def read_language(request: Request) -> LanguageOut:
    return LanguageOut(language=language_of(request))


@public.delete(
    "/preferences/language",
    response_model=LanguageOut,
    tags=["preferences"],
    summary="Remove the language cookie",
    description="No login. Expires the `lang` cookie in the browser and answers `language: null`; without a cookie it does the same, so sending it "
    "again is harmless.",
)
async def delete_language(request: Request, response: Response) -> LanguageOut:
    clear_language_cookie(response, request)
    return LanguageOut(language=None)


router = APIRouter()
for _router in (facts, public, tenant_routes.router, me_routes.router, admin_routes.router):
    router.include_router(_router)
