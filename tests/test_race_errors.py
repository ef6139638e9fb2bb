"""Requests racing each other over one object answer what a client can act on, never a 500 (API review):

- A: a PATCH whose object a DELETE removes between the PATCH's read and its write: 404 `not-found` (it was a
  StaleDataError, a 500, on both backends);
- B: two publishes of one avatar, or two saves of one guideline set, at once: each a new version, as PostgreSQL
  answers (on SQLite, where `FOR UPDATE` is no lock and reads run outside the transaction, both read the same
  latest version and the second insert of its successor was a 500);
- D: a score posted while its definition is deleted: 404 naming `body.definition_id`, or the score is stored and
  the deletion takes it along (the insert's foreign key failed: a 500, on both backends);
- E: tags added to one conversation at once never pass its 20 (each request counted 19 and added one: 22 tags).
- F: two bulk tag requests naming the same conversations in opposite orders both succeed (each locked one the
  other waited for: a deadlock on PostgreSQL, and a 500 for one of them).

The interleaving is forced, not left to chance: `patch_after_delete` orders the two requests' flushes (A), and
`Interleaving` holds one request's write until another has reached its own write (or the lock that makes it wait)
and committed, or has waited there a moment for the held request: the lock doing its work (B, D, E). Each test
fails on the code before its fix on both backends, except B, which fails on SQLite only (PostgreSQL's row lock
serialised publishes and saves already)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from avatars.models import KnowledgeEntry
from confide.chats import service as chats
from confide.evaluation.models import ConversationScore, ScoreDefinition
from tests.support.chat import shop_with_avatar
from tests.support.turns import second_waits, sqlite_sender_lock, starts
from tests.support.turns import statement as _statement

PROBLEM = "application/problem+json"


class Interleaving:
    """Holds the first statement `hold` matches until another connection has run a statement `reach` matches and
    committed; if it has not committed `grace` seconds after reaching it, it waits for the held request (a lock at
    work), which then goes on."""

    def __init__(self, hold: Callable[[str], bool], reach: Callable[[str], bool], grace: float = 0.5, timeout: float = 20) -> None:
        self.hold, self.reach, self.grace, self.timeout = hold, reach, grace, timeout
        self.reached: set[int] = set()
        self.committed: set[int] = set()
        self.held: int | None = None

    def before_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        s, me = _statement(statement), id(conn.connection.dbapi_connection)
        if self.reach(s):
            self.reached.add(me)
        if self.held is None and self.hold(s):
            self.held = me
            await_only(self._wait(me))

    def on_commit(self, conn: Any) -> None:
        me = id(conn.connection.dbapi_connection)
        if me in self.reached:  # the transaction that reached it
            self.committed.add(me)

    async def _wait(self, me: int) -> None:
        deadline = time.monotonic() + self.timeout
        while not self.reached - {me}:
            assert time.monotonic() < deadline, "the other request never reached its write"
            await asyncio.sleep(0.002)
        others = self.reached - {me}
        until = time.monotonic() + self.grace
        while not others & self.committed and time.monotonic() < until:
            await asyncio.sleep(0.002)


@contextlib.contextmanager
def interleaved(app: Any, hold: Callable[[str], bool], reach: Callable[[str], bool]) -> Iterator[None]:
    """`Interleaving(hold, reach)` in force on the app's engine for the block. On SQLite the other request also counts
    as having reached its write once it waits for the database's write lock with the sender check's write to the
    tenant row (core.tenancy), which the held request's own check took already."""
    engine = app.state.engine.sync_engine
    plan = Interleaving(hold, lambda s: reach(s) or sqlite_sender_lock(s))
    event.listen(engine, "before_cursor_execute", plan.before_execute)
    event.listen(engine, "commit", plan.on_commit)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", plan.before_execute)
        event.remove(engine, "commit", plan.on_commit)


@contextlib.contextmanager
def session_hooks(before_flush: Callable[..., None], after_commit: Callable[[Session], None]) -> Iterator[None]:
    """Both listeners on every ORM session for the block."""
    event.listen(Session, "before_flush", before_flush)
    event.listen(Session, "after_commit", after_commit)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)
        event.remove(Session, "after_commit", after_commit)


async def _race(*requests: Any) -> list[Any]:
    return list(await asyncio.wait_for(asyncio.gather(*requests), 60))


async def _conversation(app: Any, tenant_id: str, avatar_id: str) -> str:
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id="vis_race", customer_ref=None, language="en"
        )
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", text="Hello", rule_ids=())
        await session.commit()
    return conversation.id


def _is_problem(r: Any, status: int, slug: str) -> bool:
    return r.status_code == status and r.headers["content-type"] == PROBLEM and r.json()["type"].endswith("/" + slug)


# ---- A: a PATCH racing a DELETE of its object ---------------------------------------------------


@contextlib.contextmanager
def patch_after_delete(model: type) -> Iterator[None]:
    """The DELETE's flush waits until the PATCH is about to flush (it has read the row), and the PATCH's flush waits
    until the DELETE has committed: the PATCH writes to a row that is gone."""
    patching, deleted = asyncio.Event(), asyncio.Event()
    deleters: set[int] = set()

    def before_flush(session: Session, *args: Any) -> None:
        if any(isinstance(o, model) for o in session.deleted):
            deleters.add(id(session))
            await_only(asyncio.wait_for(patching.wait(), 20))
        elif any(isinstance(o, model) for o in session.dirty) and not patching.is_set():
            patching.set()
            await_only(asyncio.wait_for(deleted.wait(), 20))

    def after_commit(session: Session) -> None:
        if id(session) in deleters:
            deleted.set()

    with session_hooks(before_flush, after_commit):
        yield


async def test_a_patch_whose_object_is_deleted_meanwhile_is_a_404(app, client, factory):
    shop = await shop_with_avatar(client, factory, "Patch Race GmbH")
    h, t = shop["owner"].headers, f"/v1/tenants/{shop['tenant_id']}"
    conversation_id = await _conversation(app, shop["tenant_id"], shop["avatar_id"])

    async def definition(name: str) -> str:
        r = await client.post(f"{t}/evaluation/score-definitions", json={"name": name, "kind": "boolean"}, headers=h)
        assert r.status_code == 201, r.text
        return f"{t}/evaluation/score-definitions/{r.json()['id']}"

    async def score(name: str) -> str:
        definition_id = (await definition(name)).rsplit("/", 1)[1]
        r = await client.post(f"{t}/conversations/{conversation_id}/scores", json={"definition_id": definition_id, "value": True}, headers=h)
        assert r.status_code == 201, r.text
        return f"{t}/evaluation/scores/{r.json()['id']}"

    async def entry(name: str) -> str:
        body = {"questions": [f"What is {name}?"], "answer": "A thing.", "language": "en"}
        r = await client.post(f"{t}/avatars/{shop['avatar_id']}/knowledge/entries", json=body, headers=h)
        assert r.status_code == 201, r.text
        return f"{t}/avatars/{shop['avatar_id']}/knowledge/entries/{r.json()['id']}"

    cases = [
        ("score definition", definition, {"description": "changed"}, ScoreDefinition),
        ("score", score, {"comment": "changed"}, ConversationScore),
        ("knowledge entry", entry, {"answer": "Another thing."}, KnowledgeEntry),
    ]
    for what, make, change, model in cases:
        url = await make(what)
        with patch_after_delete(model):
            patched, deleted = await _race(client.patch(url, json=change, headers=h), client.delete(url, headers=h))
        assert deleted.status_code == 204, (what, deleted.text)
        assert _is_problem(patched, 404, "not-found"), (what, patched.status_code, patched.text)
        assert patched.json()["detail"] == "It was deleted meanwhile.", patched.text
        assert _is_problem(await client.patch(url, json=change, headers=h), 404, "not-found")


# ---- B: a double-submitted publish or guideline save ---------------------------------------------


async def test_two_publishes_at_once_each_make_a_version(app, client, factory):
    shop = await shop_with_avatar(client, factory, "Publish Race GmbH")
    h, url = shop["owner"].headers, f"/v1/tenants/{shop['tenant_id']}/avatars/{shop['avatar_id']}"
    # Held: the first publish's new version, until the other has reached its lock (the fix) or its own write (before).
    reach = starts("UPDATE AVATAR SET", "INSERT INTO AVATAR_VERSION")
    pg_lock = lambda s: s.startswith("SELECT") and " FROM AVATAR " in s and "FOR UPDATE" in s  # noqa: E731
    for _ in range(2):
        with interleaved(app, hold=starts("INSERT INTO AVATAR_VERSION"), reach=lambda s: reach(s) or pg_lock(s)):
            answers = await _race(client.post(f"{url}/publish", headers=h), client.post(f"{url}/publish", headers=h))
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    r = await client.get(f"{url}/versions", headers=h)
    versions = sorted(v["version"] for v in r.json()["items"])
    assert versions == [1, 2, 3, 4, 5], versions  # the fixture's publish, then two rounds of two
    r = await client.get(url, headers=h)
    assert r.json()["live_version"] == 5 and r.json()["status"] == "published"


async def test_two_guideline_saves_at_once_each_make_a_version(app, client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Guideline Race GmbH")
    h, base = owner.headers, f"/v1/tenants/{tenant_id}/guideline-sets"
    rules = [{"id": "tone", "kind": "style", "instruction": "Be friendly."}]
    r = await client.post(base, json={"name": "House rules", "rules": rules}, headers=h)
    assert r.status_code == 201, r.text
    url = f"{base}/{r.json()['id']}"
    reach = starts("UPDATE GUIDELINE_SET SET", "INSERT INTO GUIDELINE_SET_VERSION")
    pg_lock = lambda s: s.startswith("SELECT") and " FROM GUIDELINE_SET " in s and "FOR UPDATE" in s  # noqa: E731
    for n in range(2):
        with interleaved(app, hold=starts("INSERT INTO GUIDELINE_SET_VERSION"), reach=lambda s: reach(s) or pg_lock(s)):
            answers = await _race(*(client.put(url, json={"name": f"Rules {n}.{i}", "rules": rules}, headers=h) for i in range(2)))
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        assert sorted(r.json()["current_version"] for r in answers) == [2 + 2 * n, 3 + 2 * n]
    r = await client.get(f"{url}/versions", headers=h)
    assert sorted(v["version"] for v in r.json()["items"]) == [1, 2, 3, 4, 5]


# ---- D: a score posted while its definition is deleted -------------------------------------------


@contextlib.contextmanager
def score_checked_before_deletion(grace: float = 0.5) -> Iterator[None]:
    """The deletion's flush waits until the score is about to be inserted (its definition was checked); the insert
    then waits until the deletion has committed, or, `grace` seconds after the deletion began to flush, goes on:
    the deletion waits for it (the lock on the definition at work)."""
    inserting, deleting, deleted = asyncio.Event(), asyncio.Event(), asyncio.Event()
    deleters: set[int] = set()

    async def after_deletion() -> None:
        await asyncio.wait_for(deleting.wait(), 20)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deleted.wait(), grace)

    def before_flush(session: Session, *args: Any) -> None:
        if any(isinstance(o, ScoreDefinition) for o in session.deleted):
            deleters.add(id(session))
            await_only(asyncio.wait_for(inserting.wait(), 20))
            deleting.set()
        elif any(isinstance(o, ConversationScore) for o in session.new) and not inserting.is_set():
            inserting.set()
            await_only(after_deletion())

    def after_commit(session: Session) -> None:
        if id(session) in deleters:
            deleted.set()

    with session_hooks(before_flush, after_commit):
        yield


async def test_a_score_posted_while_its_definition_is_deleted_is_a_404_naming_the_definition(app, client, factory):
    shop = await shop_with_avatar(client, factory, "Score Race GmbH")
    h, t = shop["owner"].headers, f"/v1/tenants/{shop['tenant_id']}"
    conversation_id = await _conversation(app, shop["tenant_id"], shop["avatar_id"])
    scores_url = f"{t}/conversations/{conversation_id}/scores"
    # The score's lock on its definition (the fix's), held until the deletion has committed: the definition is gone.
    lock = lambda s: s.startswith("UPDATE EVALUATION_SCORE_DEFINITION SET") or (  # noqa: E731
        s.startswith("SELECT") and " FROM EVALUATION_SCORE_DEFINITION " in s and "FOR KEY SHARE" in s
    )
    for n in range(4):
        r = await client.post(f"{t}/evaluation/score-definitions", json={"name": f"Helpful {n}", "kind": "boolean"}, headers=h)
        assert r.status_code == 201, r.text
        definition_id = r.json()["id"]
        checked_first = n % 2 == 0  # in turn: the score checked before the deletion, and the deletion first
        scoring = client.post(scores_url, json={"definition_id": definition_id, "value": True}, headers=h)
        deleting = client.delete(f"{t}/evaluation/score-definitions/{definition_id}", headers=h)
        if checked_first:
            with score_checked_before_deletion():
                scored, deleted = await _race(scoring, deleting)
        else:  # the score waits at its lock (or, on SQLite, at its first write) until the deletion has committed
            scored, deleted = await second_waits(
                app, waiting=scoring, first=deleting, at=lambda s: lock(s) or sqlite_sender_lock(s),
                after=starts("DELETE FROM EVALUATION_SCORE_DEFINITION "),
            )
        assert deleted.status_code == 204, deleted.text
        if checked_first:  # stored first: the deletion took it along (before the fix, its insert failed: a 500)
            assert scored.status_code == 201, scored.text
            assert _is_problem(await client.patch(f"{t}/evaluation/scores/{scored.json()['id']}", json={"comment": "x"}, headers=h), 404, "not-found")
        else:
            assert _is_problem(scored, 404, "not-found"), (scored.status_code, scored.text)
            assert [e["field"] for e in scored.json()["errors"]] == ["body.definition_id"], scored.text
    r = await client.get(scores_url, headers=h)
    assert r.status_code == 200 and r.json()["items"] == [], r.text


# ---- E: the tag limit under concurrent adds ------------------------------------------------------


async def test_tags_added_at_once_never_pass_the_limit(app, client, factory):
    shop = await shop_with_avatar(client, factory, "Tag Race GmbH")
    h, t = shop["owner"].headers, f"/v1/tenants/{shop['tenant_id']}"
    conversation_id = await _conversation(app, shop["tenant_id"], shop["avatar_id"])
    url = f"{t}/conversations/{conversation_id}/tags"
    r = await client.post(url, json={"tags": [f"t{i}" for i in range(19)]}, headers=h)
    assert r.status_code == 200, r.text
    # Held: the first request's new tag, until another has reached its lock on the conversation (the fix) or its own insert.
    lock = lambda s: s.startswith("UPDATE CONVERSATION SET") or (s.startswith("SELECT") and "FROM CONVERSATION " in s and "FOR NO KEY UPDATE" in s)  # noqa: E731
    with interleaved(app, hold=starts("INSERT INTO CONVERSATION_TAG"), reach=lambda s: lock(s) or s.startswith("INSERT INTO CONVERSATION_TAG")):
        answers = await _race(*(client.post(url, json={"tags": [f"x{i}"]}, headers=h) for i in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 422, 422], [r.text for r in answers]
    for refused in (r for r in answers if r.status_code == 422):
        assert _is_problem(refused, 422, "validation-error") and [e["field"] for e in refused.json()["errors"]] == ["body.tags"], refused.text
    r = await client.get(f"{t}/conversations/{conversation_id}", headers=h)
    assert len(r.json()["tags"]) == 20, r.json()["tags"]


# ---- F: two bulk tag requests naming the same conversations in opposite orders --------------------


async def test_bulk_tagging_in_opposite_orders_at_once_both_succeed(app, client, factory):
    """Each request locked its conversations one by one in the order it named them: the first held `a` and waited
    for `b`, the second held `b` and waited for `a`. PostgreSQL broke the deadlock by failing one: a 500. Now each
    locks all of them at once, in id order, and the second waits for the first."""
    shop = await shop_with_avatar(client, factory, "Bulk Order GmbH")
    h, t = shop["owner"].headers, f"/v1/tenants/{shop['tenant_id']}"
    a, b = sorted([await _conversation(app, shop["tenant_id"], shop["avatar_id"]) for _ in range(2)])
    url = f"{t}/conversations/bulk"
    lock = lambda s: s.startswith("UPDATE CONVERSATION SET") or (s.startswith("SELECT") and "FROM CONVERSATION " in s and "FOR NO KEY UPDATE" in s)  # noqa: E731
    # Held: the first request's first tag insert (it holds its first conversation), until the other has locked.
    with interleaved(app, hold=starts("INSERT INTO CONVERSATION_TAG"), reach=lock):
        answers = await _race(
            client.post(url, json={"action": "tag", "conversation_ids": [a, b], "tags": ["forward"]}, headers=h),
            client.post(url, json={"action": "tag", "conversation_ids": [b, a], "tags": ["backward"]}, headers=h),
        )
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    assert [r.json()["done"] for r in answers] == [2, 2]
    for conversation_id in (a, b):
        r = await client.get(f"{t}/conversations/{conversation_id}", headers=h)
        assert sorted(r.json()["tags"]) == ["backward", "forward"], r.json()["tags"]
