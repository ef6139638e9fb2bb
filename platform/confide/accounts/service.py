"""Account logic. Functions flush but never commit; the route commits once the whole step succeeded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from confide.accounts.models import EmailToken
from confide.accounts.schemas import ProfileUpdate, Registration
from confide.core.clock import utcnow
from confide.core.errors import Conflict, EmailNotVerified, InvalidCredentials, InvalidInput, InvalidToken
from confide.core.identity import AuthSession, User
from confide.core.ids import new_id
from confide.core.security import ONE_TIME_TOKEN_PREFIX, SESSION_TOKEN_PREFIX, hash_token, new_token
from confide.core.services import Services
from confide.privacy.consent import request_newsletter_on_registration

VERIFY = "verify"
EMAIL_CHANGE = "email_change"


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def _issue_email_token(session: AsyncSession, services: Services, *, user: User, purpose: str, email: str) -> str:
    token, digest = new_token(ONE_TIME_TOKEN_PREFIX)
    ttl = timedelta(hours=services.settings.verification_ttl_hours)
    session.add(EmailToken(id=new_id("etk"), user_id=user.id, purpose=purpose, token_hash=digest, email=email, expires_at=utcnow() + ttl))
    await session.flush()
    return token


async def _mail_verification(services: Services, *, to: str, token: str, first_name: str) -> None:
    link = f"{services.settings.public_base_url}/v1/accounts/verify?token={token}"
    await services.mailer.send(
        to,
        "Confirm your email address",
        f"Hello {first_name},\n\nconfirm your email address for Confide with this token:\n\n{token}\n\n"
        f"POST it to /v1/accounts/verify, or open the dashboard link:\n{link}\n\n"
        f"It expires in {services.settings.verification_ttl_hours} hours. If you did not ask for this, ignore this mail.\n",
    )


async def register(session: AsyncSession, services: Services, *, data: Registration, ip: str | None) -> User | None:
    """Create an unverified account and mail a token. An address that has an account gets a notice
    mailed to its owner instead, and the caller sees the same answer either way. The acknowledged privacy
    policy must be the current one: consent to an older text is no consent to what we do now."""
    current = services.settings.privacy_policy_version
    if data.privacy_policy_version != current:
        raise InvalidInput(
            "body.privacy_policy_version",
            f"acknowledge the current privacy policy, version {current} (GET /v1/privacy/notice shows it)",
        )
    email = normalise_email(data.email)
    password_hash = await services.passwords.hash(data.password)  # always, so both paths cost the same
    existing = await find_user_by_email(session, email)
    if existing is not None:
        await services.mailer.send(
            email,
            "Someone tried to register with your address",
            "Hello,\n\nsomeone tried to create a Confide account with this email address, which already has one.\n"
            "If it was you, sign in instead. If not, you can ignore this mail; nothing was changed.\n",
        )
        return None
    now = utcnow()
    user = User(
        id=new_id("usr"),
        email=email,
        first_name=data.first_name,
        surname=data.surname,
        pseudonym=data.pseudonym,
        phone=data.phone,
        company_name=data.company_name,
        password_hash=password_hash,
        newsletter_opt_in=data.newsletter_opt_in,
        privacy_policy_version=data.privacy_policy_version,
        registration_ip=ip,
        registered_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    token = await _issue_email_token(session, services, user=user, purpose=VERIFY, email=email)
    await _mail_verification(services, to=email, token=token, first_name=user.first_name)
    await request_newsletter_on_registration(session, services, user=user, ip=ip)
    return user


async def resend_verification(session: AsyncSession, services: Services, *, email: str) -> None:
    user = await find_user_by_email(session, email)
    if user is None or user.email_verified_at is not None:
        return
    token = await _issue_email_token(session, services, user=user, purpose=VERIFY, email=user.email)
    await _mail_verification(services, to=user.email, token=token, first_name=user.first_name)


async def verify_email(session: AsyncSession, *, token: str) -> User:
    now = utcnow()
    record = await session.scalar(select(EmailToken).where(EmailToken.token_hash == hash_token(token)))
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise InvalidToken("The token is unknown, used or expired. Ask for a new one.")
    user = await session.get(User, record.user_id)
    assert user is not None  # the foreign key cascades
    if record.purpose == EMAIL_CHANGE:
        if await find_user_by_email(session, record.email) is not None:
            raise Conflict("That email address now belongs to another account.")
        user.email = record.email
        user.pending_email = None
    user.email_verified_at = now
    user.updated_at = now
    record.used_at = now
    await session.flush()
    return user


async def login(session: AsyncSession, services: Services, *, email: str, password: str, ip: str | None) -> tuple[str, AuthSession]:
    s = services.settings
    if ip:
        await services.enforce_rate("login:ip", ip, s.login_limit_per_address, s.login_window_seconds, "Too many sign-in attempts from your address.")
    await services.enforce_rate("login:acct", normalise_email(email), s.login_limit_per_account, s.login_window_seconds, "Too many sign-in attempts for this account.")
    user = await find_user_by_email(session, email)
    # verify() checks a dummy hash when there is no user, so the time taken says nothing.
    if not await services.passwords.verify(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials("The email address or password is wrong.")
    if user.email_verified_at is None:
        raise EmailNotVerified("Confirm your email address first; we mailed you a token. POST /v1/accounts/verification sends a new one.")
    token, digest = new_token(SESSION_TOKEN_PREFIX)
    auth = AuthSession(id=new_id("ses"), user_id=user.id, token_hash=digest, expires_at=utcnow() + timedelta(hours=s.token_ttl_hours))
    session.add(auth)
    await session.flush()
    return token, auth


async def logout(session: AsyncSession, *, session_id: str) -> None:
    await session.execute(update(AuthSession).where(AuthSession.id == session_id).values(revoked_at=utcnow()))


async def get_user(session: AsyncSession, *, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise InvalidCredentials("The account no longer exists.")
    return user


async def update_profile(session: AsyncSession, services: Services, *, user_id: str, changes: ProfileUpdate) -> User:
    user = await get_user(session, user_id=user_id)
    fields = changes.model_dump(exclude_unset=True)
    new_email = fields.pop("email", None)
    for name in ("first_name", "surname", "pseudonym"):
        if fields.get(name) is None:
            fields.pop(name, None)  # required fields cannot be cleared
    for name, value in fields.items():
        setattr(user, name, value)
    if new_email is not None and normalise_email(new_email) != user.email:
        new_email = normalise_email(new_email)
        if await find_user_by_email(session, new_email) is not None:
            await services.mailer.send(
                new_email,
                "Email change not possible",
                "Hello,\n\nsomeone asked to move a Confide account to this address, which already has an account. Nothing was changed.\n",
            )
        else:
            user.pending_email = new_email
            token = await _issue_email_token(session, services, user=user, purpose=EMAIL_CHANGE, email=new_email)
            await _mail_verification(services, to=new_email, token=token, first_name=user.first_name)
    user.updated_at = utcnow()
    await session.flush()
    return user


async def change_password(session: AsyncSession, services: Services, *, user_id: str, session_id: str | None, current: str, new: str) -> None:
    user = await get_user(session, user_id=user_id)
    if not await services.passwords.verify(user.password_hash, current):
        raise InvalidCredentials("The current password is wrong.")
    user.password_hash = await services.passwords.hash(new)
    user.updated_at = utcnow()
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.id != session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await session.flush()
