"""The inbox at volume: a real `confide serve` on PostgreSQL and Redis, one tenant with 100,000
conversations and 1,000,000 messages (seeded with COPY), then filtered inbox pages, full-text searches
and a 30-day daily report over HTTP, one request at a time. Prints one JSON object as its last line:
list_p50_ms, list_p99_ms, search_p50_ms, search_p99_ms, report_s, per-scenario figures and the machine.

    python -m bench.admin [--conversations 100000] [--messages-per-conversation 10] [--rounds 20] [--explain]

--explain prints PostgreSQL's EXPLAIN ANALYZE of each inbox statement (on stderr) before measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from ulid import ULID

from bench.common import machine, percentile
from tests.support.chat import published_avatar
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import confide_serve
from tests.support.services import postgres_database, redis_namespace

SEED = 20261202
LANGUAGES = (("en", 50), ("de", 30), ("fr", 10), ("de-AT", 5), ("es", 5))
STATUSES = (("closed", 80), ("avatar", 12), ("waiting", 4), ("operator", 4))
TAGS = ("refund", "shipping", "vip", "complaint", "invoice", "returns", "bug", "feedback", "urgent", "follow-up", "warranty", "sales")
RULES = ("builtin:decision-guard", "builtin:pii", "no-competitors", "no-legal-advice", "escalate-angry", "banned-slang")
# A Zipf-like vocabulary: a few words are in a large share of the messages, most in very few.
BASE_WORDS = (
    "the order is my and to a you for it of in please thanks when can i we have this with delivery package parcel "
    "refund return invoice payment card account password login email address shipping tracking number status price "
    "discount coupon voucher size colour color shoe shirt jacket bag warranty repair broken damaged missing late "
    "early tomorrow today monday friday week month help support agent human question answer problem issue error "
    "bestellung lieferung rechnung rücksendung paket hallo danke bitte kaputt größe farbe commande livraison facture"
).split()


def vocabulary(size: int = 6000) -> tuple[list[str], list[float]]:
    words = list(dict.fromkeys(BASE_WORDS))
    rng = random.Random(SEED)
    while len(words) < size:
        words.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10))))
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(words))]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return words, cumulative


def pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def new_id(prefix: str, at: datetime, rng: random.Random) -> str:
    return f"{prefix}_{str(ULID.from_timestamp(at.timestamp() + rng.random() / 1000)).lower()}"


async def seed(dsn: str, *, tenant_id: str, avatars: list[str], operators: list[str], conversations: int, per_conversation: int) -> dict[str, Any]:
    """Conversations, messages, tags and rule hits straight into PostgreSQL with COPY."""
    rng = random.Random(SEED)
    words, cumulative = vocabulary()
    now = datetime.now(UTC).replace(microsecond=0)
    conv_rows, msg_rows, tag_rows, hit_rows = [], [], [], []
    started = time.perf_counter()
    for n in range(conversations):
        created = now - timedelta(days=90) + timedelta(seconds=rng.uniform(0, 90 * 86400))
        cid = new_id("cnv", created, rng)
        status = pick(rng, STATUSES)
        handed_off = status in ("waiting", "operator") or (status == "closed" and rng.random() < 0.12)
        assignee = rng.choice(operators) if status == "operator" or (handed_off and rng.random() < 0.7) else None
        rating = rng.randint(1, 5) if rng.random() < 0.35 else None
        language = pick(rng, LANGUAGES)
        avatar = avatars[0 if rng.random() < 0.6 else (1 if rng.random() < 0.75 else 2)]
        t = created
        seq = 0
        for i in range(per_conversation):
            t += timedelta(seconds=rng.uniform(2, 90))
            if i % 2 == 0:
                author = "avatar" if i == 0 else "visitor"
            else:
                author = "avatar" if not (handed_off and i > per_conversation // 2) else "operator"
            kind = "note" if author == "operator" and rng.random() < 0.2 else "message"
            length = rng.randint(4, 18)
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=length))
            if rng.random() < 0.02:
                text += f" order {rng.randint(10000, 99999)}"
            mseq = None
            if kind != "note":
                seq += 1
                mseq = seq
            mid = new_id("msg", t, rng)
            msg_rows.append((mid, tenant_id, cid, mseq, kind, author, assignee if author == "operator" else None, None, text, None, False, None, t))
            if author == "visitor" and rng.random() < 0.008:
                rule = rng.choice(RULES)
                hit_rows.append((new_id("rhit", t, rng), tenant_id, cid, mid, rule, "input", t))
        if handed_off:
            t += timedelta(seconds=5)
            seq += 1
            msg_rows.append((new_id("msg", t, rng), tenant_id, cid, seq, "event", "system", None, None, "A human colleague will take over.", "handoff", False, None, t))
        if status == "closed":
            t += timedelta(seconds=30)
            seq += 1
            msg_rows.append((new_id("msg", t, rng), tenant_id, cid, seq, "event", "system", None, None, "", "closed", False, None, t))
        conv_rows.append((cid, tenant_id, avatar, None, f"vis_{n:012d}", None, language, status, "customer_request" if handed_off else None, assignee, handed_off, rating, seq, created, t, t if status == "closed" else None))
        if rng.random() < 0.2:
            for tag in rng.sample(TAGS, rng.randint(1, 2)):
                tag_rows.append((new_id("ctag", t, rng), tenant_id, cid, tag, None, t))
    generated = time.perf_counter() - started
    conn = await asyncpg.connect(dsn)
    try:
        copy_started = time.perf_counter()
        await conn.copy_records_to_table(
            "conversation",
            records=conv_rows,
            columns=["id", "tenant_id", "avatar_id", "avatar_version_id", "visitor_id", "customer_ref", "language", "status", "handoff_reason", "assignee_id", "handed_off", "rating", "last_seq", "created_at", "updated_at", "closed_at"],
        )
        # The search index is built once after the bulk load instead of row by row (same definition as migration c0002).
        await conn.execute("DROP INDEX ix_chat_message_search_vector")
        await conn.copy_records_to_table(
            "chat_message",
            records=msg_rows,
            columns=["id", "tenant_id", "conversation_id", "seq", "kind", "author", "operator_id", "client_message_id", "text", "event", "redacted", "verdict", "created_at"],
        )
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute("CREATE INDEX ix_chat_message_search_vector ON chat_message USING gin (search_vector)")
        await conn.copy_records_to_table("conversation_tag", records=tag_rows, columns=["id", "tenant_id", "conversation_id", "tag", "created_by", "created_at"])
        await conn.copy_records_to_table("conversation_rule_hit", records=hit_rows, columns=["id", "tenant_id", "conversation_id", "message_id", "rule_id", "direction", "created_at"])
        await conn.execute("VACUUM ANALYZE")
        copied = time.perf_counter() - copy_started
    finally:
        await conn.close()
    return {"conversations": len(conv_rows), "messages": len(msg_rows), "tags": len(tag_rows), "rule_hits": len(hit_rows), "generate_s": round(generated, 1), "load_s": round(copied, 1)}


def scenarios(avatars: list[str], operator_id: str, now: datetime) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    week_ago = (now - timedelta(days=7)).date().isoformat()
    lists = {
        "newest": {},
        "waiting": {"status": "waiting"},
        "closed": {"status": "closed"},
        "avatar+closed": {"avatar_id": avatars[1], "status": "closed"},
        "language": {"language": "de"},
        "tag": {"tag": "refund"},
        "two_tags": {"tag": ["vip", "urgent"]},
        "rating_min": {"rating_min": 4},
        "rating_exact+avatar": {"rating": 1, "avatar_id": avatars[2]},
        "handed_off": {"handed_off": "true"},
        "rule": {"rule_id": "no-legal-advice"},
        "assignee": {"assignee": operator_id},
        "unassigned+avatar": {"assignee": "unassigned", "status": "avatar"},
        "last_week": {"from": week_ago},
        "updated_window": {"date_field": "updated_at", "from": (now - timedelta(days=40)).date().isoformat(), "to": (now - timedelta(days=33)).date().isoformat()},
        "sort_rating": {"sort": "rating"},
        "sort_created_asc": {"sort": "created_at", "order": "asc"},
        "open_oldest_first": {"status": ["waiting", "operator"], "sort": "updated_at", "order": "asc"},
    }
    searches = {
        "rare_order_number": {"q": "order 4213*"},
        "rare_word": {"q": "warranty"},
        "medium_word": {"q": "refund"},
        "common_word": {"q": "the"},
        "two_words": {"q": "parcel late"},
        "prefix": {"q": "deliv*"},
        "umlaut": {"q": "rücksendung"},
        "word+status": {"q": "invoice", "status": "closed"},
        "word+language": {"q": "paket", "language": "de"},
        "word+tag": {"q": "refund", "tag": "refund"},
        "no_match": {"q": "zzzqqqxxx"},
    }
    return lists, searches


async def measure(client: httpx.AsyncClient, path: str, params: dict[str, Any], rounds: int, pages: int = 1) -> tuple[list[float], int]:
    """`rounds` times: the first page, then following next_cursor for `pages` pages. Latencies in ms."""
    latencies: list[float] = []
    rows = 0
    for _ in range(rounds):
        cursor = None
        for _ in range(pages):
            start = time.perf_counter()
            r = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
            latencies.append((time.perf_counter() - start) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:300]}")
            body = r.json()
            rows = max(rows, len(body["items"]))
            cursor = body["next_cursor"]
            if cursor is None:
                break
    return latencies, rows


async def explain(url: str, tenant_id: str, cases: dict[str, dict[str, Any]]) -> None:
    """EXPLAIN ANALYZE of the statement the inbox runs for each case (first page), to stderr."""
    from datetime import date

    from sqlalchemy.dialects import postgresql

    from confide.chats.inbox import PLANNER_SETTINGS, InboxQuery, first_part

    dsn = "postgresql://" + url.split("://", 1)[1]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("BEGIN")
        await conn.execute(str(PLANNER_SETTINGS))  # as the inbox does, for its transaction
        for name, params in cases.items():
            p = dict(params)
            values: dict[str, Any] = {}
            for key, field in (("from", "since"), ("to", "until")):
                if key in p:
                    values[field] = datetime.combine(date.fromisoformat(p.pop(key)), datetime.min.time(), UTC)
            for key in ("tag", "status"):
                if key in p:
                    v = p.pop(key)
                    values["tags" if key == "tag" else "statuses"] = tuple(v if isinstance(v, list) else [v])
            if "handed_off" in p:
                values["handed_off"] = p.pop("handed_off") == "true"
            values.update(p)
            stmt = first_part(tenant_id, InboxQuery(**values), None, 50, "postgresql")
            sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print(f"\n=== {name}: {params}\n" + "\n".join(r[0] for r in plan), file=sys.stderr)
        await conn.execute("ROLLBACK")
    finally:
        await conn.close()


async def main(conversations: int, per_conversation: int, rounds: int, show_plans: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with postgres_database() as url, redis_namespace() as (redis_url, prefix):
            env = {
                "CONFIDE_DATABASE_URL": url,
                "CONFIDE_REDIS_URL": redis_url,
                "CONFIDE_REDIS_PREFIX": prefix,
                "CONFIDE_SECRET_KEY": "bench",
                "CONFIDE_LOG_LEVEL": "WARNING",
                "CONFIDE_RETENTION_JOB_ENABLED": "false",
            }
            async with confide_serve(env, data) as base:
                async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                    factory = Factory(client, Outbox(data / "outbox"))
                    owner = await factory.user()
                    tenant = await factory.tenant(owner)
                    operators = [(await factory.member(tenant, owner, "operator")).id for _ in range(3)] + [owner.id]
                    avatars = [(await published_avatar(client, owner, tenant))["avatar_id"] for _ in range(3)]
                seeded = await seed("postgresql://" + url.split("://", 1)[1], tenant_id=tenant, avatars=avatars, operators=operators, conversations=conversations, per_conversation=per_conversation)
                now = datetime.now(UTC)
                lists, searches = scenarios(avatars, operators[0], now)
                if show_plans:
                    await explain(url, tenant, {**lists, **searches})
                path = f"/v1/tenants/{tenant}/conversations"
                figures: dict[str, Any] = {"list": {}, "search": {}}
                all_lists: list[float] = []
                all_searches: list[float] = []
                async with httpx.AsyncClient(base_url=base, headers=owner.headers, timeout=120) as client:
                    for params in list(lists.values())[:3] + list(searches.values())[:3]:
                        await measure(client, path, params, 2)  # warm-up: connections, caches
                    for name, params in lists.items():
                        latencies, rows = await measure(client, path, params, rounds, pages=3)
                        all_lists += latencies
                        figures["list"][name] = {"p50_ms": round(percentile(latencies, 0.5), 2), "max_ms": round(max(latencies), 2), "rows": rows}
                    for name, params in searches.items():
                        latencies, rows = await measure(client, path, params, rounds, pages=2)
                        all_searches += latencies
                        figures["search"][name] = {"p50_ms": round(percentile(latencies, 0.5), 2), "max_ms": round(max(latencies), 2), "rows": rows}
                    report_s, report_note, report_conversations = None, None, None
                    first = (now - timedelta(days=29)).date().isoformat()
                    last = now.date().isoformat()
                    r = await client.get(f"/v1/tenants/{tenant}/reports", params={"granularity": "day", "from": first, "to": last})
                    if r.status_code == 404 and r.json().get("detail", "").startswith("Not Found"):
                        report_note = "no report route"
                    else:
                        timings = []
                        for _ in range(5):
                            start = time.perf_counter()
                            r = await client.get(f"/v1/tenants/{tenant}/reports", params={"granularity": "day", "from": first, "to": last})
                            timings.append(time.perf_counter() - start)
                            if r.status_code != 200:
                                raise RuntimeError(f"report: {r.status_code} {r.text[:300]}")
                        report_s = round(max(timings), 3)
                        report_conversations = r.json().get("totals", {}).get("conversations")
                        report_note = (
                            "GET /reports?granularity=day over 30 days, slowest of 5; reports are served from daily aggregates the "
                            "evaluation domain maintains as conversations close, and COPY-seeded conversations bypass them"
                        )
    return {
        "benchmark": "admin",
        "backend": "postgresql+redis",
        "seeded": seeded,
        "rounds": rounds,
        "list_requests": len(all_lists),
        "search_requests": len(all_searches),
        "list_p50_ms": round(percentile(all_lists, 0.5), 2),
        "list_p99_ms": round(percentile(all_lists, 0.99), 2),
        "search_p50_ms": round(percentile(all_searches, 0.5), 2),
        "search_p99_ms": round(percentile(all_searches, 0.99), 2),
        "report_s": report_s,
        "report_note": report_note,
        "report_conversations": report_conversations,
        "scenarios": figures,
        "machine": machine(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.conversations, args.messages_per_conversation, args.rounds, args.explain))))
