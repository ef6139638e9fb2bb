"""Telemetry (policy XI): Prometheus metrics labelled by method, route template and status only; no
email, id, IP or query string ever reaches a label."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from confide.app import create_app
from confide.privacy.metrics import HttpMetrics, MetricsMiddleware
from tests.conftest import running
from tests.privacy.conftest import hooked_client

SAMPLE = re.compile(r'^confide_http_requests_total\{method="([A-Z]+)",route="([^"]*)",status="(\d{3})"\} ')


def request_samples(text: str) -> set[tuple[str, str, str]]:
    return {m.groups() for line in text.splitlines() if (m := SAMPLE.match(line))}


async def test_metrics_carry_route_templates_and_no_personal_data(app, client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user)
    email = "metrics.person@example.com"
    await client.get(f"/v1/tenants/{tenant}/privacy/processing-log", params={"subject_ref": "vis_secret42"}, headers=user.headers)
    await client.get(f"/v1/tenants/{email}/members", headers=user.headers)
    await client.get(f"/v1/admin/contact-messages/{email}")
    await client.get(f"/v1/tenants/{tenant}/privacy/processing-log", params={"subject_ref": email, "q": email}, headers=user.headers)
    await client.get(f"/nowhere/{email}")
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for secret in (email, "metrics.person", tenant, user.id, "vis_secret42", "127.0.0.1", "@"):
        assert secret not in text, f"{secret!r} leaked into /metrics"
    samples = request_samples(text)
    assert ("GET", "/v1/tenants/{tenant_id}/privacy/processing-log", "200") in samples
    assert ("GET", "/v1/tenants/{tenant_id}/members", "404") in samples
    assert ("GET", "/v1/tenants/{tenant_id}/privacy/processing-log", "422") in samples
    assert ("GET", "/v1/admin/contact-messages/{message_id}", "401") in samples
    assert ("GET", "(unmatched)", "404") in samples
    assert "confide_http_request_duration_seconds_bucket" in text
    labels = {name for line in text.splitlines() if line.startswith("confide_http") for name in re.findall(r'(\w+)="', line)}
    assert labels <= {"method", "route", "status", "le"}


async def test_each_app_has_its_own_registry(backend, app):
    async with running(create_app(backend.settings(retention_job_enabled=False))) as other, hooked_client(other) as c:
        await c.get("/v1/privacy/subprocessors")
        await c.get("/v1/privacy/subprocessors")
        text = (await c.get("/metrics")).text
    assert ("GET", "/v1/privacy/subprocessors", "200") in request_samples(text)
    line = next(line for line in text.splitlines() if 'route="/v1/privacy/subprocessors"' in line and line.startswith("confide_http_requests_total"))
    assert line.endswith(" 2.0"), line
    assert other.state.metrics.registry is not app.state.metrics.registry


async def test_metrics_can_be_switched_off(backend):
    async with running(create_app(backend.settings(metrics_enabled=False, retention_job_enabled=False))) as off, hooked_client(off) as c:
        assert (await c.get("/metrics")).status_code == 404


async def test_garbage_collector_pauses_are_measured_per_generation(app, client):
    import gc

    before = await client.get("/metrics")
    gc.collect()  # a full collection
    after = (await client.get("/metrics")).text

    def full_count(text: str) -> float:
        return next(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith('confide_gc_pause_seconds_count{generation="2"}'))

    assert full_count(after) >= full_count(before.text) + 1
    assert 'confide_gc_pause_seconds_bucket{generation="0",le="0.001"}' in after


def tiny_app(metrics: HttpMetrics, seen_by_background: list[float | None]) -> MetricsMiddleware:
    """A Starlette app with one route whose response runs a 0.2 s background task, behind the middleware."""

    def count() -> float | None:
        return metrics.registry.get_sample_value("confide_http_request_duration_seconds_count", {"method": "GET", "route": "/slow"})

    async def slow_afterwards() -> None:
        seen_by_background.append(count())  # the request was measured before this began
        await asyncio.sleep(0.2)

    async def slow(request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("ok", background=BackgroundTask(slow_afterwards))

    async def broken(request: StarletteRequest) -> PlainTextResponse:
        raise RuntimeError("broken")

    return MetricsMiddleware(Starlette(routes=[Route("/slow", slow), Route("/broken", broken)]), metrics)


async def test_latency_ends_with_the_answer_not_with_background_tasks():
    metrics, seen = HttpMetrics(), []
    app = tiny_app(metrics, seen)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        started = time.perf_counter()
        assert (await c.get("/slow")).text == "ok"
        assert time.perf_counter() - started >= 0.2  # the transport waited for the background task ...
    labels = {"method": "GET", "route": "/slow"}
    assert metrics.registry.get_sample_value("confide_http_request_duration_seconds_count", labels) == 1
    assert metrics.registry.get_sample_value("confide_http_request_duration_seconds_sum", labels) < 0.1  # ... the metric did not
    assert seen == [1.0]
    assert metrics.registry.get_sample_value("confide_http_requests_total", {**labels, "status": "200"}) == 1


async def test_a_request_without_a_complete_answer_is_still_counted_once():
    metrics = HttpMetrics()
    app = tiny_app(metrics, [])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t") as c:
        assert (await c.get("/broken")).status_code == 500
    labels = {"method": "GET", "route": "/broken"}
    assert metrics.registry.get_sample_value("confide_http_requests_total", {**labels, "status": "500"}) == 1
    assert metrics.registry.get_sample_value("confide_http_request_duration_seconds_count", labels) == 1
