"""The only cookie is `lang` (policy VI): set by PUT /v1/preferences/language, SameSite=Lax, Secure over
HTTPS, at most a year. The suite-wide audit in tests/support/cookies.py fails on any other cookie."""

from __future__ import annotations

import httpx
import pytest

from tests.privacy.conftest import hooked_client
from tests.support.cookies import SEEN, cookie_names, foreign_cookies, record_set_cookies


def attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}


async def test_language_cookie_over_http(client):
    r = await client.put("/v1/preferences/language", json={"language": "en-gb"})
    assert r.status_code == 200 and r.json() == {"language": "en-GB"}
    [header] = r.headers.get_list("set-cookie")
    assert header.startswith("lang=en-GB;")
    attrs = attributes(header)
    assert attrs["samesite"].lower() == "lax" and attrs["path"] == "/"
    assert 0 < int(attrs["max-age"]) <= 365 * 86400
    assert "secure" not in attrs, "plain HTTP cannot carry a Secure cookie"
    r = await client.get("/v1/preferences/language")
    assert r.json() == {"language": "en-GB"}, "the client sends it back"
    r = await client.delete("/v1/preferences/language")
    assert cookie_names(r) == ["lang"] and attributes(r.headers["set-cookie"])["max-age"] == "0"


async def test_language_cookie_is_secure_over_https(app):
    async with hooked_client(app, base_url="https://confide.test") as c:
        r = await c.put("/v1/preferences/language", json={"language": "de"})
        assert "secure" in attributes(r.headers["set-cookie"])


@pytest.mark.parametrize("language", ["english", "xx-YY-ZZ-123456789", "de;DE", "a" * 36, ""])
async def test_a_language_that_is_no_bcp47_tag_is_422(client, language):
    r = await client.put("/v1/preferences/language", json={"language": language})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.language"
    assert "set-cookie" not in r.headers


async def test_unknown_fields_are_refused(client):
    r = await client.put("/v1/preferences/language", json={"language": "de", "theme": "dark"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.theme"


async def test_no_route_in_a_tour_of_the_api_sets_another_cookie(client, factory):
    """A tour through sign-in, tenant work and privacy routes: every Set-Cookie is recorded by the hook."""
    before = len(SEEN)
    user = await factory.user(newsletter_opt_in=True)
    tenant = await factory.tenant(user)
    for method, url in [
        ("GET", "/v1/me"),
        ("GET", "/v1/me/export"),
        ("GET", f"/v1/tenants/{tenant}/privacy/instructions"),
        ("GET", f"/v1/tenants/{tenant}/privacy/processing-log"),
        ("GET", "/v1/privacy/notice"),
        ("POST", "/v1/auth/logout"),
    ]:
        await client.request(method, url, headers=user.headers)
    await client.put("/v1/preferences/language", json={"language": "fr"})
    names = [name for name, _ in SEEN[before:]]
    assert names == ["lang"]
    assert foreign_cookies(SEEN[before:]) == []


async def test_the_audit_catches_a_foreign_cookie():
    request = httpx.Request("POST", "http://confide.test/v1/auth/login")
    response = httpx.Response(200, headers=[("set-cookie", "session=abc; HttpOnly"), ("set-cookie", "lang=de")], request=request)
    seen: list[tuple[str, str]] = []
    before = len(SEEN)
    await record_set_cookies(response)
    seen.extend(SEEN[before:])
    del SEEN[before:]  # keep the suite's audit clean: this cookie never came from Confide
    assert seen == [("session", "POST /v1/auth/login"), ("lang", "POST /v1/auth/login")]
    assert foreign_cookies(seen) == [("session", "POST /v1/auth/login")]
