"""Engine, sessions and the metadata every table shares (with an explicit constraint naming convention)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, DateTime, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from confide.core.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata

T = TypeVar("T")


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most `size` items, for IN lists and variadic commands a server takes at once
    (itertools.batched from Python 3.12, as slices)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


async def take_sqlite_write_lock(session: AsyncSession, column: Any, *where: ColumnElement[bool]) -> None:
    """On SQLite, take the database's one write lock now, with a write that changes nothing (`column` = itself on
    the rows `where` picks). SQLite has no row locks, and a transaction reads outside any lock until its first
    write, so two requests could otherwise both read the same state and then both act on it. Call it before the
    reads a step depends on. Elsewhere it does nothing (PostgreSQL locks rows: see lock_rows)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(sqlite_write_lock(column, *where))


def sqlite_write_lock(column: Any, *where: ColumnElement[bool]) -> Any:
    """take_sqlite_write_lock's statement, for code that runs in a synchronous session (an ORM event)."""
    return update(column.class_).where(*where).values({column.key: column}).execution_options(synchronize_session=False)


async def lock_rows(session: AsyncSession, column: Any, *where: ColumnElement[bool], order_by: Any = None) -> None:
    """Lock the rows `where` picks until the transaction ends, so steps on the same rows run one after the other.
    PostgreSQL: SELECT … FOR NO KEY UPDATE, which another of these waits for but an insert whose foreign key names
    the row does not; several rows are locked in `order_by` order (give one: two requests locking the same rows in
    different orders deadlock). SQLite: take_sqlite_write_lock."""
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(column).where(*where).with_for_update(key_share=True)
        await session.execute(stmt if order_by is None else stmt.order_by(order_by))
    else:
        await take_sqlite_write_lock(session, column, *where)


def create_engine(url: str, *, pool_size: int = 20, pre_ping: bool = False) -> AsyncEngine:
    """Without pre-ping a connection broken by a database restart fails one transaction, after which
    SQLAlchemy drops the whole pool; with it every checkout costs a round trip (the chat's hot path
    checks out one per message)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA secure_delete=ON")  # erased text is overwritten in the file, not left in free pages
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=pre_ping, pool_recycle=3600)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Routes commit explicitly; anything uncommitted is rolled back."""
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
