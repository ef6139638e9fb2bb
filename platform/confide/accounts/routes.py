"""Account routes: registration, verification, login and logout, profile and password."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from confide.accounts import service
from confide.accounts.schemas import Accepted, Login, LoginToken, PasswordChange, Profile, ProfileUpdate, Registration, VerifyEmail
from confide.core.auth import ActiveUserDep, UserDep
from confide.core.db import SessionDep
from confide.core.schemas import RequestBody
from confide.core.services import ServicesDep, client_address

router = APIRouter(prefix="/v1", tags=["accounts"])

REGISTERED = "If the address can receive mail, a confirmation token is on its way. Confirm it, then sign in."


def profile_of(user: object) -> Profile:
    return Profile.model_validate({**user.__dict__, "email_verified": user.email_verified_at is not None})  # type: ignore[attr-defined]


class ResendVerification(RequestBody):
    email: str


@router.post(
    "/accounts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Register a platform account",
    description="Creates an unverified account and mails a confirmation token. The answer is the same whether or not "
    "the address already has an account (its owner is told by mail instead), so nobody can probe which addresses are registered. "
    "Records the registration's IP address and time, as the privacy policy (VII) says. `privacy_policy_version` must be "
    "the current version (`policy_version` of GET /v1/privacy/notice); any other answers 422 naming that field.",
    responses={422: {"description": "Invalid input, or a privacy policy version that is not the current one"}},
)
async def register(body: Registration, request: Request, session: SessionDep, services: ServicesDep) -> Accepted:
    await service.register(session, services, data=body, ip=client_address(request))
    await session.commit()
    return Accepted(detail=REGISTERED)


@router.post("/accounts/verification", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted, summary="Send a new confirmation token")
async def resend_verification(body: ResendVerification, session: SessionDep, services: ServicesDep) -> Accepted:
    await service.resend_verification(session, services, email=body.email)
    await session.commit()
    return Accepted(detail=REGISTERED)


@router.post("/accounts/verify", response_model=Profile, summary="Confirm an email address with the mailed token")
async def verify(body: VerifyEmail, session: SessionDep) -> Profile:
    user = await service.verify_email(session, token=body.token)
    await session.commit()
    return profile_of(user)


@router.post(
    "/auth/login",
    response_model=LoginToken,
    tags=["auth"],
    summary="Sign in",
    description="Returns an opaque bearer token. Wrong email and wrong password give the same answer in the same time. "
    "Rate limited per account and per client address. No cookie is set.",
)
async def login(body: Login, request: Request, session: SessionDep, services: ServicesDep) -> LoginToken:
    token, auth = await service.login(session, services, email=body.email, password=body.password, ip=client_address(request))
    await session.commit()
    return LoginToken(token=token, expires_at=auth.expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"], summary="Sign out: revoke this token")
async def logout(principal: UserDep, session: SessionDep) -> None:
    assert principal.session_id is not None
    await service.logout(session, session_id=principal.session_id)
    await session.commit()


@router.get("/me", response_model=Profile, summary="Read my profile (Art. 15)")
async def read_me(principal: UserDep, session: SessionDep) -> Profile:
    return profile_of(await service.get_user(session, user_id=principal.id))


@router.patch(
    "/me",
    response_model=Profile,
    summary="Correct my profile (Art. 16)",
    description="Changes names, phone and company at once; a new email address takes effect once its mailed token is confirmed.",
)
async def update_me(body: ProfileUpdate, principal: ActiveUserDep, session: SessionDep, services: ServicesDep) -> Profile:
    user = await service.update_profile(session, services, user_id=principal.id, changes=body)
    await session.commit()
    return profile_of(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password; signs out every other session")
async def change_password(body: PasswordChange, principal: ActiveUserDep, session: SessionDep, services: ServicesDep) -> None:
    await service.change_password(
        session, services, user_id=principal.id, session_id=principal.session_id, current=body.current_password, new=body.new_password
    )
    await session.commit()
