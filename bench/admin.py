"""The inbox at volume: a real `confide serve` on PostgreSQL and Redis, one tenant with 100,000
conversations and 1,000,000 messages (seeded with COPY), then filtered inbox pages, full-text searches
and a 30-day daily report over HTTP, one request at a time. The report's tables (metrics, outcomes, daily
aggregates and counts, unanswered questions) are seeded with what the evaluator would have written for the
seeded closed conversations, computed with its own functions, and the report is checked against them.
Prints one JSON object as its last line: list_p50_ms, list_p99_ms, search_p50_ms, search_p99_ms, report_s
(report_median_s, report_csv_s, report_conversations), per-scenario figures and the machine.

    python -m bench.admin [--conversations 100000] [--messages-per-conversation 10] [--rounds 20] [--explain]

--explain prints PostgreSQL's EXPLAIN ANALYZE of each inbox statement (on stderr) before measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import statistics
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
HANDOFF_REASONS = (("customer_request", 55), ("policy_restriction", 20), ("decision_required", 15), ("responder_failure", 10))
FALLBACK_TEXT = "I'm sorry, I can't answer that. Shall I ask a colleague?"
# Unanswered questions: templates x fillers give a few hundred distinct texts per language; draws are Zipf-like,
# and some are written differently (case, punctuation, a greeting, an e-mail address the evaluator redacts), so the
# report's grouping (normalised text, then fuzzy merging) has work to do.
QUESTION_TEMPLATES = {
    "en": (
        "do you ship to {place}?", "how long does delivery to {place} take?", "can I pay for {item} with {pay}?",
        "is the {item} available in {colour}?", "what is the warranty on the {item}?", "can I return a {item} bought on sale?",
        "do you have the {item} in size {size}?", "how do I change the delivery address for my {item}?",
    ),
    "de": (
        "liefert ihr nach {place}?", "wie lange dauert die lieferung nach {place}?", "kann ich den {item} mit {pay} bezahlen?",
        "gibt es den {item} in {colour}?", "wie lange ist die garantie auf den {item}?", "kann ich einen {item} aus dem sale zurückgeben?",
    ),
}
QUESTION_FILLERS = {
    "place": ("austria", "switzerland", "italy", "norway", "the uk", "canada", "japan", "iceland", "poland", "spain"),
    "item": ("jacket", "backpack", "sneaker", "rain coat", "wallet", "hoodie", "boot", "scarf"),
    "pay": ("paypal", "klarna", "apple pay", "invoice", "bitcoin"),
    "colour": ("navy", "olive", "burgundy", "sand", "charcoal"),
    "size": ("38", "42", "46", "XL", "XXS"),
}


def question_pool() -> dict[str, list[str]]:
    rng = random.Random(SEED + 2)
    pool: dict[str, list[str]] = {}
    for language, templates in QUESTION_TEMPLATES.items():
        texts: set[str] = set()
        for template in templates:
            names = [n for n in QUESTION_FILLERS if "{" + n + "}" in template]
            for _ in range(60):
                texts.add(template.format(**{n: rng.choice(QUESTION_FILLERS[n]) for n in names}))
        pool[language] = sorted(texts)
        rng.shuffle(pool[language])  # the Zipf rank should not follow the template order
    return pool


def question_text(rng: random.Random, pool: list[str]) -> str:
    text = rng.choices(pool, weights=[1.0 / (rank + 1) ** 0.9 for rank in range(len(pool))])[0]
    r = rng.random()
    if r < 0.10:
        text = text.capitalize().rstrip("?")
    elif r < 0.18:
        text = "hi, " + text
    elif r < 0.22:
        text = f"{text} my email is customer{rng.randint(1000, 9999)}@example.com"
    return text


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


class Evaluation:
    """What the evaluator (confide.evaluation.service.Evaluator.evaluate_closed / record_outcome) would have written for
    the seeded conversations had they closed through the platform: computed with its own functions (metrics.compute,
    _apply_outcome, metrics.contribution, _redacted_questions) and summed per avatar and UTC start day as apply_delta does."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.metrics_rows: list[tuple[Any, ...]] = []
        self.outcome_rows: list[tuple[Any, ...]] = []
        self.question_rows: list[tuple[Any, ...]] = []
        self.scalars: dict[tuple[str, Any], dict[str, float]] = {}
        self.counts: dict[tuple[str, Any, str, str], int] = {}
        self.seconds = 0.0

    def closed(self, *, cid: str, avatar: str, language: str, created: datetime, closed: datetime, handed_off: bool, handoff_reason: str | None,
               rating: int | None, outcome: tuple[Any, ...] | None, messages: list[Any], rule_ids: list[str]) -> None:
        from types import SimpleNamespace

        from confide.core.ids import new_id as platform_id
        from confide.evaluation import metrics as m
        from confide.evaluation.service import COMPUTED_FIELDS, _apply_outcome, _redacted_questions

        started = time.perf_counter()
        computed = m.compute(started_at=created, closed_at=closed, language=language, handed_off_flag=handed_off, handoff_reason_now=handoff_reason,
                             messages=messages, rule_ids=rule_ids)
        row = SimpleNamespace(**{name: getattr(computed, name) for name in COMPUTED_FIELDS})
        outcome_ns = None
        if outcome is not None:
            self.outcome_rows.append(outcome)
            outcome_ns = SimpleNamespace(score=outcome[4], resolved=outcome[7], resolved_source=outcome[8])
        _apply_outcome(row, outcome_ns, (rating, None))  # no rating event messages are seeded: the conversation row's rating
        self.metrics_rows.append((
            platform_id("cmx"), self.tenant_id, cid, avatar, None, language, row.day, row.started_at, row.closed_at, row.transcript_available,
            row.turns, row.avatar_messages, row.operator_messages, row.duration_seconds, row.first_response_seconds, row.mean_response_seconds,
            row.response_count, row.response_seconds_sum, row.handed_off, row.handoff_reason, row.human_involved, row.fallback_answers,
            json.dumps(row.rule_hits), row.rating, row.resolved, row.resolved_source, row.contained, row.sentiment_lexicon, row.sentiment_messages,
            row.sentiment_start, row.sentiment_end, row.sentiment_trend, closed,
        ))
        contribution = m.contribution(row)
        target = self.scalars.setdefault((avatar, row.day), dict.fromkeys(m.SCALARS, 0))
        for name, value in contribution.scalars.items():
            target[name] += value
        for (dimension, key), value in contribution.counts.items():
            self.counts[(avatar, row.day, dimension, key)] = self.counts.get((avatar, row.day, dimension, key), 0) + value
        for message_id, text, normalized in _redacted_questions(computed.questions, language):
            self.question_rows.append((platform_id("uq"), self.tenant_id, avatar, cid, message_id, language, row.day, text, normalized, closed))
        self.seconds += time.perf_counter() - started

    def aggregate_rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        from confide.core.ids import new_id as platform_id
        from confide.evaluation import metrics as m

        aggregates = [(platform_id("agg"), self.tenant_id, avatar, day, *(v[name] for name in m.SCALARS)) for (avatar, day), v in sorted(self.scalars.items())]
        counts = [(platform_id("agc"), self.tenant_id, avatar, day, dimension, key, value) for (avatar, day, dimension, key), value in sorted(self.counts.items()) if value]
        return aggregates, counts


async def seed(dsn: str, *, tenant_id: str, avatars: list[str], operators: list[str], conversations: int, per_conversation: int) -> dict[str, Any]:
    """Conversations, messages, tags and rule hits straight into PostgreSQL with COPY, then what the evaluator would
    have written for the closed ones (metrics, outcomes, daily aggregates and counts, unanswered questions)."""
    from confide.evaluation.metrics import SCALARS, MessageView

    rng = random.Random(SEED)
    erng = random.Random(SEED + 1)  # evaluation-only choices: the main stream (and so the inbox data) stays as it was
    words, cumulative = vocabulary()
    questions = question_pool()
    evaluation = Evaluation(tenant_id)
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
        reason = pick(erng, HANDOFF_REASONS) if handed_off else None
        # About 5 % of conversations (a quarter of those handed off) have one answer that was the avatar's fallback.
        candidates = [i for i in range(3, per_conversation, 2) if not (handed_off and i > per_conversation // 2)]
        fallback_at = erng.choice(candidates) if candidates and erng.random() < (0.25 if handed_off else 0.03) else None
        views: list[MessageView] = []
        rule_ids: list[str] = []
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
            verdict = None
            if fallback_at is not None and i == fallback_at - 1:
                text = question_text(erng, questions["de" if language.startswith("de") else "en"])
            elif fallback_at is not None and i == fallback_at:
                text, verdict = FALLBACK_TEXT, {"fallback": True}
            mseq = None
            if kind != "note":
                seq += 1
                mseq = seq
            mid = new_id("msg", t, rng)
            msg_rows.append((mid, tenant_id, cid, mseq, kind, author, assignee if author == "operator" else None, None, text, None, False, json.dumps(verdict) if verdict else None, t))
            views.append(MessageView(mid, mseq, kind, author, None, text, verdict, t))
            if author == "visitor" and rng.random() < 0.008:
                rule = rng.choice(RULES)
                hit_rows.append((new_id("rhit", t, rng), tenant_id, cid, mid, rule, "input", t))
                rule_ids.append(rule)
        if handed_off:
            t += timedelta(seconds=5)
            seq += 1
            verdict = {"reason": reason, "rule_ids": []}
            mid = new_id("msg", t, rng)
            msg_rows.append((mid, tenant_id, cid, seq, "event", "system", None, None, "A human colleague will take over.", "handoff", False, json.dumps(verdict), t))
            views.append(MessageView(mid, seq, "event", "system", "handoff", "A human colleague will take over.", verdict, t))
        if status == "closed":
            t += timedelta(seconds=30)
            seq += 1
            mid = new_id("msg", t, rng)
            msg_rows.append((mid, tenant_id, cid, seq, "event", "system", None, None, "", "closed", False, None, t))
            views.append(MessageView(mid, seq, "event", "system", "closed", "", None, t))
            # The visitor's rating (with whether it was resolved) or, after a handoff, an operator marking it resolved.
            outcome = None
            if rating is not None:
                resolved = erng.random() < (0.85 if rating >= 4 else 0.5 if rating == 3 else 0.2)
                rated = t + timedelta(seconds=erng.uniform(5, 120))
                outcome = (new_id("out", rated, erng), tenant_id, cid, avatar, rating, None, rated, resolved, "visitor", None, rated, rated)
            elif handed_off and assignee and erng.random() < 0.5:
                outcome = (new_id("out", t, erng), tenant_id, cid, avatar, None, None, None, True, "operator", assignee, t, t)
            evaluation.closed(cid=cid, avatar=avatar, language=language, created=created, closed=t, handed_off=handed_off, handoff_reason=reason,
                              rating=rating, outcome=outcome, messages=views, rule_ids=rule_ids)
        conv_rows.append((cid, tenant_id, avatar, None, f"vis_{n:012d}", None, language, status, reason, assignee, handed_off, rating, seq, created, t, t if status == "closed" else None))
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
        copied = time.perf_counter() - copy_started
        evaluation_started = time.perf_counter()
        aggregates, counts = evaluation.aggregate_rows()
        await conn.copy_records_to_table(
            "evaluation_outcome",
            records=evaluation.outcome_rows,
            columns=["id", "tenant_id", "conversation_id", "avatar_id", "score", "rating_message_id", "rated_at", "resolved", "resolved_source", "resolved_by", "resolved_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "evaluation_conversation_metrics",
            records=evaluation.metrics_rows,
            columns=[
                "id", "tenant_id", "conversation_id", "avatar_id", "avatar_version_id", "language", "day", "started_at", "closed_at", "transcript_available",
                "turns", "avatar_messages", "operator_messages", "duration_seconds", "first_response_seconds", "mean_response_seconds",
                "response_count", "response_seconds_sum", "handed_off", "handoff_reason", "human_involved", "fallback_answers",
                "rule_hits", "rating", "resolved", "resolved_source", "contained", "sentiment_lexicon", "sentiment_messages",
                "sentiment_start", "sentiment_end", "sentiment_trend", "computed_at",
            ],
        )
        await conn.copy_records_to_table("evaluation_daily_aggregate", records=aggregates, columns=["id", "tenant_id", "avatar_id", "day", *SCALARS])
        await conn.copy_records_to_table("evaluation_daily_count", records=counts, columns=["id", "tenant_id", "avatar_id", "day", "dimension", "key", "count"])
        await conn.copy_records_to_table(
            "evaluation_unanswered_question",
            records=evaluation.question_rows,
            columns=["id", "tenant_id", "avatar_id", "conversation_id", "message_id", "language", "day", "text", "normalized", "created_at"],
        )
        evaluation_loaded = time.perf_counter() - evaluation_started
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return {
        "conversations": len(conv_rows), "messages": len(msg_rows), "tags": len(tag_rows), "rule_hits": len(hit_rows),
        "generate_s": round(generated, 1), "load_s": round(copied, 1),
        "evaluation": {
            "closed_conversations_evaluated": len(evaluation.metrics_rows), "outcomes": len(evaluation.outcome_rows),
            "daily_aggregate_rows": len(aggregates), "daily_count_rows": len(counts), "unanswered_questions": len(evaluation.question_rows),
            "distinct_question_texts": len({r[7] for r in evaluation.question_rows}), "distinct_normalized": len({r[8] for r in evaluation.question_rows}),
            "compute_s": round(evaluation.seconds, 1), "load_s": round(evaluation_loaded, 1),
        },
    }


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


async def measure_report(client: httpx.AsyncClient, dsn: str, tenant_id: str, now: datetime) -> dict[str, Any]:
    """The 30-day daily report (JSON, then CSV): slowest of 5 and warm median each, after one warm-up request, and
    checked against the seeded rows: it must cover exactly the closed conversations that started in the window."""
    first, last = (now - timedelta(days=29)).date(), now.date()
    path = f"/v1/tenants/{tenant_id}/reports"
    params = {"granularity": "day", "from": first.isoformat(), "to": last.isoformat()}

    async def timed(extra: dict[str, str]) -> tuple[list[float], httpx.Response]:
        r = await client.get(path, params={**params, **extra})  # warm-up
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            r = await client.get(path, params={**params, **extra})
            timings.append(time.perf_counter() - start)
            if r.status_code != 200:
                raise RuntimeError(f"report {extra}: {r.status_code} {r.text[:300]}")
        return timings, r

    json_timings, r = await timed({})
    body = r.json()
    csv_timings, r_csv = await timed({"format": "csv"})

    conn = await asyncpg.connect(dsn)
    try:
        expected = await conn.fetchrow(
            """SELECT count(*) AS conversations, count(*) FILTER (WHERE handed_off) AS handed_off, count(rating) AS rated
               FROM conversation WHERE tenant_id = $1 AND status = 'closed' AND created_at >= $2 AND created_at < $3""",
            tenant_id, datetime.combine(first, datetime.min.time(), UTC), datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
        )
        questions = await conn.fetchval(
            "SELECT count(*) FROM evaluation_unanswered_question WHERE tenant_id = $1 AND day BETWEEN $2 AND $3", tenant_id, first, last
        )
    finally:
        await conn.close()
    totals = body["totals"]
    checks = {
        "conversations": (totals["conversations"], expected["conversations"]),
        "handed_off": (totals["handed_off"], expected["handed_off"]),
        "csat.count": (totals["csat"]["count"], expected["rated"]),
        "periods": (len(body["periods"]), 30),
        "periods' conversations": (sum(p["conversations"] for p in body["periods"]), expected["conversations"]),
        "fallback answers vs unanswered rows": (totals["fallback_answers"], questions),
    }
    wrong = {name: {"report": got, "seeded": want} for name, (got, want) in checks.items() if got != want}
    if wrong or expected["conversations"] == 0 or not body["top_unanswered_questions"]:
        raise RuntimeError(f"the report does not match the seeded conversations: {wrong or 'nothing in the window'}")
    csv_rows = list(csv.DictReader(io.StringIO(r_csv.text)))
    csv_total = sum(int(row["conversations"]) for row in csv_rows)
    if len(csv_rows) != 30 or csv_total != expected["conversations"]:
        raise RuntimeError(f"the CSV report has {len(csv_rows)} periods and {csv_total} conversations, expected 30 and {expected['conversations']}")
    top = body["top_unanswered_questions"]
    return {
        "report_s": round(max(json_timings), 3),
        "report_median_s": round(statistics.median(json_timings), 3),
        "report_csv_s": round(max(csv_timings), 3),
        "report_csv_median_s": round(statistics.median(csv_timings), 3),
        "report_conversations": totals["conversations"],
        "report_bytes": len(r.content),
        "report_summary": {
            "handoff_rate": totals["handoff_rate"], "handoffs_by_reason": totals["handoffs_by_reason"], "containment_rate": totals["containment_rate"],
            "resolution": totals["resolution"], "csat": totals["csat"], "first_response_p50_p90": [totals["first_response_seconds"]["p50"], totals["first_response_seconds"]["p90"]],
            "guideline_hits": sum(totals["guideline_hits"].values()), "unanswered_rows": questions,
            "top_question": {"question": top[0]["question"], "count": top[0]["count"], "variants": top[0]["variants"]}, "question_clusters": len(top),
        },
        "report_note": (
            f"GET /reports?granularity=day, {first.isoformat()}..{last.isoformat()} (30 UTC days), JSON and ?format=csv, each slowest "
            "of 5 (and median) after one warm-up, one request at a time over HTTP; served from evaluation_daily_aggregate/_count and "
            "evaluation_unanswered_question, seeded with what the evaluator would have written for every seeded closed conversation "
            "(its own metrics.compute/contribution code, summed per avatar and UTC start day); only closed conversations are evaluated, "
            "so report_conversations is the closed ones that started in the window, checked against the conversation table"
        ),
    }


async def main(conversations: int, per_conversation: int, rounds: int, show_plans: bool) -> dict[str, Any]:
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
                    report = await measure_report(client, "postgresql://" + url.split("://", 1)[1], tenant, now)
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
        **report,
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
