"""The operator token (security review F8): wrong tokens are counted per client address and, past the
limit, that address is refused (429, Retry-After) until the window ends, the right token too; other
addresses are not affected. Operator answers are never cached."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from confide.app import create_app
from tests.conftest import running
from tests.privacy.conftest import hooked_client
from tests.test_errors import assert_problem

TOKEN = "operator-token-" + "t" * 32


async def test_wrong_operator_tokens_are_limited_per_address(backend):
    settings = backend.settings(operator_token=TOKEN, operator_token_failures_per_address=3, retention_job_enabled=False)
    guesser, other = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7", f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.8"
    async with running(create_app(settings)) as app, hooked_client(app, guesser) as c, hooked_client(app, other) as o:
        for token in ("x", "wrong", None):
            r = await c.get("/v1/admin/retention", headers={"X-Operator-Token": token} if token else {})
            assert_problem(r, 401, "unauthorized")
            assert r.headers["cache-control"] == "no-store"
        for headers in ({"X-Operator-Token": "again"}, {"X-Operator-Token": TOKEN}):
            r = await c.get("/v1/admin/retention", headers=headers)
            body = assert_problem(r, 429, "rate-limited")
            assert 0 < int(r.headers["retry-after"]) <= 900 and body["retry_after"] == int(r.headers["retry-after"])
        r = await o.get("/v1/admin/retention", headers={"X-Operator-Token": TOKEN})
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
        spec = (await o.get("/openapi.json")).json()
        assert "429" in spec["paths"]["/v1/admin/retention"]["get"]["responses"]


def test_a_short_operator_token_is_refused_at_start_up(backend):
    """The operator routes read contact messages and send the newsletter: a guessable token is no lock."""
    with pytest.raises(ValidationError) as refused:
        backend.settings(operator_token="op")
    assert "operator_token" in str(refused.value) and "32" in str(refused.value)
