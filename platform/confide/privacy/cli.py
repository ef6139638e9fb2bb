"""`confide retention run | status`: run the retention job now, or show its latest runs; `confide closures
list | retry`: the tenant closures, and retrying a failed one (JSON on stdout)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from confide.core.broker import create_broker
from confide.core.db import create_engine
from confide.core.errors import ProblemError
from confide.privacy.retention import recent_runs, run_retention, run_to_dict
from confide.realtime.access import BrokerOnlyNode, register_node, unregister_node
from confide.settings import Settings
from confide.tenants.closure import CLOSING, announce_closed, closures_query, retry_failed_closure
from confide.tenants.models import TenantClosure
from confide.tenants.schemas import TenantClosureOut


def register_every_step() -> None:
    """Import every domain, as `confide serve` does: other domains add their retention steps when imported
    (evaluation's unanswered questions and score comments, the webhook delivery log), and a run from here
    without them would skip those and still say `done`."""
    import confide.app  # noqa: F401, PLC0415


async def _run(settings: Settings) -> dict[str, Any]:
    register_every_step()
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    try:
        async with _telling_the_nodes(settings, engine):
            run = await run_retention(engine, settings)
    finally:
        await engine.dispose()
    return run_to_dict(run) if run else {"status": "skipped", "detail": "another node is running the retention job right now"}


async def _status(settings: Settings, limit: int) -> list[dict[str, Any]]:
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    try:
        async with AsyncSession(engine) as session:
            return [run_to_dict(r) for r in await recent_runs(session, limit=limit)]
    finally:
        await engine.dispose()


def cmd_retention(settings: Settings, args: argparse.Namespace) -> None:
    if args.action == "run":
        print(json.dumps(asyncio.run(_run(settings)), indent=2))
    else:
        print(json.dumps(asyncio.run(_status(settings, args.limit)), indent=2))


def add_retention_command(sub: Any) -> None:
    retention = sub.add_parser("retention", help="run the retention job now, or show its latest runs")
    retention.add_argument("action", choices=["run", "status"])
    retention.add_argument("--limit", type=int, default=10, help="status: how many runs to show")
    retention.set_defaults(func=cmd_retention)


def _closure(closure: TenantClosure) -> dict[str, Any]:
    return TenantClosureOut.model_validate(closure).model_dump(mode="json")


async def _closures(settings: Settings, args: argparse.Namespace) -> Any:
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            if args.action == "list":
                stmt = closures_query(status=args.status).order_by(TenantClosure.requested_at.desc()).limit(args.limit)  # type: ignore[attr-defined]
                return [_closure(c) for c in (await session.scalars(stmt)).all()]
            if not args.closure_id:
                return {"status": "error", "detail": "retry needs the closure's id (confide closures list --status failed)"}
            try:
                closure = await retry_failed_closure(session, args.closure_id, settings=settings)
            except ProblemError as exc:
                return {"status": "error", "problem": exc.slug, "detail": exc.detail}
            await session.commit()
            if closure.status == CLOSING:
                await _announce(settings, closure.tenant_id)
            return _closure(closure)  # the erasure worker of a running `confide serve` picks it up at its next poll
    finally:
        await engine.dispose()


ANNOUNCE_SECONDS = 5.0  # at most this long for the notice to leave; the closure stands either way


@asynccontextmanager
async def _telling_the_nodes(settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """What this command commits on `engine` reaches the running chat nodes over Redis, as a node's own changes do:
    the widgets open on conversations it expired close with 4410 at once (realtime/access.py), not at their next
    write. Without Redis, or with Redis away, the command runs all the same and says so."""
    if not settings.redis_url:
        yield
        return
    broker = create_broker(settings.redis_url, settings.redis_prefix)
    node: BrokerOnlyNode | None = None
    try:
        async with asyncio.timeout(ANNOUNCE_SECONDS):
            if not await broker.ping():
                raise ConnectionError("the broker does not answer")
            await broker.start()
        node = BrokerOnlyNode(broker)
        register_node(engine.sync_engine, node)
    except Exception as exc:  # noqa: BLE001 - the run goes on; open widgets close at their next write
        print(json.dumps({"warning": "the chat nodes will not be told what this run erased", "error_type": type(exc).__name__}), file=sys.stderr)
    try:
        yield
    finally:
        if node is not None:
            unregister_node(engine.sync_engine, node)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(ANNOUNCE_SECONDS):
                    await node.flush()
        with contextlib.suppress(Exception):
            await broker.close()


async def _announce(settings: Settings, tenant_id: str) -> None:
    """Every node of a running cluster cuts the tenant's open chats, as the DELETE and the admin route's retry
    do (the first notice may have been lost). Never fatal: the closure is queued again already."""
    broker = create_broker(settings.redis_url, settings.redis_prefix)
    try:
        async with asyncio.timeout(ANNOUNCE_SECONDS):
            # A publish is queued and a failed one only logged (broker.py), so ask first whether Redis answers.
            if not await broker.ping():
                raise ConnectionError("the broker does not answer")
            await broker.start()
            await announce_closed(broker, tenant_id, this_node=None)
            await broker.flush()
    except Exception as exc:  # noqa: BLE001 - Redis away: the nodes find the closure when they resubscribe, or when it finishes
        print(json.dumps({"warning": "the closure notice could not be sent", "error_type": type(exc).__name__}), file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            await broker.close()


def cmd_closures(settings: Settings, args: argparse.Namespace) -> None:
    result = asyncio.run(_closures(settings, args))
    print(json.dumps(result, indent=2))
    if isinstance(result, dict) and result.get("status") == "error":
        raise SystemExit(1)


def add_closures_command(sub: Any) -> None:
    closures = sub.add_parser("closures", help="list tenant closures, or retry a failed one")
    closures.add_argument("action", choices=["list", "retry"])
    closures.add_argument("closure_id", nargs="?", help="retry: the failed closure's id (tcl_…)")
    closures.add_argument("--status", choices=["closing", "closed", "failed"], help="list: only closures in this status")
    closures.add_argument("--limit", type=int, default=50, help="list: how many, newest first")
    closures.set_defaults(func=cmd_closures)
