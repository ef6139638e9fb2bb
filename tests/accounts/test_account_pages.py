"""The pages the confirmation and password-reset mails link to are served by Confide itself, and the
links carry the token in the fragment only, which no browser sends to a server."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.accounts.test_password_reset import RESET, anon, body_of, settled  # noqa: F401  (anon: a fixture)
from tests.conftest import random_email
from tests.support.factory import registration
from tests.support.outbox import TOKEN

PAGES = {"/account/verify-email": "/v1/accounts/verify", "/account/reset-password": "/v1/auth/password-reset/confirm"}
SCRIPT = "/account/pages.js"


@pytest.mark.parametrize("page", sorted(PAGES))
async def test_the_pages_are_served_without_cookies_and_locked_down(client, page):
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert f'<script src="{SCRIPT}" defer></script>' in r.text and "set-cookie" not in r.headers
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-content-type-options"] == "nosniff"
    again = await client.get(page, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_the_script_reads_the_fragment_and_posts_to_the_confirm_routes(client):
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
    """The one link into this server in a mail body: its path and its fragment."""
    links = [word for word in text.split() if word.startswith(app.state.settings.public_base_url)]
    assert len(links) == 1, links
    parts = urlsplit(links[0])
    assert parts.query == "" and "cft_" not in parts.path
    return parts.path, parts.fragment


async def test_mail_links_open_the_served_pages_with_the_token_in_the_fragment_only(app, client, anon, outbox):
    email = random_email()
    assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
    assert (await anon.post(RESET, json={"email": email})).status_code == 202
    await settled(app)
    confirmation, reset = outbox.messages_to(email)
    for mail, page in ((confirmation, "/account/verify-email"), (reset, "/account/reset-password")):
        path, fragment = the_link(app, body_of(mail))
        assert path == page and fragment == f"token={TOKEN.search(body_of(mail)).group(1)}"
        assert (await client.get(path)).status_code == 200  # what the browser asks for: the path, never the fragment
