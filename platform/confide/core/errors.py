"""One exception hierarchy, one mapping to RFC 9457 problem+json with stable type URIs."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_BASE = "https://confide.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("confide.errors")


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


class ProblemError(Exception):
    """Base of every error a client may see; subclasses fix status, type and title."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body = {"type": problem_type(self.slug), "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class InvalidCursor(BadRequest):
    slug, title = "invalid-cursor", "Invalid cursor"


class InvalidToken(BadRequest):
    slug, title = "invalid-token", "Invalid or expired token"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Invalid credentials"


class PermissionDenied(ProblemError):
    status, slug, title = 403, "permission-denied", "Permission denied"

    def __init__(self, permission: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Your role lacks the permission '{permission}'.", permission=permission)


class PersonRequired(ProblemError):
    """A valid credential that is not a person's (an API key) on a route about a person's own account: the
    key is known, so not 401; it may not do this."""

    status, slug, title = 403, "person-required", "A person's sign-in is required"


class EmailNotVerified(ProblemError):
    status, slug, title = 403, "email-not-verified", "Email address not verified"


class AccountRestricted(ProblemError):
    status, slug, title = 403, "account-restricted", "Account restricted"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(ProblemError):
    status, slug, title = 410, "gone", "Gone"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class InvalidInput(ProblemError):
    """422 for rules that pydantic cannot express; `field` names where the problem is."""

    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message, "type": "value_error"}])


class RateLimited(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"Try again in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


# Pydantic puts these in front of the message a validator raised; ours are written to be read as they are.
_LIBRARY_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        kind = err.get("type", "value_error")
        loc = tuple(err.get("loc", ()))
        message = err.get("msg", "Invalid value")
        if kind == "extra_forbidden":
            message = "Unknown field"
        elif kind == "json_invalid":
            # FastAPI's loc is ("body", character offset): the field is the body, the offset goes in the message.
            at = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            reason = (err.get("ctx") or {}).get("error")
            message = f"The body is not valid JSON{at}" + (f": {reason}" if reason else "")
            loc = loc[:1]
        else:
            message = next((message[len(p) :] for p in _LIBRARY_PREFIXES if message.startswith(p)), message)
        out.append({"field": _field_path(loc), "message": message, "type": kind})
    return out


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path. Starlette's 405 names only the methods of the first route whose
    path matched (each method of a path is a route of its own here): `PUT /v1/me` said `Allow: GET`, not PATCH."""
    routes = request.app.router.routes
    return [
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


def _unreadable_json(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI's "error parsing the body" (400) was a JSON body it could not decode, which is invalid JSON
    like any other (422 on `body`); None for anything else (an unreadable multipart form stays a 400)."""
    if exc.status_code != 400 or exc.detail != "There was an error parsing the body":
        return None
    if isinstance(exc.__cause__, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc.__cause__, RecursionError):
        return "it is nested too deeply"
    return None


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.body(request.url.path), exc.headers)

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors[:5])
        body = {
            "type": problem_type("validation-error"),
            "title": "Invalid input",
            "status": 422,
            "detail": f"Invalid input in: {fields}",
            "instance": request.url.path,
            "errors": errors,
        }
        return problem_response(body)

    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = _unreadable_json(exc)
        if reason is not None:  # a JSON body FastAPI could not decode: the same 422 as any other invalid JSON body
            return await on_validation(request, RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": reason, "ctx": {"error": reason}}]))
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            detail = f"{request.method} is not allowed here; this address takes {', '.join(allowed)}."
        body = {"type": problem_type(slug), "title": title, "status": exc.status_code, "detail": detail, "instance": request.url.path}
        return problem_response(body, headers)

    async def on_deleted_meanwhile(request: Request, exc: Exception) -> JSONResponse:
        # A change whose row another request deleted between reading it and writing it (a PATCH racing a DELETE):
        # the same 404 a PATCH after the DELETE gets, not a 500 (API review).
        body = {"type": problem_type("not-found"), "title": "Not found", "status": 404, "detail": "It was deleted meanwhile.", "instance": request.url.path}
        return problem_response(body)

    async def on_integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A write naming its sender (an author, a publisher, an assignee, who asked for a hold or a closure) after the
        # sender's account was erased, or their API key revoked, while the request ran: the row's foreign key fails.
        # It gets what the same request sent after the erasure gets, 401, not a 500 (a walk of every tenant route
        # found ten, tests/test_sender_gone_mid_request.py; the sender check of core.tenancy now refuses most before they
        # write, this catches an erasure committed between that check and the write). Any other integrity error stays a 500.
        if await _sender_gone(request):
            return problem_response(Unauthorized(TOKEN_NOT_VALID).body(request.url.path), {"WWW-Authenticate": "Bearer"})
        raise exc

    app.add_exception_handler(IntegrityError, on_integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(StaleDataError, on_deleted_meanwhile)
    app.add_exception_handler(ObjectDeletedError, on_deleted_meanwhile)
    app.add_exception_handler(ProblemError, on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_middleware(UnhandledErrorMiddleware)


TOKEN_NOT_VALID = "The token is invalid, expired or revoked."


async def _sender_gone(request: Request) -> bool:
    """Whether the request's bearer token, accepted when it came in, would be refused now (its account erased, its
    session or API key revoked)."""
    from confide.core.auth import principal_from_token  # core.auth builds on this module

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if getattr(request.state, "principal", None) is None or scheme.lower() != "bearer" or not token.strip():
        return False
    async with request.app.state.sessionmaker() as session:
        return await principal_from_token(session, token.strip()) is None


class UnhandledErrorMiddleware:
    """Turns any unhandled exception into a bare 500 problem and logs its type and frames only:
    exception messages can carry personal data (a unique-violation detail, say). It sits inside
    Starlette's own error middleware, so nothing is re-raised for the server to log in full. (Response
    headers are shaped in one place, core.http.ResponseHeaders.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            frames = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)[-6:])
            route = getattr(scope.get("route"), "path", "?")
            log.error("unhandled %s on %s %s at %s", type(exc).__name__, scope.get("method"), route, frames)
            if not started:
                response = problem_response(ProblemError().body(scope.get("path")))
                await response(scope, receive, send)


# PostgreSQL error codes of a server out of reach: connection exceptions (class 08), shutting down or starting
# up (57P01-57P03), too many connections (53300).
OUTAGE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says a service is out of reach (the database, Redis, the network), not that the code is
    wrong: a client is then told to come back later (a websocket's close code 1013), while a bug still
    surfaces as one. Looks through SQLAlchemy's wrappers to the driver's own error: the asyncpg layer wraps
    a server that is starting up or shutting down in a plain DBAPIError."""
    import asyncpg
    import redis.exceptions
    import sqlalchemy.exc

    outage_types = (
        OSError,  # refused, reset, unreachable (ConnectionError is one)
        TimeoutError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.TimeoutError,  # the connection pool's
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.AdminShutdownError,
    )
    current: BaseException | None = exc
    for _ in range(8):  # a wrapper's chain is short; the bound guards against a cycle
        if current is None:
            return False
        if isinstance(current, outage_types):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and (state.startswith("08") or state in OUTAGE_SQLSTATES):
            return True
        wrapped = current.orig if isinstance(current, sqlalchemy.exc.DBAPIError) else None
        current = wrapped if wrapped is not None else current.__cause__
    return False
