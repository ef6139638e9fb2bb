"""The purpose gate: each purpose is refused when the instructions do not allow it (and nothing is
logged), and logged when they do; the tenant reads its log, filtered and paginated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.clock import utcnow
from confide.core.db import create_engine
from confide.privacy.gate import PURPOSE_FLAG, Purpose, PurposeNotInstructed, authorize, gate_for
from confide.privacy.instructions import llm_provider_authorised
from confide.privacy.models import ProcessingLogEntry

CONFIGURABLE = [p for p, flag in PURPOSE_FLAG.items() if flag is not None]
ALL_ON = {
    "purposes": {"answer_chats": True, "store_transcripts": True, "evaluate": True, "operator_review": True, "external_llm": True},
    "authorised_subprocessors": ["hosting", "cdn", "llm"],
}
ALL_OFF = {
    "purposes": {"answer_chats": False, "store_transcripts": False, "evaluate": False, "operator_review": False, "external_llm": False},
    "authorised_subprocessors": ["hosting", "cdn"],
}


async def instruct(client, owner, tenant: str, body: dict) -> dict:
    r = await client.post(f"/v1/tenants/{tenant}/privacy/instructions", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def log_rows(app, tenant: str) -> list[ProcessingLogEntry]:
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(ProcessingLogEntry).where(ProcessingLogEntry.tenant_id == tenant).order_by(ProcessingLogEntry.id))).all())


async def gate(app, tenant: str, purpose: Purpose, **kwargs):  # noqa: ANN201
    async with app.state.sessionmaker() as session:
        return await authorize(session, tenant_id=tenant, purpose=purpose, actor=kwargs.pop("actor", "system"), **kwargs)


@pytest.fixture
async def tenant_of(client, factory):  # noqa: ANN201
    owner = await factory.user()
    return owner, await factory.tenant(owner)


async def test_every_purpose_is_logged_when_instructed(app, client, tenant_of):
    owner, tenant = tenant_of
    await instruct(client, owner, tenant, ALL_ON)
    for i, purpose in enumerate(Purpose):
        instructions = await gate(app, tenant, purpose, actor=owner.id, subject_ref=f"vis_{i}", counts={"messages": i})
        assert instructions.version == 1
    rows = await log_rows(app, tenant)
    assert [r.purpose for r in rows] == [p.value for p in Purpose]
    assert all(r.actor == owner.id and r.instructions_version == 1 for r in rows)
    assert [(r.subject_ref, r.counts) for r in rows] == [(f"vis_{i}", {"messages": i}) for i in range(len(Purpose))]


@pytest.mark.parametrize("purpose", CONFIGURABLE, ids=lambda p: p.value)
async def test_each_purpose_is_refused_when_off_and_nothing_is_logged(app, client, tenant_of, purpose):
    owner, tenant = tenant_of
    await instruct(client, owner, tenant, ALL_ON)
    await instruct(client, owner, tenant, {"purposes": {PURPOSE_FLAG[purpose]: False}})
    with pytest.raises(PurposeNotInstructed) as refused:
        await gate(app, tenant, purpose, subject_ref="vis_1")
    problem = refused.value.body()
    assert refused.value.status == 403 and problem["type"].endswith("/purpose-not-instructed")
    assert purpose.value in problem["detail"] and problem["purpose"] == purpose.value and problem["instructions_version"] == 2
    assert await log_rows(app, tenant) == []
    others = [p for p in Purpose if p != purpose]
    for other in others:
        await gate(app, tenant, other)
    assert sorted(r.purpose for r in await log_rows(app, tenant)) == sorted(p.value for p in others)


async def test_defaults_allow_all_but_external_llm(app, tenant_of):
    _, tenant = tenant_of
    with pytest.raises(PurposeNotInstructed, match="external_llm"):
        await gate(app, tenant, Purpose.EXTERNAL_LLM)
    for purpose in Purpose:
        if purpose != Purpose.EXTERNAL_LLM:
            assert (await gate(app, tenant, purpose)).version == 0


async def test_all_off_refuses_everything_but_the_tenants_own_export_and_erasure(app, client, tenant_of):
    owner, tenant = tenant_of
    await instruct(client, owner, tenant, ALL_OFF)
    for purpose in CONFIGURABLE:
        with pytest.raises(PurposeNotInstructed):
            await gate(app, tenant, purpose)
    await gate(app, tenant, Purpose.EXPORT)
    await gate(app, tenant, Purpose.ERASE)
    assert [r.purpose for r in await log_rows(app, tenant)] == ["export", "erase"]


async def test_llm_provider_authorised(app, client, tenant_of):
    owner, tenant = tenant_of
    async with app.state.sessionmaker() as session:
        assert not llm_provider_authorised(await app.state.purpose_gate.instructions(session, tenant))
    await instruct(client, owner, tenant, {"authorised_subprocessors": ["hosting", "cdn", "llm"]})
    async with app.state.sessionmaker() as session:
        instructions = await app.state.purpose_gate.instructions(session, tenant)
    assert llm_provider_authorised(instructions) and not instructions.external_llm


async def test_a_change_applies_at_once_on_this_node(app, client, tenant_of):
    owner, tenant = tenant_of
    await gate(app, tenant, Purpose.STORE_TRANSCRIPT)  # caches the defaults
    await instruct(client, owner, tenant, {"purposes": {"store_transcripts": False}})
    with pytest.raises(PurposeNotInstructed):
        await gate(app, tenant, Purpose.STORE_TRANSCRIPT)


async def test_the_chat_path_opens_no_session_when_the_instructions_are_cached(app, client, tenant_of, monkeypatch):
    """authorize_chat: a session only for a cache miss; the same refusals, log entries and checks as authorize."""
    owner, tenant = tenant_of
    the_gate = app.state.purpose_gate
    opened = []

    def counting_sessionmaker():  # noqa: ANN202
        opened.append(1)
        return app.state.sessionmaker()

    the_gate.invalidate(tenant)
    assert (await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="ava_1", subject_ref="vis_1")).version == 0
    assert len(opened) == 1, "a miss reads the instructions"
    for i in range(3):
        await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="ava_1", subject_ref=f"vis_{i + 2}")
    assert len(opened) == 1, "hits open no session"
    with pytest.raises(PurposeNotInstructed):
        await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.EXTERNAL_LLM, actor="ava_1", subject_ref="vis_1")
    with pytest.raises(ValueError, match="pseudonymous id"):
        await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="ava_1", subject_ref="ada@example.com")
    await instruct(client, owner, tenant, {"purposes": {"answer_chats": False}})
    with pytest.raises(PurposeNotInstructed):
        await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="ava_1", subject_ref="vis_1")
    rows = await log_rows(app, tenant)
    assert [(r.purpose, r.subject_ref, r.instructions_version) for r in rows] == [("answer_chat", f"vis_{i}", 0) for i in (1, 2, 3, 4)]

    monkeypatch.setattr(the_gate, "writer", None)  # unbuffered: the entry commits in a session of its own
    await instruct(client, owner, tenant, {"purposes": {"answer_chats": True}})
    await the_gate.authorize_chat(counting_sessionmaker, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="ava_1", subject_ref="vis_9")
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessingLogEntry).where(ProcessingLogEntry.subject_ref == "vis_9")) == 1


@pytest.mark.parametrize(("field", "value"), [("subject_ref", "ada@example.com"), ("subject_ref", "Hello, I need help"), ("actor", "Ada Lovelace")])
async def test_the_log_refuses_anything_that_looks_like_content(app, tenant_of, field, value):
    _, tenant = tenant_of
    kwargs = {"actor": "system", "subject_ref": "vis_1", field: value}
    with pytest.raises(ValueError, match="pseudonymous id"):
        await gate(app, tenant, Purpose.ANSWER_CHAT, **kwargs)
    assert await log_rows(app, tenant) == []


async def test_a_session_of_another_engine_writes_the_entry_with_its_own_transaction(app, backend, tenant_of):
    _, tenant = tenant_of
    engine = create_engine(backend.database_url)
    try:
        async with AsyncSession(engine) as session:
            assert gate_for(session) is not app.state.purpose_gate
            await authorize(session, tenant_id=tenant, purpose=Purpose.EVALUATE, actor="system", subject_ref="conv_1")
            await session.rollback()  # the caller's work failed: no entry either
            await authorize(session, tenant_id=tenant, purpose=Purpose.EVALUATE, actor="system", subject_ref="conv_2")
            await session.commit()
    finally:
        await engine.dispose()
    assert [r.subject_ref for r in await log_rows(app, tenant)] == ["conv_2"]


async def test_the_tenant_reads_its_log_filtered_and_paginated(app, client, factory, tenant_of):
    owner, tenant = tenant_of
    other_owner = await factory.user()
    other = await factory.tenant(other_owner)
    for i in range(5):
        await gate(app, tenant, Purpose.ANSWER_CHAT, subject_ref=f"vis_{i % 2}", counts={"messages": 1})
    await gate(app, tenant, Purpose.EXPORT, actor=owner.id)
    await gate(app, other, Purpose.ANSWER_CHAT, subject_ref="vis_0")

    url = f"/v1/tenants/{tenant}/privacy/processing-log"
    r = await client.get(url, headers=owner.headers)  # the route flushes the buffer itself
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 6 and {i["purpose"] for i in items} == {"answer_chat", "export"}
    assert set(items[0]) == {"id", "at", "purpose", "actor", "subject_ref", "counts", "instructions_version"}

    r = await client.get(url, params={"purpose": "answer_chat", "subject_ref": "vis_0", "limit": 2}, headers=owner.headers)
    page1 = r.json()
    r = await client.get(url, params={"purpose": "answer_chat", "subject_ref": "vis_0", "limit": 2, "cursor": page1["next_cursor"]}, headers=owner.headers)
    page2 = r.json()
    assert [i["subject_ref"] for i in page1["items"] + page2["items"]] == ["vis_0"] * 3 and page2["next_cursor"] is None

    r = await client.get(url, params={"subject_ref": "vis_1", "cursor": page1["next_cursor"]}, headers=owner.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor"), "a cursor belongs to its filters"

    now = utcnow()
    r = await client.get(url, params={"since": (now + timedelta(minutes=1)).isoformat()}, headers=owner.headers)
    assert r.json()["items"] == []
    window = {"since": (now - timedelta(minutes=5)).isoformat(), "until": (now + timedelta(minutes=1)).isoformat()}
    r = await client.get(url, params=window, headers=owner.headers)
    assert len(r.json()["items"]) == 6

    r = await client.get(url, params={"purpose": "marketing"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.purpose"
    r = await client.get(url, params={"subject": "vis_0"}, headers=owner.headers)
    assert r.status_code == 422, "a misspelt filter must not return everything"


async def test_the_log_is_written_in_batches_and_on_shutdown(app, backend, tenant_of):
    from confide.app import create_app
    from tests.conftest import running

    _, tenant = tenant_of
    second = create_app(backend.settings(processing_log_flush_seconds=3600, retention_job_enabled=False))
    async with running(second):
        for i in range(3):
            await gate(second, tenant, Purpose.ANSWER_CHAT, subject_ref=f"vis_{i}")
        assert second.state.purpose_gate.writer.pending == 3
        async with second.state.sessionmaker() as session:
            stored = await session.scalar(select(func.count()).select_from(ProcessingLogEntry).where(ProcessingLogEntry.tenant_id == tenant))
        assert stored == 0
    assert len(await log_rows(app, tenant)) == 3, "shutdown flushed the buffer"
