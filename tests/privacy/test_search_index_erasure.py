"""Erased text leaves the SQLite search index's pages, not only its answers. FTS5's delete marks an entry and
keeps its words in chat_message_fts_data until a merge rewrites them: no search found them, yet they were
in the database file. Erasure and the retention run compact the index; freed pages are zeroed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from confide.core.clock import utcnow
from confide.privacy.retention import run_retention
from tests.privacy.chat_seed import Shop, make_shop, seed_conversation


@pytest.fixture
async def shop(client, factory) -> Shop:
    return await make_shop(client, factory)


async def _in_index(app, word: str) -> bool:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        blocks = (await session.scalars(text("SELECT block FROM chat_message_fts_data"))).all()
    return any(word.encode() in bytes(block) for block in blocks if block is not None)


async def _in_file(app, word: str) -> bool:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = (await session.execute(text("PRAGMA database_list"))).all()[0][2]
    data = Path(path).read_bytes() + (Path(path + "-wal").read_bytes() if Path(path + "-wal").exists() else b"")
    return word.encode() in data


def _sqlite_only(app) -> None:  # noqa: ANN001
    if not app.state.settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's index entries go with their rows (the search test covers what a search finds)")


async def test_an_erased_visitors_words_leave_the_index_and_the_file(app, client, shop):
    _sqlite_only(app)
    await seed_conversation(app, shop, visitor_id="vis_fts1", texts=("parcel for Quokkaberg", "noted"), note="quokkaberg phoned")
    assert await _in_index(app, "quokkaberg"), "indexed first (else this test proves nothing)"
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/erasure-requests", json={"scope": "visitor", "visitor_id": "vis_fts1"}, headers=shop.owner.headers)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/erasure-requests/{r.json()['id']}", headers=shop.owner.headers)
    assert r.json()["status"] == "done", r.text
    assert not await _in_index(app, "quokkaberg")
    assert not await _in_file(app, "quokkaberg")


async def test_the_retention_run_compacts_what_was_deleted_outside_a_purge(app, shop):
    """A conversation without stored transcripts loses its text when it ends (chats.service.purge_text), not
    through a purge: the next retention run takes its words out of the index."""
    _sqlite_only(app)
    conversation_id = await seed_conversation(app, shop, visitor_id="vis_fts2", texts=("Wombatzeppelin at the door", "ok"))
    async with app.state.sessionmaker() as session:
        await session.execute(text("DELETE FROM chat_message WHERE conversation_id = :c"), {"c": conversation_id})
        await session.commit()
    assert await _in_index(app, "wombatzeppelin"), "the delete trigger only marks the entry"
    run = await run_retention(app.state.engine, app.state.settings, now=utcnow() + timedelta(seconds=1))
    assert run is not None and run.status == "done", run.failed_steps
    assert not await _in_index(app, "wombatzeppelin")
    assert not await _in_file(app, "wombatzeppelin")
