"""Newsletter (policy IX): double opt-in with consent records, unsubscribe without logging in through the
signed link in every issue and through the one-click List-Unsubscribe headers (RFC 8058) a mail client uses,
withdrawal recorded; forged and used links answered clearly."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from confide.core.access_log import AccessLog
from confide.core.mail import KIND_HEADER, SmtpMailer
from confide.privacy.consent import truncate_address
from confide.privacy.models import ConsentRecord
from tests.privacy.conftest import OPERATOR, hooked_client
from tests.support.smtp import smtp_relay

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
    assert all(r.text_version == "newsletter-2026-12" and r.topic == "newsletter" for r in records)


FORGERIES = [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: t.split(".")[0] + ".",
    lambda t: "cfu_nls_01aaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAA",
    lambda t: "cfn_" + t[4:],
    lambda t: "x" * 40,
]


@pytest.mark.parametrize("forge", FORGERIES)
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
    assert r.json()["status"] == "none" and r.json()["consent_version"] == "newsletter-2026-12"
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


async def test_a_restricted_account_confirms_no_subscription_until_the_restriction_is_lifted(app, client, factory, outbox):
    """A restricted account makes no changes (Art. 18): a confirmation link mailed before the restriction made the
    subscription active and recorded consent all the same (a review found it). Lifted, the same link works."""
    user = await factory.user(newsletter_opt_in=True)
    token = last_match(outbox, user.email, CONFIRM)
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await client.post("/v1/newsletter/confirm", json={"token": token})
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted") and "restricted" in r.json()["detail"], r.text
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "pending"
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False
    assert [c.action for c in await consent_records(app, user.id)] == ["requested"]
    assert (await client.delete("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await client.post("/v1/newsletter/confirm", json={"token": token})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


async def test_confirmation_tokens_are_checked(client):
    r = await client.post("/v1/newsletter/confirm", json={"token": "cfn_" + "a" * 40})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    r = await client.post("/v1/newsletter/confirm", json={"token": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.token"


# One-click unsubscribe (RFC 2369 List-Unsubscribe, RFC 8058 List-Unsubscribe-Post)

ONE_CLICK = "/v1/newsletter/one-click-unsubscribe"
ONE_CLICK_FORM = {"content": b"List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
LIST_UNSUBSCRIBE = re.compile(r"<(https?://[^<>\s]+)>")


async def subscribed_with_issue(client, factory, outbox, subject: str):  # noqa: ANN201
    """A confirmed subscriber and the one issue mailed to them."""
    user = await factory.user(newsletter_opt_in=True)
    assert (await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})).status_code == 200
    assert await send_issue(client, subject) >= 1
    issue = [m for m in outbox.messages_to(user.email) if m["Subject"] == subject]
    assert len(issue) == 1
    return user, issue[0]


def one_click_target(issue) -> str:  # noqa: ANN001
    """The path and query a mail client POSTs to: the URL of the issue's List-Unsubscribe header."""
    found = LIST_UNSUBSCRIBE.fullmatch(issue["List-Unsubscribe"])
    assert found, f"List-Unsubscribe is not one <URL>: {issue['List-Unsubscribe']!r}"
    url = urlsplit(found.group(1))
    return f"{url.path}?{url.query}"


async def test_an_issue_carries_one_click_headers_whose_url_unsubscribes(app, factory, outbox):
    async with hooked_client(app, address="198.51.100.23") as client:
        user, issue = await subscribed_with_issue(client, factory, outbox, "One-click issue")
        token = last_match(outbox, user.email, UNSUBSCRIBE)
        base = app.state.settings.public_base_url
        assert issue["List-Unsubscribe"] == f"<{base}{ONE_CLICK}?token={token}>", "the token of the mail's own link, unfolded and unencoded"
        assert issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # What a mail client does: POST the RFC 8058 body to the URL, without cookies or login.
        r = await client.post(one_click_target(issue), **ONE_CLICK_FORM)
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "none", "consent_version": "newsletter-2026-12", "requested_at": None, "confirmed_at": None}
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
        assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False

        again = await client.post(one_click_target(issue), **ONE_CLICK_FORM)
        assert again.status_code == 200 and again.json() == r.json(), "a repeated one-click is no failure to the mail client"
        await send_issue(client, "After one-click")
        assert not [m for m in outbox.messages_to(user.email) if m["Subject"] == "After one-click"]

    records = await consent_records(app, user.id)
    assert [(c.action, c.channel) for c in records] == [("requested", "registration"), ("confirmed", "confirmation-mail"), ("withdrawn", "one-click")]
    assert records[-1].ip_prefix == "198.51.100.0/24", "the second POST recorded nothing"

    await app.state.access_log.flush()
    async with app.state.sessionmaker() as session:
        logged = (await session.scalars(select(AccessLog.route).where(AccessLog.ip == "198.51.100.23", AccessLog.method == "POST"))).all()
    assert logged.count(ONE_CLICK) == 2, logged
    assert not [route for route in logged if "cfu_" in route or "token" in route], "the token stays out of the access log"


async def test_one_click_posts_at_the_same_moment_withdraw_once(app, client, factory, outbox):
    """Mail clients and scanners may send the one-click POST several times at once: the subscription's row is
    locked while it is withdrawn, so only one withdrawal is recorded (each used to find it active and record one)."""
    user, issue = await subscribed_with_issue(client, factory, outbox, "Issue clicked five times")
    answers = await asyncio.gather(*(client.post(one_click_target(issue), **ONE_CLICK_FORM) for _ in range(5)))
    assert [r.status_code for r in answers] == [200] * 5
    records = await consent_records(app, user.id)
    assert [(c.action, c.channel) for c in records].count(("withdrawn", "one-click")) == 1


async def test_one_click_also_takes_a_multipart_form(client, factory, outbox):
    user, issue = await subscribed_with_issue(client, factory, outbox, "One-click multipart")
    r = await client.post(one_click_target(issue), files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200, r.text
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"


@pytest.mark.parametrize("forge", FORGERIES)
async def test_one_click_refuses_forged_tokens(client, factory, outbox, forge):
    user, _ = await subscribed_with_issue(client, factory, outbox, "One-click forgery")
    token = last_match(outbox, user.email, UNSUBSCRIBE)
    r = await client.post(ONE_CLICK, params={"token": forge(token)}, **ONE_CLICK_FORM)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/invalid-unsubscribe-token")
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"


@pytest.mark.parametrize(
    "request_body",
    [
        {},
        {"content": b""},
        {"content": b"List-Unsubscribe=Yes", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"content": b"Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"content": b"List-Unsubscribe=One-Click&List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": {"List-Unsubscribe": "One-Click"}},
        {"files": {"List-Unsubscribe": (None, "Yes")}},
        {"files": {"List-Unsubscribe": ("one-click.txt", b"One-Click", "text/plain")}},
        {"content": b"--x\r\nnot a part", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    ],
)
async def test_one_click_refuses_any_other_body(client, factory, outbox, request_body):
    user, issue = await subscribed_with_issue(client, factory, outbox, "One-click body")
    r = await client.post(one_click_target(issue), **request_body)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/not-one-click") and "List-Unsubscribe=One-Click" in r.json()["detail"]
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"


async def test_one_click_needs_a_post_with_a_token(client, factory, outbox):
    user, issue = await subscribed_with_issue(client, factory, outbox, "One-click method")
    r = await client.get(one_click_target(issue))
    assert r.status_code == 405, "opening the URL, as a mail scanner does, unsubscribes nobody"
    r = await client.post(ONE_CLICK, **ONE_CLICK_FORM)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["query.token"]
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"


async def test_only_newsletter_issues_carry_list_unsubscribe(client, factory, outbox):
    user, _ = await subscribed_with_issue(client, factory, outbox, "One-click kinds")
    kinds = {m[KIND_HEADER]: m for m in outbox.messages_to(user.email)}
    assert {"verification", "newsletter-confirmation", "newsletter"} <= kinds.keys()
    assert kinds["newsletter"]["List-Unsubscribe"] and kinds["newsletter"]["List-Unsubscribe-Post"]
    for kind in kinds.keys() - {"newsletter"}:
        assert kinds[kind]["List-Unsubscribe"] is None and kinds[kind]["List-Unsubscribe-Post"] is None, kind


async def test_one_click_is_documented(client):
    operation = (await client.get("/openapi.json")).json()["paths"][ONE_CLICK]["post"]
    assert operation["summary"] and "RFC 8058" in operation["description"] and "newsletter" in operation["tags"]
    assert {"200", "400", "422"} <= operation["responses"].keys()
    assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
    assert [p["name"] for p in operation["parameters"]] == ["token"]


async def test_an_issue_the_mail_server_stops_taking_part_way_resumes_for_the_rest_only(app, client, factory, outbox, monkeypatch):
    """Over real SMTP (a local relay): the run stops at the first mail the relay refuses and says how far it came; the
    same issue sent again with its `resume_after` reaches only those it missed, so nobody gets it twice. Refused from
    the first mail: 503, nobody got it."""
    users = [await factory.user(newsletter_opt_in=True) for _ in range(3)]
    for user in users:
        r = await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
        assert r.status_code == 200, r.text
    with smtp_relay() as relay:
        monkeypatch.setattr(app.state.services, "mailer", SmtpMailer(app.state.settings.mail_from, "127.0.0.1", relay.port, None, None, False))
        relay.refusing = {users[1].email, users[2].email}  # subscriptions go in order: the first gets it, then the relay stops
        r = await client.post("/v1/admin/newsletter", json={"subject": "Resumable", "body": "News."}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        run = r.json()
        assert run["not_sent"] == 2 and run["resume_after"], run
        assert [len(relay.received(u.email, "Resumable")) for u in users] == [1, 0, 0]

        relay.refusing = set()
        r = await client.post("/v1/admin/newsletter", json={"subject": "Resumable", "body": "News.", "resume_after": run["resume_after"]}, headers=OPERATOR)
        assert r.status_code == 200 and r.json() == {"sent": 2, "not_sent": 0, "resume_after": None}, r.text
        assert [len(relay.received(u.email, "Resumable")) for u in users] == [1, 1, 1], "the rest got it, nobody twice"

        relay.refuse_all = True
        r = await client.post("/v1/admin/newsletter", json={"subject": "Nobody", "body": "News."}, headers=OPERATOR)
        assert r.status_code == 503 and r.json()["type"].endswith("/service-unavailable"), r.text
        assert not any(relay.received(u.email, "Nobody") for u in users)


async def test_the_consent_and_its_confirmation_mail_refer_to_the_privacy_notice(app, client, factory, outbox):
    """Policy IX.1: on consent "reference is made to this privacy policy". Neither the consent text nor the mail said
    where it is; the mail now gives the notice's address and version, and the notice states the one it refers to."""
    notice = (await client.get("/v1/privacy/notice")).json()
    settings = app.state.settings
    url = f"{settings.public_base_url}/v1/privacy/notice"
    assert notice["url"] == url and notice["newsletter"]["privacy_notice"] == url
    assert "privacy notice" in notice["newsletter"]["consent_text"]
    assert notice["newsletter"]["consent_version"] != "newsletter-2024-01", "a changed text is a new version"
    user = await factory.user(newsletter_opt_in=True)
    [confirmation] = [m for m in outbox.messages_to(user.email) if m["Subject"] == "Confirm your newsletter subscription"]
    text = confirmation.get_payload(decode=True).decode()
    assert notice["newsletter"]["consent_text"] in text
    assert f"privacy notice (version {notice['policy_version']}) at {url}" in text
