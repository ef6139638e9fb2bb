"""The pages mailed links open (confirm an address, reset a password, object to the storing of contact
messages, confirm and leave the newsletter) are served by Confide itself, and the links carry the token in
the fragment only, which no browser sends to a server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from confide.privacy.consent import send_newsletter
from tests.accounts.test_password_reset import RESET, anon, body_of, settled  # noqa: F401  (anon: a fixture)
from tests.conftest import random_email
from tests.support.factory import registration
from tests.support.outbox import TOKEN

PAGES = {
    "/account/verify-email": "/v1/accounts/verify",
    "/account/reset-password": "/v1/auth/password-reset/confirm",
    "/contact/objection": "/v1/contact/objection",
    "/newsletter/confirm": "/v1/newsletter/confirm",
    "/newsletter/unsubscribe": "/v1/newsletter/unsubscribe",
}
SCRIPT = "/mail-link-pages.js"
LINK_TOKEN = re.compile(r"\b(cf[a-z]_[A-Za-z0-9_.-]{20,})")


@pytest.mark.parametrize("page", sorted(PAGES))
async def test_the_pages_are_served_without_cookies_and_locked_down(client, page):
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert f'<script src="{SCRIPT}" defer></script>' in r.text and "set-cookie" not in r.headers
    assert "$" not in r.text, "every placeholder of the template is filled"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-cache"
    again = await client.get(page, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_each_page_names_its_own_action_of_the_one_script(client):
    actions = [re.search(r'<body data-page="([a-z-]+)">', (await client.get(page)).text).group(1) for page in sorted(PAGES)]
    script = (await client.get(SCRIPT)).text
    assert len(set(actions)) == len(PAGES)
    for action in actions:
        assert re.search(rf'^    "?{action}"?: {{$', script, re.MULTILINE), f"the script has no action {action}"


async def test_the_script_reads_the_fragment_and_posts_to_the_api_routes(client):
    r = await client.get(SCRIPT)
    assert r.status_code == 200 and r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert "window.location.hash" in r.text and "replaceState" in r.text
    for route in PAGES.values():
        assert f'"{route}"' in r.text
    assert "location.search" not in r.text and "innerHTML" not in r.text


@pytest.mark.parametrize("page", sorted(PAGES))
async def test_a_token_in_the_query_is_refused_not_served(client, page):
    r = await client.get(page, params={"token": "cft_" + "x" * 40})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["query.token"]


def the_link(app, text: str) -> tuple[str, str]:  # noqa: ANN001
    """The one link into this server with a token in a mail body: its path and its fragment, which holds the
    token and nothing else; the path and query hold none, and no other link (the privacy notice's) holds one."""
    links = [word for word in text.split() if word.startswith(app.state.settings.public_base_url)]
    assert not [link for link in links if "#" not in link and (LINK_TOKEN.search(link) or "token" in link)], links
    links = [link for link in links if "#" in link]
    assert len(links) == 1, links
    parts = urlsplit(links[0])
    token = LINK_TOKEN.fullmatch(parts.fragment.removeprefix("token="))
    assert parts.fragment.startswith("token=") and token, parts.fragment
    assert parts.query == "" and token.group(1) not in parts.path
    return parts.path, parts.fragment


async def test_mail_links_open_the_served_pages_with_the_token_in_the_fragment_only(app, client, anon, outbox):
    email = random_email()
    assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
    await settled(app)  # the account is created after the answer: a reset asked for before finds none
    assert (await anon.post(RESET, json={"email": email})).status_code == 202
    await settled(app)
    confirmation, reset = outbox.messages_to(email)
    for mail, page in ((confirmation, "/account/verify-email"), (reset, "/account/reset-password")):
        path, fragment = the_link(app, body_of(mail))
        assert path == page and fragment == f"token={TOKEN.search(body_of(mail)).group(1)}"
        assert (await client.get(path)).status_code == 200  # what the browser asks for: the path, never the fragment


async def newsletter_issue(app, subject: str) -> None:
    """Mail an issue to every confirmed subscriber, as the operator's POST /v1/admin/newsletter does."""
    async with app.state.sessionmaker() as session:
        await send_newsletter(session, app.state.services, subject=subject, body="What is new at Confide.")


async def test_privacy_mail_links_open_the_served_pages_with_the_token_in_the_fragment_only(app, client, factory, outbox):
    """The contact acknowledgement, the newsletter confirmation and every newsletter link to their pages."""
    user = await factory.user(newsletter_opt_in=True)
    confirmation = outbox.messages_to(user.email)[-1]
    path, fragment = the_link(app, body_of(confirmation))
    assert path == "/newsletter/confirm"
    assert (await client.post("/v1/newsletter/confirm", json={"token": fragment.removeprefix("token=")})).status_code == 200

    subject = f"Issue {random_email()}"
    await newsletter_issue(app, subject)
    (issue,) = [m for m in outbox.messages_to(user.email) if m["Subject"] == subject]
    path, fragment = the_link(app, body_of(issue))
    assert path == "/newsletter/unsubscribe"
    assert (await client.post("/v1/newsletter/unsubscribe", json={"token": fragment.removeprefix("token=")})).status_code == 200

    email = random_email()
    r = await client.post("/v1/contact", json={"name": "Grace Hopper", "email": email, "message": "Hello", "consent": True})
    assert r.status_code == 202, r.text
    (acknowledgement,) = outbox.messages_to(email)
    path, fragment = the_link(app, body_of(acknowledgement))
    assert path == "/contact/objection"
    r = await client.post("/v1/contact/objection", json={"token": fragment.removeprefix("token=")})
    assert r.status_code == 200 and r.json()["deleted"] == 1
