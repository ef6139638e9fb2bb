"""Work that may happen only once a session's transaction has committed: files deleted with the rows that
named them, a broker told about a change. Collected on the session while the transaction runs, handed to
its job once the outermost transaction commits (a savepoint released is no commit), and dropped on a
rollback or a session closed without a commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("confide.after_commit")

_PENDING = "confide.after_commit"  # key in Session.info: {job name: (run, items)}

Run = Callable[[Session, list[Any]], None]


def pending(session: AsyncSession | Session, name: str, run: Run) -> list[Any]:
    """The list of items for job `name` on this session's transaction: append to it; once the transaction
    commits, `run(session, items)` gets them (the commit has happened: what it raises is logged, not raised)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    jobs: dict[str, tuple[Run, list[Any]]] | None = sync.info.get(_PENDING)
    if jobs is None:
        jobs = sync.info[_PENDING] = {}
        if not event.contains(sync, "after_commit", _after_commit):
            event.listen(sync, "after_commit", _after_commit)
            event.listen(sync, "after_transaction_end", _after_transaction_end)
    job = jobs.get(name)
    if job is None:
        job = jobs[name] = (run, [])
    return job[1]


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    jobs = session.info.pop(_PENDING, None)
    for name, (run, items) in (jobs or {}).items():
        if not items:
            continue
        try:
            run(session, items)
        except Exception as exc:  # noqa: BLE001 - committed already: one job's failure must not skip the others or fail the request
            log.error("after-commit job failed", extra={"job": name, "error_type": type(exc).__name__})


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # rolled back or closed without a commit (a commit popped them already)
