"""Webhooks: endpoints (admins), signed deliveries to a real receiver, retries with backoff, the delivery
log, what a payload may carry, and each endpoint as a recipient in the records of processing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from confide.core import events
from confide.evaluation.models import WebhookDelivery
from confide.evaluation.webhooks import check_url, signature, verify_signature
from confide.settings import Settings
from tests.evaluation.helpers import chat_session, drain, set_instructions, settled, stored_conversation
from tests.evaluation.receiver import receiver

ALL = ["conversation.handoff_requested", "conversation.closed", "conversation.rating_received"]
DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"


async def _endpoint(client, shop, url: str, **body) -> dict:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks", json={"name": "CRM", "url": url, "events": ALL, **body}, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _closed(app, shop) -> str:  # noqa: ANN001
    """A stored conversation with text, and its close event emitted as the chat would; returns once its deliveries ended."""
    conversation_id = await stored_conversation(app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=datetime.now(UTC),
                                                turns=[("visitor", "Do you sell bicycles?", None, 0), ("avatar", "I don't know.", {"fallback": True}, 1)])
    app.state.services.events.emit(events.CONVERSATION_CLOSED, {"tenant_id": shop["tenant_id"], "conversation_id": conversation_id, "avatar_id": shop["avatar_id"], "closed_by": "operator"})
    await settled(app, shop["tenant_id"])
    return conversation_id


async def test_endpoints_are_managed_by_admins_with_safe_urls(client, factory, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/webhooks", shop["owner"].headers
    created = await _endpoint(client, shop, "http://127.0.0.1:9/hooks")
    assert created["secret"].startswith("whsec_") and created["include_text"] is False and created["events"] == ALL
    hook = f"{url}/{created['id']}"
    assert "secret" not in (await client.get(hook, headers=h)).json()
    r = await client.patch(hook, json={"events": ["conversation.closed"], "include_text": True, "url": "https://crm.example.com/confide"}, headers=h)
    assert r.status_code == 200 and r.json()["events"] == ["conversation.closed"] and r.json()["include_text"] is True
    rotated = (await client.post(f"{hook}/secret", headers=h)).json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    assert [w["id"] for w in (await client.get(url, headers=h)).json()["items"]] == [created["id"]]

    for bad in ("ftp://crm.example.com/x", "http://crm.example.com/x", "https://10.0.0.7/x", "https://169.254.169.254/latest", "https://192.168.1.10:8443/x",
                "https://user:pw@crm.example.com/x", "https://intranet/x", "crm.example.com", "https://crm.example.com:99999/x"):
        r = await client.post(url, json={"name": "Bad", "url": bad, "events": ALL}, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "body.url", bad
    for body, field in (({"events": []}, "body.events"), ({"events": ["conversation.started"]}, "body.events.0"), ({"secret": "mine"}, "body.secret")):
        r = await client.post(url, json={"name": "Bad", "url": "https://crm.example.com/x", "events": ALL, **body}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)

    operator = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    assert (await client.get(url, headers=operator.headers)).status_code == 403
    assert (await client.delete(hook, headers=h)).status_code == 204
    assert (await client.get(hook, headers=h)).status_code == 404

    production = Settings(_env_file=None)  # the setting is off by default: plain http and loopback are refused
    refused_urls = ["http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://localhost/x", "https://[::1]:8443/x"]
    # A fully qualified name's trailing dot hid an internal name from the check (fuzzing), and no DNS name is longer
    # than 253 characters, has a label over 63 or one that starts or ends with a hyphen.
    refused_urls += ["https://localhost./x", "https://metadata.google.internal./x", "https://foo.local./x", "https://intranet./x"]
    refused_urls += [f"https://{'a' * 64}.com/x", f"https://{'a.' * 127}com/x", "https://-a.com/x", "https://a-.com/x"]
    for refused in refused_urls:
        try:
            check_url(refused, production)
        except Exception as exc:  # noqa: BLE001
            assert "body.url" in str(exc)
        else:
            raise AssertionError(refused)
    assert check_url("https://crm.example.com/hooks?x=1", production) == "https://crm.example.com/hooks?x=1"
    assert check_url("https://crm.example.com./hooks", production) == "https://crm.example.com./hooks"
    assert check_url("https://b\u00fccher.example/h", production) == "https://xn--bcher-kva.example/h"


async def test_chat_events_arrive_signed_and_carry_text_only_where_allowed(app, base, client, shop):
    async with receiver() as ids_only, receiver() as with_text:
        plain = await _endpoint(client, shop, ids_only.url)
        texty = await _endpoint(client, shop, with_text.url, include_text=True, name="Ticketing")
        conversation_id = await chat_session(base, shop["widget_key"], ["Do you sell bicycles?", "I want to talk to a human"],
                                             rating={"score": 2, "comment": "too slow, call me on +49 170 1234567", "resolved": False})
        await drain(app)
        await ids_only.wait_for(3)
        await with_text.wait_for(3)

    for hook, got in ((plain, ids_only), (texty, with_text)):
        assert sorted(r.headers["confide-event"] for r in got.requests) == sorted(ALL)
        for request in got.requests:
            assert verify_signature(hook["secret"], request.headers["confide-signature"], request.body), request.headers
            assert request.headers["content-type"] == "application/json" and request.path == "/hooks/confide"
            body = request.json
            assert body["id"] == request.headers["confide-event-id"] and body["type"] == request.headers["confide-event"]
            assert body["tenant_id"] == shop["tenant_id"] and body["data"]["conversation_id"] == conversation_id
            assert "visitor_id" not in request.body.decode()
    for request in ids_only.requests:
        assert request.json["data"]["text_included"] is False
        assert "bicycles" not in request.body.decode() and "too slow" not in request.body.decode()
    handoff = ids_only.of("conversation.handoff_requested")[0].json["data"]
    assert handoff["reason"] == "missing_knowledge" or handoff["reason"] == "customer_request"
    rating = ids_only.of("conversation.rating_received")[0].json["data"]
    assert rating == {"conversation_id": conversation_id, "avatar_id": shop["avatar_id"], "score": 2, "resolved": False, "text_included": False}
    closed = with_text.of("conversation.closed")[0].json["data"]
    assert closed["text_included"] is True and closed["closed_by"] == "visitor" and closed["handed_off"] is True
    assert any("bicycles" in m["text"] for m in closed["transcript"]) and all(m["kind"] != "note" for m in closed["transcript"])
    assert with_text.of("conversation.rating_received")[0].json["data"]["comment"] == "too slow, call me on <PHONE_NUMBER>"  # redacted as a message is
    assert "bicycles" in str(with_text.of("conversation.handoff_requested")[0].json["data"]["recent_messages"])

    # Each endpoint is a recipient in the tenant's records of processing; sending text is in its processing log.
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/privacy/records", headers=shop["owner"].headers)
    recipients = {x["id"]: x for x in r.json()["recipients"]}
    assert set(recipients) == {plain["id"], texty["id"]}
    assert recipients[texty["id"]]["recipient"].endswith(with_text.url.rsplit("/hooks", 1)[0]) and recipients[texty["id"]]["events"] == ALL
    assert any("message text" in d for d in recipients[texty["id"]]["data"]) and not any("message text" in d for d in recipients[plain["id"]]["data"])
    # every field a payload may carry is named (the language was left out)
    assert all(any(word in d for d in recipients[plain["id"]]["data"]) for word in ("ids", "reason", "language", "customer reference"))
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/privacy/processing-log", params={"purpose": "export", "limit": 200}, headers=shop["owner"].headers)
    assert {e["actor"] for e in r.json()["items"]} == {f"webhook:{texty['id']}"}


async def test_no_text_leaves_when_transcripts_are_not_stored(app, client, shop):
    await set_instructions(client, app, shop["owner"], shop["tenant_id"], store_transcripts=False)
    async with receiver() as got:
        await _endpoint(client, shop, got.url, include_text=True)
        await _closed(app, shop)  # the text is still in storage here, and still must not be sent
        [request] = await got.wait_for(1)
    assert request.json["data"]["text_included"] is False and "transcript" not in request.json["data"]
    assert "bicycles" not in request.body.decode()


async def test_failed_deliveries_are_retried_with_backoff_and_logged(app, client, shop):
    async with receiver(fail_first=2) as got:
        hook = await _endpoint(client, shop, got.url, events=["conversation.closed"])
        await _closed(app, shop)
        requests = await got.wait_for(3)
    assert len(requests) == 3
    assert len({r.headers["confide-event-id"] for r in requests}) == 1  # one event, three attempts
    assert all(verify_signature(hook["secret"], r.headers["confide-signature"], r.body) for r in requests)
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{hook['id']}/deliveries", headers=shop["owner"].headers)
    log = sorted(r.json()["items"], key=lambda d: d["attempt"])
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [(1, 503, "retrying"), (2, 503, "retrying"), (3, 204, "delivered")]
    assert log[0]["error"] == "http_status" and log[2]["error"] is None and log[0]["event"] == "conversation.closed"
    assert set(WebhookDelivery.__table__.columns.keys()) == {"id", "tenant_id", "endpoint_id", "event_id", "event", "attempt", "status_code", "outcome", "error", "duration_ms", "at"}


async def test_client_errors_are_not_retried_and_attempts_are_bounded(app, client, shop):
    async with receiver(fail_first=100, fail_status=400) as refused, receiver(fail_first=100, fail_status=500) as broken:
        bad_request = await _endpoint(client, shop, refused.url, events=["conversation.closed"])
        erroring = await _endpoint(client, shop, broken.url, events=["conversation.closed"])
        await _closed(app, shop)
    assert len(refused.requests) == 1 and len(broken.requests) == app.state.settings.webhook_max_attempts == 4
    h = shop["owner"].headers
    outcomes = [(d["attempt"], d["outcome"]) for d in (await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{bad_request['id']}/deliveries", headers=h)).json()["items"]]
    assert outcomes == [(1, "failed")]
    log = (await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{erroring['id']}/deliveries", headers=h)).json()["items"]
    assert sorted((d["attempt"], d["outcome"]) for d in log) == [(1, "retrying"), (2, "retrying"), (3, "retrying"), (4, "failed")]


async def test_unreachable_receivers_and_ping(app, client, shop):
    from tests.support.server import free_port

    dead = await _endpoint(client, shop, f"http://127.0.0.1:{free_port()}/nobody", events=["conversation.closed"])
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks/{dead['id']}/ping", headers=shop["owner"].headers)
    assert r.status_code == 200 and r.json() == {**r.json(), "delivered": False, "attempts": 1, "status_code": None, "error": "connection_error"}
    async with receiver() as got:
        alive = await _endpoint(client, shop, got.url, events=["conversation.closed"])
        r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks/{alive['id']}/ping", headers=shop["owner"].headers)
        assert r.json() == {**r.json(), "delivered": True, "attempts": 1, "status_code": 204}
        [ping] = got.requests
    assert ping.json["type"] == "ping" and verify_signature(alive["secret"], ping.headers["confide-signature"], ping.body)


def test_signatures_and_replay_protection():
    secret, body = "whsec_test", b'{"id":"evt_1"}'
    now = int(time.time())
    header = signature(secret, now, body)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(secret, header, body)
    assert not verify_signature(secret, header, body + b" ")  # tampered body
    assert not verify_signature("whsec_other", header, body)  # another secret
    assert not verify_signature(secret, signature(secret, now - 301, body), body)  # replayed after the 5-minute window
    assert not verify_signature(secret, signature(secret, now + 301, body), body)
    assert not verify_signature(secret, "garbage", body)
    docs = DOCS.read_text()
    assert "Replay protection" in docs and "5 minutes" in docs and "Confide-Signature: t=" in docs


def test_the_api_documents_signing(app):
    operation = app.openapi()["paths"]["/v1/tenants/{tenant_id}/webhooks"]["post"]
    assert "HMAC-SHA256" in operation["description"] and "replay protection" in operation["description"]


def test_only_public_addresses_are_reachable():
    from confide.evaluation.webhooks import _reachable

    for address in ("93.184.216.34", "2606:4700::1111"):
        assert _reachable(address, allow_loopback=False), address
    for address in (
        "10.1.2.3", "192.168.0.1", "172.16.5.4", "100.64.0.1", "169.254.169.254", "127.0.0.1", "0.0.0.0", "::1", "::ffff:10.0.0.1", "fe80::1%eth0", "fd00::1",
        "64:ff9b::a00:1", "64:ff9b:1::a00:1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe", "::a00:1",  # IPv4 inside IPv6: NAT64, 6to4, Teredo, compatible
    ):  # fmt: skip
        assert not _reachable(address, allow_loopback=False), address
    assert _reachable("127.0.0.1", allow_loopback=True) and _reachable("::ffff:127.0.0.1", allow_loopback=True)
    assert not _reachable("10.1.2.3", allow_loopback=True), "the development setting opens loopback only"


async def test_a_name_that_resolves_inwards_is_refused_at_delivery(app, client, shop):
    """The URL passed its check when saved (here: loopback allowed); at delivery the host is resolved
    again and, without that allowance, `localhost` (a name resolving to 127.0.0.1 and ::1) is refused
    before any connection: nothing arrives, the log says why, and it is not retried."""
    from confide.evaluation.webhooks import WebhookDispatcher

    strict = WebhookDispatcher(app.state.sessionmaker, app.state.settings.model_copy(update={"webhook_allow_http_loopback": False}))
    try:
        async with receiver() as got:
            endpoint = await _endpoint(client, shop, got.url, events=["conversation.closed"])
            by_name = got.url.replace("127.0.0.1", "localhost")
            result = await strict.deliver(endpoint_id=endpoint["id"], url=by_name, secret=endpoint["secret"], event_id="evt_test", event="ping", body=b"{}", tenant_id=shop["tenant_id"])
            assert result == {"delivered": False, "attempts": 1, "status_code": None, "error": "refused_address"}
            assert got.requests == []
            literal = await strict.deliver(endpoint_id=endpoint["id"], url=got.url, secret=endpoint["secret"], event_id="evt_test2", event="ping", body=b"{}", tenant_id=shop["tenant_id"])
            assert literal["error"] == "refused_address", "an address literal is checked the same way"
    finally:
        await strict.aclose()
    log = (await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{endpoint['id']}/deliveries", headers=shop["owner"].headers)).json()["items"]
    assert sorted((d["attempt"], d["outcome"], d["error"]) for d in log) == [(1, "failed", "refused_address")] * 2


async def test_a_delivery_comes_once_what_the_api_shows_of_its_event_is_written(app, base, client, shop, monkeypatch):
    """The evaluator and the webhooks heard each event independently: a consumer reading the API on a `closed`
    delivery could get 404 for the metrics, on a `rating_received` one the old rating (review, 2026-12-01). The
    evaluation is slowed here so that a delivery built alongside it would arrive first."""
    evaluator = app.state.evaluation
    for name in ("evaluate_closed", "record_outcome"):
        original = getattr(evaluator, name)

        async def slowed(*args, original=original, **kwargs):  # noqa: ANN002, ANN003, ANN202
            await asyncio.sleep(0.5)
            return await original(*args, **kwargs)

        monkeypatch.setattr(evaluator, name, slowed)
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    async with receiver() as got:
        await _endpoint(client, shop, got.url, events=["conversation.closed", "conversation.rating_received"])
        conversation_id = await chat_session(base, shop["widget_key"], ["When are you open?"], rating={"score": 2, "resolved": False})
        await got.wait_for(2)  # built alongside the evaluation, both would be here long before it ends
        assert len(got.of("conversation.closed")) == len(got.of("conversation.rating_received")) == 1
        r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=h)
        assert r.status_code == 200 and r.json()["rating"] == 2, r.text
    await settled(app, tenant_id)
