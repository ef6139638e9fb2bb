"""Webhooks of one tenant cannot starve another's (security review F2): pings have connections of their own
and a per-tenant rate, a tenant has a bounded number of endpoints and a bounded share of the delivery
worker's slots. And only URLs httpx sends as they were checked are saved (F6), to public unicast
addresses only (F7), on port 443 unless the platform allows more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from confide.core import events
from confide.evaluation.models import WebhookEndpoint
from confide.evaluation.webhooks import _reachable, check_url
from confide.settings import Settings
from tests.evaluation.conftest import HUMAN_RULE
from tests.evaluation.helpers import settled, stored_conversation
from tests.evaluation.receiver import receiver
from tests.support.chat import published_avatar

ALL = ["conversation.handoff_requested", "conversation.closed", "conversation.rating_received"]


async def _tenant(client, factory) -> dict[str, Any]:  # noqa: ANN001
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Other GmbH")
    avatar = await published_avatar(client, owner, tenant_id, spec={"rules": [HUMAN_RULE]})
    return {"owner": owner, "tenant_id": tenant_id, **avatar}


async def _endpoint(client, shop, url: str, **body) -> dict:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks", json={"name": "CRM", "url": url, "events": ALL, **body}, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _close_events(app, shop, times: int = 1) -> str:  # noqa: ANN001
    """A stored conversation and `times` close events for it, as the chat would emit them (not awaited)."""
    conversation_id = await stored_conversation(app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=datetime.now(UTC),
                                                turns=[("visitor", "Hello", None, 0), ("avatar", "Hi.", None, 1)])
    for _ in range(times):
        app.state.services.events.emit(events.CONVERSATION_CLOSED, {"tenant_id": shop["tenant_id"], "conversation_id": conversation_id,
                                                                    "avatar_id": shop["avatar_id"], "closed_by": "operator"})
    return conversation_id


async def test_pings_to_a_tarpit_cannot_hold_up_another_tenants_delivery(app, client, factory, shop):
    """Tenant A's pings (more than the deliveries' client has connections) wait on a receiver that accepts and
    never answers; tenant B's delivery still arrives at once."""
    other = await _tenant(client, factory)
    dispatcher = app.state.webhooks
    async with receiver(hang=True) as tarpit, receiver() as got:
        trap = await _endpoint(client, shop, tarpit.url, events=["conversation.closed"])
        await _endpoint(client, other, got.url, events=["conversation.closed"])
        pings = [
            asyncio.create_task(dispatcher.deliver(endpoint_id=trap["id"], url=trap["url"], secret=trap["secret"], event_id=f"evt_tarpit{i}", event="ping",
                                                   body=b"{}", tenant_id=shop["tenant_id"]))
            for i in range(120)
        ]
        await tarpit.wait_for(10)  # pings are hanging there
        await asyncio.sleep(0.2)  # and the rest are waiting for connections
        await _close_events(app, other)
        await settled(app, other["tenant_id"], timeout=3)  # the webhook timeout here is 5 s: waiting for a connection would take longer
        [delivered] = got.requests
        assert delivered.json["type"] == "conversation.closed"
    results = await asyncio.wait_for(asyncio.gather(*pings), 30)  # the tarpit let go when it closed
    assert all(r["error"] in (None, "timeout", "connection_error") for r in results), {r["error"] for r in results}


async def test_pings_are_rate_limited_per_tenant(app, client, factory, shop):
    limit = app.state.settings.webhook_pings_per_minute
    other = await _tenant(client, factory)
    async with receiver() as got:
        hook = await _endpoint(client, shop, got.url)
        theirs = await _endpoint(client, other, got.url)
        ping = f"/v1/tenants/{shop['tenant_id']}/webhooks/{hook['id']}/ping"
        for _ in range(limit):
            r = await client.post(ping, headers=shop["owner"].headers)
            assert r.status_code == 200 and r.json()["delivered"] is True, r.text
        r = await client.post(ping, headers=shop["owner"].headers)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["type"].endswith("/rate-limited") and int(r.headers["retry-after"]) == r.json()["retry_after"] > 0
        assert len(got.requests) == limit  # the refused ping was not sent
        # Another tenant's pings are counted apart.
        r = await client.post(f"/v1/tenants/{other['tenant_id']}/webhooks/{theirs['id']}/ping", headers=other["owner"].headers)
        assert r.status_code == 200 and r.json()["delivered"] is True
    spec = app.openapi()["paths"]["/v1/tenants/{tenant_id}/webhooks/{webhook_id}/ping"]["post"]
    assert "429" in spec["responses"] and "Retry-After" in spec["responses"]["429"]["headers"]


async def test_a_tenant_has_a_bounded_number_of_endpoints(app, client, factory, shop):
    cap = app.state.settings.webhook_endpoints_per_tenant
    assert cap == 20
    url, h = f"/v1/tenants/{shop['tenant_id']}/webhooks", shop["owner"].headers
    created = [await _endpoint(client, shop, f"https://crm{i}.example.com/hooks") for i in range(cap)]
    r = await client.post(url, json={"name": "One more", "url": "https://crm.example.com/hooks", "events": ALL}, headers=h)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["type"].endswith("/conflict") and f"at most {cap} webhook endpoints" in r.json()["detail"], r.text
    documented = app.openapi()["paths"]["/v1/tenants/{tenant_id}/webhooks"]["post"]["responses"]["409"]["description"]
    assert "CONFIDE_WEBHOOK_ENDPOINTS_PER_TENANT" in documented and "`conflict`" in documented, documented
    # Another tenant is not counted with it; removing one makes room.
    other = await _tenant(client, factory)
    await _endpoint(client, other, "https://crm.example.com/hooks")
    assert (await client.delete(f"{url}/{created[0]['id']}", headers=h)).status_code == 204
    await _endpoint(client, shop, "https://crm.example.com/hooks")


async def test_one_tenant_cannot_take_every_delivery_slot(app, client, factory, shop):
    """Five endpoints of tenant A (4 attempts in flight each would fill the node's 20 slots) hang; tenant B's
    delivery goes out at once, while A holds at most its share."""
    from confide.evaluation import webhook_deliveries

    other = await _tenant(client, factory)
    worker = app.state.webhooks.worker
    async with receiver(hang=True) as tarpit, receiver() as got:
        for i in range(5):
            await _endpoint(client, shop, tarpit.url, events=["conversation.closed"], name=f"Hanging {i}")
        await _endpoint(client, other, got.url, events=["conversation.closed"])
        await _close_events(app, shop, times=5)  # 25 deliveries
        await app.state.services.events.drain()
        await tarpit.wait_for(8)
        await asyncio.sleep(0.3)  # every slot A may take, taken
        hanging = sum(1 for c, _ in worker._flying.values() if c.tenant_id == shop["tenant_id"])  # noqa: SLF001
        await _close_events(app, other)
        await settled(app, other["tenant_id"], timeout=3)  # an attempt times out after 5 s here
        assert len(got.requests) == 1
        assert hanging == webhook_deliveries.PER_TENANT < webhook_deliveries.SLOTS
    await settled(app, shop["tenant_id"], timeout=30)


BAD_URLS = [
    "https://crm.exa\tmple.com/x",  # urlsplit drops tab, CR and LF silently; httpx refuses them
    "https://crm.example.com/x\r\nX-Injected: 1",
    "https://crm.example.com/a b",
    "https://0177.0.0.1/x",  # octal
    "https://0x7f.0.0.1/x",  # hex
    "https://127.1/x",  # short
    "https://2130706433/x",  # one number
    "https://8.8.8.8./x",  # trailing dot
    "https://010.8.8.8/x",
    "https://crm.example.com:8443/x",  # port other than 443
    "https://crm.example.com:80/x",
    "https://crm.example.com:0/x",
    "https://[::ffff:0:7f00:1]/x",  # IPv4-translated
    "https://[fec0::1]/x",  # site-local
    "https://224.0.0.1/x",  # multicast
    "https://239.255.255.250/x",
    "https://[ff02::1]/x",
    "https://[ff0e::1]/x",
    "https://cr%6d.example.com/x",
]


@pytest.mark.parametrize("bad", BAD_URLS)
async def test_bad_urls_are_refused_naming_the_field(client, shop, bad):
    url, h = f"/v1/tenants/{shop['tenant_id']}/webhooks", shop["owner"].headers
    r = await client.post(url, json={"name": "Bad", "url": bad, "events": ALL}, headers=h)
    assert r.status_code == 422, (bad, r.text)
    assert r.json()["errors"][0]["field"] == "body.url", (bad, r.text)
    hook = await _endpoint(client, shop, "https://crm.example.com/x")
    r = await client.patch(f"{url}/{hook['id']}", json={"url": bad}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.url", (bad, r.text)


def test_urls_are_stored_as_they_are_sent_and_ports_are_a_setting():
    production = Settings(_env_file=None)
    assert production.webhook_allowed_ports == [443]
    assert check_url("https://CRM.Example.com:443/hooks?x=1", production) == "https://crm.example.com/hooks?x=1"
    assert check_url("https://bücher.example/hooks", production) == "https://xn--bcher-kva.example/hooks"
    assert check_url("https://93.184.216.34/hooks", production) == "https://93.184.216.34/hooks"
    wider = production.model_copy(update={"webhook_allowed_ports": [443, 8443]})
    assert check_url("https://crm.example.com:8443/hooks", wider) == "https://crm.example.com:8443/hooks"
    for refused in ("https://crm.example.com:8443/hooks", "http://crm.example.com/hooks"):
        with pytest.raises(Exception, match="body.url"):
            check_url(refused, production)
    with pytest.raises(Exception, match="body.url"):
        check_url("https://crm.example.com:9443/hooks", wider)
    # In development, loopback takes any port (the test receivers run on random ones).
    dev = production.model_copy(update={"webhook_allow_http_loopback": True})
    assert check_url("http://127.0.0.1:8123/hooks", dev) == "http://127.0.0.1:8123/hooks"


def test_multicast_site_local_and_translated_addresses_are_not_reachable():
    for address in ("::ffff:0:7f00:1", "::ffff:0:a00:1", "fec0::1", "feff::1", "224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1", "240.0.0.1"):
        assert not _reachable(address, allow_loopback=False), address
        assert not _reachable(address, allow_loopback=True), address
    assert _reachable("93.184.216.34", allow_loopback=False) and _reachable("2606:4700::1111", allow_loopback=False)


async def test_a_url_httpx_cannot_send_is_an_error_of_the_attempt_never_a_500(app, client, shop):
    """An endpoint saved before URLs were parsed as httpx does: its ping answers 200 with the error, and its
    deliveries fail once, not retried."""
    hook = await _endpoint(client, shop, "https://crm.example.com/x", events=["conversation.closed"])
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == hook["id"]).values(url="https://0177.0.0.1/x"))
        await session.commit()
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks/{hook['id']}/ping", headers=shop["owner"].headers)
    assert r.status_code == 200, r.text
    assert r.json() == {**r.json(), "delivered": False, "attempts": 1, "status_code": None, "error": "invalid_url"}
    await _close_events(app, shop)
    await settled(app, shop["tenant_id"])
    log = (await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{hook['id']}/deliveries", headers=shop["owner"].headers)).json()["items"]
    assert sorted((d["event"], d["attempt"], d["outcome"], d["error"]) for d in log) == [
        ("conversation.closed", 1, "failed", "invalid_url"), ("ping", 1, "failed", "invalid_url")
    ]


async def test_endpoints_this_server_no_longer_sends_to_are_named_at_start(app, client, shop, caplog):
    """An endpoint saved under a wider CONFIDE_WEBHOOK_ALLOWED_PORTS (or before a URL check existed) fails every
    delivery once the setting narrows: the node says so in its log at start, by id, so the operator need not
    learn it from the tenant."""
    kept = await _endpoint(client, shop, "https://crm.example.com/x", events=["conversation.closed"])
    moved = await _endpoint(client, shop, "https://crm.example.com/y", events=["conversation.closed"])
    paused = await _endpoint(client, shop, "https://crm.example.com/z", events=["conversation.closed"])
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == moved["id"]).values(url="https://crm.example.com:8443/y"))
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == paused["id"]).values(url="https://crm.example.com:8443/z", active=False))
        await session.commit()
    production = app.state.settings.model_copy(update={"webhook_allow_http_loopback": False, "webhook_allowed_ports": [443]})
    dispatcher = app.state.webhooks
    original = dispatcher.settings
    dispatcher.settings = production
    try:
        with caplog.at_level("WARNING", logger="confide.evaluation.webhooks"):
            unsendable = await dispatcher.warn_unsendable()
    finally:
        dispatcher.settings = original
    mine = {kept["id"], moved["id"], paused["id"]}  # the session's database holds other tests' endpoints (loopback receivers) too
    assert [i for i in unsendable if i in mine] == [moved["id"]]
    [record] = [r for r in caplog.records if r.getMessage().startswith("webhook endpoints with a URL")]
    assert record.count == len(unsendable) and record.endpoint_ids == unsendable[:50]  # the first 50 named, all counted
    assert "crm.example.com" not in record.getMessage() + str(record.endpoint_ids)  # ids, never the tenant's URLs
