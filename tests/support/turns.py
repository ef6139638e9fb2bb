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
from sqlalchemy.util import await_only

T = TypeVar("T")
_ROLE: contextvars.ContextVar[str | None] = contextvars.ContextVar("confide_test_turn", default=None)


def statement(text: str) -> str:
    """A statement on one line, in capitals, for matching."""
    return " ".join(text.split()).upper()


def starts(*prefixes: str) -> Callable[[str], bool]:
    return lambda s: s.startswith(prefixes)


async def _as(role: str, request: Awaitable[T]) -> T:
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
    committed the transaction in which it ran a statement `after` matches. Returns (waiting's, first's) answers."""
    engine = app.state.engine.sync_engine
    held, committed = asyncio.Event(), asyncio.Event()
    reached: set[int] = set()

    def before_execute(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        s, role = statement(text), _ROLE.get()
        if role == "first" and after(s):
            reached.add(id(conn.connection.dbapi_connection))
        elif role == "waiting" and not held.is_set() and at(s):
            held.set()
            await_only(asyncio.wait_for(committed.wait(), timeout))

    def on_commit(conn: Any) -> None:
        if _ROLE.get() == "first" and id(conn.connection.dbapi_connection) in reached:
            committed.set()

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", on_commit)
    try:
        answers = await asyncio.wait_for(asyncio.gather(_as("waiting", waiting), _as("first", first)), 3 * timeout)
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
        event.remove(engine, "commit", on_commit)
    assert held.is_set(), "the waiting request never reached the statement it was to wait at"
    assert committed.is_set(), "the first request never committed the statement the other waited for"
    return answers[0], answers[1]
