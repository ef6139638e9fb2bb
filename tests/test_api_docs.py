"""/docs and /redoc load nothing from a third party: every script, style sheet, font and icon comes
from Confide itself (FastAPI's default pages load them from a CDN, and ReDoc its fonts from Google). And the
schema they show declares how to authenticate: the bearer token, and the operator token as a security scheme."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI

from confide.core import openapi_errors
from confide.privacy.operators import operator

# Every address a page loads: src=, href= and url(...) in its HTML.
LOADED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_docs_load_only_from_confide(client, page):
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    addresses = [a or b for a, b in LOADED.findall(r.text)]
    assert addresses, "the page loads its scripts from somewhere"
    assert not [a for a in addresses if "//" in a], f"{page} loads from another host: {addresses}"
    assert "fonts.googleapis" not in r.text and "cdn.jsdelivr" not in r.text
    for address in addresses:
        if address.startswith("/docs-assets/"):
            asset = await client.get(address)
            assert asset.status_code == 200 and len(asset.content) > 1000, address
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200 and "/docs-assets" not in str(spec.json()["paths"])


async def test_the_operator_token_is_a_security_scheme(app: FastAPI, client):
    """X-Operator-Token is declared once, as an apiKey scheme in the header, and every route that needs it (those
    depending on privacy.operators.operator, all of /v1/admin) names it in its `security`, not as a header parameter."""
    spec = (await client.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert {key: schemes["OperatorToken"][key] for key in ("type", "in", "name")} == {"type": "apiKey", "in": "header", "name": "X-Operator-Token"}
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    needing = {
        (method.lower(), route.path_format)
        for route in openapi_errors._api_routes(app)
        if operator in openapi_errors._calls(route.dependant)
        for method in route.methods
    }
    secured, admin = set(), set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path.startswith("/v1/admin/"):
                admin.add((method, path))
            if {"OperatorToken": []} in operation.get("security", []):
                secured.add((method, path))
                assert operation["security"] == [{"OperatorToken": []}], (method, path)  # the operator token alone
            assert not [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"].lower() == "x-operator-token"], (method, path)
    assert len(secured) >= 13 and secured == needing == admin, secured ^ needing ^ admin


async def test_every_operation_has_a_description(client):
    """Every operation says, beyond its summary, what a caller needs to know: who may call it, paging and order, what
    happens to related data, limits, privacy effects. A summary alone is not enough, nor a description of a few words."""
    spec = (await client.get("/openapi.json")).json()
    operations = [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) > 100
    short = [(method, path, (op.get("description") or "").strip()) for method, path, op in operations if len((op.get("description") or "").strip()) < 40]
    assert not short, short
