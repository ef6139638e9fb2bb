"""Outgoing mail: written to an outbox folder by default, sent over SMTP when configured."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid
from enum import StrEnum
from pathlib import Path

import aiosmtplib
import anyio

from confide.core.clock import utcnow
from confide.core.errors import ServiceUnavailable

log = logging.getLogger("confide.mail")

KIND_HEADER = "X-Confide-Mail-Kind"


class MailKind(StrEnum):
    """What a mail is about, recorded in its KIND_HEADER where it is queued, so the outbox copies can be
    told apart (retention, erasure) without guessing from a subject, which may change, be translated or
    come back folded. Names a kind, never anything about the recipient."""

    VERIFICATION = "verification"  # confirm an address: registration, sent again, an email change
    REGISTRATION_ATTEMPT = "registration-attempt"  # someone registered again with an address that has an account
    EMAIL_CHANGE_REFUSED = "email-change-refused"
    PASSWORD_RESET = "password-reset"
    PASSWORD_RESET_REFUSED = "password-reset-refused"  # the account is restricted
    INVITATION = "invitation"  # a tenant invites the address
    CONTACT_ACKNOWLEDGEMENT = "contact-acknowledgement"
    NEWSLETTER_CONFIRMATION = "newsletter-confirmation"  # the double opt-in's request to confirm: sent before any consent
    NEWSLETTER = "newsletter"  # an issue, sent only on confirmed consent


class Mailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender

    def compose(self, to: str, subject: str, body: str, *, kind: MailKind | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain="confide.localhost")
        if kind is not None:
            msg[KIND_HEADER] = MailKind(kind).value
        msg.set_content(body)
        return msg

    async def send(self, to: str, subject: str, body: str, *, kind: MailKind | None = None) -> None:
        """Deliver or fail loudly: callers send before they commit, so a failure leaves nothing half-done.
        `kind` says what the mail is about (MailKind); every new caller should name it."""
        try:
            await self.deliver(self.compose(to, subject, body, kind=kind))
        except Exception as exc:
            log.warning("mail delivery failed: %s", type(exc).__name__)
            raise ServiceUnavailable("Mail could not be sent just now, so nothing was saved. Try again shortly.") from exc

    async def deliver(self, msg: EmailMessage) -> None:
        raise NotImplementedError


class OutboxMailer(Mailer):
    """Each mail becomes one .eml file; the embedded default and handy for a look by hand."""

    def __init__(self, sender: str, folder: Path) -> None:
        super().__init__(sender)
        self.folder = folder

    async def deliver(self, msg: EmailMessage) -> None:
        def write() -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = utcnow().strftime("%Y%m%dT%H%M%S%f") + "-" + msg["Message-ID"].strip("<>").split("@")[0] + ".eml"
            path = self.folder / name
            path.write_bytes(bytes(msg))
            path.chmod(0o600)

        await anyio.to_thread.run_sync(write)


class SmtpMailer(Mailer):
    def __init__(self, sender: str, host: str, port: int, username: str | None, password: str | None, starttls: bool) -> None:
        super().__init__(sender)
        self.host, self.port, self.username, self.password, self.starttls = host, port, username, password, starttls

    async def deliver(self, msg: EmailMessage) -> None:
        await aiosmtplib.send(
            msg,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.starttls,
            timeout=15,
        )
