"""Security headers (security review F10, F11): nosniff on every HTTP answer; no-store on answers to
requests with credentials or about /v1/me, unless the route chose its own Cache-Control; a
Content-Security-Policy and X-Frame-Options on the API documentation pages; /metrics behind an optional
bearer token; a chunked body over the limit answers 413 like one with Content-Length."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from pydantic import ValidationError

from confide.app import create_app
from tests.conftest import client_for, running
from tests.support.chat import shop_with_avatar, visitor
from tests.test_errors import assert_problem


async def test_nosniff_everywhere_and_no_store_for_credentials(client, factory):
    user = await factory.user()
    for path in ("/v1/me", "/v1/me/export"):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["x-content-type-options"] == "nosniff", path
    tenant = await factory.tenant(user)
    r = await client.get(f"/v1/tenants/{tenant}/reports", params={"format": "csv"}, headers=user.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    # A problem answer to a request with credentials, and one to a /v1/me path without any.
    r = await client.get(f"/v1/tenants/{tenant}/nothing", headers=user.headers)
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    r = await client.get("/v1/me")
    assert r.status_code == 401 and r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"


async def test_public_answers_keep_their_caching(client, factory):
    r = await client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff" and "cache-control" not in r.headers
    r = await client.get("/v1/nowhere")
    assert r.status_code == 404 and r.headers["x-content-type-options"] == "nosniff"
    user = await factory.user()
    # A route that sets its own Cache-Control keeps it, credentials or not.
    r = await client.get("/widget.js", headers=user.headers)
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public, max-age="), r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_docs_pages_carry_a_policy_that_lets_them_load(client):
    for path in ("/docs", "/redoc"):
        r = await client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        policy = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'", policy
        assert "http" not in r.headers["content-security-policy"], "no third-party origin: the docs' files are served by Confide"
        # Everything the page loads is on this server (no CDN), so 'self' covers it ...
        for url in re.findall(r'(?:src|href)="([^"]+)"', r.text):
            if url.startswith("http"):
                assert "favicon" in url, url  # ReDoc's default icon link is the one outside reference (an icon, img-src blocks it)
                continue
            assert url.startswith("/"), url
            assert (await client.get(url)).status_code == 200, url
        # ... and each inline script is allowed by its hash, nothing inline else.
        inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
        allowed = set(re.findall(r"'sha256-([^']+)'", policy["script-src"]))
        assert allowed == {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline}, path
        assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert "blob:" in policy["worker-src"]  # ReDoc's search worker


async def test_websockets_are_untouched(base, client, factory):
    """The middleware passes anything but HTTP through: a visitor's chat still opens and answers."""
    shop = await shop_with_avatar(client, factory)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        assert welcome["type"] == "welcome"
        await chat.send({"type": "ping"})
        while (frame := await chat.recv())["type"] != "pong":
            assert frame["type"] in ("message", "typing", "delta", "presence"), frame


async def test_a_chunked_body_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(40):
            yield b"x" * 65_536

    r = await client.post("/v1/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    body = assert_problem(r, 413, "payload-too-large")
    assert body["detail"] == "The request body is larger than 1048576 bytes."
    r = await client.post("/v1/auth/login", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert assert_problem(r, 413, "payload-too-large")["detail"] == body["detail"]


async def test_metrics_token(backend):
    token = "m" * 40
    async with running(create_app(backend.settings(metrics_token=token))) as app, client_for(app) as c:
        r = await c.get("/metrics")
        assert_problem(r, 401, "unauthorized")
        assert_problem(await c.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "confide_http_requests_total" in r.text
        assert r.headers["cache-control"] == "no-store"
        description = (await c.get("/openapi.json")).json()["paths"]["/metrics"]["get"]["description"]
        assert "CONFIDE_METRICS_TOKEN" in description and "internal" in description


def test_a_short_metrics_token_is_refused_at_start(backend):
    with pytest.raises(ValidationError, match="metrics_token"):
        backend.settings(metrics_token="x" * 31)


async def test_metrics_stay_open_without_a_token(client):
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
