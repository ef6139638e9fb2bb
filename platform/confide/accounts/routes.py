"""Account routes: registration, verification, login and logout, profile and password; and the pages the
mails link to (accounts/pages.py). `router`, at the end, is what app.py includes."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import EmailStr, Field

from confide.accounts import service
from confide.accounts.pages import router as pages_router
from confide.accounts.schemas import (
    Accepted,
    Login,
    LoginToken,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    Profile,
    ProfileUpdate,
    Registration,
    VerifyEmail,
)
from confide.core.auth import ActiveUserDep, UserDep
from confide.core.db import SessionDep
from confide.core.patching import patch_rule
from confide.core.schemas import RequestBody
from confide.core.services import ServicesDep, client_address

api = APIRouter(prefix="/v1", tags=["accounts"])

REGISTERED = "If the address can receive mail, a confirmation token is on its way. Confirm it, then sign in."
RESET_REQUESTED = "If the address has an account, a password-reset token is on its way. It works once and expires soon."


def profile_of(user: object) -> Profile:
    return Profile.model_validate({**user.__dict__, "email_verified": user.email_verified_at is not None})  # type: ignore[attr-defined]


class ResendVerification(RequestBody):
    email: EmailStr = Field(max_length=320)


@api.post(
    "/accounts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Register a platform account",
    description="Creates an unverified account and mails a confirmation token. The answer is the same 202 whether or not "
    "the address already has an account (its owner is told by mail instead), so nobody can probe which addresses are registered: "
    "before answering, the route only checks the body and counts the rate limits, the same work for every address; hashing the "
    "password, looking the address up, creating the account and sending the mail happen after the answer, so neither the "
    "answer's time nor the request latency in /metrics tells either. If the confirmation mail cannot be sent, no account is kept "
    "and the address can register again. Records the registration's IP address and time, as the privacy policy (VII) says. "
    "`privacy_policy_version` must be the current version (`policy_version` of GET /v1/privacy/notice); any other answers 422 "
    "naming that field. Rate limited per email address and per client address.",
    responses={
        422: {"description": "Invalid input, or a privacy policy version that is not the current one; `errors` names the field"},
        429: {"description": "Too many registrations for this email address or from this client address; see Retry-After"},
    },
)
async def register(body: Registration, request: Request, services: ServicesDep) -> Accepted:
    service.check_policy_version(services, data=body)
    ip = client_address(request)
    await service.limit_registration(services, email=body.email, ip=ip)
    # No database work and no hashing here: whatever depends on the address, or costs like argon2, runs detached.
    request.app.state.detached_mails.submit_registration(service.PendingRegistration(body, ip=ip))
    return Accepted(detail=REGISTERED)


@api.post(
    "/accounts/verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Send a new confirmation token",
    description="Answers the same for any address, at once: the lookup, the token and the mail come after the answer. "
    "Rate-limited per address asked for and per client address "
    "(`verification_resend_limit_per_account`, `…_per_address`, per `password_reset_window_seconds`).",
    responses={429: {"description": "Too many confirmation mails asked for (Retry-After says when to try again)"}},
)
async def resend_verification(body: ResendVerification, request: Request, services: ServicesDep) -> Accepted:
    await service.limit_verification_resend(services, email=body.email, ip=client_address(request))
    # No database work here: whatever depends on the account existing runs detached, after the answer.
    request.app.state.detached_mails.submit(body.email, service.prepare_verification_resend)
    return Accepted(detail=REGISTERED)


@api.post(
    "/accounts/verify",
    response_model=Profile,
    summary="Confirm an email address with the mailed token",
    description="No login: the mailed token (`cft_…`) is the proof. It confirms the address of a new registration, after which the account can sign "
    "in, or the new address asked for with `PATCH /v1/me`, which then replaces the old one at once (the former address gets a notice naming neither "
    "the new address nor the person). The token works once and expires after `CONFIDE_VERIFICATION_TTL_HOURS` (48 by default): an unknown, used or "
    "expired one answers 400 `invalid-token`; a restricted account cannot confirm an address change (403 `account-restricted`).",
    responses={
        409: {
            "description": "An email change's token whose new address belongs to another account by now (problem type `conflict`): "
            "the token is not used up, and the account keeps its address."
        }
    },
)
async def verify(body: VerifyEmail, session: SessionDep, services: ServicesDep, background: BackgroundTasks) -> Profile:
    user, former = await service.verify_email(session, token=body.token)
    await session.commit()
    if former is not None:
        background.add_task(service.tell_former_address, services, former)  # after the answer: a slow relay delays no one
    return profile_of(user)


@api.post(
    "/auth/login",
    response_model=LoginToken,
    tags=["auth"],
    summary="Sign in",
    description="Returns an opaque bearer token. Wrong email and wrong password give the same answer in the same time. "
    "Rate limited per account and per client address. No cookie is set.",
    responses={
        401: {"description": "Wrong email address or password (problem type `invalid-credentials`; the same answer for both)."},
        403: {"description": "The address is not confirmed yet (problem type `email-not-verified`): confirm it with the mailed token first."},
        429: {"description": "Too many sign-in attempts for this account or from this client address; see Retry-After"},
    },
)
async def login(body: Login, request: Request, session: SessionDep, services: ServicesDep) -> LoginToken:
    token, auth = await service.login(session, services, email=body.email, password=body.password, ip=client_address(request))
    await session.commit()
    return LoginToken(token=token, expires_at=auth.expires_at)


@api.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    tags=["auth"],
    summary="Forgot my password: mail a reset token",
    description="Mails a single-use password-reset token to the address, valid for `CONFIDE_PASSWORD_RESET_TTL_MINUTES` "
    "(a newer request voids the older token). The answer is the same 202, whether or not the address has an account: "
    "before answering, the route only checks the body and counts the rate limits, the same work for every address; "
    "looking the account up, issuing the token and sending the mail happen after the answer, so neither the answer's "
    "time, nor the request latency in /metrics, nor a mail failure tells which addresses are registered. "
    "An address without an account gets no mail; a restricted account (Art. 18) gets a mail saying its password cannot "
    "change until the restriction is lifted. Rate limited per email address and per client address.",
    responses={
        422: {"description": "Not an email address"},
        429: {"description": "Too many requests for this email address or from this client address; see Retry-After"},
    },
)
async def request_password_reset(body: PasswordResetRequest, request: Request, services: ServicesDep) -> Accepted:
    await service.limit_password_reset(services, email=body.email, ip=client_address(request))
    # No database work here: whatever depends on the account existing runs detached, after the answer.
    request.app.state.detached_mails.submit(body.email, service.prepare_password_reset)
    return Accepted(detail=RESET_REQUESTED)


@api.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    summary="Set a new password with the mailed reset token",
    description="Checks the new password like registration does, stores its argon2 hash, spends the token and signs out "
    "every session of the account; sign in again with the new password. Because the token proves control of the "
    "account's mailbox, it also confirms an address that was not yet confirmed. Rate limited per client address.",
    responses={
        400: {"description": "The token is unknown, already used or expired (problem type `invalid-token`)"},
        403: {"description": "The account is restricted (Art. 18) and makes no changes (problem type `account-restricted`)"},
        422: {"description": "The new password is too weak, or the body is malformed; `errors` names the field"},
        429: {"description": "Too many attempts from this client address; see Retry-After"},
    },
)
async def confirm_password_reset(body: PasswordResetConfirm, request: Request, session: SessionDep, services: ServicesDep) -> None:
    await service.confirm_password_reset(session, services, token=body.token, new_password=body.new_password, ip=client_address(request))
    await session.commit()


@api.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    summary="Sign out: revoke this token",
    description="Revokes the login token this request carries, at once; the account's other sessions stay signed in (`POST /v1/me/password` or a "
    "password reset signs them all out). Operator websockets opened with the token close on every node. For a person's token only: an API key "
    "answers 403 `person-required` (revoke a key with `DELETE …/api-keys/{key_id}`).",
)
async def logout(principal: UserDep, session: SessionDep) -> None:
    assert principal.session_id is not None
    await service.logout(session, session_id=principal.session_id)
    await session.commit()


@api.get(
    "/me",
    response_model=Profile,
    summary="Read my profile (Art. 15)",
    description="Your account as stored: email (and `pending_email` while a new address awaits confirmation), names, pseudonym, phone, company, "
    "newsletter opt-in, the privacy policy version you accepted and `status` (`active` or `restricted`). A restricted account may read it too; an "
    "API key answers 403 `person-required`. Everything held about you, with purposes and retention, is `GET /v1/me/export`.",
)
async def read_me(principal: UserDep, session: SessionDep) -> Profile:
    return profile_of(await service.get_user(session, user_id=principal.id))


@api.patch(
    "/me",
    response_model=Profile,
    summary="Correct my profile (Art. 16)",
    description="Changes names, phone and company at once; a new email address takes effect once its mailed token is confirmed. "
    "A restricted account (Art. 18) may correct its names, phone and company, but not its email address (403 `account-restricted`). "
    + patch_rule(["phone", "company_name"]),
    responses={
        403: {"description": "The account is restricted (Art. 18) and keeps its email address (problem type `account-restricted`)"},
        409: {
            "description": "`email` is the account's address as it was read, but a confirmed email change replaced it meanwhile "
            "(problem type `conflict`): nothing was changed; read the profile and try again."
        }
    },
)
async def update_me(body: ProfileUpdate, principal: UserDep, session: SessionDep, services: ServicesDep) -> Profile:
    user = await service.update_profile(session, services, user_id=principal.id, changes=body)
    await session.commit()
    return profile_of(user)


@api.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password; signs out every other session",
    description="Send `current_password` and `new_password`; the new one is judged as at registration, also against your own details (422 naming "
    "`body.new_password`), and a wrong current one answers 401 `invalid-credentials`. The session that sends it stays signed in; every other session "
    "is revoked (their operator websockets close) and a reset token mailed before stops working. Password checks are limited per account (10 in 15 "
    "minutes, shared with address changes and account erasure; 429 beyond), and a restricted account cannot change its password (403 "
    "`account-restricted`).",
)
async def change_password(body: PasswordChange, principal: ActiveUserDep, session: SessionDep, services: ServicesDep) -> None:
    await service.change_password(
        session, services, user_id=principal.id, session_id=principal.session_id, current=body.current_password, new=body.new_password
    )
    await session.commit()


router = APIRouter()  # included after every route above is defined: include_router copies the routes it finds
router.include_router(api)
router.include_router(pages_router)
