"""Platform users' own rights: export, erasure, restriction and objection, self-service."""

from __future__ import annotations

import secrets

from sqlalchemy import String, Text, delete, func, select

from confide.chats.models import ConversationTag
from confide.core.classification import REGISTRY
from confide.core.mail import KIND_HEADER, MailKind
from confide.evaluation.models import ConversationOutcome
from confide.privacy import rights
from confide.privacy.gate import Purpose, authorize
from confide.privacy.models import ContactMessage
from confide.tables import metadata
from tests.privacy.chat_seed import make_shop, seed_conversation
from tests.conftest import client_for, random_email
from tests.support.factory import PASSWORD


async def personal_data_hits(app, values: set[str]) -> dict[str, int]:
    """Rows in any registered personal column (or reference to a user) that hold one of `values`."""
    hits: dict[str, int] = {}
    async with app.state.sessionmaker() as session:
        for name, record in REGISTRY.items():
            table = metadata.tables[name]
            columns = [table.c[c] for c in record.personal] + [c for c in table.columns if any(fk.column.table.name == "user_account" for fk in c.foreign_keys)]
            if name == "user_account":
                columns.append(table.c.id)
            for column in columns:
                if not isinstance(column.type, (String, Text)):
                    continue
                count = await session.scalar(select(func.count()).select_from(table).where(column.in_(values)))
                if count:
                    hits[f"{name}.{column.name}"] = count
    return hits


async def unique_user(factory, **extra):  # noqa: ANN001, ANN201
    tag = secrets.token_hex(4)
    names = {"first_name": f"Ada{tag}", "surname": f"Lovelace{tag}", "pseudonym": f"ada{tag}", "company_name": f"Engines {tag}"}
    user = await factory.user(**names, **extra)
    return user, set(names.values()) | {user.id, user.email}


async def test_export_holds_every_category_about_me_and_no_secrets(app, client, factory):
    user, _ = await unique_user(factory, phone="+49 221 715975 75", newsletter_opt_in=True)
    tenant = await factory.tenant(user, "Export GmbH")
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hello", "consent": True})
    other = await factory.user()
    await client.post("/v1/contact", json={"name": "Someone", "email": other.email, "message": "Not Ada's", "consent": True})
    await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": "colleague@example.com", "role": "analyst"}, headers=user.headers)

    r = await client.get("/v1/me/export", headers=user.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;")
    export = r.json()
    data = export["data"]
    assert export["format"] == "confide-export/1" and export["subject"] == {"user_id": user.id}
    assert data["user_account"][0]["email"] == user.email and data["user_account"][0]["phone"] == "+4922171597575"
    assert "password_hash" not in data["user_account"][0]
    assert [m["tenant_id"] for m in data["membership"]] == [tenant]
    assert data["auth_session"] and all("token_hash" not in s for s in data["auth_session"])
    assert {c["action"] for c in data["consent_record"]} == {"requested"}
    assert [m["message"] for m in data["contact_message"]] == ["Hello"]
    assert all("objection_token_hash" not in m for m in data["contact_message"])
    assert "invitation" not in data, "invitations I sent are about other people"
    assert "email_token" in data and all("token_hash" not in t for t in data["email_token"])
    assert export["categories"]["contact"] and "user_account.email" in export["categories"]["contact"]
    assert "credentials" not in export["categories"]
    assert set(export["records"]) == set(data)
    assert export["information"]["controller"]["name"] == "Humanizing Technologies GmbH"
    assert any(right["article"] == "Art. 20 GDPR" for right in export["information"]["rights"])
    assert other.email not in r.text


async def test_export_lists_the_tenant_records_that_name_me_without_their_content(app, client, factory):
    """What erasure unlinks, the export shows: the records tenants keep that name the account as the acting staff
    member (an invitation it sent, instructions it set, the processing log's actor), by id, tenant and time, and
    nothing of their content (the invited colleague's address is not the account's data)."""
    user, _ = await unique_user(factory)
    tenant = await factory.tenant(user, "Records GmbH")
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": "colleague.records@example.com", "role": "analyst"}, headers=user.headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/tenants/{tenant}/privacy/instructions", json={"retention_days": 12}, headers=user.headers)
    assert r.status_code == 201, r.text
    async with app.state.sessionmaker() as session:
        await authorize(session, tenant_id=tenant, purpose=Purpose.OPERATOR_REVIEW, actor=user.id, subject_ref="vis_records")
    await app.state.purpose_gate.flush()

    r = await client.get("/v1/me/export", headers=user.headers)
    assert r.status_code == 200, r.text
    export = r.json()
    records = export["in_tenants"]
    assert {"invitation", "processing_log"} <= set(records) and "processing_instructions" in export["data"]
    invitation = records["invitation"][0]
    assert invitation["column"] == "invited_by" and invitation["tenant_id"] == tenant and invitation["created_at"]
    assert set(invitation) <= {"column", "id", "tenant_id", "created_at", "expires_at", "accepted_at", "revoked_at"}, invitation
    assert [e["column"] for e in records["processing_log"]] == ["actor"] and records["processing_log"][0]["tenant_id"] == tenant
    assert "subject_ref" not in records["processing_log"][0] and "vis_records" not in r.text
    assert "colleague.records@example.com" not in r.text
    assert "invitation" not in export["data"]


async def test_erasure_removes_everything_and_leaves_a_receipt(app, client, factory, outbox):
    user, values = await unique_user(factory, newsletter_opt_in=True)
    co_owner = await factory.user()
    shared = await factory.tenant(co_owner, "Shared GmbH")
    r = await client.post(f"/v1/tenants/{shared}/invitations", json={"email": user.email, "role": "owner"}, headers=co_owner.headers)
    await client.post("/v1/invitations/accept", json={"token": outbox.last_token_for(user.email)}, headers=user.headers)
    elsewhere = await factory.tenant(co_owner, "Elsewhere AG")
    await client.post(f"/v1/tenants/{elsewhere}/invitations", json={"email": user.email, "role": "analyst"}, headers=co_owner.headers)
    r = await client.post(f"/v1/tenants/{shared}/privacy/instructions", json={"retention_days": 9}, headers=user.headers)
    assert r.status_code == 201
    await client.post("/v1/me/objection", json={"grounds": "personal reasons"}, headers=user.headers)
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})
    async with app.state.sessionmaker() as session:
        await authorize(session, tenant_id=shared, purpose=Purpose.OPERATOR_REVIEW, actor=user.id, subject_ref="conv_1")
    await app.state.purpose_gate.flush()
    second_login = await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert second_login.status_code == 200
    assert await personal_data_hits(app, values), "the check finds the data before erasure"
    mails = len(outbox.messages_to(user.email))
    assert mails >= 3, "verification, invitations and the contact acknowledgement were mailed"

    r = await client.post("/v1/me/erasure", json={"password": "wrong password 1"}, headers=user.headers)
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-credentials")
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=user.headers)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["deleted"]["user_account"] == 1 and receipt["deleted"]["membership"] == 1
    assert receipt["deleted"]["auth_session"] == 2 and receipt["deleted"]["invitation"] >= 1
    assert receipt["deleted"]["contact_message"] == 1 and receipt["deleted"]["consent_record"] >= 1
    assert receipt["unlinked"]["processing_instructions"] == 1 and receipt["unlinked"]["processing_log"] == 1
    assert [k["table"] for k in receipt["kept"]] == ["access_log"]
    assert user.email not in r.text
    assert receipt["deleted"]["outbox_files"] >= mails and outbox.messages_to(user.email) == [], "the outbox copies of its mails go too"
    assert not any(user.email in p.read_text(errors="replace") for p in outbox.folder.glob("*.eml"))

    assert await personal_data_hits(app, values) == {}
    for token in (user.token, second_login.json()["token"]):
        r = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    r = await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 401
    r = await client.get(f"/v1/tenants/{shared}/privacy/instructions/history", headers=co_owner.headers)
    assert r.json()["items"][0]["set_by"] == {"kind": "erased", "id": None}
    r = await client.get(f"/v1/tenants/{shared}/privacy/processing-log", headers=co_owner.headers)
    assert [e["actor"] for e in r.json()["items"]] == ["erased-user"]


async def test_erasure_unlinks_the_staff_ids_in_tags_and_resolutions(app, client, factory):
    shop = await make_shop(client, factory, "Tags GmbH")
    staff = await factory.member(shop.tenant_id, shop.owner, "operator")
    conversation_id = await seed_conversation(app, shop, visitor_id="v_" + secrets.token_hex(6))
    base = f"/v1/tenants/{shop.tenant_id}/conversations/{conversation_id}"
    r = await client.post(f"{base}/tags", json={"tags": ["billing"]}, headers=staff.headers)
    assert r.status_code == 200, r.text
    r = await client.put(f"{base}/resolution", json={"resolved": True}, headers=staff.headers)
    assert r.status_code == 200, r.text

    async def who() -> tuple[str | None, str | None]:
        async with app.state.sessionmaker() as session:
            tag = await session.scalar(select(ConversationTag.created_by).where(ConversationTag.conversation_id == conversation_id))
            outcome = await session.scalar(select(ConversationOutcome.resolved_by).where(ConversationOutcome.conversation_id == conversation_id))
        return tag, outcome

    assert await who() == (staff.id, staff.id)
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["unlinked"]["conversation_tag"] == 1 and r.json()["unlinked"]["evaluation_outcome"] == 1
    assert await who() == ("erased-user", "erased-user"), "the same placeholder as the processing log's"
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/conversations", params={"tag": "billing"}, headers=shop.owner.headers)
    assert r.status_code == 200 and [c["id"] for c in r.json()["items"]] == [conversation_id], "the tag itself stays"


async def test_a_sole_owner_must_hand_over_first(client, factory):
    user = await factory.user()
    first = await factory.tenant(user, "Only Me GmbH")
    co_owner = await factory.user()
    shared = await factory.tenant(co_owner, "Shared KG")
    member = await factory.member(shared, co_owner, "admin")
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=user.headers)
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"].endswith("/sole-owner") and "Only Me GmbH" in problem["detail"]
    assert problem["tenants"] == [{"id": first, "name": "Only Me GmbH"}]
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200, "nothing was erased"
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=member.headers)
    assert r.status_code == 200, "an admin who owns nothing may go"


async def test_erasure_asks_for_the_password_and_nothing_else(client, factory):
    user = await factory.user()
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD, "confirm": True}, headers=user.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.confirm"
    r = await client.post("/v1/me/erasure", json={}, headers=user.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password"
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD})
    assert r.status_code == 401


async def test_restriction_freezes_the_account_but_keeps_reading_and_lifting(client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user)
    r = await client.post("/v1/me/restriction", headers=user.headers)
    assert r.status_code == 200 and r.json()["status"] == "restricted"

    assert (await client.get("/v1/me", headers=user.headers)).json()["status"] == "restricted"
    assert (await client.get("/v1/me/export", headers=user.headers)).status_code == 200
    # Rectification goes on (Art. 16: a restriction is often asked for while the data's accuracy is contested; a
    # privacy review found it refused), but the email address stays.
    r = await client.patch("/v1/me", json={"first_name": "Corrected", "phone": "+49 30 1234567"}, headers=user.headers)
    assert r.status_code == 200 and r.json()["first_name"] == "Corrected" and r.json()["status"] == "restricted", r.text
    r = await client.patch("/v1/me", json={"email": user.email, "surname": "Also"}, headers=user.headers)
    assert r.status_code == 200 and r.json()["surname"] == "Also", "its own address again is no change"
    r = await client.patch("/v1/me", json={"email": "moved-" + user.email, "current_password": PASSWORD}, headers=user.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted") and "email address stays" in r.json()["detail"]
    assert (await client.get("/v1/me", headers=user.headers)).json()["pending_email"] is None
    r = await client.get(f"/v1/tenants/{tenant}", headers=user.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted")
    r = await client.post("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 403
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200, "restricting twice is harmless"

    r = await client.delete("/v1/me/restriction", headers=user.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert (await client.get(f"/v1/tenants/{tenant}", headers=user.headers)).status_code == 200
    r = await client.delete("/v1/me/restriction", headers=user.headers)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-restricted")


async def test_objection_stops_newsletter_and_deletes_contact_messages(app, client, factory, outbox):
    user = await factory.user(newsletter_opt_in=True)
    confirm = next(m for m in outbox.messages_to(user.email) if "newsletter" in m["Subject"])
    token = confirm.get_payload(decode=True).decode().split("cfn_", 1)[1].split()[0]
    assert (await client.post("/v1/newsletter/confirm", json={"token": "cfn_" + token})).json()["status"] == "active"
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})

    assert any(m["Subject"] == "We received your message" for m in outbox.messages_to(user.email))

    r = await client.post("/v1/me/objection", json={"grounds": "I changed my mind"}, headers=user.headers)
    assert r.status_code == 201, r.text
    subjects = [m["Subject"] for m in outbox.messages_to(user.email)]
    assert "We received your message" not in subjects, "the outbox copy of the contact acknowledgement goes with the messages"
    assert "Confirm your email address" in subjects, "mails about the account itself stay"
    body = r.json()
    assert body["stopped"] == ["newsletter", "contact_messages"]
    assert body["deleted"] == {"contact_message": 1, "outbox_files": 1}, "rows and outbox files counted apart"
    assert any("access logs" in c["processing"] for c in body["continues"])
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
    export = (await client.get("/v1/me/export", headers=user.headers)).json()["data"]
    assert "contact_message" not in export
    assert export["objection"][0]["grounds"] == "I changed my mind"
    assert [c["action"] for c in export["consent_record"]] == ["requested", "confirmed", "withdrawn"]
    assert export["consent_record"][-1]["channel"] == "objection"

    r = await client.post("/v1/me/objection", json={}, headers=user.headers)
    assert r.status_code == 201 and r.json()["stopped"] == [], "a second objection is recorded; nothing left to stop"
    assert r.json()["deleted"] == {"contact_message": 0, "outbox_files": 0}
    r = await client.post("/v1/me/objection", json={"reason": "x"}, headers=user.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"


async def test_outbox_copies_go_only_when_the_erasure_commits(app, client, factory, outbox):
    """The files are found during the erasure and deleted after the commit: a rollback keeps rows and mails alike."""
    user = await factory.user()
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})
    mails = len(outbox.messages_to(user.email))
    assert mails >= 2, "verification and the contact acknowledgement"
    services = app.state.services

    async with app.state.sessionmaker() as session:
        objection = await rights.object_to_processing(session, services, user_id=user.id, grounds=None)
        assert "contact_messages" in objection.objection.effects
        receipt = await rights.erase_my_account(session, services, user_id=user.id, password=PASSWORD)
        assert receipt["deleted"]["user_account"] == 1 and receipt["deleted"]["outbox_files"] >= mails
        assert len(outbox.messages_to(user.email)) == mails, "nothing leaves the disk before the commit"
        await session.rollback()
    assert len(outbox.messages_to(user.email)) == mails, "rolled back: the account and its mails stay together"
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200

    async with app.state.sessionmaker() as session:
        await rights.erase_my_account(session, services, user_id=user.id, password=PASSWORD)
        await session.commit()
    assert outbox.messages_to(user.email) == [], "committed: the mails go"


async def test_objection_counts_outbox_files_apart_from_contact_messages(app, client, factory, outbox):
    """A message already gone (e.g. concluded and deleted) while its acknowledgement is still in the outbox:
    the objection deletes the copy and says so, without claiming a contact message."""
    user = await factory.user()
    await client.post("/v1/contact", json={"name": "Ada", "email": user.email, "message": "Hi", "consent": True})
    async with app.state.sessionmaker() as session:
        await session.execute(delete(ContactMessage).where(ContactMessage.email == user.email))
        await session.commit()
    assert any(m["Subject"] == "We received your message" for m in outbox.messages_to(user.email))

    r = await client.post("/v1/me/objection", json={}, headers=user.headers)
    assert r.status_code == 201, r.text
    assert r.json()["deleted"] == {"contact_message": 0, "outbox_files": 1}
    assert "contact_messages" not in r.json()["stopped"], "no message was deleted"
    assert not any(m["Subject"] == "We received your message" for m in outbox.messages_to(user.email))

    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert "deleted" in schema["ObjectionOut"]["required"]
    assert set(schema["ObjectionDeleted"]["properties"]) == {"contact_message", "outbox_files"}


async def test_an_unconfirmed_email_change_reaches_none_of_that_address_data(app, client, factory, outbox):
    """Anyone can type someone else's address into PATCH /v1/me: until its token comes back it proves
    nothing, so export, objection and erasure reach only the rows of the confirmed address."""
    victim = random_email()
    async with client_for(app, "198.51.100.91") as elsewhere:  # the contact form's per-address limit is the session's
        r = await elsewhere.post("/v1/contact", json={"name": "Victim", "email": victim, "message": "Victim's own words", "consent": True})
    assert r.status_code == 202, r.text
    owner = await factory.user()
    tenant = await factory.tenant(owner, "Invites GmbH")
    await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": victim, "role": "analyst"}, headers=owner.headers)
    intruder = await factory.user()
    r = await client.patch("/v1/me", json={"email": victim, "current_password": intruder.password}, headers=intruder.headers)
    assert r.status_code == 200 and r.json()["pending_email"] == victim

    export = (await client.get("/v1/me/export", headers=intruder.headers)).json()
    assert "Victim's own words" not in str(export) and "contact_message" not in export["data"]
    assert "invitation" not in export["data"]
    r = await client.post("/v1/me/objection", json={}, headers=intruder.headers)
    assert r.status_code == 201 and r.json()["deleted"] == {"contact_message": 0, "outbox_files": 0}
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=intruder.headers)
    assert r.status_code == 200, r.text
    assert "contact_message" not in r.json()["deleted"] and "invitation" not in r.json()["deleted"]

    async with app.state.sessionmaker() as session:
        kept = await session.scalar(select(func.count()).select_from(ContactMessage).where(ContactMessage.email == victim))
    assert kept == 1, "the victim's contact message is still there"
    subjects = [m["Subject"] for m in outbox.messages_to(victim)]
    assert "We received your message" in subjects and any("invited" in s for s in subjects), "the victim's mails are kept"
    assert "Confirm your email address" not in subjects, "the change's confirmation, which named the intruder, went with the account"


async def test_erasure_takes_every_mail_to_the_address_an_email_change_left(client, factory, outbox):
    """The former address is no longer the account's, yet the copies of the mails sent there are about the
    account: the notice of the change carries a reference to the change's token, and every other mail about
    the account (its registration's confirmation, a password reset) one to the account (both one-way), by which
    erasure finds them."""
    user = await factory.user()
    former, new = user.email, random_email()
    await client.post("/v1/auth/password-reset", json={"email": former})
    await outbox.wait_for(former, MailKind.PASSWORD_RESET)
    await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    [notice] = [m for m in outbox.messages_to(former) if m[KIND_HEADER] == MailKind.EMAIL_CHANGED]
    assert user.password not in str(notice) and new not in str(notice)
    assert {m[KIND_HEADER] for m in outbox.messages_to(former)} == {MailKind.VERIFICATION, MailKind.PASSWORD_RESET, MailKind.EMAIL_CHANGED}
    assert all(user.id not in str(m) for m in outbox.messages_to(former)), "the reference is one-way"
    bystander = await factory.user()
    kept = len(outbox.messages_to(bystander.email))
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert outbox.messages_to(former) == [] and outbox.messages_to(new) == []
    assert len(outbox.messages_to(bystander.email)) == kept >= 1


async def test_erasure_leaves_the_mails_of_an_account_whose_address_it_asked_for(app, client, factory, outbox):
    """The pending address may have an account of its own: only the mails sent for this account's own change go."""
    holder = await factory.user()
    await client.post("/v1/auth/password-reset", json={"email": holder.email})
    await outbox.wait_for(holder.email, MailKind.PASSWORD_RESET)
    intruder = await factory.user()
    await client.patch("/v1/me", json={"email": holder.email, "current_password": intruder.password}, headers=intruder.headers)
    before = sorted(m["Subject"] for m in outbox.messages_to(holder.email))
    assert "Email change not possible" in before and any("Reset" in s for s in before)
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=intruder.headers)
    assert r.status_code == 200, r.text
    assert sorted(m["Subject"] for m in outbox.messages_to(holder.email)) == before, "the holder's mails are all kept"
