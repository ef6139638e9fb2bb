"""A tenant's export of its chat data (Art. 28(3)(e), (g) GDPR: the tenant answers its end customers'
access and portability requests, and gets its data back at the end of the contract).

The export is streamed: conversations are read in keyset batches and each batch's messages through a
server-side cursor, so memory stays flat however large the tenant. One snapshot: on PostgreSQL the
read runs in a REPEATABLE READ transaction, on SQLite in one read transaction.

Records, in order (NDJSON: one JSON object per line; CSV: one row each, same order):

    {"type": "export", "format": "confide-chat-export/1", "tenant_id": …, "filters": {…}}
    per batch of conversations (by id): their `conversation` records, then their `message`, `event`
    (handoffs, operator joined, closed …), `note` (private staff notes: the tenant's own data about the
    conversation, exported and marked as notes) and `rating` records in conversation order, then the rows
    of other tables about them (`rule_hit`, and e.g. evaluation rows: any registered table with a
    foreign key to a conversation joins in as its own type)
    {"type": "manifest", "counts": {type: n}, "records": n, "sha256": …, "generated_at": …}

`sha256` is the SHA-256 of every byte before the manifest line (in CSV: before the manifest row).
The header carries no time, so the same data exported twice hashes the same, and
GET …/exports/manifest with the same filters answers the same counts and hash without the content.
Conversations whose personal data was erased are not exported: nothing of them is left but statistics.
In CSV, a cell a spreadsheet would run as a formula (end customers write the text: `=HYPERLINK(…)`,
`@SUM(…)`) is written with a leading `'` (confide.core.spreadsheet, as the evaluation reports do), and rows
end in CRLF (RFC 4180): Python's csv quotes a cell holding a line-terminator character, and with `\n` alone a
bare CR in a text went out unquoted, where a spreadsheet starts a new row (and the text after it a cell that
was never neutralised). NDJSON carries every text exactly.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Column, DateTime, Table, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.chats.models import Conversation, Message
from confide.core.clock import as_utc, utcnow
from confide.core.spreadsheet import neutralise
from confide.privacy.holds import ERASED
from confide.privacy.purge import related_tables

EXPORT_FORMAT = "confide-chat-export/1"
CONVERSATION_BATCH = 500
YIELD_PER = 2000
CHUNK_BYTES = 256 * 1024
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = ("type", "id", "conversation_id", "created_at", "author", "kind", "text", "data")
TYPE_NAMES = {"conversation_rule_hit": "rule_hit"}
MESSAGE_COLUMNS = (
    Message.id,
    Message.conversation_id,
    Message.seq,
    Message.kind,
    Message.author,
    Message.operator_id,
    Message.client_message_id,
    Message.event,
    Message.text,
    Message.redacted,
    Message.verdict,
    type_coerce(Message.created_at, DateTime(timezone=True)).label("created_at"),  # plain: orjson writes naive values as UTC
)
JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


@dataclass(frozen=True)
class ExportFilter:
    """The whole tenant, one end customer (visitor id and/or the tenant's customer reference), and/or the
    conversations started in [since, until)."""

    tenant_id: str
    visitor_id: str | None = None
    customer_ref: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[Any]:
        c = Conversation
        where: list[Any] = [c.tenant_id == self.tenant_id, c.status != ERASED]
        if self.visitor_id is not None:
            where.append(c.visitor_id == self.visitor_id)
        if self.customer_ref is not None:
            where.append(c.customer_ref == self.customer_ref)
        if self.since is not None:
            where.append(c.created_at >= self.since)
        if self.until is not None:
            where.append(c.created_at < self.until)
        return where

    def describe(self) -> dict[str, Any]:
        return {
            "visitor_id": self.visitor_id,
            "customer_ref": self.customer_ref,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }


def message_type(kind: str, event: str | None) -> str:
    if kind == "note":
        return "note"
    if kind == "event":
        return "rating" if event == "rating" else "event"
    return "message"


async def count_in_scope(session: AsyncSession, flt: ExportFilter) -> dict[str, int]:
    """Conversations and messages the export covers (for the processing log)."""
    conversations = select(Conversation.id).where(*flt.where())
    n_conv = await session.scalar(select(func.count()).select_from(conversations.subquery()))
    n_msg = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id.in_(conversations)))  # type: ignore[attr-defined]
    return {"conversations": int(n_conv or 0), "messages": int(n_msg or 0)}


@dataclass
class Export:
    """One export run: iterate `chunks()`; `counts` and `sha256` are final once it is exhausted."""

    sessionmaker: async_sessionmaker[AsyncSession]
    flt: ExportFilter
    fmt: str = "ndjson"
    counts: dict[str, int] = field(default_factory=dict)
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0

    def __post_init__(self) -> None:
        if self.fmt not in MEDIA_TYPES:
            raise ValueError(f"unknown export format {self.fmt!r}")
        self._buffer = bytearray()
        self._csv_text = io.StringIO()
        self._csv = csv.writer(self._csv_text, lineterminator="\r\n")  # so a bare CR in a text is quoted too (see the docstring)

    # ---- encoding -----------------------------------------------------------------------------

    def _emit(self, record: dict[str, Any]) -> None:
        kind = record["type"]
        if kind not in ("export", "manifest"):
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.fmt == "ndjson":
            self._buffer += orjson.dumps(record, option=JSON_OPTIONS)
            self._buffer += b"\n"
            return
        main = {k: record.get(k) for k in CSV_COLUMNS[:-1]}
        rest = {k: v for k, v in record.items() if k not in main}
        row = [_cell(main[k]) for k in CSV_COLUMNS[:-1]] + [orjson.dumps(rest, option=JSON_OPTIONS).decode() if rest else ""]
        self._csv.writerow(row)
        self._buffer += self._csv_text.getvalue().encode()
        self._csv_text.seek(0)
        self._csv_text.truncate()

    def _take(self, *, hashed: bool = True) -> bytes:
        out = bytes(self._buffer)
        self._buffer.clear()
        if hashed:
            self.digest.update(out)
            self.size += len(out)  # the bytes the manifest's hash covers
        return out

    # ---- reading ------------------------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.fmt == "csv":
            self._csv.writerow(CSV_COLUMNS)
            self._buffer += self._csv_text.getvalue().encode()
            self._csv_text.seek(0)
            self._csv_text.truncate()
        self._emit({"type": "export", "format": EXPORT_FORMAT, "tenant_id": self.flt.tenant_id, "filters": self.flt.describe()})
        related = [(t, col) for t, col in related_tables(Conversation.__tablename__) if t.name != Message.__tablename__]
        conversation_columns = [col for col in Conversation.__table__.columns if col.name != "tenant_id"]  # type: ignore[attr-defined]
        async with self.sessionmaker() as session:
            if session.bind.dialect.name == "postgresql":
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
            last = ""
            while True:
                rows = (
                    await session.execute(
                        select(*conversation_columns).where(*self.flt.where(), Conversation.id > last).order_by(Conversation.id).limit(CONVERSATION_BATCH)
                    )
                ).all()
                if not rows:
                    break
                last = rows[-1].id
                ids = [r.id for r in rows]
                for row in rows:
                    self._emit({"type": "conversation", **row._asdict()})
                async for chunk in self._messages(session, ids):
                    yield chunk
                for table, column in related:
                    async for chunk in self._related(session, table, column, ids):
                        yield chunk
                if len(self._buffer) >= CHUNK_BYTES:
                    yield self._take()
            await session.rollback()
        tail = self._take()
        manifest = {
            "type": "manifest",
            "format": EXPORT_FORMAT,
            "counts": dict(sorted(self.counts.items())),
            "records": sum(self.counts.values()),
            "sha256": self.digest.hexdigest(),
            "sha256_of": "every byte before this record",
            "generated_at": utcnow(),
        }
        self._emit(manifest)
        yield tail + self._take(hashed=False)
        self.manifest = manifest

    async def _messages(self, session: AsyncSession, ids: list[str]) -> AsyncIterator[bytes]:
        """The hot loop (nearly every record is a message): Core rows unpacked as tuples, one dict literal
        and one orjson call per record."""
        stmt = (
            select(*MESSAGE_COLUMNS)
            .where(Message.conversation_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(Message.conversation_id, Message.created_at, Message.id)
            .execution_options(yield_per=YIELD_PER)
        )
        result = await (await session.connection()).stream(stmt)
        ndjson = self.fmt == "ndjson"
        counts = self.counts
        for_each = self._emit
        dumps, options = orjson.dumps, JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE
        async for partition in result.partitions():
            buffer = self._buffer
            for mid, cid, seq, kind, author, operator_id, client_id, event, text, redacted, verdict, created in partition:
                if kind == "message":
                    record: dict[str, Any] = {"type": "message", "id": mid, "conversation_id": cid, "seq": seq, "kind": kind, "author": author,
                                              "operator_id": operator_id, "client_message_id": client_id, "event": event, "text": text,
                                              "redacted": redacted, "verdict": verdict, "created_at": created}
                elif kind == "event" and event == "rating":
                    score = (verdict or {}).get("score")
                    resolved = (verdict or {}).get("resolved")
                    record = {"type": "rating", "id": mid, "conversation_id": cid, "created_at": created, "author": author, "score": score,
                              "resolved": resolved, "text": text}
                else:
                    record = {"type": message_type(kind, event), "id": mid, "conversation_id": cid, "seq": seq, "kind": kind, "author": author,
                              "operator_id": operator_id, "client_message_id": client_id, "event": event, "text": text,
                              "redacted": redacted, "verdict": verdict, "created_at": created}
                if ndjson:
                    buffer += dumps(record, option=options)
                    kind_name = record["type"]
                    counts[kind_name] = counts.get(kind_name, 0) + 1
                else:
                    for_each(record)
            if len(self._buffer) >= CHUNK_BYTES:
                yield self._take()

    async def _related(self, session: AsyncSession, table: Table, column: Column[Any], ids: list[str]) -> AsyncIterator[bytes]:
        kind = TYPE_NAMES.get(str(table.name), str(table.name))  # a plain str: orjson takes no subclasses as keys
        columns = [c for c in table.columns if c.name != "tenant_id"]
        result = await session.stream(select(*columns).where(column.in_(ids)).order_by(column, *table.primary_key.columns).execution_options(yield_per=YIELD_PER))
        async for partition in result.partitions():
            for row in partition:
                record = row._asdict()
                record.setdefault("conversation_id", record.get(column.name))
                self._emit({"type": kind, **record})
            if len(self._buffer) >= CHUNK_BYTES:
                yield self._take()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    if value is None:
        return ""
    return neutralise(value)  # end customers write the text: no formulas in the admin's spreadsheet
