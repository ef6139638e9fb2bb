"""Tenant isolation beyond path ids (tests/test_isolation.py walks those): ids of another tenant inside request
bodies and query filters, lists, counts, aggregates and exports that must stay free of the other tenant's rows,
cursors carried from one tenant's list to another's, and a person who is a member of two tenants with different
roles. Another tenant's id must answer exactly as an id that exists nowhere, and nothing of the other tenant may
change, be counted or be told apart.

One pair of tenants is built per backend for the whole module: the victim's data carries a word of its own
(VICTIM_WORD) in messages, notes, rating comments, tags and names, and every answer the attacker gets is searched
for that word and for every id of the victim's."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.core.ids import new_id
from tests.conftest import client_for
from tests.support.chat import connect
from tests.support.factory import Factory, User
from tests.support.outbox import Outbox

# Neither word can occur by chance in an id: ULIDs are Crockford base32, which has no `o` or `u`.
VICTIM_WORD = "quokka" + secrets.token_hex(4)
OWN_WORD = "wombat" + secrets.token_hex(4)
# Values both tenants use for their own end customers: a filter or erasure by them must reach only the caller's.
SHARED = secrets.token_hex(4)
SHARED_VISITOR = f"vis_shared{SHARED}"
SHARED_CUSTOMER = f"crm-shared-{SHARED}"
SHARED_ERASE_VISITOR = f"vis_erase{SHARED}"
SHARED_ERASE_CUSTOMER = f"crm-erase-{SHARED}"
SHARED_HOLD_VISITOR = f"vis_hold{SHARED}"
SHARED_TAG = "shared-tag"

GUIDELINES = [{"id": "tone", "kind": "style", "instruction": "Be kind."}]
PROBLEM = "application/problem+json"


# ---- building the two tenants -------------------------------------------------------------------


@dataclass
class Side:
    """One tenant: its owner, an admin API key (as headers), its members and its named objects."""

    word: str
    owner: User
    id: str
    key: dict[str, str]
    key_id: str
    members: dict[str, User] = field(default_factory=dict)
    member_ids: dict[str, str] = field(default_factory=dict)  # name -> membership id (mem_…)
    ids: dict[str, str] = field(default_factory=dict)
    other_ids: set[str] = field(default_factory=set)  # ids with no name of their own (invitations, keys, scores, …)

    @property
    def url(self) -> str:
        return f"/v1/tenants/{self.id}"

    def principals(self) -> list[tuple[str, dict[str, str]]]:
        return [("user", self.owner.headers), ("API key", self.key)]


@dataclass
class World:
    victim: Side
    attacker: Side
    dual: User  # owner of `home`, analyst in the victim's tenant, operator in the attacker's
    home: str

    def victim_markers(self) -> set[str]:
        """What must appear nowhere in the attacker's answers: the victim's word, tenant id and every id of its."""
        v = self.victim
        markers = {v.word, v.id, v.owner.id, *v.ids.values(), *v.member_ids.values(), *v.other_ids}
        markers |= {u.id for name, u in v.members.items()}
        markers.discard(self.dual.id)
        return {m.lower() for m in markers if m}


async def _call(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
    r = await client.request(method, url, headers=headers, **({"json": body} if body is not None else {}))
    expected = (expect,) if isinstance(expect, int) else expect
    assert r.status_code in expected, f"{method} {url}: {r.status_code} {r.text[:300]}"
    return r.json() if r.content and r.headers.get("content-type", "").endswith("json") else r.text


async def _join(client: httpx.AsyncClient, outbox: Outbox, side: Side, user: User, role: str) -> str:
    """Invite an existing user into the side's tenant with `role`; returns the membership id."""
    await _call(client, "POST", f"{side.url}/invitations", side.owner.headers, {"email": user.email, "role": role}, 201)
    await _call(client, "POST", "/v1/invitations/accept", user.headers, {"token": outbox.last_token_for(user.email)}, 200)
    user.tenants[side.id] = role
    members = await _call(client, "GET", f"{side.url}/members", side.owner.headers, None, 200)
    return next(m["id"] for m in members["items"] if m["user_id"] == user.id)


async def seed_conversation(
    app: Any,
    tenant_id: str,
    avatar_id: str,
    *,
    visitor_id: str,
    customer_ref: str | None = None,
    texts: tuple[str, ...] = ("Hello",),
    note: str | None = None,
    rating: tuple[int, str] | None = None,
    close: bool = True,
) -> str:
    """A conversation written through the chat service, as the chat stores one; closed ones are evaluated and
    rated ones recorded as the close and rating events would."""
    rating_message_id = None
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id=visitor_id, customer_ref=customer_ref, language="en"
        )
        for i, text in enumerate(texts):
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor" if i % 2 == 0 else "avatar", text=text)
        if note:
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="operator", kind="note", text=note)
        if close:
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", kind="event", event="closed", status="closed")
        if rating:
            message, _ = await chats.append(
                session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", kind="event", event="rating", text=rating[1],
                verdict={"score": rating[0], "resolved": True}, rating=rating[0],
            )
            rating_message_id = message.id
        await session.commit()
    if close:
        await app.state.evaluation.evaluate_closed(tenant_id=tenant_id, conversation_id=conversation.id)
    if rating:
        await app.state.evaluation.record_outcome(
            tenant_id=tenant_id, conversation_id=conversation.id, score=rating[0], rating_message_id=rating_message_id, resolved=True, resolved_source="visitor"
        )
    return conversation.id


def _avatar_body(name: str, set_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "persona": {"role_description": f"Support of {name}"},
        "languages": ["en"],
        "default_language": "en",
        "messages": {"en": {"greeting": "Hi", "fallback": "Sorry"}},
    }
    if set_id:
        body["guideline_set_id"] = set_id
    return body


async def _side(app: Any, client: httpx.AsyncClient, factory: Factory, outbox: Outbox, word: str, name: str) -> Side:
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    r = await client.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": f"Admin {word}", "role": "admin"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    side = Side(word, owner, tenant_id, {"Authorization": f"Bearer {r.json()['key']}"}, r.json()["id"], other_ids={r.json()["id"]})
    h, u = owner.headers, side.url

    # People: an operator and an analyst, two invitations still open, one more API key.
    for role in ("operator", "analyst"):
        member = await factory.member(tenant_id, owner, role)
        side.members[role] = member
    members = await _call(client, "GET", f"{u}/members", h, None, 200)
    side.member_ids = {name: next(m["id"] for m in members["items"] if m["user_id"] == user.id) for name, user in [("owner", owner), *side.members.items()]}
    for i in (1, 2):
        side.other_ids.add((await _call(client, "POST", f"{u}/invitations", h, {"email": f"{word}-invite{i}@example.com", "role": "editor"}, 201))["id"])
    side.other_ids.add((await _call(client, "POST", f"{u}/api-keys", h, {"name": f"Key {word}", "role": "analyst"}, 201))["id"])
    for days in (365, 366):  # two versions of the processing instructions
        await _call(client, "POST", f"{u}/privacy/instructions", h, {"retention_days": days}, 201)
    app.state.purpose_gate.invalidate(tenant_id)

    # Guideline sets, avatars, score definitions, webhooks (inactive: nothing is delivered).
    for key, label in (("set", "one"), ("set2", "two")):
        side.ids[key] = (await _call(client, "POST", f"{u}/guideline-sets", h, {"name": f"Rules {word} {label}", "rules": GUIDELINES}, 201))["id"]
    side.ids["avatar"] = (await _call(client, "POST", f"{u}/avatars", h, _avatar_body(f"Avatar {word} one", side.ids["set"]), 201))["id"]
    side.ids["avatar2"] = (await _call(client, "POST", f"{u}/avatars", h, _avatar_body(f"Avatar {word} two"), 201))["id"]
    for key, label in (("sdef", "one"), ("sdef2", "two")):
        body = {"name": f"Score {word} {label}", "kind": "numeric", "min_value": 1, "max_value": 5}
        side.ids[key] = (await _call(client, "POST", f"{u}/evaluation/score-definitions", h, body, 201))["id"]
    for key in ("hook", "hook2"):
        body = {"name": f"Hook {word} {key}", "url": f"https://{word}.example.com/{key}", "events": ["conversation.closed"], "active": False}
        side.ids[key] = (await _call(client, "POST", f"{u}/webhooks", h, body, 201))["id"]

    # Conversations, with the side's word in messages, notes and rating comments.
    avatar = side.ids["avatar"]
    seed = {
        "main": dict(visitor_id=f"vis_{word}", customer_ref=f"crm-{word}", texts=(f"Where is my {word} parcel?", f"It ships tomorrow, {word}."),
                     note=f"{word} note", rating=(2, f"{word} too slow")),
        "rated": dict(visitor_id=f"vis_{word}_2", texts=(f"A {word} question",), rating=(5, f"{word} great")),
        "open": dict(visitor_id=SHARED_VISITOR, customer_ref=SHARED_CUSTOMER, texts=(f"Hello {word} again",), close=False),
        "erase1": dict(visitor_id=f"vis_{word}_e1", texts=(f"Forget {word} one",)),
        "erase2": dict(visitor_id=f"vis_{word}_e2", texts=(f"Forget {word} two",)),
        "held": dict(visitor_id=f"vis_{word}_h", texts=(f"Keep {word}",)),
        "shared_erase_visitor": dict(visitor_id=SHARED_ERASE_VISITOR, texts=(f"Erase me {word}",)),
        "shared_erase_customer": dict(visitor_id=f"vis_{word}_c", customer_ref=SHARED_ERASE_CUSTOMER, texts=(f"Erase my account {word}",)),
        "shared_hold": dict(visitor_id=SHARED_HOLD_VISITOR, texts=(f"Hold or not {word}",)),
    }
    for key, kwargs in seed.items():
        side.ids[key] = await seed_conversation(app, tenant_id, avatar, **kwargs)  # type: ignore[arg-type]
    conv = f"{u}/conversations"
    await _call(client, "POST", f"{conv}/{side.ids['main']}/tags", h, {"tags": [f"{word}-tag", SHARED_TAG]}, 200)
    await _call(client, "POST", f"{conv}/{side.ids['rated']}/tags", h, {"tags": [f"{word}-tag"]}, 200)
    await _call(client, "POST", f"{conv}/{side.ids['open']}/tags", h, {"tags": [SHARED_TAG]}, 200)
    await _call(client, "POST", f"{conv}/{side.ids['main']}/assign", h, {"assignee_id": side.member_ids["operator"]}, 200)
    for conversation, definition, value in (("main", "sdef", 3), ("main", "sdef2", 2), ("rated", "sdef2", 4)):
        score = await _call(client, "POST", f"{conv}/{side.ids[conversation]}/scores", h, {"definition_id": side.ids[definition], "value": value, "comment": f"{word} score"}, 201)
        side.other_ids.add(score["id"])
    # Erasure requests and legal holds: two of each.
    for key in ("erase1", "erase2"):
        side.ids[f"request_{key}"] = (await _call(client, "POST", f"{u}/erasure-requests", h, {"scope": "conversation", "conversation_id": side.ids[key]}, 202))["id"]
    side.ids["hold"] = (await _call(client, "POST", f"{u}/legal-holds", h, {"conversation_id": side.ids["held"], "reason": f"{word} litigation"}, 201))["id"]
    side.ids["hold2"] = (await _call(client, "POST", f"{u}/legal-holds", h, {"customer_ref": f"crm-{word}", "reason": f"{word} matter two"}, 201))["id"]
    # The processing log: reading a transcript is operator review about its visitor.
    await _call(client, "GET", f"{conv}/{side.ids['main']}/transcript", h, None, 200)
    await _call(client, "GET", f"{u}/exports/manifest", h, None, 200)
    return side


@pytest.fixture(scope="module")
async def world(app: Any) -> AsyncIterator[World]:
    async with client_for(app) as client:
        outbox = Outbox(app.state.settings.resolved_outbox_dir)
        factory = Factory(client, outbox, settle=app.state.detached_mails.drain)
        victim = await _side(app, client, factory, outbox, VICTIM_WORD, f"Victim {VICTIM_WORD} AG")
        attacker = await _side(app, client, factory, outbox, OWN_WORD, "Attacker AG")
        dual = await factory.user()
        home = await factory.tenant(dual, "Dual Home")
        victim.member_ids["dual"] = await _join(client, outbox, victim, dual, "analyst")
        attacker.member_ids["dual"] = await _join(client, outbox, attacker, dual, "operator")
        await app.state.erasure_worker.drain()
        await app.state.purpose_gate.flush()
        yield World(victim, attacker, dual, home)


# ---- comparing answers --------------------------------------------------------------------------


def unknown_like(object_id: str) -> str:
    """An id of the same shape as `object_id` that exists nowhere: its prefix and a fresh ULID, or random text."""
    prefix, sep, rest = object_id.rpartition("_")
    if sep and len(rest) == 26:
        return new_id(prefix)
    head = re.match(r"[a-z]+[-_]?", object_id)
    return (head.group(0) if head else "") + "x" + secrets.token_hex(max(4, (len(object_id) - 4) // 2))


def answer(response: httpx.Response, replacements: dict[str, str] | None = None) -> tuple[Any, ...]:
    """Status, media type and body (without `instance`), with the given ids replaced by placeholders, so that
    the answers for two different ids can be compared."""
    text = response.text
    for real, placeholder in (replacements or {}).items():
        text = text.replace(real, placeholder)
    body: Any = text
    if response.headers.get("content-type", "").split(";")[0] in ("application/json", PROBLEM):
        body = json.loads(text)
        if isinstance(body, dict):
            body.pop("instance", None)
    return response.status_code, response.headers.get("content-type"), body


def problem(response: httpx.Response) -> tuple[Any, ...]:
    """What a client can tell from an error: status, problem type, detail and the fields its errors name."""
    body = response.json() if response.headers.get("content-type", "").startswith(PROBLEM) else {}
    return response.status_code, body.get("type"), body.get("detail"), sorted((e.get("field"), e.get("type")) for e in body.get("errors", []))


def leaks(text: str, markers: set[str]) -> list[str]:
    low = text.lower()
    return sorted(m for m in markers if m in low)


async def compare_foreign_with_unknown(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body_for: Any, foreign: str, *, params_for: Any = None
) -> tuple[httpx.Response, list[str]]:
    """Send the request once with another tenant's id and once with an unknown id of the same shape; returns the
    foreign answer and what differed."""
    unknown = unknown_like(foreign)
    kwargs_f: dict[str, Any] = {}
    kwargs_u: dict[str, Any] = {}
    if body_for is not None:
        kwargs_f["json"], kwargs_u["json"] = body_for(foreign), body_for(unknown)
    if params_for is not None:
        kwargs_f["params"], kwargs_u["params"] = params_for(foreign), params_for(unknown)
    theirs = await client.request(method, url, headers=headers, **kwargs_f)
    baseline = await client.request(method, url, headers=headers, **kwargs_u)
    failures = []
    if answer(theirs, {foreign: "<id>"}) != answer(baseline, {unknown: "<id>"}):
        failures.append(f"{method} {url} with {foreign}: {theirs.status_code} {theirs.text[:300]} | unknown id: {baseline.status_code} {baseline.text[:300]}")
    return theirs, failures


async def victim_state(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """What the victim sees of the objects the attacks aim at."""
    v = world.victim
    state: dict[str, Any] = {}
    for key in ("main", "open", "rated", "held", "shared_hold"):
        state[key] = await _call(client, "GET", f"{v.url}/conversations/{v.ids[key]}", v.owner.headers, None, 200)
        transcript = await _call(client, "GET", f"{v.url}/conversations/{v.ids[key]}/transcript", v.owner.headers, None, 200)
        state[f"{key}/messages"] = [(m["id"], m["text"]) for m in transcript["messages"]]
    for path in ("avatars", "guideline-sets", "erasure-requests", "legal-holds", "evaluation/scores", "conversation-tags", "webhooks"):
        state[path] = await _call(client, "GET", f"{v.url}/{path}", v.owner.headers, None, 200)
    for key in ("avatar", "avatar2"):
        state[key] = await _call(client, "GET", f"{v.url}/avatars/{v.ids[key]}", v.owner.headers, None, 200)
    return state


# ---- (3) lists, counts, aggregates and exports --------------------------------------------------

ROUTE_PARAM = re.compile(r"{([a-z_]+)}")


def tenant_get_routes(app: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/v1/tenants/{tenant_id}") and "get" in operations:
            routes.append((path, operations["get"].get("parameters", [])))
    return sorted(routes, key=lambda r: r[0])


def own_path_ids(side: Side) -> dict[str, str]:
    return {
        "conversation_id": side.ids["main"], "avatar_id": side.ids["avatar"], "set_id": side.ids["set"], "definition_id": side.ids["sdef"],
        "webhook_id": side.ids["hook"], "request_id": side.ids["request_erase1"], "hold_id": side.ids["hold"], "version": "1",
    }


# Routes whose answer must be a 200 for the attacker (the scan reads real lists, not errors).
MUST_ANSWER = {
    "/conversations", "/conversation-tags", "/reports", "/ratings", "/evaluation/conversations", "/evaluation/scores",
    "/evaluation/score-definitions", "/exports/conversations", "/exports/manifest", "/privacy/processing-log", "/erasure-requests",
    "/legal-holds", "/webhooks", "/avatars", "/guideline-sets", "/members", "/invitations", "/api-keys",
    "/conversations/{conversation_id}/transcript", "/evaluation/score-definitions/{definition_id}/summary",
}


async def test_lists_reports_and_exports_show_nothing_of_the_other_tenant(app, client, world):
    """Every GET of the attacker's tenant (lists, reports as JSON and CSV, exports as NDJSON and CSV, summaries,
    the processing log), read by its owner and its admin API key, names none of the victim's ids and never its word,
    while the attacker's own data is there."""
    a, markers = world.attacker, world.victim_markers()
    own_ids = own_path_ids(a)
    failures, answered = [], set()
    for path, parameters in tenant_get_routes(app):
        names = [p for p in ROUTE_PARAM.findall(path) if p != "tenant_id"]
        if any(n not in own_ids for n in names) or any(p.get("required") and p["in"] == "query" for p in parameters):
            continue
        url = path.format(tenant_id=a.id, **own_ids)
        query = {p["name"] for p in parameters if p["in"] == "query"}
        variants: list[dict[str, Any]] = [{"limit": 200} if "limit" in query else {}]
        if "format" in query:
            variants.append({**variants[0], "format": "csv"})
        for label, headers in a.principals():
            for params in variants:
                r = await client.get(url, params=params, headers=headers)
                if r.status_code == 200:
                    answered.add(path.removeprefix("/v1/tenants/{tenant_id}"))
                found = leaks(_without_own_log_entries(path, r, a), markers)
                if found:
                    failures.append(f"GET {path} {params} ({label}): {r.status_code} shows the victim's {found}: {r.text[:300]}")
    assert not failures, "\n".join(failures)
    assert MUST_ANSWER <= answered, sorted(MUST_ANSWER - answered)

    # The scan read real data: the attacker's own word and conversations are there.
    h = a.owner.headers
    for params in ({"format": "ndjson"}, {"format": "csv"}):
        export = await client.get(f"{a.url}/exports/conversations", params=params, headers=h)
        assert export.status_code == 200 and OWN_WORD in export.text and a.ids["main"] in export.text, export.text[:300]
    inbox = await _call(client, "GET", f"{a.url}/conversations", h, None, 200)
    assert {a.ids["main"], a.ids["open"]} <= {c["id"] for c in inbox["items"]}
    ratings = await _call(client, "GET", f"{a.url}/ratings", h, None, 200)
    assert any(OWN_WORD in (item["comment"] or "") for item in ratings["items"]), ratings
    tags = {t["tag"]: t["conversations"] for t in (await _call(client, "GET", f"{a.url}/conversation-tags", h, None, 200))["items"]}
    assert tags[SHARED_TAG] == 2 and tags[f"{OWN_WORD}-tag"] == 2, tags  # the victim's two conversations with the same tag are not counted


def _without_own_log_entries(path: str, response: httpx.Response, side: Side) -> str:
    """The answer's text; for the processing log, without the entries of the side's own requests (its own exports
    by a visitor id log that id as their subject: the caller's own input, not another tenant's data)."""
    if not path.endswith("/privacy/processing-log") or response.status_code != 200:
        return response.text
    body = response.json()
    body["items"] = [i for i in body["items"] if i["actor"] not in (side.owner.id, side.key_id)]
    return json.dumps(body)


VOLATILE = {"generated_at", "sha256", "sha256_of", "bytes"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


async def _aggregates(client: httpx.AsyncClient, side: Side) -> dict[str, Any]:
    h, u = side.owner.headers, side.url
    snapshot: dict[str, Any] = {}
    for path in (
        "reports", "reports?format=csv", "conversation-tags", "ratings", "evaluation/conversations", "evaluation/scores", "conversations",
        f"evaluation/score-definitions/{side.ids['sdef']}/summary", f"evaluation/score-definitions/{side.ids['sdef2']}/summary",
        "exports/manifest", "exports/manifest?format=csv", "erasure-requests", "legal-holds", "webhooks", "avatars", "guideline-sets",
        "evaluation/score-definitions", "members", "invitations", "api-keys",
    ):
        r = await client.get(f"{u}/{path}", headers=h)
        assert r.status_code == 200, (path, r.text[:300])
        snapshot[path] = _stable(r.json()) if r.headers["content-type"].endswith("json") else r.text
    return snapshot


async def test_the_other_tenants_new_data_moves_no_count_of_this_one(app, client, world):
    """Counts and aggregates are the tenant's alone: the victim adding conversations (on the same day, with the
    attacker's own tag names and scores), ratings, holds and webhooks leaves every figure the attacker reads as it was."""
    v, a = world.victim, world.attacker
    await app.state.erasure_worker.drain()  # nothing of the attacker's own still under way between the two readings
    await app.state.services.events.drain()
    before = await _aggregates(client, a)
    for i in range(2):
        cid = await seed_conversation(
            app, v.id, v.ids["avatar2"], visitor_id=SHARED_VISITOR, customer_ref=SHARED_CUSTOMER, texts=(f"{VICTIM_WORD} more {i}", "ok"), rating=(1, f"{VICTIM_WORD} bad")
        )
        await _call(client, "POST", f"{v.url}/conversations/{cid}/tags", v.owner.headers, {"tags": [SHARED_TAG, f"{OWN_WORD}-tag"]}, 200)
        await _call(client, "POST", f"{v.url}/conversations/{cid}/scores", v.owner.headers, {"definition_id": v.ids["sdef"], "value": 1}, 201)
        await _call(client, "POST", f"{v.url}/legal-holds", v.owner.headers, {"conversation_id": cid, "reason": f"{VICTIM_WORD} again"}, 201)
    hook = {"name": "More", "url": "https://more.example.com/x", "events": ["conversation.closed"], "active": False}
    await _call(client, "POST", f"{v.url}/webhooks", v.owner.headers, hook, 201)
    await _call(client, "POST", f"{v.url}/guideline-sets", v.owner.headers, {"name": "More rules", "rules": GUIDELINES}, 201)
    await app.state.services.events.drain()
    after = await _aggregates(client, a)
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, {k: (before[k], after[k]) for k in changed}


# ---- (4) cursors --------------------------------------------------------------------------------


async def test_a_cursor_from_the_other_tenants_list_is_refused(app, client, world):
    """A `next_cursor` of the victim's list, sent with the same query to the attacker's tenant, is refused exactly as
    a cursor of another query of the attacker's own (400 invalid-cursor), and never continues the victim's list."""
    v, a, markers = world.victim, world.attacker, world.victim_markers()
    own_cursor = {}
    for path in ("members", "api-keys"):  # a valid cursor of the attacker's, for another query
        r = await client.get(f"{a.url}/{path}", params={"limit": 1}, headers=a.owner.headers)
        assert r.status_code == 200 and r.json()["next_cursor"], r.text
        own_cursor[path] = r.json()["next_cursor"]

    routes = [(p, params) for p, params in tenant_get_routes(app) if any(q["name"] == "cursor" for q in params)]
    failures, checked = [], []
    for path, _ in routes:
        names = [p for p in ROUTE_PARAM.findall(path) if p != "tenant_id"]
        if names not in ([], ["conversation_id"]):
            continue
        victim_url = path.format(tenant_id=v.id, conversation_id=v.ids["main"])
        attacker_url = path.format(tenant_id=a.id, conversation_id=a.ids["main"])
        page = await client.get(victim_url, params={"limit": 1}, headers=v.owner.headers)
        assert page.status_code == 200, (path, page.text[:300])
        cursor = page.json()["next_cursor"]
        if not cursor:
            failures.append(f"{path}: the victim's list gave no cursor (seed more)")
            continue
        checked.append(path)
        other = own_cursor["api-keys" if path.endswith("/members") else "members"]
        for label, headers in a.principals():
            theirs = await client.get(attacker_url, params={"limit": 1, "cursor": cursor}, headers=headers)
            baseline = await client.get(attacker_url, params={"limit": 1, "cursor": other}, headers=headers)
            if theirs.status_code != 400 or not theirs.json().get("type", "").endswith("/invalid-cursor"):
                failures.append(f"{path} ({label}): {theirs.status_code} {theirs.text[:300]}")
            elif problem(theirs) != problem(baseline):
                failures.append(f"{path} ({label}): {theirs.text[:300]} vs another query's cursor: {baseline.text[:300]}")
            if leaks(theirs.text, markers):
                failures.append(f"{path} ({label}): shows {leaks(theirs.text, markers)}")
    assert not failures, "\n".join(failures)
    assert len(checked) >= 18, checked  # every tenant list, the inbox and the transcript among them


# ---- (1) ids in request bodies ------------------------------------------------------------------


async def test_a_score_with_the_other_tenants_definition_answers_as_an_unknown_one(client, world):
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    url = f"{a.url}/conversations/{a.ids['rated']}/scores"
    failures = []
    for label, headers in a.principals():
        theirs, diff = await compare_foreign_with_unknown(client, "POST", url, headers, lambda d: {"definition_id": d, "value": 3}, v.ids["sdef"])
        failures += [f"({label}) {d}" for d in diff]
        assert theirs.status_code >= 400 and theirs.headers["content-type"] == PROBLEM, theirs.text
        own = await client.post(url, json={"definition_id": a.ids["sdef2"], "value": 3}, headers=headers)
        assert own.status_code == 201, own.text  # the body's own definition is accepted: the check is on the id
    assert not failures, "\n".join(failures)
    assert await victim_state(client, world) == before


async def test_an_avatar_with_the_other_tenants_guideline_set_answers_as_an_unknown_one(client, world):
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    failures = []
    for label, headers in a.principals():
        listed = len((await _call(client, "GET", f"{a.url}/avatars", headers, None, 200))["items"])
        theirs, diff = await compare_foreign_with_unknown(client, "POST", f"{a.url}/avatars", headers, lambda s: _avatar_body("Attack", s), v.ids["set"])
        failures += [f"({label}) {d}" for d in diff]
        assert theirs.status_code >= 400, theirs.text
        assert len((await _call(client, "GET", f"{a.url}/avatars", headers, None, 200))["items"]) == listed  # nothing was created

        url = f"{a.url}/avatars/{a.ids['avatar2']}"
        theirs, diff = await compare_foreign_with_unknown(client, "PATCH", url, headers, lambda s: {"guideline_set_id": s}, v.ids["set"])
        failures += [f"({label}) {d}" for d in diff]
        assert theirs.status_code >= 400, theirs.text
        assert (await _call(client, "GET", url, headers, None, 200))["guideline_set_id"] in (None, a.ids["set2"])
        own = await client.patch(url, json={"guideline_set_id": a.ids["set2"]}, headers=headers)
        assert own.status_code == 200 and own.json()["guideline_set_id"] == a.ids["set2"], own.text
    assert not failures, "\n".join(failures)
    assert await victim_state(client, world) == before


def _foreign_assignees(world: World) -> list[str]:
    """The victim's people by member id and by user id: an operator (who may operate chats there) and the owner."""
    v = world.victim
    return [v.member_ids["operator"], v.members["operator"].id, v.member_ids["owner"], v.owner.id]


async def test_assigning_to_the_other_tenants_people_answers_as_an_unknown_id(client, world):
    a = world.attacker
    before = await victim_state(client, world)
    conversation = a.ids["rated"]
    url = f"{a.url}/conversations/{conversation}"
    failures = []
    for label, headers in a.principals():
        for person in _foreign_assignees(world):
            theirs, diff = await compare_foreign_with_unknown(client, "POST", f"{url}/assign", headers, lambda p: {"assignee_id": p}, person)
            failures += [f"({label}) {d}" for d in diff]
            assert theirs.status_code >= 400, theirs.text
            theirs, diff = await compare_foreign_with_unknown(
                client, "POST", f"{a.url}/conversations/bulk", headers, lambda p: {"action": "assign", "conversation_ids": [conversation], "assignee_id": p}, person
            )
            failures += [f"({label}, bulk) {d}" for d in diff]
            assert theirs.status_code >= 400, theirs.text
        assert (await _call(client, "GET", url, headers, None, 200))["assignee_id"] in (None, a.members["operator"].id)
    own = await client.post(f"{url}/assign", json={"assignee_id": a.member_ids["operator"]}, headers=a.owner.headers)
    assert own.status_code == 200 and own.json()["assignee_id"] == a.members["operator"].id, own.text
    assert not failures, "\n".join(failures)
    assert await victim_state(client, world) == before


BULK_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    # action, extra body, the state the attacker's own conversations start in
    ("tag", {"tags": ["attack"]}, None),
    ("untag", {"tags": [SHARED_TAG]}, "tagged"),
    ("assign", {"assignee_id": "<operator>"}, None),
    ("unassign", {}, "assigned"),
    ("close", {}, "open"),
    ("reopen", {}, None),
    ("delete", {}, None),
]


async def _own_conversation(app: Any, client: httpx.AsyncClient, side: Side, state: str | None) -> str:
    cid = await seed_conversation(app, side.id, side.ids["avatar"], visitor_id=f"vis_bulk{secrets.token_hex(3)}", texts=("bulk",), close=state != "open")
    if state == "tagged":
        await _call(client, "POST", f"{side.url}/conversations/{cid}/tags", side.owner.headers, {"tags": [SHARED_TAG]}, 200)
    if state == "assigned":
        await _call(client, "POST", f"{side.url}/conversations/{cid}/assign", side.owner.headers, {"assignee_id": side.member_ids["operator"]}, 200)
    return cid


@pytest.mark.parametrize("action,extra,state", BULK_CASES, ids=[c[0] for c in BULK_CASES])
async def test_bulk_with_the_other_tenants_conversations_changes_and_tells_nothing(app, client, world, action, extra, state):
    """A bulk action over one of the attacker's conversations and two of the victim's (open and closed, tagged,
    assigned) answers exactly as with two ids that exist nowhere; the attacker's own one is acted on, nothing of the
    victim's changes, and no erasure request appears in the victim's tenant."""
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    body_extra = {k: (a.member_ids["operator"] if val == "<operator>" else val) for k, val in extra.items()}
    failures = []
    for label, headers in a.principals():
        mine, baseline_mine = await _own_conversation(app, client, a, state), await _own_conversation(app, client, a, state)
        theirs = [v.ids["main"], v.ids["open"]]
        unknown = [unknown_like(t) for t in theirs]
        attack = await client.post(f"{a.url}/conversations/bulk", json={"action": action, "conversation_ids": [mine, *theirs], **body_extra}, headers=headers)
        baseline = await client.post(f"{a.url}/conversations/bulk", json={"action": action, "conversation_ids": [baseline_mine, *unknown], **body_extra}, headers=headers)
        assert attack.status_code == 200, attack.text
        results = attack.json()["results"]
        assert results[0]["outcome"] in ("done", "accepted"), results  # the attacker's own conversation is acted on
        a_body = json.loads(json.dumps(attack.json()).replace(mine, "<own>").replace(theirs[0], "<x>").replace(theirs[1], "<y>"))
        b_body = json.loads(json.dumps(baseline.json()).replace(baseline_mine, "<own>").replace(unknown[0], "<x>").replace(unknown[1], "<y>"))
        for body in (a_body, b_body):  # erasure requests (delete) have ids of their own
            for item in body["results"]:
                item.pop("erasure_request_id", None)
        if a_body != b_body:
            failures.append(f"{action} ({label}): {attack.text[:400]} | unknown ids: {baseline.text[:400]}")
        if leaks(attack.text.replace(theirs[0], "").replace(theirs[1], ""), world.victim_markers()):
            failures.append(f"{action} ({label}): the answer shows more of the victim than the ids it was sent: {attack.text[:400]}")
    assert not failures, "\n".join(failures)
    await app.state.erasure_worker.drain()
    assert await victim_state(client, world) == before


ERASURE_CASES = [
    ("conversation", "conversation_id", "main"),
    ("conversation", "conversation_id", "held"),
    ("visitor", "visitor_id", f"vis_{VICTIM_WORD}"),
    ("customer", "customer_ref", f"crm-{VICTIM_WORD}"),
    ("tenant", "confirm_tenant_id", "<tenant>"),
]


async def test_erasure_requests_naming_the_other_tenants_data_answer_as_unknown_ones(app, client, world):
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    failures = []
    for label, headers in a.principals():
        for scope, name, target in ERASURE_CASES:
            value = v.id if target == "<tenant>" else v.ids.get(target, target)
            theirs, diff = await compare_foreign_with_unknown(client, "POST", f"{a.url}/erasure-requests", headers, lambda x, s=scope, n=name: {"scope": s, n: x}, value)
            failures += [f"({label}) {d}" for d in diff]
            assert theirs.status_code >= 400, theirs.text
    assert not failures, "\n".join(failures)
    await app.state.erasure_worker.drain()
    assert await victim_state(client, world) == before


async def test_erasing_an_end_customer_both_tenants_know_erases_only_the_callers(app, client, world):
    """The same visitor id and customer reference in both tenants: the attacker's erasure counts and erases its own
    conversations only; the victim's stay whole."""
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    victim_before = {}
    for key in ("shared_erase_visitor", "shared_erase_customer"):
        victim_before[key] = await _call(client, "GET", f"{v.url}/conversations/{v.ids[key]}/transcript", v.owner.headers, None, 200)
    for body, key in (({"scope": "visitor", "visitor_id": SHARED_ERASE_VISITOR}, "shared_erase_visitor"),
                      ({"scope": "customer", "customer_ref": SHARED_ERASE_CUSTOMER}, "shared_erase_customer")):
        created = await _call(client, "POST", f"{a.url}/erasure-requests", a.owner.headers, body, 202)
        assert created["progress"]["conversations_total"] == 1, created
        await app.state.erasure_worker.drain()
        done = await _call(client, "GET", f"{a.url}/erasure-requests/{created['id']}", a.owner.headers, None, 200)
        assert done["status"] == "done" and done["progress"]["conversations_done"] == 1, done
        assert not leaks(json.dumps(done), world.victim_markers()), done
        mine = await client.get(f"{a.url}/conversations/{a.ids[key]}/transcript", headers=a.owner.headers)
        assert mine.status_code == 404 or not [m for m in mine.json()["messages"] if m["text"]], mine.text[:300]
        theirs = await _call(client, "GET", f"{v.url}/conversations/{v.ids[key]}/transcript", v.owner.headers, None, 200)
        assert theirs == victim_before[key]
    assert await victim_state(client, world) == before


async def test_legal_holds_naming_the_other_tenants_data_answer_as_unknown_ones(app, client, world):
    v, a = world.victim, world.attacker
    before = await victim_state(client, world)
    failures = []
    for label, headers in a.principals():
        holds = (await _call(client, "GET", f"{a.url}/legal-holds", headers, None, 200))["items"]
        for name, value in (("conversation_id", v.ids["main"]), ("conversation_id", v.ids["held"]), ("visitor_id", f"vis_{VICTIM_WORD}"),
                            ("customer_ref", f"crm-{VICTIM_WORD}")):
            theirs, diff = await compare_foreign_with_unknown(client, "POST", f"{a.url}/legal-holds", headers, lambda x, n=name: {n: x, "reason": "Attack"}, value)
            failures += [f"({label}) {d}" for d in diff]
            assert theirs.status_code >= 400, theirs.text
        assert (await _call(client, "GET", f"{a.url}/legal-holds", headers, None, 200))["items"] == holds
    assert not failures, "\n".join(failures)
    assert await victim_state(client, world) == before


async def test_a_hold_on_an_end_customer_both_tenants_know_keeps_only_the_callers_data(app, client, world):
    """The attacker holds its own end customer whose visitor id the victim also has: the victim's erasure of its
    own end customer is not held back by it, and says nothing of the attacker's hold."""
    v, a = world.victim, world.attacker
    hold = await _call(client, "POST", f"{a.url}/legal-holds", a.owner.headers, {"visitor_id": SHARED_HOLD_VISITOR, "reason": "Our own matter"}, 201)
    created = await _call(client, "POST", f"{v.url}/erasure-requests", v.owner.headers, {"scope": "visitor", "visitor_id": SHARED_HOLD_VISITOR}, 202)
    await app.state.erasure_worker.drain()
    done = await _call(client, "GET", f"{v.url}/erasure-requests/{created['id']}", v.owner.headers, None, 200)
    assert done["status"] == "done" and done["held"] == {"conversations": 0, "legal_holds": []}, done
    assert hold["id"] not in json.dumps(done)
    erased = await _call(client, "GET", f"{v.url}/conversations/{v.ids['shared_hold']}/transcript", v.owner.headers, None, 200)
    assert erased["status"] == "erased" and not [m for m in erased["messages"] if m["text"]], erased
    # The attacker's own conversation is still kept, and its hold still in force.
    mine = await _call(client, "GET", f"{a.url}/conversations/{a.ids['shared_hold']}/transcript", a.owner.headers, None, 200)
    assert mine["status"] != "erased" and mine["messages"], mine
    assert (await _call(client, "GET", f"{a.url}/legal-holds/{hold['id']}", a.owner.headers, None, 200))["active"] is True


async def test_erasing_everything_before_a_time_stays_in_the_callers_tenant(app, client, factory):
    """Scope `before` erases every conversation of the caller's tenant last active before the time, and none of
    another tenant's of the same age. (Two tenants of its own, as it empties the attacker's.)"""
    victim_owner, attacker_owner = await factory.user(), await factory.user()
    victim = await factory.tenant(victim_owner, "Victim before")
    attacker = await factory.tenant(attacker_owner, "Attacker before")
    avatars = {}
    for tenant, owner in ((victim, victim_owner), (attacker, attacker_owner)):
        avatars[tenant] = (await _call(client, "POST", f"/v1/tenants/{tenant}/avatars", owner.headers, _avatar_body("Before"), 201))["id"]
    theirs = [await seed_conversation(app, victim, avatars[victim], visitor_id=SHARED_VISITOR, texts=(f"{VICTIM_WORD} old",), close=c) for c in (True, False)]
    mine = await seed_conversation(app, attacker, avatars[attacker], visitor_id=SHARED_VISITOR, texts=("mine",))
    day_ago = datetime.now(UTC) - timedelta(days=1)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Conversation).where(Conversation.id.in_([*theirs, mine])).values(created_at=day_ago, updated_at=day_ago))
        await session.commit()
    before = [await _call(client, "GET", f"/v1/tenants/{victim}/conversations/{c}/transcript", victim_owner.headers, None, 200) for c in theirs]

    cutoff = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    created = await _call(client, "POST", f"/v1/tenants/{attacker}/erasure-requests", attacker_owner.headers, {"scope": "before", "before": cutoff}, 202)
    assert created["progress"]["conversations_total"] == 1, created
    await app.state.erasure_worker.drain()
    done = await _call(client, "GET", f"/v1/tenants/{attacker}/erasure-requests/{created['id']}", attacker_owner.headers, None, 200)
    assert done["status"] == "done" and done["progress"]["conversations_done"] == 1, done
    assert (await _call(client, "GET", f"/v1/tenants/{attacker}/conversations/{mine}/transcript", attacker_owner.headers, None, 200))["status"] == "erased"
    after = [await _call(client, "GET", f"/v1/tenants/{victim}/conversations/{c}/transcript", victim_owner.headers, None, 200) for c in theirs]
    assert after == before


# ---- (2) query filters naming objects -----------------------------------------------------------


async def test_filters_naming_the_other_tenants_objects_answer_as_unknown_ones(app, client, world):
    """Assignee, tag, search words, customer_ref, visitor_id, subject_ref, avatar_id, definition_id and name filters
    with the victim's values give the attacker exactly what values that exist nowhere give."""
    v, a, markers = world.victim, world.attacker, world.victim_markers()
    cases: list[tuple[str, str, str]] = [
        # route, query parameter, the victim's value
        ("conversations", "assignee", v.members["operator"].id),
        ("conversations", "assignee", v.owner.id),
        ("conversations", "tag", f"{VICTIM_WORD}-tag"),
        ("conversations", "q", VICTIM_WORD),
        ("conversations", "avatar_id", v.ids["avatar"]),
        ("conversations", "avatar_id", v.ids["avatar2"]),
        ("reports", "avatar_id", v.ids["avatar"]),
        ("ratings", "avatar_id", v.ids["avatar"]),
        ("evaluation/conversations", "avatar_id", v.ids["avatar"]),
        ("evaluation/scores", "avatar_id", v.ids["avatar"]),
        ("evaluation/scores", "definition_id", v.ids["sdef"]),
        (f"evaluation/score-definitions/{a.ids['sdef']}/summary", "avatar_id", v.ids["avatar"]),
        ("exports/manifest", "customer_ref", f"crm-{VICTIM_WORD}"),
        ("exports/manifest", "visitor_id", f"vis_{VICTIM_WORD}"),
        ("exports/conversations", "customer_ref", f"crm-{VICTIM_WORD}"),
        ("exports/conversations", "visitor_id", f"vis_{VICTIM_WORD}"),
        # Subjects of the victim's own log that the attacker never names in a request of its own.
        ("privacy/processing-log", "subject_ref", f"vis_{VICTIM_WORD}_2"),
        ("privacy/processing-log", "subject_ref", f"vis_{VICTIM_WORD}_h"),
        ("avatars", "name", VICTIM_WORD),
        ("guideline-sets", "name", VICTIM_WORD),
    ]
    for key in ("rated", "held"):  # reading a transcript logs its visitor as the subject, in the victim's own log
        await _call(client, "GET", f"{v.url}/conversations/{v.ids[key]}/transcript", v.owner.headers, None, 200)
    await app.state.purpose_gate.flush()
    for subject in (f"vis_{VICTIM_WORD}_2", f"vis_{VICTIM_WORD}_h"):
        assert (await _call(client, "GET", f"{v.url}/privacy/processing-log", v.owner.headers, None, 200))["items"], subject
        r = await client.get(f"{v.url}/privacy/processing-log", params={"subject_ref": subject}, headers=v.owner.headers)
        assert r.status_code == 200 and r.json()["items"], r.text
    failures = []
    for label, headers in a.principals():
        for route, name, value in cases:
            unknown = unknown_like(value)
            theirs = await client.get(f"{a.url}/{route}", params={name: value}, headers=headers)
            baseline = await client.get(f"{a.url}/{route}", params={name: unknown}, headers=headers)
            if route.startswith("exports/"):  # a fresh export differs in its time and hash: compare what it holds
                t, b = _export_content(theirs, value), _export_content(baseline, unknown)
            else:
                t, b = answer(theirs, {value: "<v>"}), answer(baseline, {unknown: "<v>"})
            if t != b:
                failures.append(f"{route}?{name} ({label}): {theirs.status_code} {theirs.text[:300]} | unknown: {baseline.status_code} {baseline.text[:300]}")
            found = leaks(theirs.text.replace(value, ""), markers)
            if found:
                failures.append(f"{route}?{name} ({label}): shows the victim's {found}")
    assert not failures, "\n".join(failures)


def _export_content(response: httpx.Response, value: str) -> Any:
    if response.status_code != 200:
        return answer(response, {value: "<v>"})
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        return body["counts"], body["records"]
    records = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return [(r.get("type"), r.get("counts"), r.get("records")) for r in records if r.get("type") != "export"]


async def test_filters_by_an_end_customer_both_tenants_know_give_only_the_callers_data(client, world):
    """The same visitor id and customer reference in both tenants: the attacker's export and filters by them hold its
    own conversations and none of the victim's."""
    v, a, markers = world.victim, world.attacker, world.victim_markers()
    for label, headers in a.principals():
        for name, value in (("customer_ref", SHARED_CUSTOMER), ("visitor_id", SHARED_VISITOR)):
            for fmt in ("ndjson", "csv"):
                r = await client.get(f"{a.url}/exports/conversations", params={name: value, "format": fmt}, headers=headers)
                assert r.status_code == 200, r.text
                assert a.ids["open"] in r.text and OWN_WORD in r.text, (label, name, fmt, r.text[:300])
                assert not leaks(r.text, markers), (label, name, fmt, leaks(r.text, markers))
        tagged = await _call(client, "GET", f"{a.url}/conversations?tag={SHARED_TAG}", headers, None, 200)
        assert {c["id"] for c in tagged["items"]} == {a.ids["main"], a.ids["open"]}, tagged
        assigned = await _call(client, "GET", f"{a.url}/conversations?assignee={a.members['operator'].id}", headers, None, 200)
        assert a.ids["main"] in {c["id"] for c in assigned["items"]} and not leaks(json.dumps(assigned), markers)
        found = await _call(client, "GET", f"{a.url}/conversations?q={OWN_WORD}", headers, None, 200)
        assert a.ids["main"] in {c["id"] for c in found["items"]} and not leaks(json.dumps(found), markers)
    # And the victim's own filters still find its data (the attacks took nothing away).
    found = await _call(client, "GET", f"{v.url}/conversations?q={VICTIM_WORD}", v.owner.headers, None, 200)
    assert v.ids["main"] in {c["id"] for c in found["items"]}


# ---- (5) one person, two tenants, two roles -----------------------------------------------------


def _writes(side: Side, conversation: str) -> list[tuple[str, str, Any]]:
    """Requests an analyst may not make (method, path under the tenant, body)."""
    return [
        ("POST", "/avatars", _avatar_body("Dual")),
        ("PATCH", f"/avatars/{side.ids['avatar2']}", {"name": "Renamed by dual"}),
        ("POST", "/guideline-sets", {"name": "Dual rules", "rules": GUIDELINES}),
        ("PUT", f"/guideline-sets/{side.ids['set2']}", {"name": "Dual rules", "rules": GUIDELINES}),
        ("POST", f"/conversations/{conversation}/tags", {"tags": ["dual"]}),
        ("POST", f"/conversations/{conversation}/assign", {"assignee_id": "me"}),
        ("POST", f"/conversations/{conversation}/close", None),
        ("POST", "/conversations/bulk", {"action": "close", "conversation_ids": [conversation]}),
        ("PUT", f"/conversations/{conversation}/resolution", {"resolved": True}),
        ("DELETE", f"/conversations/{conversation}", None),
        ("GET", "/exports/manifest", None),
        ("GET", "/exports/conversations", None),
        ("POST", "/erasure-requests", {"scope": "conversation", "conversation_id": conversation}),
        ("GET", "/erasure-requests", None),
        ("POST", "/legal-holds", {"conversation_id": conversation, "reason": "Dual matter"}),
        ("GET", "/legal-holds", None),
        ("GET", "/webhooks", None),
        ("POST", "/webhooks", {"name": "Dual", "url": "https://dual.example.com/x", "events": ["conversation.closed"], "active": False}),
        ("POST", "/invitations", {"email": "dual-invite@example.com", "role": "admin"}),
        ("PATCH", f"/members/{side.member_ids['dual']}", {"role": "owner"}),
        ("POST", "/api-keys", {"name": "Dual", "role": "admin"}),
        ("POST", "/privacy/instructions", {"retention_days": 400}),
        ("POST", "/evaluation/score-definitions", {"name": "Dual score", "kind": "boolean"}),
        ("PATCH", "", {"name": "Renamed by dual"}),
        ("POST", "/customer-token-secret", None),
    ]


async def test_a_member_of_two_tenants_has_each_tenants_role_there(client, world):
    """The dual user owns a tenant of its own, is an analyst in the victim's and an operator in the attacker's: in
    each it may do exactly what its role there allows, answered as for anyone of that role, whatever it may elsewhere."""
    v, a, dual = world.victim, world.attacker, world.dual
    before = await victim_state(client, world)
    analyst = v.members["analyst"]
    failures = []
    for method, path, body in _writes(v, v.ids["open"]):
        url = f"{v.url}{path}"
        as_dual = await client.request(method, url, headers=dual.headers, **({"json": body} if body is not None else {}))
        as_analyst = await client.request(method, url, headers=analyst.headers, **({"json": body} if body is not None else {}))
        if as_dual.status_code != 403 or problem(as_dual) != problem(as_analyst) or not as_dual.json()["type"].endswith("/permission-denied"):
            failures.append(f"{method} {path} (analyst there, owner elsewhere): {as_dual.status_code} {as_dual.text[:200]} | plain analyst: {as_analyst.status_code}")
    # What an analyst may: read.
    for path in ("/conversations", "/reports", "/avatars", f"/conversations/{v.ids['open']}/transcript"):
        r = await client.get(f"{v.url}{path}", headers=dual.headers)
        if r.status_code != 200:
            failures.append(f"GET {path} (analyst): {r.status_code} {r.text[:200]}")
    # Assigning a victim conversation to the dual user: an analyst there may not operate chats, so it is no assignee.
    url = f"{v.url}/conversations/{v.ids['open']}/assign"
    for person in (dual.id, v.member_ids["dual"]):
        theirs = await client.post(url, json={"assignee_id": person}, headers=v.owner.headers)
        unknown = await client.post(url, json={"assignee_id": unknown_like(person)}, headers=v.owner.headers)
        if theirs.status_code < 400 or problem(theirs) != problem(unknown):
            failures.append(f"assign to the dual user ({person}) in the tenant where it is an analyst: {theirs.status_code} {theirs.text[:200]}")

    # In the attacker's tenant it is an operator: it operates chats but neither exports, erases nor manages.
    conversation = a.ids["open"]
    r = await client.post(f"{a.url}/conversations/{conversation}/tags", json={"tags": ["by-dual"]}, headers=dual.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"{a.url}/conversations/{conversation}/assign", json={"assignee_id": "me"}, headers=dual.headers)
    assert r.status_code == 200 and r.json()["assignee_id"] == dual.id, r.text
    operator = a.members["operator"]
    for method, path in (("DELETE", f"/conversations/{conversation}"), ("GET", "/exports/manifest"), ("GET", "/webhooks"), ("POST", "/invitations")):
        body = {"email": "x@example.com", "role": "owner"} if path == "/invitations" else None
        as_dual = await client.request(method, f"{a.url}{path}", headers=dual.headers, **({"json": body} if body else {}))
        as_operator = await client.request(method, f"{a.url}{path}", headers=operator.headers, **({"json": body} if body else {}))
        if as_dual.status_code != 403 or problem(as_dual) != problem(as_operator):
            failures.append(f"{method} {path} (operator there): {as_dual.status_code} {as_dual.text[:200]}")

    # In its own tenant it is the owner: everything it was refused elsewhere works.
    home = f"/v1/tenants/{world.home}"
    assert (await client.get(f"{home}/exports/manifest", headers=dual.headers)).status_code == 200
    assert (await client.get(f"{home}/webhooks", headers=dual.headers)).status_code == 200
    assert (await client.post(f"{home}/guideline-sets", json={"name": "Home rules", "rules": GUIDELINES}, headers=dual.headers)).status_code == 201
    assert not failures, "\n".join(failures)
    assert await victim_state(client, world) == before


async def test_a_member_of_two_tenants_operates_chats_only_where_its_role_allows(base, world):
    """The operator websocket goes by the role in the tenant it names: refused where the dual user is an analyst,
    welcomed where it is an operator."""
    v, a, dual = world.victim, world.attacker, world.dual
    async with connect(f"{base}/v1/tenants/{v.id}/chat/operator", origin=None) as ops:
        await ops.send({"type": "hello", "token": dual.token})
        closed = await ops.closed()
        assert closed.code == 4401 and closed.reason == "permission-denied", closed
        assert not leaks(json.dumps(ops.frames), world.victim_markers() - {v.id}), ops.frames
    async with connect(f"{base}/v1/tenants/{a.id}/chat/operator", origin=None) as ops:
        await ops.send({"type": "hello", "token": dual.token})
        welcome = await ops.expect("welcome")
        assert dual.id in welcome["online"]
        assert not leaks(json.dumps(welcome), world.victim_markers()), welcome
