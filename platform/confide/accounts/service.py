"""Account logic. Functions flush but never commit; the route commits once the whole step succeeded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from confide.accounts.models import EmailToken
from confide.accounts.password_strength import weakness
from confide.accounts.schemas import ProfileUpdate, Registration
from confide.core.clock import utcnow
from confide.core.errors import AccountRestricted, Conflict, EmailNotVerified, InvalidCredentials, InvalidInput, InvalidToken, ServiceUnavailable
from confide.core.identity import AuthSession, User
from confide.core.ids import new_id
from confide.core.mail import MailKind, account_headers
from confide.core.security import ONE_TIME_TOKEN_PREFIX, SESSION_TOKEN_PREFIX, hash_token, new_token
from confide.core.services import Services, address_subject
from confide.privacy.consent import open_subscription, request_newsletter
from confide.privacy.models import ContactMessage
from confide.realtime.access import access_changed_after_commit

VERIFY = "verify"
EMAIL_CHANGE = "email_change"
PASSWORD_RESET = "password_reset"
log = logging.getLogger("confide.accounts")

RESET_TOKEN_INVALID = "The reset token is unknown, used or expired. Ask for a new one: POST /v1/auth/password-reset."


@dataclass(frozen=True, slots=True)
class Mail:
    """A mail to send once the request is answered (see accounts/detached_mails.py)."""

    to: str
    subject: str
    body: str
    kind: MailKind
    account_id: str | None = None  # the account the mail is about: its header lets erasure find the copy (core.mail.account_ref)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def _issue_email_token(
    session: AsyncSession, services: Services, *, user: User, purpose: str, email: str, ttl: timedelta | None = None
) -> str:
    token, digest = new_token(ONE_TIME_TOKEN_PREFIX)
    ttl = ttl or timedelta(hours=services.settings.verification_ttl_hours)
    session.add(EmailToken(id=new_id("etk"), user_id=user.id, purpose=purpose, token_hash=digest, email=email, expires_at=utcnow() + ttl))
    await session.flush()
    return token


# Dashboard pages that take a mailed token and POST it to the API. The token rides in the fragment
# (after `#`), which a browser never sends to any server: a URL's path and query end up in access
# logs, proxies and browser history, and the API routes take tokens in a POST body only.
VERIFY_PAGE = "/account/verify-email"
RESET_PAGE = "/account/reset-password"


def dashboard_link(services: Services, page: str, token: str) -> str:
    return f"{services.settings.public_base_url}{page}#token={token}"


def _verification_mail(services: Services, *, to: str, token: str, first_name: str, account_id: str) -> Mail:
    return Mail(
        to,
        "Confirm your email address",
        f"Hello {first_name},\n\nconfirm your email address for Confide with this token:\n\n{token}\n\n"
        'Send it in the body of POST /v1/accounts/verify ({"token": ...}), or open the dashboard link:\n'
        f"{dashboard_link(services, VERIFY_PAGE, token)}\n\n"
        f"It expires in {services.settings.verification_ttl_hours} hours. If you did not ask for this, ignore this mail.\n",
        MailKind.VERIFICATION,
        account_id=account_id,
    )


async def _mail_verification(services: Services, *, to: str, token: str, first_name: str, account_id: str) -> None:
    mail = _verification_mail(services, to=to, token=token, first_name=first_name, account_id=account_id)
    await services.mailer.send(mail.to, mail.subject, mail.body, kind=mail.kind, headers=account_headers(mail.account_id))


# ---- registration --------------------------------------------------------------------------------
#
# POST /v1/accounts answers the same 202 whether or not the address has an account, and must not tell it
# by its time either (nor by the latency it leaves in /metrics). So before the answer the route only does
# what is the same for every address: the body, the policy version, the rate limits. Hashing the
# password, the lookup, the account with its token and mails, or the notice to the owner, run after the
# answer (accounts/detached_mails.py), from a PendingRegistration.

REGISTRATION_ATTEMPT_SUBJECT = "Someone tried to register with your address"


class PendingRegistration:
    """A registration that was answered and is not yet carried out. It holds the password only until it
    is hashed: take_password() hands it over once and forgets it. Its repr shows nothing of the person
    and never the password, so no log line or traceback can carry them."""

    __slots__ = ("email", "first_name", "surname", "pseudonym", "phone", "company_name", "newsletter_opt_in",
                 "privacy_policy_version", "ip", "requested_at", "_password")

    def __init__(self, data: Registration, *, ip: str | None) -> None:
        self.email = normalise_email(data.email)
        self.first_name, self.surname, self.pseudonym = data.first_name, data.surname, data.pseudonym
        self.phone, self.company_name = data.phone, data.company_name
        self.newsletter_opt_in = data.newsletter_opt_in
        self.privacy_policy_version = data.privacy_policy_version
        self.ip = ip
        self.requested_at = utcnow()  # the registration's time is when it was asked for
        self._password: str | None = data.password

    def take_password(self) -> str:
        password, self._password = self._password, None
        if password is None:
            raise RuntimeError("the password of this registration was taken already")
        return password

    def __repr__(self) -> str:
        return "<PendingRegistration>"


@dataclass(frozen=True, slots=True)
class RegistrationOutcome:
    """The mail to send once committed, and the account created (None when the address had one)."""

    mail: Mail
    new_user_id: str | None


def check_policy_version(services: Services, *, data: Registration) -> None:
    """The acknowledged privacy policy must be the current one: consent to an older text is no consent
    to what we do now."""
    current = services.settings.privacy_policy_version
    if data.privacy_policy_version != current:
        raise InvalidInput(
            "body.privacy_policy_version",
            f"acknowledge the current privacy policy, version {current} (GET /v1/privacy/notice shows it)",
        )


async def limit_registration(services: Services, *, email: str, ip: str | None) -> None:
    """Registration mails the address asked for (a confirmation, or a notice to its owner), so it must not
    flood a mailbox; and each one costs an argon2 hash. Counted before the lookup, like the other mails
    asked for by address."""
    s = services.settings
    await _limit_mail_request(
        services, "register", email=email, ip=ip, per_account=s.registration_limit_per_account,
        per_address=s.registration_limit_per_address, what="registrations",
    )


def registration_notice(email: str) -> Mail:
    """For the owner of an address someone tried to register again: the caller saw the usual answer."""
    return Mail(
        email,
        REGISTRATION_ATTEMPT_SUBJECT,
        "Hello,\n\nsomeone tried to create a Confide account with this email address, which already has one.\n"
        "If it was you, sign in instead. If not, you can ignore this mail; nothing was changed.\n",
        MailKind.REGISTRATION_ATTEMPT,
    )


async def prepare_registration(session: AsyncSession, services: Services, *, pending: PendingRegistration, password_hash: str) -> RegistrationOutcome:
    """Create the unverified account with its confirmation token and return the confirmation mail to send
    once committed; for an address that has an account, only the notice to its owner. Runs after the
    answer. A registration of the same address at the same moment makes the insert fail on the unique
    address (IntegrityError); the caller rolls back and mails the notice instead.

    A ticked newsletter box is a request, not consent (double opt-in, policy IX): the account starts with
    newsletter_opt_in false, and request_newsletter_of_new_account starts the subscription; the box says true
    once its mailed confirmation is confirmed (privacy.consent.confirm_newsletter)."""
    if await find_user_by_email(session, pending.email) is not None:
        return RegistrationOutcome(registration_notice(pending.email), None)
    user = User(
        id=new_id("usr"),
        email=pending.email,
        first_name=pending.first_name,
        surname=pending.surname,
        pseudonym=pending.pseudonym,
        phone=pending.phone,
        company_name=pending.company_name,
        password_hash=password_hash,
        newsletter_opt_in=False,  # true only once confirmed: see above
        privacy_policy_version=pending.privacy_policy_version,
        registration_ip=pending.ip,
        registered_at=pending.requested_at,
        updated_at=pending.requested_at,
    )
    session.add(user)
    await session.flush()  # the address is unique: of two registrations racing for it, the second fails here
    token = await _issue_email_token(session, services, user=user, purpose=VERIFY, email=user.email)
    return RegistrationOutcome(_verification_mail(services, to=user.email, token=token, first_name=user.first_name, account_id=user.id), user.id)


async def request_newsletter_of_new_account(session: AsyncSession, services: Services, *, user_id: str, ip: str | None) -> None:
    """A ticked newsletter box starts the double opt-in (its mail goes out before the commit, as consent.py
    does); after the account's confirmation mail went out, so that mail comes first. The caller calls it only
    for a ticked box; the account's newsletter_opt_in stays false until the subscription is confirmed."""
    user = await get_user(session, user_id=user_id)
    await request_newsletter(session, services, user=user, ip=ip, channel="registration")


async def untick_newsletter(session: AsyncSession, *, user_id: str) -> None:
    """A new account's newsletter request failed (its mail could not be sent): no consent stands,
    unless the person subscribed from their account meanwhile (the failing mail may have taken a
    mail server's timeout)."""
    if await open_subscription(session, user_id=user_id) is not None:
        return
    user = await session.get(User, user_id)
    if user is not None:
        user.newsletter_opt_in = False


async def forget_new_account(session: AsyncSession, *, user_id: str) -> None:
    """Undo a registration whose confirmation mail could not be sent (its token, consent record and
    newsletter request go with it, by the foreign keys): an account exists only once its mail went out,
    so the person can simply register again."""
    await session.execute(delete(User).where(User.id == user_id, User.email_verified_at.is_(None)))  # type: ignore[union-attr]


async def _limit_mail_request(services: Services, kind: str, *, email: str, ip: str | None, per_account: int, per_address: int, what: str) -> None:
    """Count a request for a mail by address against its rate limits, before the address is looked up:
    per client address, and per address asked for whether or not it has an account (the keys are
    hashed; see enforce_rate), so the limits tell nothing of it either."""
    window = services.settings.password_reset_window_seconds
    if ip:
        await services.enforce_rate(f"{kind}:ip", ip, per_address, window, f"Too many {what} from your address.")
    await services.enforce_rate(f"{kind}:acct", normalise_email(email), per_account, window, f"Too many {what} for this email address.")


async def limit_verification_resend(services: Services, *, email: str, ip: str | None) -> None:
    """The route must not flood a mailbox, nor keep minting tokens for an address."""
    s = services.settings
    await _limit_mail_request(
        services, "verify-resend", email=email, ip=ip, per_account=s.verification_resend_limit_per_account,
        per_address=s.verification_resend_limit_per_address, what="confirmation mail requests",
    )


async def prepare_verification_resend(session: AsyncSession, services: Services, *, email: str) -> Mail | None:
    """A new confirmation token for an unverified account with this address, and the mail that carries it;
    None otherwise. Depends on whether the account exists, so it runs after the answer (detached_mails)."""
    user = await find_user_by_email(session, email)
    if user is None or user.email_verified_at is not None:
        return None
    token = await _issue_email_token(session, services, user=user, purpose=VERIFY, email=user.email)
    return _verification_mail(services, to=user.email, token=token, first_name=user.first_name, account_id=user.id)


@dataclass(frozen=True, slots=True)
class FormerAddress:
    """The address an email change left, and the hash of the token that confirmed the change."""

    email: str
    change_token_hash: str


CHANGE_REF_HEADER = "X-Confide-Change-Ref"


def change_ref(token_hash: str) -> str:
    """What the notice to a former address carries of the change it tells of: one-way from the token's stored
    hash, so erasure (which reads the account's change tokens) and the purge of spent tokens find the notice,
    while the mailbox learns nothing it could use."""
    return hash_token("email-changed:" + token_hash)


async def verify_email(session: AsyncSession, *, token: str) -> tuple[User, FormerAddress | None]:
    """Confirm an address with its token; returns the account and, for an email change, the former address,
    which the caller tells once committed (`tell_former_address`)."""
    now = utcnow()
    record = await session.scalar(
        select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose.in_((VERIFY, EMAIL_CHANGE)))  # type: ignore[attr-defined]
    )
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise InvalidToken("The token is unknown, used or expired. Ask for a new one.")
    # Locked as the email-change steps lock it: a change requested or withdrawn meanwhile has either voided
    # this token (the claim below fails) or waits until this confirmation is done.
    user = await _lock_account(session, User.id == record.user_id, key_share=True)
    assert user is not None  # the foreign key cascades
    if record.purpose == EMAIL_CHANGE and record.email != user.pending_email:
        raise InvalidToken("The token is unknown, used or expired. Ask for a new one.")  # a change since withdrawn or replaced
    if record.purpose == VERIFY and record.email != user.email:
        # Mailed to an address the account has left since (a confirmed email change): that mailbox proves nothing
        # now, and the answer would show it the new address and profile. As for a reset token (security review).
        raise InvalidToken("The token is unknown, used or expired. Ask for a new one.")
    if record.purpose == EMAIL_CHANGE and user.status != "active":
        raise AccountRestricted("Your account is restricted (Art. 18), so its address stays as it is; lift the restriction first.")
    claimed = await session.execute(
        update(EmailToken).where(EmailToken.id == record.id, EmailToken.used_at.is_(None)).values(used_at=now)  # type: ignore[union-attr]
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidToken("The token is unknown, used or expired. Ask for a new one.")
    former = None
    if record.purpose == EMAIL_CHANGE:
        taken = "That email address now belongs to another account."
        if await find_user_by_email(session, record.email) is not None:
            raise Conflict(taken)
        # Another account confirming a change to the same address at the same moment also found it free: of the
        # two writes the unique address lets one through, and the other (on PostgreSQL, which waited for the first
        # one's commit) gets the same 409, not a 500. Within a savepoint, so the failure leaves the transaction usable.
        former = FormerAddress(user.email, record.token_hash)
        try:
            async with session.begin_nested():
                user.email, user.pending_email = record.email, None
        except IntegrityError:
            raise Conflict(taken) from None
        # Messages sent through the contact form from the former address follow the account: its rights (export,
        # erasure, objection) find contact messages by the account's address, and the former one is kept nowhere,
        # so they would be out of its reach for good (privacy review). The account proved it held that address.
        await session.execute(update(ContactMessage).where(ContactMessage.email == former.email).values(email=record.email))  # type: ignore[arg-type]
    user.email_verified_at = now
    user.updated_at = now
    await session.flush()
    return user, former


async def tell_former_address(services: Services, former: FormerAddress) -> None:
    """Once an email change is committed, the owner hears of it at the address they had, in case it was not
    them. Best effort, after the commit: a former mailbox the relay refuses (often why people move) must not
    stop the change. The mail names neither the new address nor the person."""
    try:
        await services.mailer.send(
            former.email,
            "The email address of your Confide account was changed",
            "Hello,\n\nthe email address of the Confide account that used this address has just been changed to another one, "
            f"confirmed from that mailbox. If you did not ask for this, write to {services.settings.controller_email} at once.\n",
            kind=MailKind.EMAIL_CHANGED,
            headers={CHANGE_REF_HEADER: change_ref(former.change_token_hash)},
        )
    except ServiceUnavailable:
        log.warning("the notice of an email change to the former address could not be sent")


async def login(session: AsyncSession, services: Services, *, email: str, password: str, ip: str | None) -> tuple[str, AuthSession]:
    """Sign in. Every attempt counts per client address; per account only failures count: per (account,
    address), so a correct password from an address that has not been guessing gets in whatever came from
    elsewhere, and, far higher, per account, the ceiling on guessing spread over many addresses (reached, it
    refuses every sign-in to the account until the window ends; a password reset still works)."""
    s = services.settings
    if ip:
        await services.enforce_rate("login:ip", ip, s.login_limit_per_address, s.login_window_seconds, "Too many sign-in attempts from your address.")
    account = normalise_email(email)
    pair = f"{account}\n{address_subject(ip or '')}"
    too_many = "Too many failed sign-ins for this account; try again later, or reset the password."
    await services.refuse_if_spent("login:fail", pair, s.login_limit_per_account, too_many)
    await services.refuse_if_spent("login:fail-acct", account, s.login_failures_per_account, too_many)
    user = await find_user_by_email(session, email)
    # verify() checks a dummy hash when there is no user, so the time taken says nothing.
    if not await services.passwords.verify(user.password_hash if user else None, password) or user is None:
        await services.count_event("login:fail", pair, s.login_window_seconds)
        await services.count_event("login:fail-acct", account, s.login_window_seconds)
        raise InvalidCredentials("The email address or password is wrong.")
    if user.email_verified_at is None:
        raise EmailNotVerified("Confirm your email address first; we mailed you a token. POST /v1/accounts/verification sends a new one.")
    token, digest = new_token(SESSION_TOKEN_PREFIX)
    auth = AuthSession(id=new_id("ses"), user_id=user.id, token_hash=digest, expires_at=utcnow() + timedelta(hours=s.token_ttl_hours))
    session.add(auth)
    await session.flush()
    return token, auth


async def logout(session: AsyncSession, *, session_id: str) -> None:
    user_id = await session.scalar(select(AuthSession.user_id).where(AuthSession.id == session_id))
    await session.execute(update(AuthSession).where(AuthSession.id == session_id).values(revoked_at=utcnow()))
    if user_id is not None:  # an operator socket on this token closes once committed (realtime/access.py)
        access_changed_after_commit(session, user_id=user_id)


async def get_user(session: AsyncSession, *, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise InvalidCredentials("The account no longer exists.")
    return user


def correct_profile(user: User, fields: dict[str, Any]) -> None:
    """Names, phone and company as given (only the fields sent; null only for phone and company_name, as
    ProfileUpdate allows). The email address is update_profile's: the new mailbox must confirm it."""
    for name, value in fields.items():
        setattr(user, name, value)


async def update_profile(session: AsyncSession, services: Services, *, user_id: str, changes: ProfileUpdate) -> User:
    """Rectification (Art. 16). A restricted account (Art. 18) may correct its names, phone and company (a
    restriction is often asked for while their accuracy is contested), but its email address stays."""
    fields = changes.model_dump(exclude_unset=True)
    new_email = fields.pop("email", None)
    current_password = fields.pop("current_password", None)
    user = await get_user(session, user_id=user_id)
    if new_email is not None:
        moving = normalise_email(new_email) != user.email
        if moving and user.status != "active":
            raise AccountRestricted("Your account is restricted (Art. 18), so its email address stays as it is; lift the restriction first.")
        if moving:
            # The password is checked before the account is locked: its hash takes a while, and the lock
            # holds up every other token step of this account meanwhile.
            if current_password is None:
                raise InvalidInput("body.current_password", "Give your current password to change the email address.")
            await limit_password_checks(services, user_id=user.id)
            verified = user.password_hash
            if not await services.passwords.verify(verified, current_password):
                raise InvalidCredentials("The current password is wrong.")
        # An email change voids and issues tokens: one after the other per account (see _lock_account).
        locked = await _lock_account(session, User.id == user_id, key_share=True)
        if locked is None:
            raise InvalidCredentials("The account no longer exists.")
        if moving and locked.password_hash != verified:
            # A reset or change committed while this request checked the old password: it signed this
            # session out, and the old password no longer proves anything.
            raise InvalidCredentials("The password changed meanwhile; sign in again.")
        if not moving and normalise_email(new_email) != locked.email:
            raise Conflict("The account's email address changed meanwhile; read the profile and try again.")
        user = locked
    correct_profile(user, fields)
    if new_email is not None and normalise_email(new_email) == user.email and user.pending_email:
        # The confirmed address again: the pending change is withdrawn and its token stops working.
        user.pending_email = None
        await _void_email_change_tokens(session, user_id=user.id)
    elif new_email is not None and normalise_email(new_email) != user.email:
        new_email = normalise_email(new_email)
        await _void_email_change_tokens(session, user_id=user.id)  # only the newest requested address can be confirmed
        # The answer, and the pending change's life, are the same whether or not the address has an
        # account: PATCH /v1/me must not tell a signed-in user which addresses are registered. A taken
        # address gets a token nobody is sent (verify_email would refuse it anyway) and a mail saying so.
        user.pending_email = new_email
        token = await _issue_email_token(session, services, user=user, purpose=EMAIL_CHANGE, email=new_email)
        if await find_user_by_email(session, new_email) is not None:
            await services.mailer.send(
                new_email,
                "Email change not possible",
                "Hello,\n\nsomeone asked to move a Confide account to this address, which already has an account. Nothing was changed.\n",
                kind=MailKind.EMAIL_CHANGE_REFUSED,
            )
        else:
            await _mail_verification(services, to=new_email, token=token, first_name=user.first_name, account_id=user.id)
    user.updated_at = utcnow()
    await session.flush()
    return user


PASSWORD_CHECKS_PER_WINDOW = 10
PASSWORD_CHECK_WINDOW_SECONDS = 900


async def limit_password_checks(services: Services, *, user_id: str) -> None:
    """A signed-in session that must give the password (a change of password or address) tries at most so
    many a quarter of an hour: a stolen token must not become unlimited password guessing."""
    await services.enforce_rate(
        "password-check", user_id, PASSWORD_CHECKS_PER_WINDOW, PASSWORD_CHECK_WINDOW_SECONDS, "Too many password attempts for this account; try again later."
    )


def _refuse_weak(password: str, user: User, *, field: str) -> None:
    """A new password measured against the account's own details too (the request body did not know them)."""
    problem = weakness(password, (user.email, user.first_name, user.surname, user.pseudonym, user.company_name))
    if problem is not None:
        raise InvalidInput(field, problem)


async def change_password(session: AsyncSession, services: Services, *, user_id: str, session_id: str | None, current: str, new: str) -> None:
    user = await get_user(session, user_id=user_id)
    await limit_password_checks(services, user_id=user_id)
    verified = user.password_hash
    if not await services.passwords.verify(verified, current):
        raise InvalidCredentials("The current password is wrong.")
    _refuse_weak(new, user, field="body.new_password")
    password_hash = await services.passwords.hash(new)
    await _lock_account(session, User.id == user_id)  # in the same order as a reset: the account, then its tokens
    # Only if the password is still the one verified above, in one statement (SQLite has no row lock): a
    # reset (or another change) committed while this one checked and hashed wins, and signed this session
    # out; overwriting it would undo a reset its owner made to lock somebody out.
    changed = await session.execute(
        update(User).where(User.id == user_id, User.password_hash == verified).values(password_hash=password_hash, updated_at=utcnow())
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidCredentials("The password was changed meanwhile; sign in with the new one.")
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.id != session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await _void_reset_tokens(session, user_id=user_id)  # a reset link mailed before no longer undoes this change
    access_changed_after_commit(session, user_id=user_id)  # operator sockets on the other sessions close once committed
    await session.flush()


# ---- password reset ------------------------------------------------------------------------------
#
# The token is a one-time EmailToken (purpose password_reset), mailed to the account's current address,
# stored as SHA-256 only, short-lived, and void once used or once a newer one is issued. Using it proves
# control of that mailbox, which is exactly what the verification token proves: so confirming a reset
# also confirms a not yet confirmed address (a pending email change is not touched; its token went to
# the new address). A restricted account (Art. 18) makes no changes, its password included: it gets a
# mail saying so instead of a token, and a token issued before the restriction is refused.


async def _lock_account(session: AsyncSession, where: ColumnElement[bool], *, key_share: bool = False) -> User | None:
    """Read the account and lock its row until the commit, so the steps that issue, spend or void its
    reset tokens run one after the other: without it, two resets requested at the same moment each voided
    the older tokens (none yet) and issued their own, and both worked. PostgreSQL takes the row lock
    (FOR UPDATE); SQLite, which has no row locks, lets one transaction write at a time, and the first
    write of each of these steps (voiding the reset tokens, or claiming one) waits there for the other's
    commit, then sees its tokens. With `key_share` the lock is FOR NO KEY UPDATE, for steps that change no
    key: it does not wait for transactions that only insert rows referring to the account (a registration's
    newsletter request, still open while its mail hangs), yet still serialises with every other lock here."""
    stmt = select(User).where(where).with_for_update(key_share=key_share).execution_options(populate_existing=True)
    return await session.scalar(stmt)


async def _void_email_change_tokens(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user_id, EmailToken.purpose == EMAIL_CHANGE, EmailToken.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utcnow())
    )


async def _void_reset_tokens(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user_id, EmailToken.purpose == PASSWORD_RESET, EmailToken.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utcnow())
    )


async def limit_password_reset(services: Services, *, email: str, ip: str | None) -> None:
    """The work every reset request does before it is answered, whether or not the address has an account."""
    s = services.settings
    await _limit_mail_request(
        services, "pwreset", email=email, ip=ip, per_account=s.password_reset_limit_per_account,
        per_address=s.password_reset_limit_per_address, what="password-reset requests",
    )


async def prepare_password_reset(session: AsyncSession, services: Services, *, email: str) -> Mail | None:
    """Issue a reset token for the account with this address and return the mail that carries it; None
    when there is no account. Everything here depends on whether the account exists, so it runs after
    the request was answered (accounts/detached_mails.py), never before."""
    s = services.settings
    user = await _lock_account(session, User.email == normalise_email(email))
    if user is None:
        return None
    if user.status != "active":
        return Mail(
            user.email,
            "Your Confide password cannot be reset just now",
            f"Hello {user.first_name},\n\nsomeone asked to reset the password of your Confide account. Your account is restricted "
            "(Art. 18 GDPR), so nothing about it can be changed, its password included.\n\n"
            f"To lift the restriction, sign in and send DELETE /v1/me/restriction, or write to {s.controller_email}. "
            "Then ask for a password reset again. If you did not ask for this, ignore this mail; nothing was changed.\n",
            MailKind.PASSWORD_RESET_REFUSED,
            account_id=user.id,
        )
    await _void_reset_tokens(session, user_id=user.id)  # only the newest token works
    ttl = s.password_reset_ttl_minutes
    token = await _issue_email_token(session, services, user=user, purpose=PASSWORD_RESET, email=user.email, ttl=timedelta(minutes=ttl))
    return Mail(
        user.email,
        "Reset your Confide password",
        f"Hello {user.first_name},\n\nsomeone, probably you, asked to reset the password of your Confide account. "
        f"Choose a new one with this token:\n\n{token}\n\n"
        "Send it with your new password in the body of POST /v1/auth/password-reset/confirm "
        '({"token": ..., "new_password": ...}), or open the dashboard link:\n'
        f"{dashboard_link(services, RESET_PAGE, token)}\n\n"
        f"It works once and expires in {ttl} minute{'s' if ttl != 1 else ''}. Setting a new password signs out every session of your account.\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n",
        MailKind.PASSWORD_RESET,
        account_id=user.id,
    )


async def confirm_password_reset(session: AsyncSession, services: Services, *, token: str, new_password: str, ip: str | None) -> User:
    """Set a new password with a mailed reset token, spend the token and sign out every session."""
    s = services.settings
    if ip:
        await services.enforce_rate(
            "pwreset-confirm:ip", ip, s.password_reset_limit_per_address, s.password_reset_window_seconds, "Too many password-reset attempts from your address."
        )
    now = utcnow()
    record = await session.scalar(select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == PASSWORD_RESET))
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise InvalidToken(RESET_TOKEN_INVALID)
    owner = await session.get(User, record.user_id)
    assert owner is not None  # the foreign key cascades
    _refuse_weak(new_password, owner, field="body.new_password")  # before the hash: a refused password costs none
    password_hash = await services.passwords.hash(new_password)  # the slow part, before the account is locked
    user = await _lock_account(session, User.id == record.user_id)  # a reset requested meanwhile waits, then is newer
    assert user is not None
    if user.email != record.email:  # the account moved to another address since: the old mailbox proves nothing now
        raise InvalidToken(RESET_TOKEN_INVALID)
    if user.status != "active":
        raise AccountRestricted(
            f"Your account is restricted, so its password cannot be changed. Lift the restriction first (DELETE /v1/me/restriction, or write to "
            f"{s.controller_email}), then ask for a new reset."
        )
    # Claim the token: of two confirmations racing with it, exactly one changes the password.
    claimed = await session.execute(
        update(EmailToken).where(EmailToken.id == record.id, EmailToken.used_at.is_(None)).values(used_at=now)  # type: ignore[union-attr]
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidToken(RESET_TOKEN_INVALID)
    user.password_hash = password_hash
    if user.email_verified_at is None:
        user.email_verified_at = now  # the token proved control of this very mailbox, as a verification token does
    user.updated_at = now
    await _void_reset_tokens(session, user_id=user.id)
    await session.execute(update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)).values(revoked_at=now))
    access_changed_after_commit(session, user_id=user.id)  # its operator sockets close once committed (realtime/access.py)
    await session.flush()
    return user
