"""Email contact (policy VIII): a message is kept while the conversation runs, deleted a set time after
staff conclude it (or `contact_max_open_days` after it arrived when no one does), and at once when the
sender objects with the token mailed in the acknowledgement. The outbox copies of the acknowledgement go
with the messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from email.message import Message
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.clock import utcnow
from confide.core.errors import InvalidToken, NotFound
from confide.core.ids import new_id
from confide.core.mail import MailKind
from confide.core.security import hash_token, new_token
from confide.core.services import Services
from confide.privacy.models import ContactMessage
from confide.privacy.outbox import delete_after_commit, find_matching, kind_of, recipients, token_hashes_in

OBJECTION_PREFIX = "cfc_"
ACK_SUBJECT = "We received your message"
OBJECTION_PAGE = "/contact/objection"  # served by accounts/pages.py; the mailed link carries the token in its fragment
_OBJECTION_TOKEN = re.compile(rf"\b{OBJECTION_PREFIX}[A-Za-z0-9_-]+")


async def receive_contact(session: AsyncSession, services: Services, *, name: str, email: str, message: str, ip: str | None) -> ContactMessage:
    """Store the message and acknowledge it. The client address only feeds the rate limit; it is not stored."""
    settings = services.settings
    email = email.strip().lower()
    limit = settings.contact_limit_per_hour
    if ip:
        await services.enforce_rate("contact:ip", ip, limit, 3600, "Too many messages from your address; try again later.")
    await services.enforce_rate("contact:email", email, limit, 3600, "Too many messages for this email address; try again later.")
    token, digest = new_token(OBJECTION_PREFIX)
    contact = ContactMessage(
        id=new_id("ctm"), name=name, email=email, message=message, consent_version=settings.contact_consent_version, objection_token_hash=digest
    )
    session.add(contact)
    await session.flush()
    days = settings.contact_retention_days
    when = "when it has ended" if days == 0 else f"{days} days after it has ended"
    await services.mailer.send(
        email,
        ACK_SUBJECT,
        f"Hello {name},\n\nthank you for your message; we will answer soon. We use your details only for this conversation "
        f"and delete them {when}, or {settings.contact_max_open_days} days after your message if the conversation is still open then.\n\n"
        "You can object to our storing them at any time; all of it is then deleted at once (and the conversation ends). "
        f"To object, POST this token to /v1/contact/objection or open {settings.public_base_url}{OBJECTION_PAGE}#token={token}\n\n"
        f"{token}\n",
        kind=MailKind.CONTACT_ACKNOWLEDGEMENT,
    )
    return contact


def is_acknowledgement(msg: Message) -> bool:
    """Told by the kind recorded where it was queued; by its subject only when it carries none (written
    before kinds were recorded)."""
    kind = kind_of(msg)
    if kind is not None:
        return kind == MailKind.CONTACT_ACKNOWLEDGEMENT
    return str(msg.get("Subject", "")) == ACK_SUBJECT


def acknowledges(emails: set[str], token_hashes: set[str]) -> Callable[[Message], bool]:
    """Acknowledgements mailed to one of `emails`, or carrying the objection token of one of these messages (by
    hash): a message moved to an account's new address (accounts.service.verify_email) was acknowledged at the
    former one."""
    return lambda msg: is_acknowledgement(msg) and (bool(recipients(msg) & emails) or bool(token_hashes_in(msg, _OBJECTION_TOKEN) & token_hashes))


async def token_hashes_from(session: AsyncSession, emails: set[str]) -> set[str]:
    """The objection token hashes of the messages from these addresses, which find their acknowledgements."""
    return set((await session.scalars(select(ContactMessage.objection_token_hash).where(ContactMessage.email.in_(emails)))).all())  # type: ignore[attr-defined]


async def erase_contacts(session: AsyncSession, outbox_dir: Path, *, emails: Iterable[str]) -> tuple[int, int]:
    """Delete every message from these addresses, and the outbox copies of their acknowledgements when `session`
    commits. Returns (messages, outbox files)."""
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return 0, 0
    hashes = await token_hashes_from(session, wanted)
    result = await session.execute(delete(ContactMessage).where(ContactMessage.email.in_(wanted)))  # type: ignore[attr-defined]
    files = delete_after_commit(session, await find_matching(outbox_dir, acknowledges(wanted, hashes)))
    return int(result.rowcount or 0), files  # type: ignore[attr-defined]


async def delete_acknowledgements_of(session: AsyncSession, outbox_dir: Path, *, token_hashes: set[str]) -> int:
    """The outbox copies of the acknowledgements of these messages, found by the objection token they carry,
    deleted when `session` commits. Returns how many."""
    if not token_hashes:
        return 0
    return delete_after_commit(session, await find_matching(outbox_dir, lambda msg: is_acknowledgement(msg) and bool(token_hashes_in(msg, _OBJECTION_TOKEN) & token_hashes)))


async def object_to_contact(session: AsyncSession, services: Services, *, token: str) -> int:
    """Delete every message from the sender's address at once (policy VIII.5), and the outbox copies of
    their acknowledgements (when the caller commits). Returns how many messages went."""
    contact = await session.scalar(select(ContactMessage).where(ContactMessage.objection_token_hash == hash_token(token)))
    if contact is None:
        raise InvalidToken(
            "This objection token is unknown, or the message it belongs to has already been deleted (after an earlier objection or its retention period)."
        )
    deleted, _ = await erase_contacts(session, services.settings.resolved_outbox_dir, emails=[contact.email])
    return deleted


async def get_contact(session: AsyncSession, *, message_id: str) -> ContactMessage:
    contact = await session.get(ContactMessage, message_id)
    if contact is None:
        raise NotFound("No such contact message; it may have been deleted after an objection or when its retention period ended.")
    return contact


async def conclude_contact(session: AsyncSession, *, message_id: str) -> ContactMessage:
    """Mark the conversation as ended; the retention job deletes the message contact_retention_days later."""
    contact = await get_contact(session, message_id=message_id)
    if contact.concluded_at is None:
        contact.concluded_at = utcnow()
        await session.flush()
    return contact


async def contacts_of(session: AsyncSession, *, email: str) -> list[ContactMessage]:
    """Every stored message from this address (case and surrounding space ignored), oldest first."""
    stmt = select(ContactMessage).where(ContactMessage.email == email.strip().lower()).order_by(ContactMessage.received_at, ContactMessage.id)  # type: ignore[arg-type]
    return list((await session.scalars(stmt)).all())


def contacts_query(*, concluded: bool | None) -> Any:
    stmt = select(ContactMessage)
    if concluded is True:
        stmt = stmt.where(ContactMessage.concluded_at.is_not(None))  # type: ignore[union-attr]
    elif concluded is False:
        stmt = stmt.where(ContactMessage.concluded_at.is_(None))  # type: ignore[union-attr]
    return stmt
