"""Response fields whose values are a fixed set are enums in the OpenAPI document, so clients can generate
them; and for the riskiest ones (a conversation's status, an erasure request's status) every value is
produced through the real flow and read back through the API, so a value the code writes but the enum
lacks fails here (a 500 from response validation) rather than at a customer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from confide.privacy.erasure_worker import MAX_ATTEMPTS, ErasureWorker
from tests.chats.conftest import make_conversation
from tests.support.chat import operator, shop_with_avatar, visitor
from tests.support.erasure import worker_held_off

# (schema, field) -> the values the code can produce (see the schemas' Literal types for where they come from).
EXPECTED: dict[tuple[str, str], set[str]] = {
    # chats
    ("ConversationOut", "status"): {"avatar", "waiting", "operator", "closed", "erased"},
    ("TranscriptOut", "status"): {"avatar", "waiting", "operator", "closed", "erased"},
    ("ConversationOut", "handoff_reason"): {"customer_request", "policy_restriction", "decision_required"},
    ("TranscriptOut", "handoff_reason"): {"customer_request", "policy_restriction", "decision_required"},
    ("MessageOut", "kind"): {"message", "event", "note"},
    ("MessageOut", "author"): {"visitor", "avatar", "operator", "system"},
    ("MessageOut", "event"): {"handoff", "operator_joined", "operator_left", "closed", "reopened", "rating"},
    ("RuleHitOut", "direction"): {"input", "output"},
    ("ErasureAcceptedOut", "status"): {"pending", "running", "done", "failed"},
    ("ErasureAcceptedOut", "scope"): {"conversation"},
    ("BulkOut", "action"): {"tag", "untag", "assign", "unassign", "close", "reopen", "delete"},
    ("BulkResult", "outcome"): {"done", "unchanged", "accepted", "not_found", "conflict"},
    # tenants' data rights
    ("ErasureRequestOut", "status"): {"pending", "running", "done", "failed"},
    ("ErasureRequestOut", "scope"): {"visitor", "customer", "conversation", "before", "tenant", "ledger"},
    ("ErasureRequestOut", "origin"): {"tenant", "ledger"},
    ("Actor", "kind"): {"user", "api_key", "system", "erased"},
    ("LegalHoldOut", "scope"): {"conversation", "visitor", "customer"},
    # privacy
    ("Author", "kind"): {"user", "api_key", "erased"},
    ("ProcessingLogOut", "purpose"): {"answer_chat", "store_transcript", "evaluate", "operator_review", "external_llm", "export", "erase"},
    ("RestrictionOut", "status"): {"restricted", "active"},
    ("NewsletterOut", "status"): {"none", "pending", "active"},
    ("RetentionRunOut", "status"): {"done", "failed"},
    # evaluation
    ("OutcomeOut", "resolved_source"): {"visitor", "operator"},
    ("RatingOut", "resolved_source"): {"visitor", "operator"},
    ("ConversationMetricsOut", "resolved_source"): {"visitor", "operator"},
    ("ConversationMetricsOut", "handoff_reason"): {"customer_request", "missing_knowledge", "policy_restriction", "decision_required", "responder_failure"},
    ("ConversationMetricsOut", "sentiment_lexicon"): {"vader", "german-polarity", "sentiws"},
    ("ScoreDefinitionOut", "kind"): {"numeric", "categorical", "boolean"},
    ("ScoreSummaryOut", "kind"): {"numeric", "categorical", "boolean"},
    ("ScoreOut", "source"): {"staff", "automatic"},
    ("ScoreSummaryGroup", "source"): {"staff", "automatic"},
    ("WebhookOut", "events"): {"conversation.handoff_requested", "conversation.closed", "conversation.rating_received"},
    ("DeliveryOut", "event"): {"conversation.handoff_requested", "conversation.closed", "conversation.rating_received", "ping"},
    ("DeliveryOut", "outcome"): {"delivered", "retrying", "failed"},
    # accounts and tenants
    ("Profile", "status"): {"active", "restricted"},
    ("LoginToken", "token_type"): {"bearer"},
    ("TenantOut", "role"): {"owner", "admin", "editor", "operator", "analyst"},
    ("MemberOut", "role"): {"owner", "admin", "editor", "operator", "analyst"},
    ("InvitationOut", "role"): {"owner", "admin", "editor", "operator", "analyst"},
    ("ApiKeyOut", "role"): {"owner", "admin", "editor", "operator", "analyst"},
    # already enums before: kept so
    ("TenantClosureOut", "status"): {"closing", "closed", "failed"},
}

# Left `str` on purpose: open values (actors name users, keys and system jobs; delivery errors grow with the checks).
OPEN = [("ProcessingLogOut", "actor"), ("DeliveryOut", "error")]


def _enum(spec: dict[str, Any], schema: dict[str, Any]) -> set[str] | None:
    """The enum values of a property schema: inline, through a $ref, in an array's items, or beside null in anyOf."""
    if "$ref" in schema:
        return _enum(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "enum" in schema:
        return set(schema["enum"])
    if "const" in schema:
        return {schema["const"]}
    if schema.get("type") == "array":
        return _enum(spec, schema["items"])
    if "anyOf" in schema:
        values: set[str] = set()
        for option in schema["anyOf"]:
            if option.get("type") == "null":
                continue
            found = _enum(spec, option)
            if found is None:
                return None
            values |= found
        return values
    return None


@pytest.fixture
async def spec(client) -> dict[str, Any]:  # noqa: ANN001
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_fixed_value_fields_are_enums_in_openapi(spec):
    schemas = spec["components"]["schemas"]
    wrong = {}
    for (name, field), values in EXPECTED.items():
        prop = schemas[name]["properties"][field]
        found = _enum(spec, prop)
        if found != values:
            wrong[f"{name}.{field}"] = found
        elif field not in ("role", "purpose", "token_type", "outcome", "action") and not (prop.get("description") or "").strip():
            wrong[f"{name}.{field}"] = "no description"
    assert not wrong, wrong
    for name, field in OPEN:
        assert _enum(spec, schemas[name]["properties"][field]) is None, f"{name}.{field} is open, not an enum"


def _conversation_status(spec: dict[str, Any]) -> set[str]:
    return _enum(spec, spec["components"]["schemas"]["ConversationOut"]["properties"]["status"]) or set()


async def _next_of(chat, *kinds: str, timeout: float = 10.0) -> dict[str, Any]:  # noqa: ANN001
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] in kinds:
            return frame


async def test_every_conversation_status_reads_back_through_the_api(app, client, factory, base, spec):
    """avatar, waiting, operator, closed through the chat and the inbox; erased through an erasure request.
    Each read through GET …/conversations/{id}, the transcript and the inbox list validates the answer."""
    shop = await shop_with_avatar(client, factory, "Enum GmbH")
    t, h = shop["tenant_id"], shop["owner"].headers
    seen: set[str] = set()

    async def read(conversation_id: str, expected: str) -> dict[str, Any]:
        r = await client.get(f"/v1/tenants/{t}/conversations/{conversation_id}", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == expected, body
        r = await client.get(f"/v1/tenants/{t}/conversations/{conversation_id}/transcript", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == expected
        if expected != "erased":  # the inbox does not list erased stubs
            r = await client.get(f"/v1/tenants/{t}/conversations", params={"status": expected}, headers=h)
            assert r.status_code == 200, r.text
            assert conversation_id in [c["id"] for c in r.json()["items"]]
        seen.add(expected)
        return body

    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")  # the greeting
        await read(conversation_id, "avatar")

        await chat.say("Please connect me with a person", "v1")
        assert (await _next_of(chat, "handoff"))["reason"] == "customer_request"
        waiting = await read(conversation_id, "waiting")
        assert waiting["handoff_reason"] == "customer_request" and waiting["handed_off"] is True

        async with operator(base, t, shop["owner"].token) as (ops, _):
            await ops.send({"type": "take_over", "conversation_id": conversation_id})
            await _next_of(ops, "joined")
            await _next_of(chat, "operator_joined")
            await read(conversation_id, "operator")

        r = await client.post(f"/v1/tenants/{t}/conversations/{conversation_id}/close", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text
        await read(conversation_id, "closed")

    r = await client.post(f"/v1/tenants/{t}/conversations/{conversation_id}/reopen", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "avatar", r.text

    # Every kind of message and event the flow wrote reads back through the transcript.
    r = await client.get(f"/v1/tenants/{t}/conversations/{conversation_id}/transcript", headers=h)
    messages = r.json()["messages"]
    assert {m["event"] for m in messages if m["kind"] == "event"} >= {"handoff", "operator_joined", "closed", "reopened"}
    assert {m["author"] for m in messages} >= {"visitor", "avatar", "operator", "system"}

    r = await client.delete(f"/v1/tenants/{t}/conversations/{conversation_id}", headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["scope"] == "conversation" and r.json()["status"] in ("pending", "running", "done")
    await app.state.erasure_worker.drain()
    stub = await read(conversation_id, "erased")
    assert stub["visitor_id"] == "erased" and stub["handoff_reason"] == "customer_request"

    assert seen == _conversation_status(spec), "every status the API documents was produced here, and no other"


class _Purger:
    """Stands in for the worker's purger: waits for the test to let it go, then fails or does nothing."""

    def __init__(self, started: asyncio.Event, release: asyncio.Event, fail: bool) -> None:
        self.started, self.release, self.fail = started, release, fail

    async def run(self, *args: Any, **kwargs: Any) -> None:
        self.started.set()
        await self.release.wait()
        if self.fail:
            raise ConnectionError("store unreachable")

    async def unlink_log(self, *args: Any, **kwargs: Any) -> int:
        return 0


class _Worker(ErasureWorker):
    def __init__(self, *args: Any, fail: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started, self.release, self.fail = asyncio.Event(), asyncio.Event(), fail

    def _purger(self, request_id: str) -> Any:  # noqa: ARG002
        return _Purger(self.started, self.release, self.fail)


async def test_every_erasure_request_status_reads_back_through_the_api(app, client, factory, spec):
    """pending (queued, and again after a failed attempt), running (a batch under way), done, failed (given up):
    each read through GET …/erasure-requests/{id} and the list, filtered by it."""
    shop = await shop_with_avatar(client, factory, "Erasure Enum GmbH")
    t, h = shop["tenant_id"], shop["owner"].headers
    for visitor_id in ("vis_enum_done", "vis_enum_failed"):
        await make_conversation(app, t, shop["avatar_id"], visitor_id=visitor_id)
    url = f"/v1/tenants/{t}/erasure-requests"
    seen: set[str] = set()

    async def read(request_id: str, expected: str) -> dict[str, Any]:
        r = await client.get(f"{url}/{request_id}", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == expected, body
        r = await client.get(url, params={"status": expected, "limit": 200}, headers=h)
        assert r.status_code == 200, r.text
        assert request_id in [i["id"] for i in r.json()["items"]]
        seen.add(expected)
        return body

    def worker(fail: bool) -> _Worker:
        return _Worker(app.state.engine, app.state.sessionmaker, settings=app.state.settings, broker=None, fail=fail)

    async with worker_held_off(app):  # this test is the runner
        r = await client.post(url, json={"scope": "visitor", "visitor_id": "vis_enum_done"}, headers=h)
        assert r.status_code == 202, r.text
        done_id = r.json()["id"]
        await read(done_id, "pending")

        runner = worker(fail=False)
        task = asyncio.create_task(runner.process(done_id))
        try:
            await asyncio.wait_for(runner.started.wait(), 10)
            running = await read(done_id, "running")
            assert running["attempts"] == 1 and running["receipt"] is None
        finally:
            runner.release.set()
            assert await asyncio.wait_for(task, 10) == "done"
        done = await read(done_id, "done")
        assert done["receipt"] is not None and done["requested_by"]["kind"] == "user" and done["origin"] == "tenant"

        r = await client.post(url, json={"scope": "visitor", "visitor_id": "vis_enum_failed"}, headers=h)
        assert r.status_code == 202, r.text
        failed_id = r.json()["id"]
        failing = worker(fail=True)
        failing.release.set()
        await failing.process(failed_id)
        retried = await read(failed_id, "pending")
        assert retried["attempts"] == 1 and retried["error"].startswith("ConnectionError")
        for _ in range(MAX_ATTEMPTS - 1):
            await failing.process(failed_id)
        failed = await read(failed_id, "failed")
        assert failed["attempts"] == MAX_ATTEMPTS and "given up" in failed["error"]

    erasure_status = spec["components"]["schemas"]["ErasureRequestOut"]["properties"]["status"]
    assert seen == _enum(spec, erasure_status), "every status the API documents was produced here, and no other"
