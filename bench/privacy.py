"""The privacy benchmark: export and erasure of a tenant's million messages while other tenants chat.

    python -m bench.privacy [--messages 1000000] [--per-conversation 100] [--visitors 8] [--interval 0.1] [--scope tenant]

A real `confide serve` (one worker, with its erasure worker) on a fresh PostgreSQL database and a Redis
key namespace. A tenant is seeded with `--messages` messages (COPY through asyncpg, in `--per-conversation`
sized conversations). Then, on the same server:

1. baseline: `--visitors` visitors of another tenant chat with its builtin avatar, each sending a message
   every `--interval` s once the previous one was answered; a round trip runs from just before the
   message frame is written until its `ack` (stored, then acknowledged) has been read.
2. export: the seeded tenant's NDJSON export is read to the end over HTTP, while the server's resident
   memory is sampled every 10 ms (peak and start); rows/s counts every record up to the manifest.
3. erasure: an erasure request for the seeded tenant (scope `tenant`: everything, or `before`: all
   messages purged, anonymous statistics kept) is posted while the visitors chat as in the baseline,
   and polled until done; then the database is checked to hold none of its messages.
4. after: the visitors chat for half the baseline's time again, to show how much a quiet window varies.

Progress goes to stderr; the last stdout line is one JSON object with the figures and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import machine, percentile
from tests.support.chat import published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import confide_serve
from tests.support.services import postgres_database, redis_namespace

WORDS = (
    "order parcel delivery return refund invoice account password address payment card shipping tracking number jacket shoes size "
    "colour exchange warranty repair store opening hours weekend holiday discount voucher code newsletter subscription cancel contract "
    "tariff upgrade phone email appointment branch manager complaint broken missing late early today tomorrow yesterday please thanks "
    "hello could would should when where why how much many which my your our the a an is are was were be have has had not"
).split()


def say(text: str) -> None:
    print(f"[bench.privacy] {text}", file=sys.stderr, flush=True)


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


# ---- the server process ---------------------------------------------------------------------------


def server_pid() -> int:
    """The `confide serve` child of this process (one worker: uvicorn runs in it)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == me and "confide.cli serve" in cmd:
            return int(name)
    raise RuntimeError("confide serve is not running")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.pid, self.every = pid, every
        self.start = rss_mb(pid)
        self.peak = self.start
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_mb(self.pid))


# ---- seeding --------------------------------------------------------------------------------------


async def seed(url: str, tenant_id: str, avatar_id: str, messages: int, per_conversation: int) -> dict[str, Any]:
    conversations = max(1, messages // per_conversation)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    rnd = random.Random(42)
    texts = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 18))).capitalize() + "?" for _ in range(2000)]
    start = datetime.now(UTC) - timedelta(days=90)
    t0 = time.perf_counter()
    try:
        conversation_rows = []
        for c in range(conversations):
            at = start + timedelta(minutes=c)
            conversation_rows.append(
                {
                    "id": f"cnv_bench{c:08d}", "tenant_id": tenant_id, "avatar_id": avatar_id, "avatar_version_id": None,
                    "visitor_id": f"vis_bench{c:08d}", "customer_ref": f"crm-{c}", "language": "en", "status": "closed",
                    "handoff_reason": None, "assignee_id": None, "handed_off": c % 7 == 0, "rating": (c % 5) + 1 if c % 3 == 0 else None,
                    "last_seq": per_conversation, "created_at": at, "updated_at": at + timedelta(minutes=5), "closed_at": at + timedelta(minutes=5),
                }
            )
        await copy(conn, "conversation", conversation_rows)
        done = 0
        batch: list[dict[str, Any]] = []
        for c in range(conversations):
            at = start + timedelta(minutes=c)
            for j in range(per_conversation):
                batch.append(
                    {
                        "id": f"msg_bench{c:08d}{j:04d}", "tenant_id": tenant_id, "conversation_id": f"cnv_bench{c:08d}", "seq": j + 1,
                        "kind": "message", "author": "visitor" if j % 2 == 0 else "avatar", "operator_id": None, "client_message_id": None,
                        "text": texts[(c * per_conversation + j) % len(texts)], "event": None, "redacted": False, "verdict": None,
                        "created_at": at + timedelta(seconds=j),
                    }
                )
            if len(batch) >= 100_000:
                await copy(conn, "chat_message", batch)
                done += len(batch)
                batch = []
                say(f"seeded {done:,} messages")
        if batch:
            await copy(conn, "chat_message", batch)
            done += len(batch)
        # Settle the tables before anything is measured: without this, autovacuum of the fresh million rows
        # (and the merge of the full-text index's pending list) and a checkpoint would run during the baseline.
        await conn.execute("VACUUM (ANALYZE) conversation")
        await conn.execute("VACUUM (ANALYZE) chat_message")
        await conn.execute("CHECKPOINT")  # and write the bulk load out now, not while commits are timed
    finally:
        await conn.close()
    return {"conversations": conversations, "messages": done, "seed_s": round(time.perf_counter() - t0, 1)}


async def copy(conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows in; every NOT NULL column without a default must be given (a new one fails loudly)."""
    columns = await conn.fetch(
        "SELECT column_name, is_nullable, column_default, is_generated FROM information_schema.columns WHERE table_name = $1 AND table_schema = 'public'", table
    )
    names = [c["column_name"] for c in columns if c["is_generated"] != "ALWAYS" and c["column_name"] in rows[0]]
    missing = [c["column_name"] for c in columns if c["is_nullable"] == "NO" and c["column_default"] is None and c["column_name"] not in rows[0]]
    if missing:
        raise RuntimeError(f"the benchmark does not know how to fill {table}.{', '.join(missing)}")
    await conn.copy_records_to_table(table, records=[tuple(r[n] for n in names) for r in rows], columns=names)


# ---- chat load ------------------------------------------------------------------------------------


class ChatLoad:
    """Visitors chatting in closed loops, each paced to one message per `interval`."""

    def __init__(self, base: str, widget_key: str, visitors: int, interval: float) -> None:
        self.base, self.widget_key, self.visitors, self.interval = base, widget_key, visitors, interval
        self.samples: list[float] = []
        self.replies: list[float] = []
        self.errors = 0
        self._stop = asyncio.Event()
        self._ids = itertools.count()

    async def _one(self) -> None:
        async with visitor(self.base, self.widget_key) as (chat, _):
            await chat.expect("message")
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    await chat.send({"type": "message", "client_message_id": f"b{next(self._ids)}", "text": "When are you open?"})
                    await chat.expect("ack")
                    acked = time.perf_counter()
                    await chat.expect("message")
                except Exception:
                    self.errors += 1
                    return
                self.samples.append((acked - started) * 1000)
                self.replies.append((time.perf_counter() - started) * 1000)
                wait = self.interval - (time.perf_counter() - started)
                if wait > 0:
                    try:
                        await asyncio.wait_for(self._stop.wait(), wait)
                    except TimeoutError:
                        pass

    async def run_until(self, done: asyncio.Future[Any] | float) -> None:
        """Chat until `done` resolves, or for that many seconds."""
        tasks = [asyncio.create_task(self._one()) for _ in range(self.visitors)]
        if isinstance(done, float | int):
            await asyncio.sleep(done)
        else:
            await done
        self._stop.set()
        await asyncio.gather(*tasks)

    def summary(self) -> dict[str, Any]:
        return {
            "messages": len(self.samples),
            "errors": self.errors,
            "p50_ms": round(percentile(self.samples, 0.50), 2),
            "p95_ms": round(percentile(self.samples, 0.95), 2),
            "p99_ms": round(percentile(self.samples, 0.99), 2),
            "reply_p99_ms": round(percentile(self.replies, 0.99), 2),
        }


# ---- the run --------------------------------------------------------------------------------------


async def export(base: str, tenant_id: str, headers: dict[str, str], pid: int) -> dict[str, Any]:
    limits = httpx.Timeout(600.0)
    tail = b""
    size = 0
    with RssSampler(pid) as memory:
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, timeout=limits) as client:
            async with client.stream("GET", f"/v1/tenants/{tenant_id}/exports/conversations", headers=headers) as r:
                r.raise_for_status()
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    tail = (tail + chunk)[-4096:]
        seconds = time.perf_counter() - started
    manifest = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    assert manifest["type"] == "manifest", manifest
    records = manifest["records"]
    return {
        "export_rows": records,
        "export_bytes": size,
        "export_s": round(seconds, 2),
        "export_rows_s": round(records / seconds),
        "export_rss_start_mb": round(memory.start, 1),
        "export_peak_rss_mb": round(memory.peak, 1),
        "export_rss_growth_mb": round(memory.peak - memory.start, 1),
    }


async def erase(base: str, tenant_id: str, headers: dict[str, str], scope: str, load: ChatLoad) -> dict[str, Any]:
    body = {"scope": "tenant", "confirm_tenant_id": tenant_id} if scope == "tenant" else {"scope": "before", "before": datetime.now(UTC).isoformat()}
    done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def follow() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            started = time.perf_counter()
            r = await client.post(f"/v1/tenants/{tenant_id}/erasure-requests", json=body)
            r.raise_for_status()
            request_id = r.json()["id"]
            while True:
                state = (await client.get(f"/v1/tenants/{tenant_id}/erasure-requests/{request_id}")).json()
                if state["status"] in ("done", "failed"):
                    done.set_result({**state, "wall_s": time.perf_counter() - started})
                    return
                await asyncio.sleep(0.1)  # polling the public API, as a client would

    follower = asyncio.create_task(follow())
    await load.run_until(done)
    await follower
    state = done.result()
    assert state["status"] == "done", state
    rows = state["counts"].get("chat_message", 0)
    worked = (datetime.fromisoformat(state["finished_at"]) - datetime.fromisoformat(state["started_at"])).total_seconds()
    return {
        "erase_scope": scope,
        "erase_rows": rows,
        "erase_total_s": round(state["wall_s"], 2),
        "erase_rows_s": round(rows / state["wall_s"]),
        "erase_work_s": round(worked, 2),
        "erase_counts": state["counts"],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with postgres_database() as url, redis_namespace() as (redis_url, prefix):
            env = {
                "CONFIDE_DATABASE_URL": url,
                "CONFIDE_REDIS_URL": redis_url,
                "CONFIDE_REDIS_PREFIX": prefix,
                "CONFIDE_SECRET_KEY": "bench-secret-key-0123456789abcdef",
                "CONFIDE_LOG_LEVEL": "WARNING",
                "CONFIDE_RETENTION_JOB_ENABLED": "false",
                "CONFIDE_CHAT_VISITOR_MESSAGES_PER_WINDOW": "1000000",
                "CONFIDE_CHAT_ADDRESS_CONNECTS_PER_WINDOW": "1000000",
            }
            async with confide_serve(env, data) as base:
                pid = server_pid()
                ws_base = "ws://" + base.split("://", 1)[1]
                async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                    factory = Factory(client, Outbox(data / "outbox"))
                    owner = await factory.user()
                    seeded_tenant = await factory.tenant(owner, "Seeded GmbH")
                    seeded_avatar = await published_avatar(client, owner, seeded_tenant)
                    chatting_tenant = await factory.tenant(owner, "Chatting GmbH")
                    chatting_avatar = await published_avatar(client, owner, chatting_tenant)
                say(f"seeding {args.messages:,} messages")
                seeded = await seed(url, seeded_tenant, seeded_avatar["avatar_id"], args.messages, args.per_conversation)
                say(f"seeded in {seeded['seed_s']} s")

                await ChatLoad(ws_base, chatting_avatar["widget_key"], args.visitors, args.interval).run_until(3.0)  # warm-up
                baseline = ChatLoad(ws_base, chatting_avatar["widget_key"], args.visitors, args.interval)
                await baseline.run_until(args.baseline_seconds)
                say(f"baseline: {baseline.summary()}")

                exported = await export(base, seeded_tenant, owner.headers, pid)
                say(f"export: {exported}")

                during = ChatLoad(ws_base, chatting_avatar["widget_key"], args.visitors, args.interval)
                erased = await erase(base, seeded_tenant, owner.headers, args.scope, during)
                say(f"erasure: {erased}; chat meanwhile: {during.summary()}")

                after = ChatLoad(ws_base, chatting_avatar["widget_key"], args.visitors, args.interval)
                await after.run_until(args.baseline_seconds / 2)  # a second quiet window: how much the baseline itself varies
                say(f"after: {after.summary()}")

                conn = await asyncpg.connect(asyncpg_dsn(url))
                try:
                    left = await conn.fetchval("SELECT count(*) FROM chat_message WHERE tenant_id = $1", seeded_tenant)
                finally:
                    await conn.close()
    base_summary, during_summary = baseline.summary(), during.summary()
    return {
        "benchmark": "privacy",
        "backend": "postgresql+redis",
        "server_workers": 1,
        **seeded,
        **exported,
        **erased,
        "messages_left_after_erase": left,
        "chat_visitors": args.visitors,
        "chat_interval_s": args.interval,
        "chat_rtt": "visitor message sent -> its ack read (stored, then acknowledged)",
        "chat_rtt_p99_ms_baseline": base_summary["p99_ms"],
        "chat_rtt_p99_ms_during_erase": during_summary["p99_ms"],
        "chat_rtt_p99_ms_after_erase": after.summary()["p99_ms"],
        "chat_rtt_p95_ms_baseline": base_summary["p95_ms"],
        "chat_rtt_p95_ms_during_erase": during_summary["p95_ms"],
        "chat_rtt_p50_ms_baseline": base_summary["p50_ms"],
        "chat_rtt_p50_ms_during_erase": during_summary["p50_ms"],
        "chat_reply_p99_ms_baseline": base_summary["reply_p99_ms"],
        "chat_reply_p99_ms_during_erase": during_summary["reply_p99_ms"],
        "chat_messages_baseline": base_summary["messages"],
        "chat_messages_during_erase": during_summary["messages"],
        "chat_errors": base_summary["errors"] + during_summary["errors"],
        "machine": machine(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--per-conversation", type=int, default=100)
    parser.add_argument("--visitors", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between one visitor's messages")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--scope", choices=["tenant", "before"], default="tenant")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
