"""create_app(settings): composes every router, middleware and the lifespan that builds app state."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text

from avatars.knowledge_routes import router as knowledge_router
from avatars.routes import router as avatars_router
from confide import __version__
from confide.accounts.detached_mails import DetachedMails
from confide.accounts.routes import router as accounts_router
from confide.chats.inbox_routes import router as inbox_router
from confide.chats.routes import router as chats_router
from confide.core.access_log import AccessLogMiddleware, AccessLogWriter
from confide.core.api_docs import install_api_docs
from confide.core.broker import create_broker
from confide.core.db import create_engine, create_sessionmaker
from confide.core.errors import ServiceUnavailable, install_error_handlers
from confide.core.events import EventBus
from confide.core.http import BodySizeLimit, ResponseHeaders, refuse_nul_characters, refuse_unexpected_body, reject_unknown_query_params
from confide.core.logs import configure_logging, log_loop_exception
from confide.core.mail import Mailer, OutboxMailer, SmtpMailer
from confide.core.openapi_errors import install_error_docs
from confide.core.schemas import Cursors
from confide.core.security import Passwords
from confide.core.services import Services
from confide.evaluation.routes import router as evaluation_router
from confide.evaluation.runtime import start_evaluation, stop_evaluation
from confide.evaluation.webhook_routes import router as webhooks_router
from confide.privacy.data_routes import router as data_router
from confide.privacy.metrics import install_metrics
from confide.privacy.routes import router as privacy_router
from confide.privacy.runtime import start_privacy, stop_privacy
from confide.realtime.routes import router as realtime_router
from confide.realtime.runtime import ChatRuntime
from confide.settings import Settings
from confide.tenants.routes import router as tenants_router
from confide.widget import router as widget_router
from guidelines.routes import router as guidelines_router
from guidelines.wording import human_request_typos

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "accounts", "description": "Platform users: registration, verification, profile and password. We are their controller."},
    {"name": "auth", "description": "Sign in and out with opaque bearer tokens. No cookies."},
    {"name": "tenants", "description": "Tenants (business customers), members and roles, invitations and API keys."},
    {"name": "privacy", "description": "Records of processing and other privacy facts, generated from the data-classification registry; tenants' processing instructions and processing log."},
    {"name": "data rights", "description": "Platform users exercise their own rights: export, erasure, restriction, objection, newsletter consent."},
    {"name": "contact", "description": "Messages to us by email contact; deleted after the conversation, or at once on objection."},
    {"name": "newsletter", "description": "Double opt-in confirmation and unsubscribing without logging in."},
    {"name": "preferences", "description": "The language setting, kept in `lang`, the only cookie."},
    {"name": "operators", "description": "Platform-operator routes (X-Operator-Token): retention runs, contact messages, newsletter issues."},
    {"name": "avatars", "description": "Avatars: persona, languages, responder, versions, widget keys, preview."},
    {"name": "knowledge", "description": "An avatar's Q&A entries and documents, search, JSON import and export."},
    {"name": "guidelines", "description": "Communication guideline sets, versioned, and evaluating text against them."},
    {"name": "chats", "description": "Conversations: transcripts for staff, and the secret that signs customer tokens. The chat itself runs over websockets (docs/protocol.md)."},
    {"name": "evaluation", "description": "Reports from daily aggregates, per-conversation metrics, CSAT and resolution, staff score definitions and scores. Measures avatars and conversations, never people."},
    {"name": "webhooks", "description": "Signed deliveries of conversation events (handoff requested, closed, rating received) to the tenant's own systems, with retries and a delivery log."},
    {"name": "inbox", "description": "The conversation inbox: filters, full-text search, sorting and cursor pages; tags, assignment, close and reopen, one by one or in bulk."},
    {"name": "data", "description": "A tenant's chat data as its controller: streamed exports (NDJSON, CSV) with a manifest, tracked erasure requests with receipts, and legal holds."},
    {"name": "telemetry", "description": "Prometheus metrics without personal data."},
    {"name": "widget", "description": "The embeddable chat widget script and a demo page that embeds it. No cookies: the widget keeps its state in localStorage."},
]


log = logging.getLogger("confide.app")


def create_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        if not settings.public_base_url.startswith("https://"):
            log.warning(
                "CONFIDE_PUBLIC_BASE_URL is not https while mail goes out over SMTP: the links in mails (confirmations, "
                "password resets, unsubscribing) travel over plain HTTP, and mail clients offer no one-click unsubscribe"
            )
        return SmtpMailer(
            settings.mail_from, settings.smtp_host, settings.smtp_port, settings.smtp_username, settings.smtp_password, settings.smtp_starttls
        )
    return OutboxMailer(settings.mail_from, settings.resolved_outbox_dir)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        loop_handler = loop.get_exception_handler()
        loop.set_exception_handler(log_loop_exception)  # a failed background task's text stays out of the log
        try:
            async with _services(app):
                yield
        finally:
            loop.set_exception_handler(loop_handler)

    @asynccontextmanager
    async def _services(app: FastAPI) -> AsyncIterator[None]:
        """Builds the app's state, runs, and takes it down again."""
        engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
        sessionmaker = create_sessionmaker(engine)
        broker = create_broker(settings.redis_url, settings.redis_prefix)
        await broker.start()
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker
        app.state.services = Services(
            settings=settings,
            passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
            mailer=create_mailer(settings),
            broker=broker,
            cursors=Cursors(*settings.secret_keys),
            events=EventBus(),
        )
        app.state.detached_mails = DetachedMails(sessionmaker, app.state.services)  # registrations, password resets, confirmations sent again: after their answer
        app.state.access_log = AccessLogWriter(sessionmaker, settings.access_log_flush_seconds)
        app.state.access_log.start()
        await start_privacy(app, settings)  # purpose gate, processing-log writer, retention job
        app.state.chat = ChatRuntime(app.state.services, sessionmaker, app.state.purpose_gate)
        await app.state.chat.start()
        start_evaluation(app)  # metrics on close, outcomes on rating, webhooks: subscribers of the domain events
        await asyncio.to_thread(human_request_typos)  # built now (~0.1 s, once a process), not on a visitor's first message
        if settings.gc_freeze_after_startup:
            # Everything built so far lives as long as the process; full collections that rescan it
            # paused chats for 200–550 ms under load (bench.chat). Freeze it out of their way.
            gc.collect()
            gc.freeze()
        if settings.gc_thresholds is not None:
            gc.set_threshold(*settings.gc_thresholds)
        try:
            yield
        finally:
            await app.state.chat.aclose()
            await app.state.detached_mails.stop()
            await stop_evaluation(app)
            await app.state.services.events.drain()
            await stop_privacy(app)
            await app.state.access_log.stop()
            await broker.close()
            await engine.dispose()

    app = FastAPI(
        title="Confide",
        version=__version__,
        summary="Chat avatars for businesses, with privacy built in.",
        description="Tenants create AI avatars and publish them; their end customers chat with them in real time; "
        "staff administer, evaluate and take over conversations. Errors are RFC 9457 `application/problem+json` (schema `Problem`; "
        "a 422 is a `ValidationProblem` whose `errors` name each field) with a stable `type`, `https://confide.dev/problems/<slug>`, "
        "to key on; every type, with when it happens and what to do, is listed in docs/problems.md of the Confide repository. "
        "Each operation documents the errors that follow from its authentication, permission, path ids, cursor, input and "
        "rate limits, and those it declares itself.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry would export raw paths, query values and exception text
        # as soon as an OpenTelemetry SDK is installed; Confide sends nothing anywhere unasked.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False, "auto_configure": False},
        dependencies=[Depends(reject_unknown_query_params), Depends(refuse_nul_characters), Depends(refuse_unexpected_body)],
        docs_url=None,  # install_api_docs: the same pages without a CDN
        # A path with a trailing slash is an unknown path (the 404 problem), not a 307 to a Location built from the
        # client's Host header with an empty body (API review).
        redirect_slashes=False,
        redoc_url=None,
    )
    install_api_docs(app)
    app.state.settings = settings
    install_error_handlers(app)
    install_error_docs(app)  # the OpenAPI document's errors as problem+json, with those each route can give
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(ResponseHeaders)  # outside the body limit and the error middleware: their answers get the headers too
    install_metrics(app)  # outermost middleware, and GET /metrics

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness: the process is up",
        description="No authentication. Answers 200 with `status` `ok` and the running `version` whenever the process serves requests; it checks "
        "neither the database nor the broker, so use it for liveness and `/readyz` to decide whether to send traffic to this node.",
    )
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: the database and the broker answer",
        description="No authentication. Runs `SELECT 1` on the database and pings the broker (Redis; the in-process broker always answers): 200 with "
        "`checks` when both answer, else 503 `service-unavailable` naming what does not answer, with the same `checks`, so a load balancer can take "
        "the node out of rotation.",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(request: Request) -> dict[str, Any]:
        checks = {"database": False, "broker": False}
        try:
            async with request.app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:
            pass
        checks["broker"] = await request.app.state.services.broker.ping()
        if not all(checks.values()):
            raise ServiceUnavailable("Not ready: " + ", ".join(k for k, ok in checks.items() if not ok) + " not answering.", checks=checks)
        return {"status": "ready", "checks": checks}

    app.include_router(accounts_router)
    app.include_router(tenants_router)
    app.include_router(privacy_router)
    app.include_router(data_router)
    app.include_router(avatars_router)
    app.include_router(knowledge_router)
    app.include_router(guidelines_router)
    app.include_router(chats_router)
    app.include_router(inbox_router)
    app.include_router(realtime_router)
    app.include_router(widget_router)
    app.include_router(evaluation_router)
    app.include_router(webhooks_router)
    return app


def create_worker_app() -> FastAPI:
    """The app of one `confide serve --workers N` process: uvicorn starts each worker afresh, without
    the logging `confide serve` set up, so the worker sets it up again (JSON, the configured level,
    no per-connection lines) before building the app from the same environment."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
