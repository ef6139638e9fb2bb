"""Reports by day and week, served from the daily aggregates; CSV; bad input named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from confide.evaluation import reports
from tests.evaluation.helpers import stored_conversation

FALLBACK = {"fallback": True}


async def _seed(app, shop) -> date:  # noqa: ANN001
    """Three conversations on two days of one week, one on the next week; returns the first day (a Monday)."""
    monday = date(2026, 3, 2)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ids = dict(tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"])
    await stored_conversation(app, **ids, started=t0, rating=5, resolved=True,
                              turns=[("visitor", "When are you open?", None, 0), ("avatar", "Nine to five.", None, 1.5)])
    await stored_conversation(app, **ids, started=t0 + timedelta(hours=2), rating=2, rule_ids=("tone",),
                              turns=[("visitor", "Do you sell bikes?", None, 0), ("avatar", "I don't know.", FALLBACK, 4),
                                     ("visitor", "Do you sell bikes??", None, 10), ("avatar", "I don't know.", FALLBACK, 12)])
    await stored_conversation(app, **ids, started=t0 + timedelta(days=1),
                              turns=[("visitor", "do you sell BIKES", None, 0), ("avatar", "I don't know.", FALLBACK, 30),
                                     ("handoff", "A colleague will help.", {"reason": "customer_request", "rule_ids": []}, 31)])
    await stored_conversation(app, **ids, started=t0 + timedelta(days=7), rating=4, resolved=True,
                              turns=[("visitor", "Are you open on Sunday?", None, 0), ("avatar", "No.", None, 200)])
    return monday


async def test_daily_and_weekly_reports_from_aggregates(app, client, shop):
    monday = await _seed(app, shop)
    url, h = f"/v1/tenants/{shop['tenant_id']}/reports", shop["owner"].headers
    r = await client.get(url, params={"granularity": "day", "from": monday.isoformat(), "to": (monday + timedelta(days=9)).isoformat()}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["granularity"] == "day" and body["from"] == "2026-03-02" and body["to"] == "2026-03-11" and body["timezone"] == "UTC"
    assert [p["period_start"] for p in body["periods"]] == [(monday + timedelta(days=i)).isoformat() for i in range(10)]
    first, second = body["periods"][0], body["periods"][1]
    assert first["conversations"] == 2 and first["contained"] == 1 and first["containment_rate"] == 0.5
    assert first["csat"] == {"count": 2, "mean": 3.5, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
    assert first["fallback_answers"] == 2 and first["conversations_with_fallback"] == 1 and first["guideline_hits"] == {"tone": 2}
    assert first["first_response_seconds"]["count"] == 2 and first["first_response_seconds"]["mean"] == 2.75
    assert 1 <= first["first_response_seconds"]["p50"] <= 5
    assert first["mean_response_seconds"] == round((1.5 + 4 + 2) / 3, 4)
    assert second["conversations"] == 1 and second["handed_off"] == 1
    assert second["handoffs_by_reason"]["missing_knowledge"] == 1 and second["handoff_rate_by_reason"]["missing_knowledge"] == 1.0
    assert body["periods"][2]["conversations"] == 0 and body["periods"][2]["containment_rate"] is None
    totals = body["totals"]
    assert totals["conversations"] == 4 and totals["contained"] == 2 and totals["handoff_rate"] == 0.25
    assert totals["first_response_seconds"]["p95"] >= 120  # the 200 s answer is in the 180–300 s bucket
    [bikes, *_] = body["top_unanswered_questions"]
    assert bikes["count"] == 3 and bikes["variants"] == 1 and bikes["normalized"] == "do you sell bikes"

    r = await client.get(url, params={"granularity": "week", "from": (monday + timedelta(days=1)).isoformat(), "to": (monday + timedelta(days=9)).isoformat()}, headers=h)
    weeks = r.json()["periods"]
    assert [(w["period_start"], w["period_end"], w["conversations"]) for w in weeks] == [("2026-03-03", "2026-03-08", 1), ("2026-03-09", "2026-03-11", 1)]

    r = await client.get(url, params={"from": monday.isoformat(), "to": monday.isoformat(), "avatar_id": shop["avatar_id"]}, headers=h)
    assert r.status_code == 200 and r.json()["totals"]["conversations"] == 2
    r = await client.get(url, params={"from": monday.isoformat(), "to": monday.isoformat(), "avatar_id": "avt_other"}, headers=h)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found") and r.json()["detail"] == "No such avatar."  # not zero figures


async def test_reports_download_as_csv(app, client, shop):
    monday = await _seed(app, shop)
    url, h = f"/v1/tenants/{shop['tenant_id']}/reports", shop["owner"].headers
    params = {"from": monday.isoformat(), "to": (monday + timedelta(days=2)).isoformat()}
    for extra, headers in (({"format": "csv"}, h), ({}, {**h, "Accept": "text/csv"})):
        r = await client.get(url, params={**params, **extra}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["period_start"] for row in rows] == ["2026-03-02", "2026-03-03", "2026-03-04"]
        assert rows[0]["conversations"] == "2" and rows[0]["csat_mean"] == "3.5" and rows[0]["guideline_hits:tone"] == "2"
        assert rows[1]["handoffs_missing_knowledge"] == "1" and rows[2]["csat_mean"] == ""
        assert "bikes" not in r.text  # questions (the customers' words) stay out of the CSV


async def test_bad_report_input_is_named(client, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/reports", shop["owner"].headers
    cases = [
        ({"granularity": "month"}, "query.granularity"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "query.from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "query.to"),
        ({"from": "yesterday"}, "query.from"),
        ({"to": "2026-02-30"}, "query.to"),
        ({"format": "xlsx"}, "query.format"),
        ({"granularty": "day"}, "query.granularty"),
    ]
    for params, field in cases:
        r = await client.get(url, params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"] == field, (params, r.json())


async def test_reports_need_the_evaluation_permission(client, factory, shop):
    url = f"/v1/tenants/{shop['tenant_id']}/reports"
    analyst = await factory.member(shop["tenant_id"], shop["owner"], "analyst")
    assert (await client.get(url, headers=analyst.headers)).status_code == 200
    stranger = await factory.user()
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401


def test_ranges_periods_and_percentiles():
    today = date(2026, 5, 31)
    assert reports.resolve_range(None, None, today) == (date(2026, 5, 2), today)
    assert reports.resolve_range(date(2026, 5, 1), None, today) == (date(2026, 5, 1), date(2026, 5, 30))
    assert reports.periods(date(2026, 6, 3), date(2026, 6, 15), "week") == [
        (date(2026, 6, 3), date(2026, 6, 7)), (date(2026, 6, 8), date(2026, 6, 14)), (date(2026, 6, 15), date(2026, 6, 15))
    ]
    assert reports.percentile({}, 0.5) is None
    assert reports.percentile({2: 10}, 0.5) == 1.5  # bucket (1 s, 2 s]: the middle
    clusters = reports.cluster_questions([("what are your opening hours", 5, "What are your opening hours?"), ("what are you opening hours", 2, "x"), ("do you ship to austria", 1, "y")])
    assert [(c["count"], c["variants"]) for c in clusters] == [(7, 2), (1, 1)]
