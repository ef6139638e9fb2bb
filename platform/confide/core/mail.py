"""Outgoing mail: written to an outbox folder by default, sent over SMTP when configured."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid, parseaddr
from enum import StrEnum
from pathlib import Path

import aiosmtplib
import anyio

from confide.core.clock import utcnow
from confide.core.errors import ServiceUnavailable
from confide.core.security import hash_token

log = logging.getLogger("confide.mail")

KIND_HEADER = "X-Confide-Mail-Kind"


class MailKind(StrEnum):
    """What a mail is about, recorded in its KIND_HEADER where it is queued, so the outbox copies can be
    told apart (retention, erasure) without guessing from a subject, which may change, be translated or
    come back folded. Names a kind, never anything about the recipient."""

    VERIFICATION = "verification"  # confirm an address: registration, sent again, an email change
    REGISTRATION_ATTEMPT = "registration-attempt"  # someone registered again with an address that has an account
    EMAIL_CHANGE_REFUSED = "email-change-refused"
    EMAIL_CHANGED = "email-changed"  # to the former address, once a change is confirmed
    PASSWORD_RESET = "password-reset"
    PASSWORD_RESET_REFUSED = "password-reset-refused"  # the account is restricted
    INVITATION = "invitation"  # a tenant invites the address
    CONTACT_ACKNOWLEDGEMENT = "contact-acknowledgement"
    NEWSLETTER_CONFIRMATION = "newsletter-confirmation"  # the double opt-in's request to confirm: sent before any consent
    NEWSLETTER = "newsletter"  # an issue, sent only on confirmed consent


_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322: printable US-ASCII except the colon
_MAX_LINE = 998  # RFC 5322's hard limit for a line, CRLF not counted


class _VerbatimHeader(str):
    """A header written exactly as given, on one line, whatever policy generates the mail (aiosmtplib uses its
    own). The email package would fold a long value without spaces, such as a List-Unsubscribe URL, into RFC 2047
    encoded words, which no mail client reads as a URL."""

    name: str

    def __new__(cls, name: str, value: str) -> _VerbatimHeader:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _message_id_domain(sender: str) -> str:
    """Message-IDs on the sender's own domain, as mail filters expect (an international one in its ASCII
    form); "confide.localhost" when the sender names none."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    try:
        return domain.encode("idna").decode("ascii") if domain else "confide.localhost"
    except UnicodeError:
        return "confide.localhost"


ACCOUNT_REF_HEADER = "X-Confide-Account-Ref"


def account_ref(user_id: str) -> str:
    """What a mail about an account carries of it: one-way from its id, so the account's erasure finds the outbox
    copies of every mail about it, those to an address it has since left included (which it keeps nowhere)."""
    return hash_token("account:" + user_id)


def account_headers(user_id: str | None) -> dict[str, str] | None:
    """The headers of a mail about this account (none for a mail about no account), for Mailer.send."""
    return {ACCOUNT_REF_HEADER: account_ref(user_id)} if user_id else None


class Mailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.domain = _message_id_domain(sender)

    def compose(
        self, to: str, subject: str, body: str, *, kind: MailKind | None = None, headers: dict[str, str] | None = None
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(utcnow(), usegmt=True)  # required by RFC 5322; some relays and filters reject a mail without
        msg["Message-ID"] = make_msgid(domain=self.domain)
        if kind is not None:
            msg[KIND_HEADER] = MailKind(kind).value
        msg.set_content(body)
        for name, value in (headers or {}).items():
            # The values are the caller's (never a recipient's input): printable ASCII on one line, so nothing can be
            # injected, and none may replace or repeat a header set above. The error names the header only, as a
            # value may carry a token.
            if not _FIELD_NAME.fullmatch(name) or not (value.isascii() and value.isprintable()) or len(name) + 2 + len(value) > _MAX_LINE:
                raise ValueError(f"mail header {name!r}: name and value must be printable ASCII on one line of at most {_MAX_LINE} characters")
            if name in msg:
                raise ValueError(f"mail header {name!r} is already set")
            msg.set_raw(name, _VerbatimHeader(name, value))
        return msg

    async def send(
        self, to: str, subject: str, body: str, *, kind: MailKind | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Deliver or fail loudly: callers send before they commit, so a failure leaves nothing half-done.
        `kind` says what the mail is about (MailKind); every new caller should name it. `headers` are added to
        the message as written, unfolded (e.g. List-Unsubscribe, whose URL must reach the mail client intact)."""
        try:
            await self.deliver(self.compose(to, subject, body, kind=kind, headers=headers))
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
