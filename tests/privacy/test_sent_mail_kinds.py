"""The mails outside the accounts (a tenant's invitation, the contact acknowledgement, the newsletter's
confirmation and its issues) record their kind where they are queued, so the outbox copies are told apart
by it (privacy/retention.py) rather than by a subject."""

from __future__ import annotations

from datetime import timedelta

from confide.core.mail import KIND_HEADER
from tests.conftest import random_email
from tests.privacy.test_contact import contact
from tests.privacy.test_newsletter import CONFIRM, last_match, send_issue
from tests.privacy.test_retention import expire_unverified_as_of, unverified_account


async def test_an_invitation_records_its_kind(client, factory, outbox):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner)
    email = random_email()
    r = await client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": email, "role": "analyst"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert [m[KIND_HEADER] for m in outbox.messages_to(email)] == ["invitation"]


async def test_a_contact_acknowledgement_records_its_kind(client, outbox):
    email = random_email()
    await contact(client, email)
    assert [m[KIND_HEADER] for m in outbox.messages_to(email)] == ["contact-acknowledgement"]


async def test_the_newsletter_confirmation_and_an_issue_record_their_kinds(client, factory, outbox):
    """The confirmation goes out before any consent, an issue only after: two kinds, never confused."""
    user = await factory.user(newsletter_opt_in=True)
    assert [m[KIND_HEADER] for m in outbox.messages_to(user.email)] == ["verification", "newsletter-confirmation"]
    assert (await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})).status_code == 200
    subject = f"Kinds {random_email()}"
    assert await send_issue(client, subject) >= 1
    assert [m[KIND_HEADER] for m in outbox.messages_to(user.email) if m["Subject"] == subject] == ["newsletter"]


async def test_an_unverified_account_takes_its_newsletter_confirmation_and_leaves_the_invitation(app, client, factory, outbox):
    """Retention by kind: the newsletter confirmation is about the account (it names its pseudonym) and goes
    with it; a tenant's invitation to the same address belongs to the invitation and stays."""
    email = await unverified_account(app, client, outbox)
    owner = await factory.user()
    tenant_id = await factory.tenant(owner)
    r = await client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": email, "role": "analyst"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert "newsletter-confirmation" in [m[KIND_HEADER] for m in outbox.messages_to(email)]

    await expire_unverified_as_of(app, timedelta(days=10 * 365))
    assert [m[KIND_HEADER] for m in outbox.messages_to(email)] == ["invitation"]
