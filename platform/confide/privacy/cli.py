"""`confide retention run | status`: run the retention job now, or show its latest runs (JSON on stdout)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.db import create_engine
from confide.privacy.retention import recent_runs, run_retention, run_to_dict
from confide.settings import Settings


async def _run(settings: Settings) -> dict[str, Any]:
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    try:
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
