"""Newsletter consent (policy IX): double opt-in, a consent record for every step (text version, time,
truncated network address), unsubscribe without logging in through a signed link in every mail, and the
one-click unsubscribe of RFC 8058 that mail clients offer from the List-Unsubscribe headers of every issue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from confide.core.clock import utcnow
from confide.core.db import lock_rows
from confide.core.errors import AccountRestricted, BadRequest, InvalidToken, NotFound, ServiceUnavailable
from confide.core.identity import User
from confide.core.ids import new_id
from confide.core.mail import MailKind, account_headers
from confide.core.security import hash_token, new_token
from confide.core.services import Services
from confide.privacy.models import ConsentRecord, NewsletterSubscription
from confide.privacy.notices import privacy_notice_url

TOPIC = "newsletter"
CONFIRM_PREFIX = "cfn_"
UNSUBSCRIBE_PREFIX = "cfu_"
# Served by accounts/pages.py; the mailed links carry the token in their fragment, never in a path or query.
CONFIRM_PAGE = "/newsletter/confirm"
UNSUBSCRIBE_PAGE = "/newsletter/unsubscribe"
# The one exception: RFC 8058 has the mail client POST to the List-Unsubscribe URL as it stands, so that URL
# carries the token in its query (privacy/routes.py; access logs and metrics record the route template only).
ONE_CLICK_ROUTE = "/v1/newsletter/one-click-unsubscribe"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
PENDING, ACTIVE, WITHDRAWN = "pending", "active", "withdrawn"
OPERATOR_CHANNEL = "operator-email-request"  # a withdrawal the operator carried out on a verified request (POST /v1/admin/newsletter/withdrawal)


class InvalidUnsubscribeToken(BadRequest):
    slug, title = "invalid-unsubscribe-token", "Invalid unsubscribe token"


class UnsubscribeTokenUsed(BadRequest):
    slug, title = "unsubscribe-token-used", "Already unsubscribed"


class NotOneClick(BadRequest):
    slug, title = "not-one-click", "Not a one-click unsubscribe"


class NotSubscribed(NotFound):
    slug, title = "not-subscribed", "Not subscribed"


def truncate_address(ip: str | None) -> str | None:
    """Keep only the network: IPv4 /24, IPv6 /48, which is enough to spot abuse and names no device."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _record(session: AsyncSession, services: Services, *, user_id: str, action: str, channel: str, ip: str | None) -> None:
    session.add(
        ConsentRecord(
            id=new_id("cns"),
            user_id=user_id,
            topic=TOPIC,
            action=action,
            text_version=services.settings.newsletter_consent_version,
            channel=channel,
            ip_prefix=truncate_address(ip),
        )
    )


def _unsubscribe_token(secret_key: str, subscription_id: str) -> str:
    key = hashlib.sha256(("unsubscribe:" + secret_key).encode()).digest()
    mac = hmac.new(key, subscription_id.encode(), hashlib.sha256).digest()[:16]
    return f"{UNSUBSCRIBE_PREFIX}{subscription_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsubscribe_token(services: Services, subscription_id: str) -> str:
    """Stateless and signed: it names one subscription, so it stops working once that one is withdrawn.
    Links in newsletters sent before a key rotation keep working while the old key is listed."""
    return _unsubscribe_token(services.settings.resolved_secret_key, subscription_id)


def _subscription_of_token(services: Services, token: str) -> str:
    body = token[len(UNSUBSCRIBE_PREFIX) :] if token.startswith(UNSUBSCRIBE_PREFIX) else ""
    subscription_id, _, _ = body.partition(".")
    if not subscription_id or not any(hmac.compare_digest(_unsubscribe_token(key, subscription_id), token) for key in services.settings.secret_keys):
        raise InvalidUnsubscribeToken("This unsubscribe link was not issued by us or is incomplete; copy the whole link from the newsletter.")
    return subscription_id


async def open_subscription(session: AsyncSession, *, user_id: str) -> NewsletterSubscription | None:
    """The pending or active subscription of a user, if any (there is at most one; rows an older version let
    requests at the same moment open are ended together by a withdrawal, and an issue goes once per person)."""
    return await session.scalar(
        select(NewsletterSubscription)
        .where(NewsletterSubscription.user_id == user_id, NewsletterSubscription.status.in_((PENDING, ACTIVE)))  # type: ignore[attr-defined]
        .order_by(NewsletterSubscription.id.desc())  # type: ignore[attr-defined]
        .execution_options(populate_existing=True)
    )


async def _lock_user(session: AsyncSession, user_id: str) -> None:
    """Lock the account's row until the commit, so the newsletter steps of one person (request, confirmation,
    withdrawal) run one after the other and each reads the others' subscriptions once they are committed (FOR NO KEY
    UPDATE, as accounts/service.py's _lock_account(key_share=True) takes it). Always taken before any subscription
    row, so two of these steps never wait for each other in a circle."""
    await lock_rows(session, User.newsletter_opt_in, User.id == user_id)


async def request_newsletter(session: AsyncSession, services: Services, *, user: User, ip: str | None, channel: str) -> NewsletterSubscription:
    """Start (or restart) the double opt-in: nothing is sent until the mailed token is confirmed. A person has at
    most one open (pending or active) subscription: requests at the same moment each opened their own, and a
    withdrawal ended one of them (API review). The mail goes out first, holding no lock (a registration's request
    stays open while its mail hangs on a mail server, and the person's own request, confirmation or withdrawal must
    not wait for it); then, with the account locked (_lock_user), the request reads the open subscription anew and
    gives it the mailed token, or opens one. Of requests at the same moment the last one's token works, as when they
    come one after the other; one that finds the subscription confirmed meanwhile changes nothing."""
    subscription = await open_subscription(session, user_id=user.id)
    if subscription is not None and subscription.status == ACTIVE:
        return subscription
    token, digest = new_token(CONFIRM_PREFIX)
    settings = services.settings
    # Before anything is written: a mail that fails leaves nothing behind (the caller does not commit).
    await services.mailer.send(
        user.email,
        "Confirm your newsletter subscription",
        f"Hello {user.pseudonym},\n\nyou (or someone with your address) asked for the Confide newsletter:\n\n"
        f"  \"{settings.newsletter_consent_text}\"\n\n"
        f"How we process your data for the newsletter, and your rights: our privacy notice (version {settings.privacy_policy_version}) "
        f"at {privacy_notice_url(settings)}\n\n"
        f"To confirm, POST this token to /v1/newsletter/confirm or open {settings.public_base_url}{CONFIRM_PAGE}#token={token}\n\n"
        f"{token}\n\nIt expires in {settings.verification_ttl_hours} hours. If you did not ask for this, ignore this mail: "
        "without confirmation you will get no newsletter.\n",
        kind=MailKind.NEWSLETTER_CONFIRMATION,
        headers=account_headers(user.id),
    )
    await _lock_user(session, user.id)
    subscription = await open_subscription(session, user_id=user.id)
    if subscription is not None and subscription.status == ACTIVE:
        return subscription  # confirmed while this mail went out: the token it carries is unknown, which is harmless
    if subscription is None:
        subscription = NewsletterSubscription(id=new_id("nls"), user_id=user.id, status=PENDING)
        session.add(subscription)
    subscription.confirm_token_hash = digest
    subscription.confirm_expires_at = utcnow() + timedelta(hours=settings.verification_ttl_hours)
    subscription.requested_at = utcnow()
    _record(session, services, user_id=user.id, action="requested", channel=channel, ip=ip)
    await session.flush()
    return subscription


async def confirm_newsletter(session: AsyncSession, services: Services, *, token: str, ip: str | None) -> NewsletterSubscription:
    now = utcnow()
    subscription = await session.scalar(select(NewsletterSubscription).where(NewsletterSubscription.confirm_token_hash == hash_token(token)))
    if subscription is None or subscription.status != PENDING or subscription.confirm_expires_at is None or subscription.confirm_expires_at <= now:
        raise InvalidToken("This confirmation token is unknown, used or expired. Subscribe again for a new one.")
    await _lock_user(session, subscription.user_id)  # after a request giving this subscription a new token, or a withdrawal
    user = await session.scalar(select(User).where(User.id == subscription.user_id).execution_options(populate_existing=True))
    assert user is not None  # the foreign key cascades
    if user.status != "active":  # the token stays good until it expires: confirming once the restriction is lifted still works
        raise AccountRestricted("Your account is restricted (Art. 18), so no subscription starts; lift the restriction first, then confirm again.")
    # Claimed in the statement, with this token: the same token sent three times at once confirms once, with one
    # consent record, and a token a newer request replaced meanwhile confirms nothing.
    o = NewsletterSubscription
    claimed = await session.execute(
        update(o)
        .where(o.id == subscription.id, o.status == PENDING, o.confirm_token_hash == hash_token(token))  # type: ignore[arg-type]
        .values(status=ACTIVE, confirmed_at=now, confirm_token_hash=None, confirm_expires_at=None)
    )
    if int(claimed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise InvalidToken("This confirmation token is unknown, used or expired. Subscribe again for a new one.")
    await session.refresh(subscription)
    user.newsletter_opt_in = True
    _record(session, services, user_id=user.id, action="confirmed", channel="confirmation-mail", ip=ip)
    await session.flush()
    return subscription


async def _withdraw(session: AsyncSession, services: Services, subscription: NewsletterSubscription, *, channel: str, ip: str | None) -> bool:
    """Withdraw `subscription` and record it; False when another request withdrew it first. The caller locked the
    account (_lock_user), so the second of two at the same moment (a mail client's one-click sent twice) waits for
    the first and then finds nothing to do, on either database: consent is withdrawn and recorded once."""
    o = NewsletterSubscription
    # Every open subscription of the user ends (there is one, unless an older version let requests at the same
    # moment open several).
    claimed = await session.execute(
        update(o)
        .where(o.user_id == subscription.user_id, o.status.in_((PENDING, ACTIVE)))  # type: ignore[attr-defined]
        .values(status=WITHDRAWN, withdrawn_at=utcnow(), confirm_token_hash=None)
    )
    if int(claimed.rowcount or 0) < 1:  # type: ignore[attr-defined]
        return False
    await session.refresh(subscription)
    user = await session.get(User, subscription.user_id)
    if user is not None:
        user.newsletter_opt_in = False
    _record(session, services, user_id=subscription.user_id, action="withdrawn", channel=channel, ip=ip)
    await session.flush()
    return True


async def withdraw_newsletter(session: AsyncSession, services: Services, *, user_id: str, channel: str, ip: str | None = None, quiet: bool = False) -> bool:
    """Withdraw consent (Art. 7(3)). Raises NotSubscribed unless `quiet`; returns whether there was one."""
    await _lock_user(session, user_id)  # after a request or confirmation of the same person going on now
    subscription = await open_subscription(session, user_id=user_id)
    if subscription is None or not await _withdraw(session, services, subscription, channel=channel, ip=ip):
        if quiet:
            return False
        raise NotSubscribed("You are not subscribed to the newsletter, so there is nothing to withdraw.")
    return True


async def unsubscribe_with_token(
    session: AsyncSession, services: Services, *, token: str, ip: str | None, channel: str = "unsubscribe-link", quiet: bool = False
) -> bool:
    """The link in every newsletter: no login needed. A forged token and a used one get different answers; with
    `quiet` a used one (or one whose subscription is gone) is no error. Returns whether a subscription was withdrawn.
    `channel` is recorded: "unsubscribe-link" (the page the mail links to) or "one-click" (a mail client, RFC 8058)."""
    subscription_id = _subscription_of_token(services, token)
    subscription = await session.get(NewsletterSubscription, subscription_id)
    if subscription is not None:  # read anew once the person's account is locked: a withdrawal may have come first
        await _lock_user(session, subscription.user_id)
        again = select(NewsletterSubscription).where(NewsletterSubscription.id == subscription_id)  # type: ignore[arg-type]
        subscription = await session.scalar(again.execution_options(populate_existing=True))
    if subscription is None or subscription.status == WITHDRAWN or not await _withdraw(session, services, subscription, channel=channel, ip=ip):
        if quiet:
            return False
        raise UnsubscribeTokenUsed("This link was already used: that subscription is withdrawn, and no newsletter goes to it.")
    return True


def one_click_headers(services: Services, token: str) -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) with the one-click URL, and List-Unsubscribe-Post (RFC 8058), which tells the
    mail client to POST ONE_CLICK_BODY there: what Gmail and Yahoo ask of bulk senders. Newsletter issues only."""
    url = f"{services.settings.public_base_url}{ONE_CLICK_ROUTE}?{urlencode({'token': token})}"
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK_BODY}


async def newsletter_state(session: AsyncSession, *, user_id: str) -> tuple[str, NewsletterSubscription | None]:
    subscription = await open_subscription(session, user_id=user_id)
    return (subscription.status if subscription else "none"), subscription


@dataclass(frozen=True, slots=True)
class NewsletterRun:
    sent: int
    not_sent: int  # subscribers the issue did not reach because the mail server stopped taking it
    resume_after: str | None  # the last subscription it reached, when it stopped part-way


async def send_newsletter(session: AsyncSession, services: Services, *, subject: str, body: str, resume_after: str | None = None) -> NewsletterRun:
    """Mail one issue to every confirmed subscriber whose account is not restricted (after `resume_after`, the
    subscription a run that stopped part-way reached last), in subscription order; each mail carries its own
    unsubscribe link, in the text and in the List-Unsubscribe headers a mail client shows as a one-click unsubscribe.
    The first mail the server does not take stops the run: with nothing sent that is a 503 (send it again), else the
    run says how far it came, so a second run sends to the rest only and nobody gets the issue twice."""
    earlier = aliased(NewsletterSubscription)
    stmt = (
        select(NewsletterSubscription.id, User.email, User.pseudonym, User.id)
        .join(User, User.id == NewsletterSubscription.user_id)
        .where(NewsletterSubscription.status == ACTIVE, User.status == "active")
        # Once per person: their earliest active subscription (requests at the same moment can open several).
        .where(~exists().where(earlier.user_id == NewsletterSubscription.user_id, earlier.status == ACTIVE, earlier.id < NewsletterSubscription.id))
    )
    if resume_after is not None:
        stmt = stmt.where(NewsletterSubscription.id > resume_after)
    rows = (await session.execute(stmt.order_by(NewsletterSubscription.id))).all()
    base = services.settings.public_base_url
    last: str | None = None
    for sent, (subscription_id, email, pseudonym, user_id) in enumerate(rows):
        token = unsubscribe_token(services, subscription_id)
        try:
            await services.mailer.send(
                email,
                subject,
                f"Hello {pseudonym},\n\n{body}\n\n--\nYou get this because you subscribed to the Confide newsletter.\n"
                f"Unsubscribe: {base}{UNSUBSCRIBE_PAGE}#token={token}\n"
                f"(or POST the token to /v1/newsletter/unsubscribe: {token})\n",
                kind=MailKind.NEWSLETTER,
                headers=one_click_headers(services, token) | (account_headers(user_id) or {}),
            )
        except ServiceUnavailable:
            if last is None:
                raise  # nothing went out: the same request can simply be sent again
            return NewsletterRun(sent=sent, not_sent=len(rows) - sent, resume_after=last)
        last = subscription_id
    return NewsletterRun(sent=len(rows), not_sent=0, resume_after=None)
