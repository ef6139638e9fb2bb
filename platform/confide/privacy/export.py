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

Stalled and slow downloads (security review F1). The snapshot is what makes the manifest true (its counts
and hash describe one state of the data, the one the processing-log entry counted), and a snapshot lives
as long as its transaction on one connection (PostgreSQL's exported snapshots too need their transaction
kept open). So an export holds one pooled connection while it streams, and streams at the pace of its
client: reading ahead of it would mean buffering the export (memory) or spooling it (disk the size of the
export, and a stalled client then holds a file instead). Reading in keyset batches with the session
released between them would free the connection, but each batch would see another state: a message
appended or a conversation erased between two batches would make a manifest of data that never was.
Instead the connection is held, and the holding is bounded (`ExportSlots`, `ExportResponse`; settings
`export_*`):

- per node, at most `export_concurrency_per_node` exports read at once (a non-blocking count: a claim over
  it is refused at once, never queued), well below the pool, so however many downloads stall the rest of
  the pool serves every other request;
- per tenant, at most `export_concurrency_per_tenant` across all nodes (a broker group, renewed while the
  export runs, so a node that dies frees its claims): one tenant, and anyone can register one, cannot take
  every node's slots;
- a client that takes no data for `export_stall_seconds` loses its export: the stream ends, the session
  rolls back and the connection goes back to the pool;
- and however steadily it reads, an export ends after `export_max_seconds`: on PostgreSQL an old snapshot
  holds vacuum back for every tenant.

An export that was ended is closed mid-body, without its manifest: the client sees a broken download (and
a file without the manifest line is incomplete by definition), never one that looks whole. Over a cap the
node's cap answers 503 `service-unavailable` with Retry-After: the server is at its capacity for exports,
and another node (or the same one shortly) can serve it. Over the tenant's own cap it is 429 `rate-limited`,
with Retry-After: that limit is the tenant's own usage, wherever it asks. The manifest route reads as much as
an export and takes a slot the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Column, DateTime, Table, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from confide.chats.models import Conversation, Message
from confide.core.broker import Broker
from confide.core.clock import as_utc, utcnow
from confide.core.errors import RateLimited, ServiceUnavailable
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
SLOT_TTL_SECONDS = 60.0  # a claim on a tenant's export slot lapses unless its node renews it (every third of this)
BUSY_RETRY_AFTER = 10  # seconds a refused export is told to wait: exports are long, a slot frees when one ends
log = logging.getLogger("confide.privacy.export")


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
                async with contextlib.aclosing(self._messages(session, ids)) as messages:  # closed at once when the export is ended
                    async for chunk in messages:
                        yield chunk
                for table, column in related:
                    async with contextlib.aclosing(self._related(session, table, column, ids)) as rows:
                        async for chunk in rows:
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


class ExportSlots:
    """The exports a node lets run at once, overall and per tenant (see the module's docstring). One per app."""

    def __init__(self, broker: Broker, *, per_node: int, per_tenant: int) -> None:
        self.broker = broker
        self.per_node = per_node
        self.per_tenant = per_tenant
        self.running = 0
        self._node = os.urandom(4).hex()
        self._serial = itertools.count()

    async def claim_export_slot(self, tenant_id: str) -> ExportSlot:
        """A slot for one export of `tenant_id`, or at once 503 (this node's cap) or 429 (the tenant's). Per tenant the earliest claims win: claims are
        named by time, and one that finds `per_tenant` earlier ones in the group withdraws. Two nodes claiming
        in the same instant may both win: the cap can be overrun by the claims in flight, never by more."""
        if self.running >= self.per_node:
            raise _busy(f"This server is reading as many exports as it may at once ({self.per_node}).")
        self.running += 1
        slot = ExportSlot(self, f"exports:{tenant_id}", f"{time.time_ns():020d}:{self._node}:{next(self._serial)}")
        try:
            try:
                await self.broker.member_add(slot.group, slot.member, SLOT_TTL_SECONDS)
                members = await self.broker.members(slot.group)
            except Exception:  # the broker away: the node's own cap still bounds the connections, so exports go on
                log.warning("export slot: the broker did not answer; the tenant's cap is not checked", exc_info=True)
                members = []
            if slot.member in members[self.per_tenant :]:
                n = self.per_tenant
                raise RateLimited(
                    BUSY_RETRY_AFTER,
                    f"This tenant is running {n} export{'s' if n != 1 else ''} at once already, the most it may; wait until one has finished. "
                    f"Try again in {BUSY_RETRY_AFTER} seconds.",
                )
        except BaseException:
            await slot.release()
            raise
        slot.start()
        return slot


@dataclass(eq=False)
class ExportSlot:
    """A claimed slot; `release()` (idempotent) gives it back. Its tenant claim is renewed while it is held."""

    slots: ExportSlots
    group: str
    member: str
    released: bool = False
    _renewal: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._renewal = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(SLOT_TTL_SECONDS / 3)
            with contextlib.suppress(Exception):  # the broker away a moment: the claim lives a TTL longer
                await self.slots.broker.member_add(self.group, self.member, SLOT_TTL_SECONDS)

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        self.slots.running -= 1
        if self._renewal is not None:
            self._renewal.cancel()
        with contextlib.suppress(Exception):  # it lapses after its TTL anyway
            await self.slots.broker.member_remove(self.group, self.member)


def _busy(detail: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"{detail} Try again in {BUSY_RETRY_AFTER} seconds.", headers={"Retry-After": str(BUSY_RETRY_AFTER)}, retry_after=BUSY_RETRY_AFTER
    )


class ExportResponse(StreamingResponse):
    """Streams an export on its slot and ends it when its client stalls or it runs too long (see the module's
    docstring); gives the slot back however the response ends."""

    def __init__(
        self, export: Export, slot: ExportSlot, *, stall_seconds: float, max_seconds: float, media_type: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(export.chunks(), media_type=media_type, headers=headers)
        self.export, self.slot = export, slot
        self.stall_seconds, self.max_seconds = stall_seconds, max_seconds

    async def stream_response(self, send: Send) -> None:
        chunks = self.body_iterator
        deadline = time.monotonic() + self.max_seconds
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in chunks:  # type: ignore[union-attr]
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError
                    async with asyncio.timeout(min(self.stall_seconds, left)):
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except TimeoutError:
                    why = "it ran longer than export_max_seconds" if time.monotonic() >= deadline else "its client took no data for export_stall_seconds"
                    log.warning("export ended: %s", why, extra={"tenant_id": self.export.flt.tenant_id})
                    return  # incomplete: the server closes the connection mid-body (after what its socket buffer holds already)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await chunks.aclose()  # type: ignore[union-attr]  # its session rolls back; the connection goes back to the pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.slot.release()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    if value is None:
        return ""
    return neutralise(value)  # end customers write the text: no formulas in the admin's spreadsheet
