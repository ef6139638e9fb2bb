"""The engine that erases chat data, in small batches that each commit and then yield, so the chat on the
same node and database stays fast meanwhile. Erasure requests, the erasure ledger's sweep and the
retention of chat data all run through it.

Two modes:
- PURGE (one end customer, one conversation, everything older than a date, retention): the messages
  (text, notes, ratings' comments) are deleted, and the conversation row stays as an anonymous stub
  with status `erased`: visitor id replaced by "erased", customer reference removed. The aggregate
  statistics (avatar, language, times, rating, handed_off, guideline rule hits, evaluation rows) survive,
  because the rows they hang on survive, with no personal data left in them.
- DELETE (the whole tenant at the end of its contract, Art. 28(3)(g)): every row goes.

Data an active legal hold covers is never touched: it is skipped at selection and checked again in
every statement, so a hold placed mid-run still protects what it covers.

Beyond the database: each batch first removes the visitors' keys in the broker (rate-limit counters,
connection groups) and mails in the outbox folder that mention a visitor id, customer reference or
conversation id of the batch. Both are idempotent, so a batch that fails or a worker that dies simply
repeats them. Search data lives in the message rows (index entries, generated columns, triggers), so it
goes with them. Once a batch has committed, the chat nodes are told (realtime/access.py): the open widgets
on those conversations close with 4410, and operators watching them stop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Column, String, Table, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.chats.models import Conversation, Message
from confide.chats.search import compact_index
from confide.chats.service import ACTIVITY_RESOLUTION, LIVE_STATUSES
from confide.chats.tokens import customer_visitor_id
from confide.core.broker import Broker
from confide.core.classification import REGISTRY, Category
from confide.core.clock import utcnow
from confide.privacy.holds import ERASED, held_clause
from confide.privacy.outbox import OutboxIndex
from confide.privacy.models import ProcessingLogEntry
from confide.realtime import access, channels
from confide.realtime.protocol import queue_update
from confide.tables import metadata

log = logging.getLogger("confide.privacy.purge")

ProgressHook = Callable[[AsyncSession, dict[str, int], int], Awaitable[None]]


class Mode(StrEnum):
    PURGE = "purge"
    DELETE = "delete"


def visitor_broker_names(visitor_id: str) -> list[str]:
    """Every broker name that carries a visitor id: the message rate limit (realtime/visitor.py) and the
    group of the visitor's open connections. A new per-visitor key must be added here."""
    return [f"ws:msg:{visitor_id}", channels.visitor_connections_group(visitor_id)]


@dataclass(frozen=True)
class Selection:
    """Which conversations of one tenant: every filter given must hold."""

    tenant_id: str
    visitor_id: str | None = None
    customer_ref: str | None = None
    conversation_ids: tuple[str, ...] | None = None
    idle_before: datetime | None = None  # last activity (updated_at) before this time
    created_before: datetime | None = None
    include_erased: bool = False  # anonymised stubs too (deleting a tenant; messages that arrived after erasure)

    def where(self) -> list[Any]:
        c = Conversation
        where: list[Any] = [c.tenant_id == self.tenant_id]
        if self.visitor_id is not None:
            where.append(c.visitor_id == self.visitor_id)
        if self.customer_ref is not None:
            # The customer's conversations, and any under the visitor id derived from their reference.
            where.append(or_(c.customer_ref == self.customer_ref, c.visitor_id == customer_visitor_id(self.tenant_id, self.customer_ref)))
        if self.conversation_ids is not None:
            where.append(c.id.in_(self.conversation_ids))  # type: ignore[attr-defined]
        if self.idle_before is not None:
            # A live conversation's recorded activity may lag its last message by up to the activity
            # resolution (chats.service.ACTIVITY_RESOLUTION): it counts as idle only that much earlier.
            settled = c.status.not_in(LIVE_STATUSES)  # type: ignore[attr-defined]
            where.append(or_(c.updated_at < self.idle_before - ACTIVITY_RESOLUTION, and_(settled, c.updated_at < self.idle_before)))
        if self.created_before is not None:
            where.append(c.created_at < self.created_before)
        if not self.include_erased:
            where.append(c.status != ERASED)
        return where


async def count_conversations(session: AsyncSession, selection: Selection, *, held: bool | None = None) -> int:
    stmt = select(func.count()).select_from(Conversation).where(*selection.where())
    if held is True:
        stmt = stmt.where(held_clause())
    elif held is False:
        stmt = stmt.where(~held_clause())
    return int(await session.scalar(stmt) or 0)


@functools.cache
def related_tables(target: str) -> list[tuple[Table, Column[Any]]]:
    """Registered tables with a foreign key to `target`.id (other domains' tables join in by declaring
    one, e.g. evaluation rows per conversation), children before parents. Every table module is imported
    (confide.tables) before the first call, so the answer never changes."""
    found = []
    for table in reversed(metadata.sorted_tables):
        for column in table.columns:
            if any(fk.column.table.name == target and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _sets_null(column: Column[Any]) -> bool:
    """The owner of the table decided its rows outlive the parent (statistics): the database unlinks them."""
    return any((fk.ondelete or "").upper() == "SET NULL" for fk in column.foreign_keys)


# Columns about what a person said or who they are; pseudonymous ids in other domains' tables name
# staff or link rows, and are kept with the statistics.
CONTENT = {Category.COMMUNICATION, Category.CONTACT, Category.IDENTITY, Category.NETWORK}


def _content_columns(table: Table) -> list[Column[Any]]:
    record = REGISTRY.get(table.name)
    return [table.c[name] for name, category in (record.personal if record else {}).items() if category in CONTENT and name in table.c]


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


def _add(total: dict[str, int], key: str, value: int) -> None:
    if value:
        total[key] = total.get(key, 0) + value


@dataclass
class Purger:
    """Runs a selection through the batches. One purger per run: it keeps the outbox index warm."""

    sessionmaker: async_sessionmaker[AsyncSession]
    broker: Broker | None = None
    outbox_dir: Path | None = None
    conversation_batch: int = 500
    row_batch: int = 5000
    pause: float = 0.0
    after_commit: Callable[[dict[str, int]], None] | None = None  # told the counts of each committed batch
    # Retention: a visitor whose every conversation in the tenant was erased loses its id from the tenant's
    # processing log too (the entries stay, with no subject), as the erasure of an end customer does.
    unlink_gone_visitors: bool = False
    _outbox: OutboxIndex | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.outbox_dir is not None:
            self._outbox = OutboxIndex(self.outbox_dir)

    async def run(
        self, selection: Selection, mode: Mode, *, unlink_log_as: str | None = None, progress: ProgressHook | None = None
    ) -> dict[str, int]:
        """Erase every conversation of `selection` that no legal hold covers. `unlink_log_as` replaces the
        visitors' ids in the tenant's processing log (erasure of a whole end customer). Returns counts per store."""
        totals: dict[str, int] = {}
        last = ""
        c = Conversation
        while True:
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(c.id, c.visitor_id, c.customer_ref)
                        .where(*selection.where(), c.id > last, ~held_clause())
                        .order_by(c.id)
                        .limit(self.conversation_batch)
                    )
                ).all()
            if not rows:
                if totals.get("chat_message"):
                    async with self.sessionmaker() as session, session.begin():
                        await compact_index(session)  # SQLite: the deleted words leave the search index's pages too
                return totals
            last = rows[-1].id
            for key, value in (await self._batch(selection, rows, mode, unlink_log_as, progress)).items():
                _add(totals, key, value)
            await asyncio.sleep(self.pause)

    async def _outside_stores(self, rows: list[Any]) -> dict[str, int]:
        counts: dict[str, int] = {}
        visitors = {r.visitor_id for r in rows if r.visitor_id != ERASED}
        if self.broker is not None and visitors:
            _add(counts, "broker_keys", await self.broker.purge(*(name for v in sorted(visitors) for name in visitor_broker_names(v))))
        if self._outbox is not None:
            terms = {r.id for r in rows} | visitors | {r.customer_ref for r in rows if r.customer_ref}
            _add(counts, "outbox_files", await asyncio.to_thread(self._outbox.purge, terms))
        return counts

    async def _batch(self, selection: Selection, rows: list[Any], mode: Mode, unlink_log_as: str | None, progress: ProgressHook | None) -> dict[str, int]:
        """One batch of selected conversations. Each step checks the selection again: a conversation that stopped
        matching since it was selected (reopened and written to, past retention's idle cut-off) is left alone."""
        ids = [r.id for r in rows]
        still = selection.where()
        pending = await self._outside_stores(rows)  # first: the rows still name the subjects should we die after this
        totals: dict[str, int] = {}
        while True:
            async with self.sessionmaker() as session, session.begin():
                counts = dict(pending)
                removed = await self._delete_messages(session, ids, still, counts)
                if progress is not None:
                    await progress(session, counts, 0)
            pending = {}
            _add_all(totals, counts)
            self._committed(counts)
            if removed < self.row_batch:
                break
            await asyncio.sleep(self.pause)  # let the chat in between
        erased: list[str] = []
        queue_updates: list[dict[str, Any]] = []
        async with self.sessionmaker() as session, session.begin():
            counts = await self._finish(session, selection.tenant_id, ids, still, rows, mode, unlink_log_as, erased, queue_updates)
            if progress is not None:
                await progress(session, counts, counts.get("conversation", 0) + counts.get("conversation_anonymised", 0))
        _add_all(totals, counts)
        self._committed(counts)
        if erased:
            await access.announce_conversations_erased(self.sessionmaker, self.broker, selection.tenant_id, erased, queue_updates)
        return totals

    async def _delete_messages(self, session: AsyncSession, ids: list[str], still: list[Any], counts: dict[str, int]) -> int:
        """Up to `row_batch` messages of these conversations (those no hold covers), with the rows of other
        tables that go with a message (e.g. a copy of its text), counted. Returns how many messages went.

        On PostgreSQL one statement finds the rows once and deletes them by their physical address
        (ctid); on SQLite by rowid. Rows of tables whose foreign key sets null are left to the database."""
        c = Conversation
        unheld = list((await session.scalars(select(c.id).where(c.id.in_(ids), ~held_clause(), *still))).all())  # type: ignore[attr-defined]
        if not unheld:
            return 0
        children = [(str(t.name), col.name) for t, col in related_tables(Message.__tablename__) if not _sets_null(col)]
        if session.get_bind().dialect.name == "postgresql":
            ctes = ["chunk AS MATERIALIZED (SELECT ctid AS tid, id FROM chat_message WHERE conversation_id = ANY(:ids) LIMIT :n)"]
            ctes += [f'd{i} AS (DELETE FROM "{t}" WHERE "{col}" IN (SELECT id FROM chunk) RETURNING 1)' for i, (t, col) in enumerate(children)]
            ctes.append("dm AS (DELETE FROM chat_message WHERE ctid = ANY(ARRAY(SELECT tid FROM chunk)) RETURNING 1)")
            tallies = ", ".join([f"(SELECT count(*) FROM d{i})" for i in range(len(children))] + ["(SELECT count(*) FROM dm)"])
            stmt = text(f"WITH {', '.join(ctes)} SELECT {tallies}").bindparams(bindparam("ids", type_=postgresql.ARRAY(String)), bindparam("n"))
            row = (await session.execute(stmt, {"ids": unheld, "n": self.row_batch})).one()
            for (table, _), n in zip(children, row[:-1], strict=True):
                _add(counts, table, int(n))
            removed = int(row[-1])
        else:
            chunk = "SELECT {what} FROM chat_message WHERE conversation_id IN :ids ORDER BY rowid LIMIT :n"
            for table, col in children:
                stmt = text(f'DELETE FROM "{table}" WHERE "{col}" IN ({chunk.format(what="id")})').bindparams(bindparam("ids", expanding=True))
                _add(counts, table, _rows(await session.execute(stmt, {"ids": unheld, "n": self.row_batch})))
            stmt = text(f"DELETE FROM chat_message WHERE rowid IN ({chunk.format(what='rowid')})").bindparams(bindparam("ids", expanding=True))
            removed = _rows(await session.execute(stmt, {"ids": unheld, "n": self.row_batch}))
        _add(counts, "chat_message", removed)
        return removed

    def _committed(self, counts: dict[str, int]) -> None:
        if self.after_commit is not None and counts:
            self.after_commit(counts)

    async def _finish(
        self,
        session: AsyncSession,
        tenant_id: str,
        ids: list[str],
        still: list[Any],
        rows: list[Any],
        mode: Mode,
        unlink_log_as: str | None,
        erased_ids: list[str],
        queue_updates: list[dict[str, Any]],
    ) -> dict[str, int]:
        """The conversation rows themselves, in one transaction with the last stragglers. `erased_ids` gets
        the conversations erased, and in PURGE mode `queue_updates` the operators' frames for those of them
        that were in a queue or live."""
        c = Conversation
        counts: dict[str, int] = {}
        now = utcnow()
        unheld = select(c.id).where(c.id.in_(ids), ~held_clause(), *still)  # type: ignore[attr-defined]
        if mode == Mode.PURGE:
            # Lock the rows first (a concurrent append waits for us), then remove what was written meanwhile.
            stub = {"visitor_id": ERASED, "customer_ref": None, "status": ERASED, "closed_at": func.coalesce(c.closed_at, now), "updated_at": func.coalesce(c.closed_at, now)}
            listed = set((await session.scalars(select(c.id).where(c.id.in_(ids), c.status.in_(LIVE_STATUSES)))).all())  # type: ignore[attr-defined]
            anonymised = (await session.scalars(update(c).where(c.id.in_(ids), ~held_clause(), *still).values(**stub).returning(c.id))).all()  # type: ignore[attr-defined]
            erased_ids.extend(anonymised)
            _add(counts, "conversation_anonymised", len(anonymised))
            erased = select(c.id).where(c.id.in_(ids), c.status == ERASED)  # type: ignore[attr-defined]
            _add(counts, "chat_message", _rows(await session.execute(delete(Message).where(Message.conversation_id.in_(erased)))))  # type: ignore[attr-defined]
            await self._related(session, counts, erased, mode)
            if listed & set(anonymised):
                stubs = (await session.scalars(select(c).where(c.id.in_(sorted(listed & set(anonymised)))))).all()  # type: ignore[attr-defined]
                queue_updates.extend(queue_update(stub_row) for stub_row in stubs)
        else:
            _add(counts, "chat_message", _rows(await session.execute(delete(Message).where(Message.conversation_id.in_(unheld)))))  # type: ignore[attr-defined]
            await self._related(session, counts, unheld, mode)
            deleted = (await session.scalars(delete(c).where(c.id.in_(ids), ~held_clause(), *still).returning(c.id))).all()  # type: ignore[attr-defined]
            closures = metadata.tables["tenant_closure"]
            if await session.scalar(select(closures.c.id).where(closures.c.tenant_id == tenant_id)) is None:
                erased_ids.extend(deleted)  # their open widgets close too (no queue update: nothing is left to show); a closing tenant's say `tenant-closed`
            _add(counts, "conversation", len(deleted))
        visitors = sorted({r.visitor_id for r in rows if r.visitor_id != ERASED})
        if unlink_log_as is not None and visitors:
            _add(counts, "processing_log_unlinked", await _unlink(session, tenant_id, visitors, unlink_log_as))
        elif self.unlink_gone_visitors and visitors:
            kept = select(c.visitor_id).where(c.tenant_id == tenant_id, c.visitor_id.in_(visitors))  # type: ignore[attr-defined]
            gone = sorted(set(visitors) - set((await session.scalars(kept)).all()))
            if gone:
                _add(counts, "processing_log_unlinked", await _unlink(session, tenant_id, gone, None))
        return counts

    async def unlink_log(self, tenant_id: str, visitors: list[str], subject_ref: str, progress: ProgressHook | None = None) -> int:
        """Replace these visitors' ids in the tenant's processing log by the subject's pseudonym."""
        async with self.sessionmaker() as session, session.begin():
            n = await _unlink(session, tenant_id, visitors, subject_ref)
            if progress is not None and n:
                await progress(session, {"processing_log_unlinked": n}, 0)
        self._committed({"processing_log_unlinked": n})
        return n

    async def _related(self, session: AsyncSession, counts: dict[str, int], conversations: Any, mode: Mode) -> None:
        """Other tables' rows about these conversations: their content goes (nulled, or the row deleted when
        the content is required); in DELETE mode the rows go too, unless their table lets them outlive
        the conversation (ON DELETE SET NULL: statistics), which the database then unlinks."""
        for table, column in related_tables(Conversation.__tablename__):
            if table.name == Message.__tablename__:
                continue
            content = _content_columns(table)
            if mode == Mode.DELETE and not _sets_null(column):
                _add(counts, str(table.name), _rows(await session.execute(delete(table).where(column.in_(conversations)))))
            elif content and all(col.nullable for col in content):
                stmt = update(table).where(column.in_(conversations), or_(*(col.is_not(None) for col in content))).values({col.name: None for col in content})
                _add(counts, str(table.name), _rows(await session.execute(stmt)))
            elif content:
                _add(counts, str(table.name), _rows(await session.execute(delete(table).where(column.in_(conversations)))))

    async def unlink_tenant_log(self, tenant_id: str, progress: ProgressHook | None = None) -> int:
        """Drop every subject reference from the tenant's processing log (the entries stay, as proof of what was done)."""
        total = 0
        p = ProcessingLogEntry
        while True:
            async with self.sessionmaker() as session, session.begin():
                chunk = select(p.id).where(p.tenant_id == tenant_id, p.subject_ref.is_not(None)).limit(self.row_batch)  # type: ignore[union-attr]
                n = _rows(await session.execute(update(p).where(p.id.in_(chunk)).values(subject_ref=None)))  # type: ignore[attr-defined]
                if progress is not None and n:
                    await progress(session, {"processing_log_unlinked": n}, 0)
            total += n
            self._committed({"processing_log_unlinked": n})
            if n < self.row_batch:
                return total
            await asyncio.sleep(self.pause)


async def _unlink(session: AsyncSession, tenant_id: str, visitors: list[str], subject_ref: str | None) -> int:
    p = ProcessingLogEntry
    stmt = update(p).where(p.tenant_id == tenant_id, p.subject_ref.in_(visitors)).values(subject_ref=subject_ref)  # type: ignore[union-attr]
    return _rows(await session.execute(stmt))


def _add_all(total: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        _add(total, key, value)
