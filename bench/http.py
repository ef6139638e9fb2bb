"""Authenticated tenant-scoped GET under concurrent load against a real `confide serve` on PostgreSQL
and Redis. Prints one JSON object as its last line: rps, p50_ms, p99_ms and the machine.

    python -m bench.http [--seconds 10] [--concurrency 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine, percentile
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import confide_serve
from tests.support.services import postgres_database, redis_namespace


async def load(base: str, path: str, headers: dict[str, str], seconds: float, concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                r = await client.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += r.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


async def main(seconds: float, concurrency: int, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with postgres_database() as url, redis_namespace() as (redis_url, prefix):
            env = {
                "CONFIDE_DATABASE_URL": url,
                "CONFIDE_REDIS_URL": redis_url,
                "CONFIDE_REDIS_PREFIX": prefix,
                "CONFIDE_SECRET_KEY": "bench-secret-key-0123456789abcdef",
                "CONFIDE_LOG_LEVEL": "WARNING",
            }
            async with confide_serve(env, data, args=("--workers", str(workers))) as base:
                async with httpx.AsyncClient(base_url=base) as client:
                    factory = Factory(client, Outbox(data / "outbox"))
                    owner = await factory.user()
                    tenant = await factory.tenant(owner)
                    for role in ("editor", "analyst"):
                        await factory.member(tenant, owner, role)
                path = f"/v1/tenants/{tenant}/members"
                await load(base, path, owner.headers, 1.0, concurrency)  # warm-up
                latencies, errors = await load(base, path, owner.headers, seconds, concurrency)
    return {
        "benchmark": "http",
        "route": "GET /v1/tenants/{tenant_id}/members (bearer token, 3 members)",
        "backend": "postgresql+redis",
        "server_workers": workers,
        "concurrency": concurrency,
        "seconds": seconds,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "machine": machine(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.concurrency, args.workers))))
