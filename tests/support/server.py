"""Running `confide serve` as a real process on a loopback port, for end-to-end and multi-node tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def confide_serve(env: dict[str, str], data_dir: Path, timeout: float = 60.0, args: tuple[str, ...] = ()) -> AsyncIterator[str]:
    """Start `confide serve`, wait until /readyz answers, yield the base URL; stop it with SIGTERM."""
    port = free_port()
    full_env = {**os.environ, **env, "CONFIDE_DATA_DIR": str(data_dir), "CONFIDE_PORT": str(port), "CONFIDE_HOST": "127.0.0.1"}
    log = open(data_dir / f"serve-{port}.log", "wb")  # noqa: SIM115
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "confide.cli", "serve", *args, env=full_env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"confide serve exited {proc.returncode}: {(data_dir / f'serve-{port}.log').read_text()[-2000:]}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("confide serve did not become ready")
                await asyncio.sleep(0.1)  # polling a starting process: there is no event to await
        yield base
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


def needs_a_cluster(backend: Any) -> None:
    """Skip unless the backend is PostgreSQL (with Redis): several `confide serve` nodes share those, never SQLite."""
    if backend.name != "postgres":
        pytest.skip("several nodes need PostgreSQL and Redis: runs with the postgres backend")


def cluster_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment every node of a test cluster shares: one database, one Redis, one secret."""
    return {
        "CONFIDE_DATABASE_URL": database_url,
        "CONFIDE_REDIS_URL": redis_url,
        "CONFIDE_SECRET_KEY": "shared-secret-key-of-the-test-cluster",
        "CONFIDE_LOG_LEVEL": "WARNING",
        "CONFIDE_RETENTION_JOB_ENABLED": "false",
        **extra,
    }


@asynccontextmanager
async def two_nodes(env: dict[str, str], tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Two `confide serve` nodes on the same services, each with a data folder of its own (`a`, `b`);
    yields their base URLs. Mails land in node a's outbox."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with confide_serve(env, tmp_path / "a") as node_a, confide_serve(env, tmp_path / "b") as node_b:
        yield node_a, node_b
