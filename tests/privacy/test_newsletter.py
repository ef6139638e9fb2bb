"""Newsletter (policy IX): double opt-in with consent records, unsubscribe without logging in through the
signed link in every issue, withdrawal recorded; forged and used links answered clearly."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from confide.privacy.consent import truncate_address
from confide.privacy.models import ConsentRecord
from tests.privacy.conftest import OPERATOR, hooked_client

CONFIRM = re.compile(r"\b(cfn_[A-Za-z0-9_-]{20,})")
UNSUBSCRIBE = re.compile(r"\b(cfu_[A-Za-z0-9_.-]{20,})")


def last_match(outbox, address: str, pattern: re.Pattern[str]) -> str:
    for msg in reversed(outbox.messages_to(address)):
        found = pattern.search(msg.get_payload(decode=True).decode())
        if found:
            return found.group(1)
    raise AssertionError(f"nothing matching {pattern.pattern} mailed to {address}")


async def consent_records(app, user_id: str) -> list[ConsentRecord]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(ConsentRecord.id))).all())


async def send_issue(client, subject: str = "News") -> int:
    r = await client.post("/v1/admin/newsletter", json={"subject": subject, "body": "What is new at Confide."}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()["sent"]


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("nonsense", None),
        (None, None),
    ],
)
def test_addresses_are_truncated_to_their_network(address, network):
    assert truncate_address(address) == network


async def test_double_opt_in_from_registration_to_unsubscribe_link(app, factory, outbox):
    async with hooked_client(app, address="203.0.113.77") as client:
        user = await factory.user(newsletter_opt_in=True)
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "pending"
        assert await send_issue(client, "Before confirming") >= 0
        assert not [m for m in outbox.messages_to(user.email) if m["Subject"] == "Before confirming"], "nothing before confirmation"

        r = await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
        assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["confirmed_at"]
        r = await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
        assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token"), "a confirmation token works once"

        assert await send_issue(client, "Issue 1") >= 1
        issue = [m for m in outbox.messages_to(user.email) if m["Subject"] == "Issue 1"]
        assert len(issue) == 1
        text = issue[0].get_payload(decode=True).decode()
        assert "Hello ada" in text and "/newsletter/unsubscribe#token=cfu_" in text and "?token=" not in text

        token = last_match(outbox, user.email, UNSUBSCRIBE)
        r = await client.post("/v1/newsletter/unsubscribe", json={"token": token})
        assert r.status_code == 200 and r.json()["status"] == "none"
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
        assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False

        r = await client.post("/v1/newsletter/unsubscribe", json={"token": token})
        assert r.status_code == 400 and r.json()["type"].endswith("/unsubscribe-token-used")
        await send_issue(client, "Issue 2")
        assert not [m for m in outbox.messages_to(user.email) if m["Subject"] == "Issue 2"]

    records = await consent_records(app, user.id)
    assert [(r.action, r.channel) for r in records] == [("requested", "registration"), ("confirmed", "confirmation-mail"), ("withdrawn", "unsubscribe-link")]
    assert [r.ip_prefix for r in records] == ["127.0.0.0/24", "203.0.113.0/24", "203.0.113.0/24"], "registered via the factory's client"
    assert all(r.text_version == "newsletter-2024-01" and r.topic == "newsletter" for r in records)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0] + ".",
        lambda t: "cfu_nls_01aaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAA",
        lambda t: "cfn_" + t[4:],
        lambda t: "x" * 40,
    ],
)
async def test_forged_unsubscribe_tokens_are_400_with_their_own_type(client, factory, outbox, forge):
    user = await factory.user(newsletter_opt_in=True)
    await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
    await send_issue(client, "Forgery test")
    token = last_match(outbox, user.email, UNSUBSCRIBE)
    r = await client.post("/v1/newsletter/unsubscribe", json={"token": forge(token)})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-unsubscribe-token")
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"


async def test_subscribe_and_withdraw_in_the_account(app, client, factory, outbox):
    user = await factory.user()
    r = await client.get("/v1/me/newsletter", headers=user.headers)
    assert r.json()["status"] == "none" and r.json()["consent_version"] == "newsletter-2024-01"
    r = await client.delete("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-subscribed")

    r = await client.post("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    mail = outbox.messages_to(user.email)[-1]
    assert "Confirm your newsletter subscription" == mail["Subject"]
    assert "Yes, send me the Confide newsletter" in mail.get_payload(decode=True).decode()
    await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
    r = await client.post("/v1/me/newsletter", headers=user.headers)
    assert r.json()["status"] == "active", "subscribing again changes nothing"

    r = await client.delete("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 200 and r.json()["status"] == "none"
    assert [(c.action, c.channel) for c in await consent_records(app, user.id)] == [
        ("requested", "account"),
        ("confirmed", "confirmation-mail"),
        ("withdrawn", "account"),
    ]


async def test_restricted_accounts_get_no_newsletter(client, factory, outbox):
    user = await factory.user(newsletter_opt_in=True)
    await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
    await client.post("/v1/me/restriction", headers=user.headers)
    await send_issue(client, "While restricted")
    assert not [m for m in outbox.messages_to(user.email) if m["Subject"] == "While restricted"]
    r = await client.delete("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 200, "withdrawing consent is always possible"


async def test_confirmation_tokens_are_checked(client):
    r = await client.post("/v1/newsletter/confirm", json={"token": "cfn_" + "a" * 40})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    r = await client.post("/v1/newsletter/confirm", json={"token": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.token"
