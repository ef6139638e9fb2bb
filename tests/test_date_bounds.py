"""Dates a client sends are bounded to the years 1970 to 9998 (core.dates): near year 1 or 9999 the shift to UTC,
the day after an inclusive `to` or a report's 29 days overflowed and answered 500 (API review). Out of range is a
422 naming the parameter and the bound. And the two kinds of `to` (exclusive date-time, inclusive day) say which
they are in OpenAPI; the day lists refuse `from` after `to` as /reports does, and take no defaults they do not apply."""

from __future__ import annotations

import pytest

YEAR_ONE = "0001-01-01T00:00:00+14:00"
YEAR_9999 = "9999-12-31T23:59:59-12:00"


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Dates GmbH")
    r = await client.post(f"/v1/tenants/{tenant_id}/evaluation/score-definitions", json={"name": "Helpful", "kind": "boolean"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return {"t": f"/v1/tenants/{tenant_id}", "h": owner.headers, "definition": r.json()["id"]}


def _refused(r, field: str) -> None:  # noqa: ANN001
    assert r.status_code == 422, (field, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert "1970" in errors[0]["message"] and "9998" in errors[0]["message"], errors


async def test_out_of_range_dates_are_422_naming_the_parameter(client, shop):
    t, h = shop["t"], shop["h"]
    summary = f"{t}/evaluation/score-definitions/{shop['definition']}/summary"
    cases = [
        (f"{t}/conversations", {"from": YEAR_ONE}, "query.from"),
        (f"{t}/conversations", {"from": YEAR_9999}, "query.from"),
        (f"{t}/conversations", {"to": YEAR_9999}, "query.to"),
        (f"{t}/conversations", {"to": "0001-01-01"}, "query.to"),
        (f"{t}/reports", {"from": "9999-12-31"}, "query.from"),
        (f"{t}/reports", {"to": "0001-01-01"}, "query.to"),
        (f"{t}/reports", {"to": "9999-12-31"}, "query.to"),
        (f"{t}/ratings", {"to": "9999-12-31"}, "query.to"),
        (f"{t}/ratings", {"from": "1969-12-31"}, "query.from"),
        (f"{t}/evaluation/conversations", {"to": "9999-12-31"}, "query.to"),
        (summary, {"to": "9999-12-31"}, "query.to"),
        (summary, {"from": "0001-01-01"}, "query.from"),
        (f"{t}/privacy/processing-log", {"from": YEAR_ONE}, "query.from"),
        (f"{t}/privacy/processing-log", {"to": YEAR_9999}, "query.to"),
        (f"{t}/privacy/processing-log", {"until": YEAR_9999}, "query.until"),
        (f"{t}/exports/conversations", {"from": YEAR_ONE}, "query.from"),
        (f"{t}/exports/conversations", {"to": YEAR_9999}, "query.to"),
        (f"{t}/exports/manifest", {"to": YEAR_9999}, "query.to"),
    ]
    for url, params, field in cases:
        _refused(await client.get(url, params=params, headers=h), field)
    for before in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z"):
        r = await client.post(f"{t}/erasure-requests", json={"scope": "before", "before": before}, headers=h)
        _refused(r, "body.before")


async def test_numbers_are_no_dates(client, shop):
    """A date left without its dashes (`20260302`), a number of seconds or a JSON number is refused with 422
    naming the field: read as seconds since 1970, an export's or report's window silently ended in 1970."""
    t, h = shop["t"], shop["h"]
    cases = [
        (f"{t}/exports/conversations", {"to": "20260302"}, "query.to"),
        (f"{t}/exports/conversations", {"from": "20260302"}, "query.from"),
        (f"{t}/conversations", {"to": "0.5"}, "query.to"),
        (f"{t}/reports", {"to": "0"}, "query.to"),
        (f"{t}/reports", {"to": "86400"}, "query.to"),
        (f"{t}/ratings", {"from": "1700000000"}, "query.from"),
        (f"{t}/privacy/processing-log", {"from": "1700000000"}, "query.from"),
    ]
    for url, params, field in cases:
        r = await client.get(url, params=params, headers=h)
        assert r.status_code == 422, (url, params, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field] and "YYYY-MM-DD" in r.json()["errors"][0]["message"], r.text
    for before in (20260302, 1700000000.5, "1700000000"):
        r = await client.post(f"{t}/erasure-requests", json={"scope": "before", "before": before}, headers=h)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.before"], r.text
        assert "YYYY-MM-DD" in r.json()["errors"][0]["message"], r.text
    r = await client.get(f"{t}/conversations", params={"from": "2026-03-02", "to": "2026-03-03T10:00:00+01:00"}, headers=h)
    assert r.status_code == 200, r.text


async def test_the_bounds_themselves_are_accepted(client, shop):
    t, h = shop["t"], shop["h"]
    summary = f"{t}/evaluation/score-definitions/{shop['definition']}/summary"
    r = await client.get(f"{t}/conversations", params={"from": "1970-01-01", "to": "9998-12-31T23:59:59Z"}, headers=h)
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = await client.get(f"{t}/reports", params={"to": "1970-01-01"}, headers=h)
    assert r.status_code == 200, r.text
    assert [p["period_start"] for p in r.json()["periods"]][-1] == "1970-01-01"
    r = await client.get(f"{t}/reports", params={"from": "9998-12-02", "to": "9998-12-31"}, headers=h)
    assert r.status_code == 200 and r.json()["periods"][-1]["period_end"] == "9998-12-31", r.text
    for url in (f"{t}/ratings", f"{t}/evaluation/conversations"):
        r = await client.get(url, params={"from": "1970-01-01", "to": "9998-12-31"}, headers=h)
        assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = await client.get(summary, params={"from": "1970-01-01", "to": "9998-12-31"}, headers=h)
    assert r.status_code == 200 and r.json()["groups"] == [], r.text
    r = await client.get(f"{t}/privacy/processing-log", params={"from": "1970-01-01T00:00:00Z", "to": "9998-12-31T23:59:59Z"}, headers=h)
    assert r.status_code == 200, r.text
    # In range, `before` reaches the erasure itself: this tenant has nothing that old.
    r = await client.post(f"{t}/erasure-requests", json={"scope": "before", "before": "1970-01-01T00:00:00Z"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.before", r.text
    assert "nothing to erase" in r.json()["errors"][0]["message"]


async def test_day_lists_refuse_from_after_to_and_take_one_day(client, shop):
    t, h = shop["t"], shop["h"]
    for url in (f"{t}/ratings", f"{t}/evaluation/conversations", f"{t}/evaluation/score-definitions/{shop['definition']}/summary", f"{t}/reports"):
        r = await client.get(url, params={"from": "2026-03-10", "to": "2026-03-01"}, headers=h)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["query.from"], (url, r.text)
        assert "2026-03-10" in r.json()["errors"][0]["message"]
        r = await client.get(url, params={"from": "2026-03-10", "to": "2026-03-10"}, headers=h)
        assert r.status_code == 200, (url, r.text)


async def test_every_range_route_refuses_a_reversed_range_alike(client, shop):
    """Date-time lists (exclusive `to`) name `query.from` as the day lists do, with the range in the message; an
    equal pair is an empty window, refused too."""
    t, h = shop["t"], shop["h"]
    for url in (f"{t}/conversations", f"{t}/privacy/processing-log", f"{t}/exports/conversations", f"{t}/exports/manifest"):
        for params in ({"from": "2026-03-10T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, {"from": "2026-03-10T00:00:00Z", "to": "2026-03-10T00:00:00Z"}):
            r = await client.get(url, params=params, headers=h)
            assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["query.from"], (url, r.text)
            assert "2026-03-10T00:00:00+00:00" in r.json()["errors"][0]["message"] and "`from` must be before `to`" in r.json()["errors"][0]["message"]
        r = await client.get(url, params={"from": "2026-03-10T00:00:00Z", "to": "2026-03-10T00:00:01Z"}, headers=h)
        assert r.status_code == 200, (url, r.text)


async def test_openapi_says_which_to_is_which(client):
    paths = (await client.get("/openapi.json")).json()["paths"]

    def param(path: str, name: str) -> dict:
        params = {p["name"]: p for p in paths[f"/v1/tenants/{{tenant_id}}{path}"]["get"]["parameters"]}
        return params[name]

    for path in ("/conversations", "/privacy/processing-log", "/exports/conversations", "/exports/manifest"):
        text = param(path, "to")["description"]
        assert "exclusive" in text and "inclusive" not in text and "1970" in text, (path, text)
        assert param(path, "to")["schema"]["anyOf"][0]["format"] == "date-time"
    day_lists = ("/ratings", "/evaluation/conversations", "/evaluation/score-definitions/{definition_id}/summary")
    for path in (*day_lists, "/reports"):
        text = param(path, "to")["description"]
        assert "inclusive" in text and "exclusive" not in text and "1970" in text, (path, text)
        assert param(path, "to")["schema"]["anyOf"][0]["format"] == "date"
    # Only /reports fills in a missing end; the lists say they leave it open.
    assert "today" in param("/reports", "to")["description"] and "29 days before" in param("/reports", "from")["description"]
    for path in day_lists:
        assert "today" not in param(path, "to")["description"] and "no upper bound" in param(path, "to")["description"], path
        assert "29 days" not in param(path, "from")["description"] and "no lower bound" in param(path, "from")["description"], path
