"""/docs and /redoc load nothing from a third party: every script, style sheet, font and icon comes
from Confide itself (FastAPI's default pages load them from a CDN, and ReDoc its fonts from Google)."""

from __future__ import annotations

import re

import pytest

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
