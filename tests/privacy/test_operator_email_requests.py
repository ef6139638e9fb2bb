"""Rights by email (policy III.6: "all other rights … you can also address to this email address") for people the
account routes cannot name: a contact-form sender without an account asking what is held about them (Art. 15), and a
newsletter subscriber withdrawing only the newsletter consent (Art. 7(3)) without the objection's other effects."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from confide.privacy.models import ConsentRecord
from tests.conftest import random_email
from tests.privacy.conftest import OPERATOR, hooked_client
from tests.privacy.test_contact import contact, messages_from
from tests.privacy.test_newsletter import CONFIRM, last_match
from tests.test_errors import assert_problem

EXPORT = "/v1/admin/contact-messages/export"
WITHDRAWAL = "/v1/admin/newsletter/withdrawal"
ROUTES = [EXPORT, WITHDRAWAL]


async def newsletter_records(app, user_id: str) -> list[ConsentRecord]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(ConsentRecord.id))).all())


async def test_the_operator_exports_everything_held_about_a_contact_sender(app, client, outbox):
    """GET /v1/admin/contact-messages filtered only by `concluded`: one person's messages could not be found for an access request."""
    email = random_email()
    await contact(client, email, "First question")
    await contact(client, email.upper(), "Second question, the address in capitals")
    bystander = random_email()
    await contact(client, bystander, "Someone else's question")

    r = await client.post(EXPORT, json={"email": f"  {email.upper()} "}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["email"] == email and export["generated_at"]
    assert [m["message"] for m in export["contact_messages"]] == ["First question", "Second question, the address in capitals"]
    assert all(m["email"] == email and m["name"] == "Grace Hopper" and m["consent_version"] and m["received_at"] for m in export["contact_messages"])
    assert bystander not in r.text and "objection_token_hash" not in r.text
    information = export["information"]
    assert information["processing"]["data"] == "contact_message" and information["processing"]["legal_basis"]
    assert information["retention"]["data"] == "contact_message" and "concluded" in information["retention"]["period"]
    assert information["recipients"]["categories"] and information["rights"] and information["source"]
    assert information["controller"]["email"] == "contact@plural.io"
    assert information["privacy_notice"].endswith("/v1/privacy/notice")
    assert await messages_from(app, email) == 2, "an export changes nothing"

    await client.post("/v1/admin/contact-messages/objection", json={"email": email}, headers=OPERATOR)
    r = await client.post(EXPORT, json={"email": email}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["contact_messages"] == [], "nothing held is an answer, not an error"
    assert r.json()["information"]["rights"]


async def _subscribed(app, client, factory, outbox, *, confirm: bool):  # noqa: ANN202
    user = await factory.user(newsletter_opt_in=True)
    if confirm:
        r = await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
        assert r.json()["status"] == "active", r.text
    return user


async def test_the_operator_withdraws_only_the_newsletter_consent(app, client, factory, outbox):
    """/v1/admin/accounts/objection also deletes contact messages; a subscriber who asks by mail to stop the newsletter
    keeps their conversation."""
    user = await _subscribed(app, client, factory, outbox, confirm=True)
    await contact(client, user.email, "A question I still want answered")

    r = await client.post(WITHDRAWAL, json={"email": user.email.upper()}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert r.json()["withdrawn"] is True and r.json()["status"] == "none"
    assert r.json()["consent_version"] == app.state.settings.newsletter_consent_version
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False
    assert await messages_from(app, user.email) == 1, "the contact messages stay"
    export = (await client.get("/v1/me/export", headers=user.headers)).json()["data"]
    assert "objection" not in export, "no objection is recorded"

    r = await client.post(WITHDRAWAL, json={"email": user.email}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["withdrawn"] is False and r.json()["status"] == "none", "idempotent"
    records = await newsletter_records(app, user.id)
    assert [(c.action, c.channel) for c in records] == [
        ("requested", "registration"), ("confirmed", "confirmation-mail"), ("withdrawn", "operator-email-request")
    ], "the proof is kept, and the withdrawal recorded once"
    assert records[-1].text_version == app.state.settings.newsletter_consent_version and records[-1].ip_prefix is None

    subject = f"Issue {secrets.token_hex(4)}"
    assert (await client.post("/v1/admin/newsletter", json={"subject": subject, "body": "News."}, headers=OPERATOR)).status_code == 200
    assert not [m for m in outbox.messages_to(user.email) if m["Subject"] == subject], "no issue goes to them"


async def test_a_pending_subscription_and_an_address_without_an_account(app, client, factory, outbox):
    """A subscription still waiting for its confirmation (the account may be unconfirmed too) is withdrawn, so its
    mailed token confirms nothing; an address with no account or subscription answers the same, withdrawn false."""
    user = await _subscribed(app, client, factory, outbox, confirm=False)
    token = last_match(outbox, user.email, CONFIRM)
    r = await client.post(WITHDRAWAL, json={"email": user.email}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["withdrawn"] is True
    r = await client.post("/v1/newsletter/confirm", json={"token": token})
    assert_problem(r, 400, "invalid-token")
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"

    nobody = random_email()
    await contact(client, nobody, "No account here")
    r = await client.post(WITHDRAWAL, json={"email": nobody}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["withdrawn"] is False and r.json()["status"] == "none"
    assert await messages_from(app, nobody) == 1, "a contact sender's messages are not touched"


async def test_the_routes_need_the_operator_token_and_a_valid_body(app, client, factory):
    user = await factory.user()
    async with hooked_client(app, f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}") as c:
        for path in ROUTES:
            for headers in ({}, {"X-Operator-Token": "not-the-operator-token"}, user.headers):
                r = await c.post(path, json={"email": user.email}, headers=headers)
                assert_problem(r, 401, "unauthorized")
                assert user.email not in r.text
    cases = [
        ({}, "body.email"),
        ({"email": "not-an-address"}, "body.email"),
        ({"email": "a" * 320 + "@example.com"}, "body.email"),
        ({"email": user.email, "user_id": user.id}, "body.user_id"),  # unknown fields are refused
        ({"email": None}, "body.email"),
    ]
    for path in ROUTES:
        for body, field in cases:
            r = await client.post(path, json=body, headers=OPERATOR)
            assert assert_problem(r, 422, "validation-error")["errors"][0]["field"] == field, (path, r.text)
        r = await client.post(path, content=b"not json", headers={**OPERATOR, "Content-Type": "application/json"})
        assert_problem(r, 422, "validation-error")
        r = await client.get(path, headers=OPERATOR)  # a POST only: the address stays out of URLs
        assert r.status_code in (404, 405) and r.headers["content-type"] == "application/problem+json", (path, r.text)


async def test_the_routes_are_documented_like_their_neighbours(client):
    spec = (await client.get("/openapi.json")).json()
    for path, body in ((EXPORT, "/ContactSender"), (WITHDRAWAL, "/NewsletterSubscriber")):
        operation = spec["paths"][path]["post"]
        assert operation["tags"] == ["operators"] and operation["summary"] and len(operation["description"]) > 100, path
        assert operation["security"] == [{"OperatorToken": []}], path
        assert {"200", "401", "403", "422", "429"} <= set(operation["responses"]), path
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(body), path
    assert "contact_messages" in spec["components"]["schemas"]["ContactSenderExport"]["properties"]
    assert spec["components"]["schemas"]["NewsletterWithdrawalOut"]["required"] == ["withdrawn", "status", "consent_version", "detail"]
