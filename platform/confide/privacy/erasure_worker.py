"""The erasure worker: carries out erasure requests in the background, and sweeps the erasure ledger.

One runner per cluster: a PostgreSQL advisory lock held for the duration of a pass (on SQLite, where one
process owns the file, a process-wide guard). A pass takes every pending request, and every request
left running by a runner that died (the lock says no other runner is alive), and works through it in
batches; each batch commits its deletions together with the request's progress, so a worker killed at
any moment resumes exactly where the last commit left it, with exact counts. A request whose batch
fails goes back to pending and is retried by the next pass, up to MAX_ATTEMPTS, then it is failed.

The ledger sweep (every `erasure_ledger_sweep_seconds`) erases again what reappears of erased
subjects: conversations created before a subject's erasure that are back (an import, a restored
backup), and messages that reached an erased conversation through a connection still open at the time.
Conversations a returning end customer starts after their erasure are new processing and are kept.

    python -m confide.privacy.erasure_worker [--once] [--verbose]    # a worker on its own (CONFIDE_* env)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from confide.chats.models import Conversation
from confide.chats.tokens import customer_visitor_id
from confide.core.broker import Broker, create_broker
from confide.core.futures import cancel_and_wait
from confide.core.locks import cluster_lock
from confide.core.logs import configure_logging
from confide.core.clock import utcnow
from confide.core.db import create_engine, create_sessionmaker
from confide.core.ids import new_id
from confide.privacy.erasure import ACTIVE, selection_for, subject_keys
from confide.privacy.erasure_models import ErasureLedgerEntry, ErasureRequest, LegalHold
from confide.privacy.gate import Purpose, authorize, gate_for
from confide.privacy.holds import ERASED
from confide.privacy.purge import Mode, Purger, Selection, count_conversations
from confide.privacy.subjects import SubjectKeys
from confide.settings import Settings

log = logging.getLogger("confide.privacy.erasure")

MAX_ATTEMPTS = 5
SWEEP_SCAN_BATCH = 5000

# Work of other domains that waits for erasures (closing a tenant deletes it once its chat data is
# erased): run after each pass, by the one runner, each in its own transactions; a failure is logged
# and the hook simply runs again after the next pass. The hooks are passed in where a worker is built
# (privacy/runtime.py, for the app and for a worker on its own): this module imports no other domain's work.
PassHook = Callable[[async_sessionmaker[AsyncSession]], Awaitable[object]]
PassHooks = Callable[[Settings, Broker], tuple[PassHook, ...]]  # the after-pass work, given the worker's settings and broker


def erasure_lock(engine: AsyncEngine) -> Any:
    """Yields True when this caller is the only erasure runner now, False when another one runs."""
    return cluster_lock(engine, "erasure")


def _merge(total: dict[str, int], delta: dict[str, int]) -> None:
    for key, value in delta.items():
        if value:
            total[key] = total.get(key, 0) + value


class ErasureWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        settings: Settings,
        broker: Broker | None = None,
        outbox_dir: Path | None = None,
        row_batch: int | None = None,
        conversation_batch: int = 500,
        poll_seconds: float | None = None,
        sweep_seconds: float | None = None,
        pause: float = 0.0,
        on_batch: Callable[[str, dict[str, int]], None] | None = None,
        after_pass: tuple[PassHook, ...] = (),
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.broker = broker
        self.outbox_dir = outbox_dir
        self.keys: SubjectKeys = subject_keys(settings)
        self.row_batch = row_batch or settings.erasure_batch_rows
        self.conversation_batch = conversation_batch
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.erasure_poll_seconds
        self.sweep_seconds = sweep_seconds if sweep_seconds is not None else settings.erasure_ledger_sweep_seconds
        self.pause = pause
        self.on_batch = on_batch
        self.after_pass = after_pass
        self._wake = asyncio.Event()
        self._local = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._next_sweep = time.monotonic() + self.sweep_seconds

    # ---- running ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="confide-erasure")

    async def stop(self) -> None:
        if self._task:
            error = await cancel_and_wait(self._task)
            if error is not None:
                log.warning("erasure worker had failed", extra={"error_type": type(error).__name__})
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_pass(sweep=time.monotonic() >= self._next_sweep)
            except Exception as exc:  # the next poll tries again
                log.error("erasure pass failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def drain(self, *, sweep: bool = False, timeout: float = 120.0) -> None:
        """Run one pass now, in the caller's task, waiting for the lock if another runner holds it:
        every request queued before the call is then done, failed or back to pending after a failure."""
        async with asyncio.timeout(timeout):
            while not await self.run_pass(sweep=sweep):
                await asyncio.sleep(0.05)  # another node holds the lock: there is no event to wait on

    async def run_pass(self, *, sweep: bool = False) -> bool:
        """Process the queue (and sweep the ledger when asked); False when another runner holds the lock."""
        async with self._local, erasure_lock(self.engine) as alone:
            if not alone:
                return False
            async with self.sessionmaker() as session:
                ids = list(
                    (
                        await session.scalars(
                            select(ErasureRequest.id).where(ErasureRequest.status.in_(ACTIVE)).order_by(ErasureRequest.requested_at).limit(1000)  # type: ignore[attr-defined]
                        )
                    ).all()
                )
            for request_id in ids:
                await self.process(request_id)
            if sweep:
                self._next_sweep = time.monotonic() + self.sweep_seconds
                await self.sweep_ledger()
            for hook in self.after_pass:
                try:
                    await hook(self.sessionmaker)
                except Exception as exc:  # the next pass runs it again
                    log.error("erasure after-pass hook failed: %s", type(exc).__name__, extra={"hook": getattr(hook, "__qualname__", "?")})
            return True

    # ---- one request --------------------------------------------------------------------------

    def _purger(self, request_id: str) -> Purger:
        purger = Purger(
            self.sessionmaker,
            broker=self.broker,
            outbox_dir=self.outbox_dir,
            conversation_batch=self.conversation_batch,
            row_batch=self.row_batch,
            pause=self.pause,
        )
        if self.on_batch is not None:
            on_batch = self.on_batch
            purger.after_commit = lambda counts: on_batch(request_id, counts)
        return purger

    async def _flush_log(self) -> None:
        """Entries this node buffered about the subject reach the table before they are unlinked there."""
        async with self.sessionmaker() as session:
            await gate_for(session).flush()

    async def process(self, request_id: str) -> str | None:
        """Carry out one request (resuming it if a runner died on it); returns its status after."""
        await self._flush_log()
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            request = await session.get(ErasureRequest, request_id)
            if request is None or request.status not in ACTIVE:
                return request.status if request else None
            if request.scope == "ledger":  # a sweep that died or failed: the next sweep finds whatever is left
                request.status, request.finished_at, request.active_key = "failed", now, None
                request.error = request.error or "Interrupted; the next sweep of the ledger erases what is left."
                return "failed"
            selection, mode = selection_for(request)
            if request.status == "pending":  # new, re-queued after a hold was released, or retried
                request.conversations_total = request.conversations_done + await count_conversations(session, selection, held=False)
            request.status = "running"
            request.started_at = request.started_at or now
            request.heartbeat_at = now
            request.attempts += 1
            counts: dict[str, int] = dict(request.counts or {})
            done = request.conversations_done
            tenant_id, scope, subject_ref, target = request.tenant_id, request.scope, request.subject_ref, request.target

        async def progress(session: AsyncSession, delta: dict[str, int], conversations: int) -> None:
            nonlocal done
            _merge(counts, delta)
            done += conversations
            await session.execute(
                update(ErasureRequest).where(ErasureRequest.id == request_id).values(counts=dict(counts), conversations_done=done, heartbeat_at=utcnow())
            )

        purger = self._purger(request_id)
        try:
            await purger.run(selection, mode, unlink_log_as=subject_ref if scope in ("visitor", "customer") else None, progress=progress)
            if scope in ("visitor", "customer") and target is not None:
                # What the chat logged while the batches ran, about the visitor the request names.
                await self._flush_log()
                visitor_id = target if scope == "visitor" else customer_visitor_id(tenant_id, target)
                await purger.unlink_log(tenant_id, [visitor_id], subject_ref or "", progress)
            if scope == "tenant":
                await self._flush_log()
                await purger.unlink_tenant_log(tenant_id, progress)
                if self.broker is not None:  # the tenant's own keys (operators' presence, …): every name that carries its id
                    removed = await self.broker.delete_matching(f"*{tenant_id}*")
                    if removed:
                        async with self.sessionmaker() as session, session.begin():
                            await progress(session, {"broker_keys": removed}, 0)
            async with self.sessionmaker() as session:
                held_count, held_by = await _held(session, selection)
        except Exception as exc:
            await self._failed(request_id, exc)
            return None
        async with self.sessionmaker() as session, session.begin():
            request = await session.get(ErasureRequest, request_id)
            assert request is not None
            finished = utcnow()
            request.status, request.finished_at, request.active_key, request.error = "done", finished, None, None
            request.held_count, request.held_by = held_count, held_by
            if held_count == 0:
                request.target = None  # nothing left to do: the subject stays only as its pseudonym
                await _forget_subject(session, request, target)
            await self._remember(session, request, target, finished)
            await authorize(session, tenant_id=tenant_id, purpose=Purpose.ERASE, actor="erasure-worker", subject_ref=subject_ref, counts=_loggable(counts))
        log.info("erasure request done", extra={"request_id": request_id, "scope": scope, "counts": counts, "held": held_count})
        return "done"

    async def _failed(self, request_id: str, exc: Exception) -> None:
        async with self.sessionmaker() as session, session.begin():
            request = await session.get(ErasureRequest, request_id)
            if request is None:
                return
            request.error = f"{type(exc).__name__}: a batch failed; " + ("given up" if request.attempts >= MAX_ATTEMPTS else "retried at the next pass")
            if request.attempts >= MAX_ATTEMPTS:
                request.status, request.finished_at, request.active_key = "failed", utcnow(), None
            else:
                request.status = "pending"
        log.error("erasure batch failed: %s", type(exc).__name__, extra={"request_id": request_id})

    async def _remember(self, session: AsyncSession, request: ErasureRequest, target: str | None, finished: datetime) -> None:
        """The ledger entry that erases this subject's data again should it reappear."""
        t = request.tenant_id
        if request.scope in ("visitor", "customer", "conversation") and target is not None:
            # Under the current key, even when an entry under an earlier one exists: that one goes with its key.
            digest = self.keys.digest(t, request.scope, target)
            known = await session.scalar(
                select(ErasureLedgerEntry.id).where(ErasureLedgerEntry.tenant_id == t, ErasureLedgerEntry.kind == request.scope, ErasureLedgerEntry.subject_hash == digest)
            )
            if known is None:
                session.add(ErasureLedgerEntry(id=new_id("led"), tenant_id=t, kind=request.scope, subject_hash=digest, before=finished, request_id=request.id))
        elif request.scope == "before":
            session.add(ErasureLedgerEntry(id=new_id("led"), tenant_id=t, kind="before", before=request.before, request_id=request.id))
        elif request.scope == "tenant":
            session.add(ErasureLedgerEntry(id=new_id("led"), tenant_id=t, kind="tenant", before=finished, request_id=request.id))

    # ---- the ledger sweep ---------------------------------------------------------------------

    async def sweep_ledger(self) -> list[str]:
        """Erase again what came back of erased subjects; returns the ids of the requests that record it."""
        async with self.sessionmaker() as session:
            tenants = list((await session.scalars(select(ErasureLedgerEntry.tenant_id).distinct())).all())
        created = []
        for tenant_id in tenants:
            request_id = await self._sweep_tenant(tenant_id)
            if request_id:
                created.append(request_id)
        return created

    async def _returned(self, tenant_id: str, hashed: dict[tuple[str, str], datetime]) -> list[str]:
        """Conversations created before their subject's erasure that are in the database again."""
        found: list[str] = []
        last = ""
        c = Conversation
        while True:
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(c.id, c.visitor_id, c.customer_ref, c.created_at)
                        .where(c.tenant_id == tenant_id, c.status != ERASED, c.id > last)
                        .order_by(c.id)
                        .limit(SWEEP_SCAN_BATCH)
                    )
                ).all()
            if not rows:
                return found
            for row in rows:
                for kind, value in (("visitor", row.visitor_id), ("customer", row.customer_ref), ("conversation", row.id)):
                    cuts = [hashed[kind, digest] for digest in self.keys.digests(tenant_id, kind, value) if (kind, digest) in hashed] if value else []
                    if any(row.created_at < cut for cut in cuts):
                        found.append(row.id)
                        break
            last = rows[-1].id
            await asyncio.sleep(0)

    async def _sweep_tenant(self, tenant_id: str) -> str | None:
        async with self.sessionmaker() as session:
            entries = (await session.execute(select(ErasureLedgerEntry.kind, ErasureLedgerEntry.subject_hash, ErasureLedgerEntry.before).where(ErasureLedgerEntry.tenant_id == tenant_id))).all()
            c = Conversation
            late = list((await session.scalars(select(c.id).where(c.tenant_id == tenant_id, c.status == ERASED, c.updated_at > c.closed_at))).all())
        hashed = {(e.kind, e.subject_hash): e.before for e in entries if e.subject_hash and e.before}
        idle_before = max((e.before for e in entries if e.kind == "before" and e.before), default=None)
        tenant_cut = max((e.before for e in entries if e.kind == "tenant" and e.before), default=None)
        work: list[tuple[Selection, Mode]] = []
        if tenant_cut is not None:
            work.append((Selection(tenant_id, created_before=tenant_cut, include_erased=True), Mode.DELETE))
        if hashed:
            returned = await self._returned(tenant_id, hashed)
            if returned:
                work.append((Selection(tenant_id, conversation_ids=tuple(returned)), Mode.PURGE))
        if idle_before is not None:
            work.append((Selection(tenant_id, idle_before=idle_before), Mode.PURGE))
        if late:
            work.append((Selection(tenant_id, conversation_ids=tuple(late), include_erased=True), Mode.PURGE))
        async with self.sessionmaker() as session:
            due = [(sel, mode, await count_conversations(session, sel, held=False)) for sel, mode in work]
        due = [(sel, mode, n) for sel, mode, n in due if n]
        if not due:
            return None
        request = ErasureRequest(
            id=new_id("era"), tenant_id=tenant_id, scope="ledger", origin="ledger", status="running", attempts=1,
            started_at=utcnow(), conversations_total=sum(n for _, _, n in due),
        )
        async with self.sessionmaker() as session, session.begin():
            session.add(request)
        counts: dict[str, int] = {}
        done = 0

        async def progress(session: AsyncSession, delta: dict[str, int], conversations: int) -> None:
            nonlocal done
            _merge(counts, delta)
            done += conversations
            await session.execute(update(ErasureRequest).where(ErasureRequest.id == request.id).values(counts=dict(counts), conversations_done=done, heartbeat_at=utcnow()))

        purger = self._purger(request.id)
        try:
            for selection, mode, _ in due:
                await purger.run(selection, mode, progress=progress)
        except Exception as exc:
            await self._failed(request.id, exc)
            return request.id
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(ErasureRequest).where(ErasureRequest.id == request.id).values(status="done", finished_at=utcnow(), target=None)
            )
            await authorize(session, tenant_id=tenant_id, purpose=Purpose.ERASE, actor="erasure-ledger", counts=_loggable(counts))
        log.info("erasure ledger sweep erased returning data", extra={"request_id": request.id, "counts": counts})
        return request.id


ERASED_HOLD_TEXT = "(erased with the subject's data)"


async def _forget_subject(session: AsyncSession, request: ErasureRequest, target: str | None) -> None:
    """The subject is erased: earlier requests about it that failed, and the legal holds on it that were
    released, no longer name it. A hold's visitor id or customer reference becomes the subject's pseudonym (the
    one on the erasure's receipt), and its free-text reasons, which may name the person, are replaced."""
    if target is None or request.scope not in ("visitor", "customer", "conversation"):
        return
    t = request.tenant_id
    await session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.tenant_id == t, ErasureRequest.scope == request.scope, ErasureRequest.target == target, ErasureRequest.status == "failed")
        .values(target=None)
    )
    named = [(request.scope, target)]
    if request.scope == "customer":  # the customer's chats run under a visitor id derived from the reference
        named.append(("visitor", customer_visitor_id(t, target)))
    for scope, value in named:
        released = and_(LegalHold.tenant_id == t, LegalHold.scope == scope, LegalHold.target == value, LegalHold.released_at.is_not(None))  # type: ignore[union-attr]
        forget: dict[str, str] = {"reason": ERASED_HOLD_TEXT, "release_reason": ERASED_HOLD_TEXT}
        if scope != "conversation":  # a conversation's id names nobody (its stub stays)
            forget["target"] = request.subject_ref or ERASED
        await session.execute(update(LegalHold).where(released).values(**forget))


def _loggable(counts: dict[str, int]) -> dict[str, int]:
    """The processing log takes short names (a long table name is cut, not refused)."""
    return {key[:40]: value for key, value in counts.items()}


async def _held(session: AsyncSession, selection: Selection) -> tuple[int, list[str]]:
    """How many conversations of the selection active legal holds kept, and which holds."""
    c, h = Conversation, LegalHold
    covers = and_(
        h.tenant_id == c.tenant_id,
        h.released_at.is_(None),  # type: ignore[union-attr]
        or_(and_(h.scope == "conversation", h.target == c.id), and_(h.scope == "visitor", h.target == c.visitor_id), and_(h.scope == "customer", h.target == c.customer_ref)),
    )
    held = await count_conversations(session, selection, held=True)
    if not held:
        return 0, []
    holds = (await session.scalars(select(h.id).join(c, covers).where(*selection.where()).distinct().order_by(h.id))).all()
    return held, list(holds)


# ---- on its own: python -m confide.privacy.erasure_worker ---------------------------------------


async def _main(args: argparse.Namespace, after_pass: PassHooks) -> None:
    settings = Settings()
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    broker = create_broker(settings.redis_url, settings.redis_prefix)
    await broker.start()  # its publisher sends the closure notices of the tenants a pass finishes

    def report(request_id: str, counts: dict[str, int]) -> None:
        if args.verbose:
            print(json.dumps({"event": "batch", "request_id": request_id, "counts": counts}), flush=True)

    worker = ErasureWorker(
        engine,
        create_sessionmaker(engine),
        settings=settings,
        broker=broker,
        outbox_dir=None if settings.smtp_host else settings.resolved_outbox_dir,
        row_batch=args.batch_rows,
        conversation_batch=args.batch_conversations,
        pause=args.pause,
        on_batch=report,
        after_pass=after_pass(settings, broker),
    )
    try:
        if args.once:
            await worker.drain(sweep=args.sweep, timeout=3600)
            if args.verbose:
                print(json.dumps({"event": "drained"}), flush=True)
        else:
            worker.start()
            await asyncio.Event().wait()
    finally:
        await worker.stop()
        await broker.close()
        await engine.dispose()


def main(argv: list[str] | None = None, *, after_pass: PassHooks = lambda settings, broker: ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m confide.privacy.erasure_worker", description="Run the erasure worker on its own.")
    parser.add_argument("--once", action="store_true", help="one pass over the queue, then exit")
    parser.add_argument("--sweep", action="store_true", help="with --once: sweep the erasure ledger too")
    parser.add_argument("--batch-rows", type=int, default=None, help="rows per transaction (default: CONFIDE_ERASURE_BATCH_ROWS)")
    parser.add_argument("--batch-conversations", type=int, default=500)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to yield between batches")
    parser.add_argument("--verbose", action="store_true", help="print one JSON line per committed batch")
    args = parser.parse_args(argv)
    configure_logging(Settings().log_level)  # JSON, like every other Confide process
    asyncio.run(_main(args, after_pass))


if __name__ == "__main__":
    # Run on its own, this is the worker's composition root: the same after-pass work as in the app.
    from confide.privacy.runtime import erasure_after_pass

    main(after_pass=erasure_after_pass)
