"""Email contact (policy VIII): stored with consent, acknowledged with an objection token, concluded by
staff and deleted after the period, or at once on objection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from confide.core.clock import utcnow
from confide.core.mail import KIND_HEADER, MailKind
from confide.privacy.contact import ACK_SUBJECT, object_to_contact
from confide.privacy.models import ContactMessage
from confide.privacy.retention import expire_contact_messages, run_retention
from tests.conftest import random_email
from tests.privacy.conftest import OPERATOR, OPERATOR_TOKEN as OP_TOKEN

OBJECTION = re.compile(r"\b(cfc_[A-Za-z0-9_-]{20,})")


def objection_token(outbox, address: str) -> str:
    for msg in reversed(outbox.messages_to(address)):
        found = OBJECTION.search(msg.get_payload(decode=True).decode())
        if found:
            return found.group(1)
    raise AssertionError("no objection token mailed")


async def expire_contacts_as_of(app, *, days: int) -> dict[str, int]:
    """The contact step alone, as if `days` had passed (a whole run would also expire the suite's live sessions)."""
    async with app.state.sessionmaker() as session, session.begin():
        return await expire_contact_messages(session, utcnow() + timedelta(days=days), app.state.settings)


async def messages_from(app, email: str) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ContactMessage).where(ContactMessage.email == email)))


async def contact(client, email: str, message: str = "Do you offer on-premises hosting?") -> None:
    r = await client.post("/v1/contact", json={"name": "Grace Hopper", "email": email, "message": message, "consent": True})
    assert r.status_code == 202, r.text


async def test_a_message_is_stored_and_acknowledged_without_login(app, client, outbox):
    email = random_email()
    await contact(client, email)
    assert await messages_from(app, email) == 1
    ack = outbox.messages_to(email)[-1]
    text = ack.get_payload(decode=True).decode()
    assert ack["Subject"] == "We received your message" and "Hello Grace Hopper" in text
    assert "30 days after it has ended" in text and OBJECTION.search(text)
    assert "or 180 days after your message if the conversation is still open then" in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "body.consent"),
        ({"consent": None}, "body.consent"),
        ({"email": "not-an-address"}, "body.email"),
        ({"message": ""}, "body.message"),
        ({"phone": "+49 1"}, "body.phone"),
    ],
)
async def test_bad_contact_requests_are_422_naming_the_field(client, change, field):
    body = {"name": "Grace", "email": random_email(), "message": "Hi", "consent": True} | change
    r = await client.post("/v1/contact", json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_objection_deletes_every_message_from_the_sender_at_once(app, client, outbox):
    email = random_email()
    await contact(client, email, "First")
    first_token = objection_token(outbox, email)
    await contact(client, email, "Second")
    bystander = random_email()
    await contact(client, bystander)

    second_token = objection_token(outbox, email)
    assert len(outbox.messages_to(email)) == 2

    r = await client.post("/v1/contact/objection", json={"token": first_token})
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == 2
    assert await messages_from(app, email) == 0 and await messages_from(app, bystander) == 1
    assert outbox.messages_to(email) == [], "the copies of the acknowledgements (name, address, token) go too"
    assert len(outbox.messages_to(bystander)) == 1

    r = await client.post("/v1/contact/objection", json={"token": second_token})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    assert "already been deleted" in r.json()["detail"], "erasing what is gone gets a clear answer"


async def test_an_objection_by_email_deletes_the_senders_messages_through_the_operator(app, client, outbox):
    """Policy VIII.5: a sender who objects by email or in writing, not through the mailed link, has every message
    deleted too; they need no account, and the operator's account routes answered 404 for them (a privacy review)."""
    email = random_email()
    await contact(client, email, "First")
    await contact(client, email.upper(), "Second, from the same address in capitals")
    bystander = random_email()
    await contact(client, bystander)
    r = await client.post("/v1/admin/contact-messages/objection", json={"email": email}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["deleted"] == 2, r.text
    assert await messages_from(app, email) == 0 and outbox.messages_to(email) == []
    assert await messages_from(app, bystander) == 1 and len(outbox.messages_to(bystander)) == 1
    r = await client.post("/v1/admin/contact-messages/objection", json={"email": email}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["deleted"] == 0, "nothing left is no error"
    r = await client.post("/v1/admin/contact-messages/objection", json={"email": email})
    assert r.status_code == 401, r.text
    r = await client.post("/v1/admin/contact-messages/objection", json={"email": "not an address"}, headers=OPERATOR)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.email", r.text


async def test_staff_conclude_and_retention_deletes_after_the_period(app, client, outbox):
    email = random_email()
    await contact(client, email)
    r = await client.get("/v1/admin/contact-messages", params={"concluded": "false", "limit": 200}, headers=OPERATOR)
    assert r.status_code == 200
    message = next(m for m in r.json()["items"] if m["email"] == email)
    assert message["concluded_at"] is None and "objection_token_hash" not in message

    r = await client.post(f"/v1/admin/contact-messages/{message['id']}/conclude", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["concluded_at"]
    again = await client.post(f"/v1/admin/contact-messages/{message['id']}/conclude", headers=OPERATOR)
    assert again.json()["concluded_at"] == r.json()["concluded_at"]

    concluded_token = objection_token(outbox, email)
    await contact(client, email, "And another question, still open")
    open_token = objection_token(outbox, email)
    assert len(outbox.messages_to(email)) == 2
    await expire_contacts_as_of(app, days=29)
    assert await messages_from(app, email) == 2, "kept during the period"
    removed = await expire_contacts_as_of(app, days=31)
    assert removed["contact_message"] >= 1 and removed["outbox_files"] >= 1
    assert await messages_from(app, email) == 1, "the open conversation stays"
    [left] = outbox.messages_to(email)
    text = left.get_payload(decode=True).decode()
    assert open_token in text and concluded_token not in text, "only the concluded message's acknowledgement went with it"

    r = await client.get(f"/v1/admin/contact-messages/{message['id']}", headers=OPERATOR)
    assert r.status_code == 404 and "deleted" in r.json()["detail"]
    r = await client.post(f"/v1/admin/contact-messages/{message['id']}/conclude", headers=OPERATOR)
    assert r.status_code == 404


async def test_by_default_a_concluded_message_goes_with_the_next_run(backend, outbox):
    from confide.app import create_app
    from tests.conftest import running
    from tests.privacy.conftest import hooked_client

    settings = backend.settings(operator_token=OP_TOKEN, retention_job_enabled=False)
    # An address of its own: on Redis the default limit (10 an hour) counts the module's earlier messages too.
    async with running(create_app(settings)) as plain, hooked_client(plain, address="192.0.2.98") as c:
        email = random_email()
        await contact(c, email)
        assert "delete them when it has ended" in outbox.messages_to(email)[-1].get_payload(decode=True).decode()
        r = await c.get("/v1/admin/contact-messages", params={"concluded": "false", "limit": 200}, headers={"X-Operator-Token": OP_TOKEN})
        message = next(m for m in r.json()["items"] if m["email"] == email)
        await run_retention(plain.state.engine, plain.state.settings)
        assert await messages_from(plain, email) == 1, "open: kept"
        await c.post(f"/v1/admin/contact-messages/{message['id']}/conclude", headers={"X-Operator-Token": OP_TOKEN})
        await run_retention(plain.state.engine, plain.state.settings)
        assert await messages_from(plain, email) == 0


async def test_open_conversations_are_kept_up_to_the_longest_open_period(app, client, outbox):
    assert app.state.settings.contact_max_open_days == 180
    email = random_email()
    await contact(client, email)
    await expire_contacts_as_of(app, days=179)
    assert await messages_from(app, email) == 1, "open: kept while someone may still answer"
    removed = await expire_contacts_as_of(app, days=181)
    assert removed["contact_message"] >= 1 and removed["outbox_files"] >= 1
    assert await messages_from(app, email) == 0, "no one concluded it: gone after 180 days all the same"
    assert outbox.messages_to(email) == []


async def test_acknowledgements_go_only_when_the_deletion_commits(app, client, outbox):
    """Objection and retention find the acknowledgements first and delete them after the commit."""
    email = random_email()
    await contact(client, email)
    token = objection_token(outbox, email)

    async with app.state.sessionmaker() as session:
        assert await object_to_contact(session, app.state.services, token=token) == 1
        assert len(outbox.messages_to(email)) == 1, "nothing leaves the disk before the commit"
        await session.rollback()
    assert await messages_from(app, email) == 1 and len(outbox.messages_to(email)) == 1, "rolled back: message and mail stay"

    async with app.state.sessionmaker() as session:
        with pytest.raises(RuntimeError):
            async with session.begin():
                removed = await expire_contact_messages(session, utcnow() + timedelta(days=181), app.state.settings)
                assert removed["outbox_files"] >= 1
                raise RuntimeError("the step fails after deleting")
    assert await messages_from(app, email) == 1 and len(outbox.messages_to(email)) == 1, "a failed retention step keeps both"

    async with app.state.sessionmaker() as session:
        await object_to_contact(session, app.state.services, token=token)
        await session.commit()
    assert await messages_from(app, email) == 0 and outbox.messages_to(email) == []


async def test_operator_routes_need_the_operator_token(client, factory):
    r = await client.get("/v1/admin/contact-messages")
    assert r.status_code == 401
    r = await client.get("/v1/admin/contact-messages", headers={"X-Operator-Token": "guess"})
    assert r.status_code == 401
    user = await factory.user()
    r = await client.get("/v1/admin/contact-messages", headers=user.headers)
    assert r.status_code == 401, "a platform user's login is not operator access"


async def test_operator_routes_are_off_without_a_token_setting(backend):
    from confide.app import create_app
    from tests.conftest import running
    from tests.privacy.conftest import hooked_client

    async with running(create_app(backend.settings(retention_job_enabled=False))) as plain, hooked_client(plain) as c:
        r = await c.get("/v1/admin/retention", headers=OPERATOR)
        assert r.status_code == 403 and r.json()["type"].endswith("/operator-access-disabled")


async def test_contact_is_rate_limited_per_address(backend):
    from confide.app import create_app
    from tests.conftest import running
    from tests.privacy.conftest import hooked_client

    settings = backend.settings(contact_limit_per_hour=2, retention_job_enabled=False)
    async with running(create_app(settings)) as limited, hooked_client(limited, address="192.0.2.99") as c:
        for _ in range(2):
            await contact(c, random_email())
        r = await c.post("/v1/contact", json={"name": "G", "email": random_email(), "message": "Hi", "consent": True})
        assert r.status_code == 429 and "Retry-After" in r.headers


async def test_an_objection_takes_the_acknowledgements_by_their_kind_not_their_subject(app, client, outbox):
    """A translated acknowledgement goes with the messages; another mail that happens to share the English
    subject stays."""
    email = random_email()
    await contact(client, email)
    token = objection_token(outbox, email)
    mailer = app.state.services.mailer
    await mailer.send(email, "Wir haben Ihre Nachricht erhalten", f"Hallo, … {token}", kind=MailKind.CONTACT_ACKNOWLEDGEMENT)
    await mailer.send(email, ACK_SUBJECT, "Hello, you are invited …", kind=MailKind.INVITATION)

    r = await client.post("/v1/contact/objection", json={"token": token})
    assert r.status_code == 200 and r.json()["deleted"] == 1
    assert [m[KIND_HEADER] for m in outbox.messages_to(email)] == ["invitation"]


async def test_messages_from_a_former_address_follow_the_account_into_its_rights(app, client, factory, outbox):
    """An account's rights find contact messages by its address. After a confirmed email change the messages sent
    from the former one were out of reach for good: missing from the export, kept by the erasure (privacy review)."""
    user = await factory.user()
    await contact(client, user.email, "Sent from my old address")
    new = random_email()
    r = await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert await messages_from(app, user.email) == 1, "a change not yet confirmed moves nothing"
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200

    r = await client.get("/v1/me/export", headers=user.headers)
    assert r.status_code == 200, r.text
    assert [m["message"] for m in r.json()["data"]["contact_message"]] == ["Sent from my old address"]
    r = await client.post("/v1/me/erasure", json={"password": user.password}, headers=user.headers)
    assert r.status_code == 200 and r.json()["deleted"]["contact_message"] == 1, r.text
    assert await messages_from(app, user.email) == 0 and await messages_from(app, new) == 0
    assert [m for m in outbox.messages_to(user.email) if m["Subject"] == ACK_SUBJECT] == [], "its acknowledgement, mailed to the former address, goes too"


async def test_an_objection_after_an_email_change_takes_the_acknowledgement_at_the_former_address(app, client, factory, outbox):
    user = await factory.user()
    await contact(client, user.email, "Sent from my old address")
    new = random_email()
    assert (await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)).status_code == 200
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    assert len([m for m in outbox.messages_to(user.email) if m["Subject"] == ACK_SUBJECT]) == 1
    r = await client.post("/v1/contact/objection", json={"token": objection_token(outbox, user.email)})
    assert r.status_code == 200, r.text
    assert await messages_from(app, new) == 0
    assert [m for m in outbox.messages_to(user.email) if m["Subject"] == ACK_SUBJECT] == []
