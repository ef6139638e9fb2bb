"""Alembic owns the schema: upgrading an empty database gives exactly the models, and downgrade works."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from confide.chats.search import include_name
from confide.core.db import create_engine
from confide.migrate import downgrade, upgrade
from confide.tables import metadata
from tests.support.services import postgres_database


async def _diff_and_tables(url: str) -> tuple[list, set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn):  # noqa: ANN001, ANN202
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "render_as_batch": True, "include_name": include_name})
                return compare_metadata(context, metadata), set(inspect(sync_conn).get_table_names())

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _roundtrip(url: str) -> None:
    await upgrade(url)
    diff, tables = await _diff_and_tables(url)
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(metadata.tables) <= tables
    await downgrade(url, "base")
    _, tables = await _diff_and_tables(url)
    assert tables <= {"alembic_version"}, f"left behind after downgrade: {tables}"
    await upgrade(url)  # and up again, as an operator rolling forward would
    diff, _ = await _diff_and_tables(url)
    assert diff == []


async def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path):
    await _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


async def test_postgres_upgrade_matches_models_and_downgrades():
    async with postgres_database() as url:
        await _roundtrip(url)


async def _open_invitations_resolved(url: str) -> None:
    """t0003: of the open invitations to one address in one tenant (addresses compared as the service stores them),
    the newest is kept and the others revoked; then the partial unique index refuses a second open one."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select
    from sqlalchemy.exc import IntegrityError

    from confide.core.identity import Tenant
    from confide.tenants.models import Invitation

    await upgrade(url, "t0002")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    later = t0 + timedelta(days=30)

    def row(id_: str, tenant: str, email: str, minutes: int, **ended: datetime) -> dict:
        return {"id": id_, "tenant_id": tenant, "email": email, "role": "analyst", "token_hash": id_, "created_at": t0 + timedelta(minutes=minutes),
                "expires_at": later, "accepted_at": None, "revoked_at": None, **ended}

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Tenant.__table__), [{"id": t, "name": t, "created_at": t0} for t in ("ten_a", "ten_b")])
            await conn.execute(insert(Invitation.__table__), [
                row("inv_old", "ten_a", "grace@example.com", 1),
                row("inv_mixed_case", "ten_a", " Grace@Example.com", 2),
                row("inv_newest", "ten_a", "grace@example.com", 3),
                row("inv_accepted", "ten_a", "grace@example.com", 4, accepted_at=t0),
                row("inv_other_tenant", "ten_b", "grace@example.com", 0),
                row("inv_alone", "ten_a", "ada@example.com", 0),
                row("inv_tie_1", "ten_a", "tie@example.com", 5),
                row("inv_tie_2", "ten_a", "tie@example.com", 5),
            ])
        await upgrade(url, "t0003")  # t0004 revokes open invitations naming no sender, as these do (tests/tenants/test_invitation_keys.py)
        async with engine.connect() as conn:
            t = Invitation.__table__.c  # the columns t0003 knows
            rows = {r.id: r for r in (await conn.execute(select(t.id, t.email, t.accepted_at, t.revoked_at))).all()}
            open_ = sorted(i for i, r in rows.items() if r.accepted_at is None and r.revoked_at is None)
            assert open_ == ["inv_alone", "inv_newest", "inv_other_tenant", "inv_tie_2"]
            assert {i for i, r in rows.items() if r.revoked_at is not None} == {"inv_old", "inv_mixed_case", "inv_tie_1"}
            assert rows["inv_mixed_case"].email == "grace@example.com"
            try:
                await conn.execute(insert(Invitation.__table__), [row("inv_again", "ten_a", "ada@example.com", 9)])
            except IntegrityError:
                pass
            else:
                raise AssertionError("a second open invitation to one address was stored")
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_sqlite_migration_keeps_the_newest_open_invitation_per_address(tmp_path):
    await _open_invitations_resolved(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}")


async def test_postgres_migration_keeps_the_newest_open_invitation_per_address():
    async with postgres_database() as url:
        await _open_invitations_resolved(url)
