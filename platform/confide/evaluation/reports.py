"""Reports per tenant (or per avatar) by day or ISO week, served from the daily aggregates: a 30-day
report reads at most a few hundred aggregate rows, however many conversations there were.

Days are UTC days on which conversations started. First-response percentiles are estimated from the
aggregated latency histogram (linear within a bucket; see metrics.LATENCY_BOUNDS), so they are exact to
the bucket's resolution. Unanswered questions come from their own (retention-limited) table, grouped by
normalised text and then merged by fuzzy similarity."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.dates import check_day_range
from confide.core.errors import InvalidInput
from confide.core.spreadsheet import neutralise
from confide.evaluation.metrics import HANDOFF_CATEGORIES, LATENCY_BOUNDS, SCALARS
from confide.evaluation.models import DailyAggregate, DailyCount, UnansweredQuestion

Granularity = Literal["day", "week"]
MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 30
TOP_QUESTIONS = 20
QUESTION_CANDIDATES = 300
SIMILARITY = 85  # rapidfuzz token_sort_ratio at or above which two questions are one


def resolve_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The inclusive [from, to] range: 30 days, ending today unless `from` or `to` places it. Bad ranges name their field.
    Both come bounded (core.dates.Day), so the 29 days either way cannot leave the calendar."""
    end = end or (start + timedelta(days=DEFAULT_RANGE_DAYS - 1) if start else today)
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    check_day_range(start, end)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput("query.to", f"the range covers {(end - start).days + 1} days; at most {MAX_RANGE_DAYS} days per report")
    return start, end


def periods(start: date, end: date, granularity: Granularity) -> list[tuple[date, date]]:
    """Consecutive periods covering [start, end]; weeks are ISO weeks (Monday to Sunday) clipped to the range."""
    out = []
    day = start
    while day <= end:
        if granularity == "day":
            last = day
        else:
            last = min(end, day + timedelta(days=6 - day.weekday()))
        out.append((day, last))
        day = last + timedelta(days=1)
    return out


def percentile(histogram: dict[int, int], p: float) -> float | None:
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = p * total
    seen = 0
    for index in range(len(LATENCY_BOUNDS)):
        count = histogram.get(index, 0)
        if count <= 0:
            continue
        lower = 0.0 if index == 0 else LATENCY_BOUNDS[index - 1]
        upper = LATENCY_BOUNDS[index]
        if seen + count >= rank:
            if math.isinf(upper):
                return float(lower)
            return round(lower + (upper - lower) * max(0.0, rank - seen) / count, 3)
        seen += count
    return float(LATENCY_BOUNDS[-2])


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, count: float) -> float | None:
    return round(total / count, 4) if count else None


def summarize(period: tuple[date, date] | None, scalars: dict[str, float], counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    n = scalars.get("conversations", 0)
    by_reason = {reason: int(counts.get(("handoff", reason), 0)) for reason in HANDOFF_CATEGORIES}
    histogram = {int(k): v for (d, k), v in counts.items() if d == "frt" and k.isdigit()}
    rules = {k: int(v) for (d, k), v in sorted(counts.items()) if d == "rule" and v}
    resolved, unresolved = int(scalars.get("resolved", 0)), int(scalars.get("unresolved", 0))
    body: dict[str, Any] = {}
    if period is not None:
        body["period_start"], body["period_end"] = period[0].isoformat(), period[1].isoformat()
    sentiment_n = scalars.get("sentiment_count", 0)
    start_mean = _mean(scalars.get("sentiment_start_sum", 0.0), sentiment_n)
    end_mean = _mean(scalars.get("sentiment_end_sum", 0.0), sentiment_n)
    body.update(
        conversations=int(n),
        turns_mean=_mean(scalars.get("turns", 0), n),
        duration_mean_seconds=_mean(scalars.get("duration_seconds", 0.0), scalars.get("duration_count", 0)),
        contained=int(scalars.get("contained", 0)),
        containment_rate=_rate(scalars.get("contained", 0), n),
        handed_off=int(scalars.get("handed_off", 0)),
        handoff_rate=_rate(scalars.get("handed_off", 0), n),
        handoffs_by_reason=by_reason,
        handoff_rate_by_reason={reason: _rate(count, n) for reason, count in by_reason.items()},
        human_involved=int(scalars.get("human_involved", 0)),
        resolution={"resolved": resolved, "unresolved": unresolved, "unknown": max(0, int(n) - resolved - unresolved)},
        csat={
            "count": int(scalars.get("rated", 0)),
            "mean": _mean(scalars.get("rating_sum", 0), scalars.get("rated", 0)),
            "distribution": {str(score): int(counts.get(("csat", str(score)), 0)) for score in range(1, 6)},
        },
        first_response_seconds={
            "count": int(scalars.get("first_response_count", 0)),
            "mean": _mean(scalars.get("first_response_seconds", 0.0), scalars.get("first_response_count", 0)),
            "p50": percentile(histogram, 0.50),
            "p90": percentile(histogram, 0.90),
            "p95": percentile(histogram, 0.95),
        },
        mean_response_seconds=_mean(scalars.get("response_seconds", 0.0), scalars.get("response_count", 0)),
        fallback_answers=int(scalars.get("fallback_answers", 0)),
        conversations_with_fallback=int(scalars.get("with_fallback", 0)),
        guideline_hits=rules,
        sentiment={
            "count": int(sentiment_n),
            "start_mean": start_mean,
            "end_mean": end_mean,
            "trend_mean": round(end_mean - start_mean, 4) if start_mean is not None and end_mean is not None else None,
        },
    )
    return body


def cluster_questions(groups: list[tuple[str, int, str]], limit: int = TOP_QUESTIONS) -> list[dict[str, Any]]:
    """(normalised, count, example text) groups, most frequent first, merged where similar enough."""
    clusters: list[dict[str, Any]] = []
    keys: list[str] = []
    for normalized, count, example in groups:
        match = process.extractOne(normalized, keys, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILARITY) if keys else None
        if match is not None:
            cluster = clusters[match[2]]
            cluster["count"] += count
            cluster["variants"] += 1
            continue
        keys.append(normalized)
        clusters.append({"question": example, "normalized": normalized, "count": count, "variants": 1})
    clusters.sort(key=lambda c: (-c["count"], c["normalized"]))
    return clusters[:limit]


async def build_report(
    session: AsyncSession, *, tenant_id: str, granularity: Granularity, start: date, end: date, avatar_id: str | None
) -> dict[str, Any]:
    where = [DailyAggregate.tenant_id == tenant_id, DailyAggregate.day >= start, DailyAggregate.day <= end]
    count_where = [DailyCount.tenant_id == tenant_id, DailyCount.day >= start, DailyCount.day <= end]
    question_where = [UnansweredQuestion.tenant_id == tenant_id, UnansweredQuestion.day >= start, UnansweredQuestion.day <= end]
    if avatar_id:
        where.append(DailyAggregate.avatar_id == avatar_id)
        count_where.append(DailyCount.avatar_id == avatar_id)
        question_where.append(UnansweredQuestion.avatar_id == avatar_id)
    sums = [func.sum(getattr(DailyAggregate, name)).label(name) for name in SCALARS]
    day_rows = (await session.execute(select(DailyAggregate.day, *sums).where(*where).group_by(DailyAggregate.day))).all()
    count_rows = (
        await session.execute(
            select(DailyCount.day, DailyCount.dimension, DailyCount.key, func.sum(DailyCount.count))
            .where(*count_where)
            .group_by(DailyCount.day, DailyCount.dimension, DailyCount.key)
        )
    ).all()
    question_rows = (
        await session.execute(
            select(UnansweredQuestion.normalized, func.count().label("n"), func.min(UnansweredQuestion.text))
            .where(*question_where)
            .group_by(UnansweredQuestion.normalized)
            .order_by(func.count().desc(), UnansweredQuestion.normalized)
            .limit(QUESTION_CANDIDATES)
        )
    ).all()

    spans = periods(start, end, granularity)
    first_of = {}
    for first, last in spans:
        day = first
        while day <= last:
            first_of[day] = first
            day += timedelta(days=1)
    bucket_scalars: dict[date, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SCALARS, 0))
    bucket_counts: dict[date, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    total_scalars: dict[str, float] = dict.fromkeys(SCALARS, 0)
    total_counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in day_rows:
        target = bucket_scalars[first_of[row[0]]]
        for name, value in zip(SCALARS, row[1:], strict=True):
            target[name] += value or 0
            total_scalars[name] += value or 0
    for day, dimension, key, value in count_rows:
        bucket_counts[first_of[day]][(dimension, key)] += int(value or 0)
        total_counts[(dimension, key)] += int(value or 0)
    return {
        "tenant_id": tenant_id,
        "avatar_id": avatar_id,
        "granularity": granularity,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": "UTC",
        "totals": summarize(None, total_scalars, total_counts),
        "periods": [summarize(span, bucket_scalars[span[0]], bucket_counts[span[0]]) for span in spans],
        "top_unanswered_questions": cluster_questions([(r[0], int(r[1]), r[2]) for r in question_rows]),
    }


CSV_COLUMNS = (
    "period_start", "period_end", "conversations", "turns_mean", "duration_mean_seconds", "contained", "containment_rate",
    "handed_off", "handoff_rate", *(f"handoffs_{r}" for r in HANDOFF_CATEGORIES), "human_involved", "resolved", "unresolved",
    "resolution_unknown", "csat_count", "csat_mean", *(f"csat_{s}" for s in range(1, 6)), "first_response_count",
    "first_response_mean_seconds", "first_response_p50_seconds", "first_response_p90_seconds", "first_response_p95_seconds",
    "mean_response_seconds", "fallback_answers", "conversations_with_fallback", "sentiment_count", "sentiment_start_mean",
    "sentiment_end_mean", "sentiment_trend_mean",
)


def _flat(period: dict[str, Any]) -> dict[str, Any]:
    row = {k: period.get(k) for k in ("period_start", "period_end", "conversations", "turns_mean", "duration_mean_seconds", "contained",
                                      "containment_rate", "handed_off", "handoff_rate", "human_involved", "mean_response_seconds",
                                      "fallback_answers", "conversations_with_fallback")}
    row.update({f"handoffs_{r}": n for r, n in period["handoffs_by_reason"].items()})
    row.update(resolved=period["resolution"]["resolved"], unresolved=period["resolution"]["unresolved"], resolution_unknown=period["resolution"]["unknown"])
    row.update(csat_count=period["csat"]["count"], csat_mean=period["csat"]["mean"])
    row.update({f"csat_{s}": n for s, n in period["csat"]["distribution"].items()})
    frt = period["first_response_seconds"]
    row.update(first_response_count=frt["count"], first_response_mean_seconds=frt["mean"], first_response_p50_seconds=frt["p50"],
               first_response_p90_seconds=frt["p90"], first_response_p95_seconds=frt["p95"])
    s = period["sentiment"]
    row.update(sentiment_count=s["count"], sentiment_start_mean=s["start_mean"], sentiment_end_mean=s["end_mean"], sentiment_trend_mean=s["trend_mean"])
    row.update({f"guideline_hits:{rule}": n for rule, n in period["guideline_hits"].items()})
    return row


def _cell(value: Any) -> Any:
    return "" if value is None else neutralise(value)  # no formulas in a spreadsheet


def report_csv(report: dict[str, Any]) -> str:
    rows = [_flat(p) for p in report["periods"]]
    rules = sorted({k for r in rows for k in r if k.startswith("guideline_hits:")})
    columns = [*CSV_COLUMNS, *rules]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c, 0 if c in rules else None)) for c in columns])
    return out.getvalue()
