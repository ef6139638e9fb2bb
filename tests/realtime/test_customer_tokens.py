"""The tenant-signed customer token (security review): a token that would live longer than a day is a
standing credential in a web page and is refused; a leaked secret can be ended at once on rotation."""

from __future__ import annotations

import time

import jwt

from tests.support.chat import connect, visitor


def _token(secret: str, *, exp_in: float, sub: str = "crm-4711") -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time() + exp_in)}, secret, algorithm="HS256")


async def _refused(base: str, widget_key: str, token: str) -> int:
    async with connect(f"{base}/v1/widget/{widget_key}/chat") as chat:
        await chat.send({"type": "hello", "customer_token": token})
        return (await chat.closed()).code


async def test_a_customer_token_may_live_a_day_at_most(base, shop, client):
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/customer-token-secret", headers=shop["owner"].headers)
    secret = r.json()["secret"]
    async with visitor(base, shop["widget_key"], customer_token=_token(secret, exp_in=23.9 * 3600)) as (_, welcome):
        assert welcome["type"] == "welcome"
    assert await _refused(base, shop["widget_key"], _token(secret, exp_in=2 * 86400)) == 4401
    assert await _refused(base, shop["widget_key"], _token(secret, exp_in=200 * 365 * 86400)) == 4401


async def test_rotation_keeps_the_previous_secret_unless_told_to_revoke_it(base, shop, client):
    url, headers = f"/v1/tenants/{shop['tenant_id']}/customer-token-secret", shop["owner"].headers
    first = (await client.post(url, headers=headers)).json()["secret"]
    second = (await client.post(url, headers=headers)).json()["secret"]
    async with visitor(base, shop["widget_key"], customer_token=_token(first, exp_in=600)) as (_, welcome):
        assert welcome["type"] == "welcome", "the previous secret overlaps the rotation"
    r = await client.post(url, json={"revoke_previous": True}, headers=headers)
    assert r.status_code == 201
    third = r.json()["secret"]
    assert await _refused(base, shop["widget_key"], _token(second, exp_in=600)) == 4401
    assert await _refused(base, shop["widget_key"], _token(first, exp_in=600)) == 4401
    async with visitor(base, shop["widget_key"], customer_token=_token(third, exp_in=600)) as (_, welcome):
        assert welcome["type"] == "welcome"
    r = await client.post(url, json={"revoke_previous": True, "keep": 1}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.keep"


async def test_a_customer_id_with_a_control_character_is_refused_as_a_bad_token(base, shop, client):
    """A NUL in `sub` reached the database: PostgreSQL refused it and the socket closed 1011 (review, 2026-12-01); C1 control
    characters, bidirectional overrides and a lone surrogate (which closed the socket 1011 too) came through (probe, 2026-12-02)."""
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/customer-token-secret", headers=shop["owner"].headers)
    secret = r.json()["secret"]
    # C0, DEL, C1 (NEL, CSI), a right-to-left override, a zero-width space, a BOM, a lone surrogate, a line separator
    for sub in ("crm\u0000x", "crm\nx", "crm\u007fx", "crm\u0085x", "crm\u009bx", "crm\u202ex", "crm\u200bx", "\ufeffcrm", "crm\ud800x", "crm\u2028x"):
        async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
            await chat.send({"type": "hello", "customer_token": _token(secret, exp_in=600, sub=sub)})
            closed = await chat.closed()
            assert closed.code == 4401, (sub, closed)
            assert chat.frames[-1]["problem"]["type"].endswith("/invalid-customer-token"), chat.frames
    for sub in ("crm 4711 ü", "Müller-Lüdenscheid", "客户-42", "עמית 7", "crm 😀"):  # letters of any script, spaces, symbols
        async with visitor(base, shop["widget_key"], customer_token=_token(secret, exp_in=600, sub=sub)) as (_, welcome):
            assert welcome["type"] == "welcome", sub
