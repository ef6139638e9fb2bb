"""Outbox mails carry the kind recorded where they were queued, and retention tells them apart by it,
not by their subject (which may change, be translated, or come back folded)."""

from __future__ import annotations

from datetime import timedelta

from confide.core.mail import KIND_HEADER, MailKind
from tests.conftest import random_email
from tests.privacy.test_retention import expire_unverified_as_of, unverified_account
from tests.support.factory import registration


async def test_account_mails_record_their_kind(app, client, outbox):
    email = random_email()
    assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
    await app.state.detached_mails.drain()  # the account and its mail come after the answer
    assert [m[KIND_HEADER] for m in outbox.messages_to(email)] == ["verification"]
    assert (await client.post("/v1/auth/password-reset", json={"email": email})).status_code == 202
    assert (await client.post("/v1/accounts/verification", json={"email": email})).status_code == 202
    await app.state.detached_mails.drain()
    assert sorted(m[KIND_HEADER] for m in outbox.messages_to(email)) == ["password-reset", "verification", "verification"]


async def test_an_unverified_account_takes_its_mails_by_their_kind_not_their_subject(app, client, outbox):
    """An invitation whose subject is not the English one stays with its invitation; a mail about the
    account goes whatever its subject says."""
    email = await unverified_account(app, client, outbox)
    mailer = app.state.services.mailer
    await mailer.send(email, "Einladung zu Beispiel GmbH auf Confide", "Hallo, …", kind=MailKind.INVITATION)
    await mailer.send(email, "Wir haben Ihre Nachricht erhalten", "Hallo, …", kind=MailKind.CONTACT_ACKNOWLEDGEMENT)
    await mailer.send(email, "You are invited to Example on Confide", "About your account", kind=MailKind.VERIFICATION)

    removed = await expire_unverified_as_of(app, timedelta(days=10 * 365))
    assert removed["user_account"] >= 1 and removed["outbox_files"] >= 2
    left = sorted(m[KIND_HEADER] for m in outbox.messages_to(email))
    assert left == ["contact-acknowledgement", "invitation"], "someone else's business stays, told by its kind"
