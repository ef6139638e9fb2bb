"""The chat's hot-path writes: one round trip per message, fewer under load.

On PostgreSQL a message is one statement (`chats.service.append_statement`: the counter update and the
insert together). The writer runs it on a small asyncpg pool of its own, compiled once per shape,
outside SQLAlchemy's session and transaction machinery: alone, a statement is its own transaction (no
BEGIN and COMMIT round trips), sent from the caller's own task when the writer is idle; messages that
queue while the flushers are busy go together, one pipelined transaction per statement shape (group
commit). Everything else (SQLite, a message that brings rule hits along) goes through a session, with
the same plan and the same result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from confide.chats import service as chats
from confide.chats.models import Message
from confide.chats.service import StoredMessage
from confide.core.futures import settle

log = logging.getLogger("confide.chats.writer")


class DuplicateClientMessage(Exception):
    """A message with this client_message_id is stored already (a resend after a drop)."""


class _Compiled:
    __slots__ = ("binds", "sql")

    def __init__(self, engine: AsyncEngine, statement: Any) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.binds: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            self.binds.append((name, bind.type.bind_processor(dialect), bind.value))

    def args(self, params: dict[str, Any]) -> list[Any]:
        out = []
        for name, process, default in self.binds:
            value = params.get(name, default)
            out.append(process(value) if process is not None else value)
        return out


class _Pending(NamedTuple):
    compiled: _Compiled
    plan: chats.AppendPlan
    args: list[Any]
    done: asyncio.Future[Any]


CLIENT_ID_UNIQUE = "uq_chat_message_conversation_id_client_message_id"  # chat_message's (conversation_id, client_message_id)


def _is_resend(exc: Exception) -> bool:
    """A violation of CLIENT_ID_UNIQUE: PostgreSQL names the constraint (asyncpg's error, also under
    SQLAlchemy's wrapper), SQLite names its columns."""
    orig = getattr(exc, "orig", None)
    for error in (exc, orig, getattr(orig, "__cause__", None)):
        name = getattr(error, "constraint_name", None)
        if name:
            return bool(name == CLIENT_ID_UNIQUE)
    return "chat_message.conversation_id, chat_message.client_message_id" in str(orig if orig is not None else exc)


def _duplicate_or(exc: Exception, plan: chats.AppendPlan) -> Exception:
    """A resent client_message_id is a DuplicateClientMessage; anything else (a rule hit that cannot
    be stored, say) stays itself."""
    client_id = plan.fields["client_message_id"]
    return DuplicateClientMessage(client_id) if client_id is not None and _is_resend(exc) else exc


def _conversation_of(pending: _Pending) -> str:
    return pending.plan.conversation_id


IDLE_CONNECTION_SECONDS = 300.0  # an idle connection is closed after this long (the pool's, and the one the inline path keeps)


class _Held:
    """The connection the inline path keeps, the pool to hand it back to, and when it was last used."""

    __slots__ = ("connection", "pool", "used")

    def __init__(self, pool: Any, connection: Any) -> None:
        self.pool = pool
        self.connection = connection
        self.used = time.monotonic()


def usable(connection: Any) -> bool:
    """Whether a pool connection is still open; one the database closed may already have been
    taken back by the pool, and then says so only by raising."""
    import asyncpg

    try:
        return not connection.is_closed()
    except asyncpg.InterfaceError:
        return False


async def _keep_state(_connection: Any) -> None:
    """Pool release hook: the statements leave no session state, so skip asyncpg's RESET ALL round trip."""


class MessageWriter:
    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], *, pool_size: int, max_batches: int = 4) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.pool_size = pool_size
        self._pool: Any = None
        self._compiled: dict[tuple[tuple[str, ...], bool, tuple[str, ...] | None], _Compiled] = {}  # by AppendPlan.statement_key
        self._waiting: list[_Pending] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self._inline = 0  # appends writing from their own task (_write_inline)
        self._held: _Held | None = None  # the pool connection _write_inline keeps between messages
        self._closing = False
        self.max_batches = max(1, min(max_batches, pool_size))

    @property
    def dsn(self) -> str:
        return make_url(self.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def start(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        import asyncpg

        # min_size 0: connections open on first use, so a node starts (and /readyz says why it is not ready) while the database is down.
        # One more than the flushers' share: the connection the inline path keeps (_write_held).
        self._closing = False
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=self.pool_size + 1, reset=_keep_state, max_inactive_connection_lifetime=IDLE_CONNECTION_SECONDS
        )

    async def close(self) -> None:
        self._closing = True
        if not self._inline:
            await self._release_held()  # else the inline write in flight hands it back
        while self._flushers or (self._waiting and self._pool is not None):
            if not self._flushers:  # queued behind a flusher that has just left: write it before the pool goes
                self._flushers.add(asyncio.create_task(self._flush(), name="confide-chat-writer"))
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._flushers)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def append(self, **kwargs: Any) -> tuple[Message | StoredMessage, str]:
        """`chats.service.append` committed on its own; arguments as `chats.service.plan_append`.
        Raises DuplicateClientMessage for a resent client_message_id, NoResultFound for an
        unknown conversation and chats.WrongStatus for one not in a status of `when`."""
        plan = chats.plan_append(**kwargs)
        if self._pool is None or plan.rule_hits:
            try:
                async with self.sessionmaker() as session:
                    result = await chats.append_planned(session, plan)
                    await session.commit()
                return result
            except IntegrityError as exc:
                raise _duplicate_or(exc, plan) from exc
        key = plan.statement_key
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.engine, chats.append_statement(*key))
        args = compiled.args(plan.params())
        if not (self._flushers or self._waiting or self._inline):
            row = await self._write_inline(compiled.sql, plan, args)
        else:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting.append(_Pending(compiled, plan, args, done))
            self._start_flusher()
            row = await done
        if row is None:  # an unknown conversation, or one not in a status the plan allows (chats.WrongStatus)
            async with self.sessionmaker() as session:
                raise await chats.refusal(session, plan)
        return plan.stored(row[0]), row[1]

    def _start_flusher(self) -> None:
        if len(self._flushers) + self._inline < self.max_batches:
            self._flushers.add(asyncio.create_task(self._flush(), name="confide-chat-writer"))

    async def _write_inline(self, sql: str, plan: chats.AppendPlan, args: list[Any]) -> Any:
        """With nothing else in flight, the caller writes its message itself: its statement leaves at
        once, not a loop turn later from a flusher task (the common case on a quiet node, and the
        avatar's reply right after its last token). It holds a flusher slot meanwhile; whatever
        queues behind it goes by flushers, as a batch."""
        self._inline += 1
        try:
            return await self._write_held(sql, plan, args)
        finally:
            self._inline -= 1
            if self._waiting:
                self._start_flusher()

    async def _write_held(self, sql: str, plan: chats.AppendPlan, args: list[Any]) -> Any:
        """_write_one on the connection the inline path keeps: no pool acquire and release per message
        (the release alone, with its shielded task and idle timer, cost more than the statement's own
        client work). Only one inline write runs at a time, so it is never shared. A unique
        violation leaves the connection clean; any other failure (or a cancellation) hands it back,
        and the pool's release deals with whatever state it was left in."""
        import asyncpg

        try:
            return await self._write_one(await self._held_connection(), sql, plan, args)
        except (DuplicateClientMessage, asyncpg.UniqueViolationError):
            raise
        except BaseException:
            await self._release_held()
            raise
        finally:
            if self._closing:
                await self._release_held()

    async def _held_connection(self) -> Any:
        """The kept connection, unless the database has closed it (a restart: asyncpg has read the
        goodbye) or it has idled as long as the pool lets its own connections idle; then a fresh
        one from the pool, which opens it if need be."""
        held = self._held
        now = time.monotonic()
        if held is not None and usable(held.connection) and now - held.used < IDLE_CONNECTION_SECONDS:
            held.used = now
            return held.connection
        await self._release_held()
        pool = self._pool
        connection = await pool.acquire()
        self._held = _Held(pool, connection)
        return connection

    async def _release_held(self) -> None:
        """Hand the kept connection back to the pool it came from (even once close() has let go of
        the pool: its close waits for this). A failing release is logged, never raised over the
        error that led here."""
        held, self._held = self._held, None
        if held is not None:
            try:
                await held.pool.release(held.connection)
            except Exception:  # noqa: BLE001
                log.warning("releasing the chat writer's kept connection failed", exc_info=True)

    @staticmethod
    async def _write_one(target: Any, sql: str, plan: chats.AppendPlan, args: list[Any]) -> Any:
        """One message as its own transaction on `target` (a connection, or the pool); a resent
        client id raises DuplicateClientMessage."""
        import asyncpg

        try:
            return await target.fetchrow(sql, *args)
        except asyncpg.UniqueViolationError as exc:
            raise _duplicate_or(exc, plan) from exc

    async def _flush(self) -> None:
        """Group commit: whatever queued while every flusher was busy goes as one pipeline in one
        transaction per statement shape (asyncpg's fetchmany): one round trip and one commit for
        each. Up to `max_batches` batches are in flight on their own connections (one alone saturated
        at about 1,600 rows/s in bench.chat). Each locks its conversations in id order and holds no
        lock from one shape's transaction to the next, so two batches never wait on each other in a
        cycle. Order between concurrent writers of one conversation is not defined (each caller
        awaits its own append)."""
        batch: list[_Pending] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                batch.sort(key=_conversation_of)
                shapes: dict[_Compiled, list[_Pending]] = {}
                for pending in batch:
                    shapes.setdefault(pending.compiled, []).append(pending)
                for compiled, items in shapes.items():
                    await self._write(compiled.sql, items)
        except BaseException as exc:
            for pending in batch:  # nobody waits forever on a flusher that died (cancelled at shutdown, a bug)
                settle(pending.done, exception=exc if isinstance(exc, Exception) else ConnectionError("the chat writer stopped"))
            raise
        finally:
            # Leave the set in the same step as the last look at the queue: a caller resumed by this
            # batch that appends at once must see a free slot and start a flusher.
            current = asyncio.current_task()
            if current is not None:
                self._flushers.discard(current)  # type: ignore[arg-type]

    async def _write(self, sql: str, items: list[_Pending]) -> None:
        import asyncpg

        if len(items) > 1:
            try:
                rows = await self._pool.fetchmany(sql, [pending.args for pending in items])
            except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
                pass  # one resent message (or a lock cycle) fails the whole batch: write them one by one
            except Exception as exc:  # noqa: BLE001 - the database is away: every writer hears it
                for pending in items:
                    settle(pending.done, exception=exc)
                return
            else:
                by_id = {row[2]: row for row in rows}
                for pending in items:
                    settle(pending.done, result=by_id.get(pending.plan.fields["id"]))
                return
        for pending in items:
            if pending.done.done():
                continue  # its caller gave up (cancelled)
            try:
                settle(pending.done, result=await self._write_one(self._pool, sql, pending.plan, pending.args))
            except Exception as exc:  # noqa: BLE001 - handed to the one writer it concerns
                settle(pending.done, exception=exc)
