"""Telemetry without personal data (policy XI): Prometheus metrics labelled by method, route template
and status only; never a raw path, query string, id or address. One registry per app instance."""

from __future__ import annotations

import bisect
import gc
import hmac
import time
from typing import Any, ClassVar

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import gc_collector, platform_collector, process_collector
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide.core.errors import Unauthorized
from confide.core.http import route_template

GC_PAUSE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class GcPauses:
    """How long the cyclic garbage collector stops the process, per generation: a full collection
    over a large heap pauses every chat on the node (bench.chat attributes its stalls with this).
    One gc callback per process, shared by every app's registry."""

    _installed = False
    _started = 0.0
    counts: ClassVar[dict[int, list[int]]] = {g: [0] * (len(GC_PAUSE_BUCKETS) + 1) for g in range(3)}
    sums: ClassVar[dict[int, float]] = dict.fromkeys(range(3), 0.0)

    @classmethod
    def install(cls) -> None:
        if not cls._installed:
            gc.callbacks.append(cls._callback)
            cls._installed = True

    @classmethod
    def _callback(cls, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            cls._started = time.perf_counter()
            return
        pause = time.perf_counter() - cls._started
        generation = info.get("generation", 2)
        cls.sums[generation] += pause
        cls.counts[generation][bisect.bisect_left(GC_PAUSE_BUCKETS, pause)] += 1  # the last slot is +Inf

    def collect(self) -> Any:
        family = HistogramMetricFamily("confide_gc_pause_seconds", "Time the garbage collector paused the process, per collection", labels=["generation"])
        for generation in range(3):
            cumulative, total = [], 0
            for bound, count in zip((*GC_PAUSE_BUCKETS, float("inf")), self.counts[generation], strict=True):
                total += count
                cumulative.append((str(bound) if bound != float("inf") else "+Inf", total))
            family.add_metric([str(generation)], cumulative, self.sums[generation])
        yield family


class AccountMailDrops:
    """Account mails (registrations, password resets, confirmations sent again) that the detached
    runner dropped because its lane was full (accounts/detached_mails.py): the route had answered 202
    already, so only an operator can notice. By lane; read from the app's runner when scraped."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Any:
        family = CounterMetricFamily("confide_account_mails_dropped", "Account mails dropped because too many were waiting", labels=["lane"])
        runner = getattr(self.app.state, "detached_mails", None)
        for lane, count in (runner.dropped() if runner is not None else {}).items():
            family.add_metric([lane], count)
        yield family


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        GcPauses.install()
        self.registry.register(GcPauses())
        self.requests = Counter(
            "confide_http_requests", "HTTP requests answered", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "confide_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ("method", "route"),
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )


class MetricsMiddleware:
    """Pure ASGI; counts HTTP requests only (websocket frames are counted by the realtime code).

    A request is measured until the last byte of its answer is handed on (the `http.response.body`
    message without `more_body`), not until the app returns: Starlette runs a response's background
    tasks after that message and before returning, and their time is no part of the answer's. (Counted
    into the latency, a mail sent in the background only for known addresses told /metrics readers which
    addresses have an account.) A request whose answer never completes (an error, a client gone) is
    measured when the app returns."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            method = scope.get("method", "GET") if scope.get("method") in _METHODS else "OTHER"
            route = route_template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not recorded:
                record()

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if not recorded:
                record()


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


METRICS_DESCRIPTION = (
    "Per-route request counts and latencies, process memory and garbage-collector pauses; no personal data in any label. "
    "With CONFIDE_METRICS_TOKEN set, send it as `Authorization: Bearer <token>` (401 otherwise). Unset, /metrics is open to "
    "anyone who reaches it: serve it on an internal port or network only, not on the public address."
)


def _check_metrics_token(request: Request) -> None:
    expected = request.app.state.settings.metrics_token
    if not expected:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthorized("Send the metrics token (CONFIDE_METRICS_TOKEN) as a bearer token.")


def install_metrics(app: FastAPI) -> None:
    """Add the middleware and GET /metrics (when metrics_enabled)."""
    settings: Any = app.state.settings
    if not settings.metrics_enabled:
        return
    metrics = HttpMetrics()
    metrics.registry.register(AccountMailDrops(app))
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get(
        "/metrics", tags=["telemetry"], summary="Prometheus metrics", description=METRICS_DESCRIPTION, include_in_schema=True, response_class=Response,
        # Only a server with a token can answer 401.
        responses={401: {"description": "The request did not carry CONFIDE_METRICS_TOKEN as a bearer token."}} if settings.metrics_token else None,
    )
    async def prometheus_metrics(request: Request) -> Response:
        _check_metrics_token(request)
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
