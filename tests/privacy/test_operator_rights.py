"""A platform user's rights exercised by email to the controller (privacy policy III.6 and VII.5): the platform
operator carries out the verified request under /v1/admin/accounts/… (X-Operator-Token), with the same effect as
the user's own /v1/me/… routes."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from confide.chats.models import ConversationTag
from confide.privacy.gate import Purpose, authorize
from tests.conftest import random_email
from tests.privacy.chat_seed import make_shop, seed_conversation
from tests.privacy.conftest import OPERATOR, hooked_client
from tests.privacy.test_rights import personal_data_hits, unique_user
from tests.support.factory import PASSWORD
from tests.test_errors import assert_problem

ROUTES = [
    ("POST", "/v1/admin/accounts/export"),
    ("POST", "/v1/admin/accounts/erasure"),
    ("POST", "/v1/admin/accounts/restriction"),
    ("DELETE", "/v1/admin/accounts/restriction"),
    ("POST", "/v1/admin/accounts/objection"),
]


def _without_time(export: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in export.items() if k != "generated_at"}


async def test_the_export_is_the_one_the_user_gets_themselves(client, factory):
    user, values = await unique_user(factory, phone="+49 221 715975 75", newsletter_opt_in=True)
    tenant = await factory.tenant(user, "Export by Mail GmbH")
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Please send me my data", "consent": True})
    await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": random_email(), "role": "analyst"}, headers=user.headers)

    mine = await client.get("/v1/me/export", headers=user.headers)
    assert mine.status_code == 200, mine.text
    r = await client.post("/v1/admin/accounts/export", json={"email": user.email.upper()}, headers=OPERATOR)  # case is ignored
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="confide-export-')
    assert r.headers["cache-control"] == "no-store"
    theirs = r.json()
    # Signing in again would add a session; none was added, so the two are the same document but for the time made.
    assert _without_time(theirs) == _without_time(mine.json())
    assert theirs["subject"] == {"user_id": user.id} and theirs["data"]["user_account"][0]["email"] == user.email
    assert "password_hash" not in theirs["data"]["user_account"][0]
    assert [m["message"] for m in theirs["data"]["contact_message"]] == ["Please send me my data"]
    assert theirs["information"]["source"] and any(right["article"] == "Art. 15 GDPR" for right in theirs["information"]["rights"])
    assert all(v in r.text for v in values)


async def _staff_with_everything(app, client, factory, shop, co_owner, shared: str):  # noqa: ANN001, ANN202
    """A user with an owner's membership beside another owner, an operator's membership with a tag in a conversation,
    a processing log entry, a contact message, an objection and a newsletter subscription: alike for each erasure."""
    user, values = await unique_user(factory, newsletter_opt_in=True)
    r = await client.post(f"/v1/tenants/{shared}/invitations", json={"email": user.email, "role": "owner"}, headers=co_owner.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/invitations/accept", json={"token": factory.outbox.last_token_for(user.email)}, headers=user.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/invitations", json={"email": user.email, "role": "operator"}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/invitations/accept", json={"token": factory.outbox.last_token_for(user.email)}, headers=user.headers)
    assert r.status_code == 200, r.text
    conversation_id = await seed_conversation(app, shop, visitor_id="v_" + secrets.token_hex(6))
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/conversations/{conversation_id}/tags", json={"tags": ["mailed"]}, headers=user.headers)
    assert r.status_code == 200, r.text
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})
    async with app.state.sessionmaker() as session:
        await authorize(session, tenant_id=shared, purpose=Purpose.OPERATOR_REVIEW, actor=user.id, subject_ref="conv_1")
    await app.state.purpose_gate.flush()
    assert await personal_data_hits(app, values)
    return user, values, conversation_id


async def test_erasure_leaves_what_the_users_own_erasure_leaves(app, client, factory, outbox):
    shop = await make_shop(client, factory, "Erasure by Mail GmbH")
    co_owner = await factory.user()
    shared = await factory.tenant(co_owner, "Shared by Mail KG")
    itself, _, _ = await _staff_with_everything(app, client, factory, shop, co_owner, shared)
    mailed, values, conversation_id = await _staff_with_everything(app, client, factory, shop, co_owner, shared)

    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=itself.headers)
    assert r.status_code == 200, r.text
    own = r.json()
    assert own["carried_out_by"] == "self-service"

    r = await client.post("/v1/admin/accounts/erasure", json={"email": mailed.email}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["carried_out_by"] == "operator", "the receipt says who carried it out"
    for key in ("deleted", "unlinked", "kept"):
        assert receipt[key] == own[key], key
    assert receipt["deleted"]["user_account"] == 1 and receipt["deleted"]["membership"] == 2 and receipt["deleted"]["outbox_files"] >= 3
    # the entry authorised above, and the tag's own operator_review entry (inbox actions pass the purpose gate)
    assert receipt["unlinked"]["processing_log"] == 2 and receipt["unlinked"]["conversation_tag"] == 1
    assert mailed.email not in r.text

    assert await personal_data_hits(app, values) == {}
    assert outbox.messages_to(mailed.email) == [], "the outbox copies of its mails went too"
    assert (await client.get("/v1/me", headers=mailed.headers)).status_code == 401, "its sessions went"
    r = await client.post("/v1/auth/login", json={"email": mailed.email, "password": PASSWORD})
    assert r.status_code == 401
    async with app.state.sessionmaker() as session:
        tag = await session.scalar(select(ConversationTag.created_by).where(ConversationTag.conversation_id == conversation_id))
    assert tag == "erased-user"
    r = await client.post("/v1/admin/accounts/erasure", json={"email": mailed.email}, headers=OPERATOR)
    assert_problem(r, 404, "not-found")


async def test_erasure_of_a_sole_owner_waits_for_a_hand_over(client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user, "Mine Alone by Mail GmbH")
    r = await client.post("/v1/admin/accounts/erasure", json={"email": user.email}, headers=OPERATOR)
    problem = assert_problem(r, 409, "sole-owner")
    assert problem["tenants"] == [{"id": tenant, "name": "Mine Alone by Mail GmbH"}]
    assert problem["detail"].startswith("The account is the only owner of Mine Alone by Mail GmbH")
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200, "nothing was erased"


async def test_the_operators_erasure_checks_no_password_and_spends_none_of_the_users_tries(client, factory):
    user = await factory.user()
    for _ in range(10):  # the user's budget of password checks, spent
        r = await client.post("/v1/me/erasure", json={"password": "not the password 1"}, headers=user.headers)
        assert r.status_code == 401
    assert (await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=user.headers)).status_code == 429
    r = await client.post("/v1/admin/accounts/erasure", json={"email": user.email}, headers=OPERATOR)
    assert r.status_code == 200, r.text


async def test_restriction_freezes_the_account_as_the_users_own_does(client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user, "Restricted by Mail GmbH")
    body = {"email": user.email}
    r = await client.post("/v1/admin/accounts/restriction", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "restricted"

    # As after POST /v1/me/restriction: sign-in, reading, export and rectification go on; other changes and tenant work do not.
    assert (await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).status_code == 200
    assert (await client.get("/v1/me", headers=user.headers)).json()["status"] == "restricted"
    assert (await client.get("/v1/me/export", headers=user.headers)).status_code == 200
    r = await client.patch("/v1/me", json={"email": "moved-" + user.email, "current_password": PASSWORD}, headers=user.headers)
    assert_problem(r, 403, "account-restricted")
    r = await client.get(f"/v1/tenants/{tenant}", headers=user.headers)
    assert_problem(r, 403, "account-restricted")
    assert (await client.post("/v1/me/newsletter", headers=user.headers)).status_code == 403
    assert (await client.post("/v1/admin/accounts/restriction", json=body, headers=OPERATOR)).status_code == 200, "twice is harmless"

    r = await client.request("DELETE", "/v1/admin/accounts/restriction", json=body, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert (await client.get(f"/v1/tenants/{tenant}", headers=user.headers)).status_code == 200
    r = await client.request("DELETE", "/v1/admin/accounts/restriction", json=body, headers=OPERATOR)
    assert_problem(r, 404, "not-restricted")

    # Either side lifts what the other set.
    assert (await client.post("/v1/admin/accounts/restriction", json=body, headers=OPERATOR)).status_code == 200
    assert (await client.delete("/v1/me/restriction", headers=user.headers)).json()["status"] == "active"
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await client.request("DELETE", "/v1/admin/accounts/restriction", json=body, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["status"] == "active"


async def test_an_unknown_or_unconfirmed_address_is_not_found(client, factory):
    user = await factory.user()
    pending = random_email()
    r = await client.patch("/v1/me", json={"email": pending, "current_password": user.password}, headers=user.headers)
    assert r.status_code == 200 and r.json()["pending_email"] == pending
    for address in (random_email(), pending):  # nobody's, and an address change not confirmed, which proves nothing
        for method, path in ROUTES:
            r = await client.request(method, path, json={"email": address}, headers=OPERATOR)
            assert_problem(r, 404, "not-found")
            assert address not in r.text
    assert (await client.get("/v1/me", headers=user.headers)).json()["status"] == "active", "nothing happened to the account"


def _address() -> str:
    """An address of its own: wrong operator tokens count per address (10 each)."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


async def test_the_operator_token_is_required(app, factory):
    user = await factory.user()
    for headers in ({}, {"X-Operator-Token": "not-the-operator-token"}, user.headers):  # the user's own session is no operator token
        async with hooked_client(app, _address()) as c:
            for method, path in ROUTES:
                r = await c.request(method, path, json={"email": user.email}, headers=headers)
                assert_problem(r, 401, "unauthorized")
                assert user.email not in r.text
    async with hooked_client(app, _address()) as c:
        r = await c.get("/v1/me", headers=user.headers)
        assert r.status_code == 200 and r.json()["status"] == "active", "the account is untouched"


async def test_bad_bodies_are_refused_naming_the_field(client, factory):
    user = await factory.user()
    cases = [
        ({"email": user.email, "password": PASSWORD}, "body.password"),  # unknown fields are refused
        ({"email": user.email, "user_id": user.id}, "body.user_id"),
        ({}, "body.email"),
        ({"email": "not-an-address"}, "body.email"),
        ({"email": "a" * 320 + "@example.com"}, "body.email"),
    ]
    for method, path in ROUTES:
        for body, field in cases:
            r = await client.request(method, path, json=body, headers=OPERATOR)
            problem = assert_problem(r, 422, "validation-error")
            assert problem["errors"][0]["field"] == field, (method, path, r.text)
        r = await client.request(method, path, content=b"not json", headers={**OPERATOR, "Content-Type": "application/json"})
        assert_problem(r, 422, "validation-error")
    assert (await client.get("/v1/me", headers=user.headers)).json()["status"] == "active"


async def test_the_routes_are_documented_like_their_neighbours(client):
    spec = (await client.get("/openapi.json")).json()
    for method, path in ROUTES:
        operation = spec["paths"][path][method.lower()]
        assert operation["tags"] == ["operators"] and operation["summary"] and operation["description"], (method, path)
        assert {"401", "403", "404", "422", "429"} <= set(operation["responses"]), (method, path)
        body = "/AccountObjection" if path.endswith("/objection") else "/AccountRequest"
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(body), (method, path)
    assert "409" in spec["paths"]["/v1/admin/accounts/erasure"]["post"]["responses"]
    assert set(spec["components"]["schemas"]["ErasureReceipt"]["properties"]["carried_out_by"]["enum"]) == {"self-service", "operator"}


async def test_objection_stops_what_the_users_own_objection_stops(client, factory, outbox):
    user = await factory.user(newsletter_opt_in=True)
    confirm = next(m for m in outbox.messages_to(user.email) if "newsletter" in m["Subject"])
    token = confirm.get_payload(decode=True).decode().split("cfn_", 1)[1].split()[0]
    assert (await client.post("/v1/newsletter/confirm", json={"token": "cfn_" + token})).json()["status"] == "active"
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})
    r = await client.post("/v1/admin/accounts/objection", json={"email": user.email, "grounds": "By mail: please stop"}, headers=OPERATOR)
    assert r.status_code == 201, r.text
    assert r.json()["stopped"] == ["newsletter", "contact_messages"] and r.json()["deleted"] == {"contact_message": 1, "outbox_files": 1}
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
    export = (await client.get("/v1/me/export", headers=user.headers)).json()["data"]
    assert "contact_message" not in export and export["objection"][0]["grounds"] == "By mail: please stop"
    r = await client.post("/v1/admin/accounts/objection", json={"email": user.email, "grounds": "x" * 2001}, headers=OPERATOR)
    assert assert_problem(r, 422, "validation-error")["errors"][0]["field"] == "body.grounds"


async def test_the_operator_corrects_a_profile_on_an_emailed_request(client, factory):
    """Policy VII.5: the data stored can be changed at any time, also by writing to us; there was no operator path, so a
    user who could not sign in could not have it corrected (a privacy review). The email address is the user's to move."""
    user = await factory.user()
    url = "/v1/admin/accounts/rectification"
    r = await client.post(url, json={"email": user.email.upper(), "surname": "Corrected", "phone": "+49 30 1234567", "company_name": None}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    me = (await client.get("/v1/me", headers=user.headers)).json()
    assert (me["surname"], me["phone"], me["company_name"], me["email"]) == ("Corrected", "+49301234567", None, user.email), me
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await client.post(url, json={"email": user.email, "first_name": "Ada-Marie"}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["first_name"] == "Ada-Marie" and r.json()["status"] == "restricted", "a restricted account is corrected too"

    for body, field in (
        ({"email": user.email}, "body"),  # nothing to correct
        ({"email": user.email, "first_name": None}, "body.first_name"),
        ({"email": user.email, "new_email": "x@example.com"}, "body.new_email"),
        ({"email": user.email, "phone": "not a number"}, "body.phone"),
    ):
        r = await client.post(url, json=body, headers=OPERATOR)
        assert_problem(r, 422, "validation-error")
        assert r.json()["errors"][0]["field"] == field, (body, r.text)
    r = await client.post(url, json={"email": random_email(), "surname": "Nobody"}, headers=OPERATOR)
    assert_problem(r, 404, "not-found")
    r = await client.post(url, json={"email": user.email, "surname": "Sneaky"}, headers=user.headers)
    assert_problem(r, 401, "unauthorized")
    assert (await client.get("/v1/me", headers=user.headers)).json()["surname"] == "Corrected"
