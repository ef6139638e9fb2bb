"""Two requests run at once, but in a forced order: one waits at a chosen SQL statement until the other has
committed. A race test then fails on every run of code that mishandles that order, not only when the scheduler
happens to pick it.

The requests are told apart by a context variable each sets before it runs, which the app's session inherits
(SQLAlchemy's greenlets carry the asyncio task's context), so two requests of the same route are told apart too."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

T = TypeVar("T")
_ROLE: contextvars.ContextVar[object] = contextvars.ContextVar("confide_test_turn", default=None)


def statement(text: str) -> str:
    """A statement on one line, in capitals, for matching."""
    return " ".join(text.split()).upper()


def starts(*prefixes: str) -> Callable[[str], bool]:
    return lambda s: s.startswith(prefixes)


# The sender check's write that takes SQLite's write lock (core.tenancy): where a request waits for another's commit.
sqlite_sender_lock = starts("UPDATE TENANT SET NAME=TENANT.NAME")


async def _as(role: object, request: Awaitable[T]) -> T:
    _ROLE.set(role)
    return await request


async def second_waits(
    app: Any,
    *,
    waiting: Awaitable[Any],
    first: Awaitable[Any],
    at: Callable[[str], bool],
    after: Callable[[str], bool],
    timeout: float = 20,
) -> tuple[Any, Any]:
    """Run `waiting` and `first` at once; `waiting` stops at its first statement `at` matches until `first` has
    committed the transaction in which it ran a statement `after` matches, and `first` runs that statement only once
    `waiting` has stopped (else it could be done before `waiting` got there). Returns (waiting's, first's) answers.

    The roles are objects of this call alone: a background task a request of an earlier call started (a worker woken
    by it) carries that call's role in its context, and must not count here. A commit counts once the database has
    made it (the session's after_commit; the engine's commit event comes before) and only for the connection that
    ran the `after` statement."""
    engine = app.state.engine.sync_engine
    waiting_role, first_role = object(), object()
    held, committed = asyncio.Event(), asyncio.Event()
    reached: set[int] = set()  # ids of the connections of `first` that ran an `after` statement
    connection_of: dict[int, int] = {}  # id(session) -> id(its connection), as each transaction begins

    def before_execute(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        s, role = statement(text), _ROLE.get()
        if role is first_role and after(s):
            reached.add(id(conn))
            if not held.is_set():  # the waiting request first gets to its place (or it may come too late to wait)
                await_only(asyncio.wait_for(held.wait(), timeout))
        elif role is waiting_role and not held.is_set() and at(s):
            held.set()
            await_only(asyncio.wait_for(committed.wait(), timeout))

    def on_begin(session: Session, transaction: Any, connection: Any) -> None:
        if _ROLE.get() is first_role:
            connection_of[id(session)] = id(connection)

    def on_commit(session: Session) -> None:
        if _ROLE.get() is first_role and not session.in_nested_transaction() and connection_of.get(id(session)) in reached:
            committed.set()

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(Session, "after_begin", on_begin)
    event.listen(Session, "after_commit", on_commit)
    try:
        answers = await asyncio.wait_for(asyncio.gather(_as(waiting_role, waiting), _as(first_role, first)), 3 * timeout)
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
        event.remove(Session, "after_begin", on_begin)
        event.remove(Session, "after_commit", on_commit)
    assert held.is_set(), "the waiting request never reached the statement it was to wait at"
    assert committed.is_set(), "the first request never committed the statement the other waited for"
    return answers[0], answers[1]
