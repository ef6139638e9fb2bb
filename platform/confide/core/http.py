"""HTTP guards every route shares: a request-body size limit, security headers on every answer, and
refusing unknown query parameters."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide.core.errors import PayloadTooLarge, ProblemError, problem_response
from confide.core.text import nul_path


class BodySizeLimit:
    """Refuses bodies over the limit by Content-Length, or while streaming when it is absent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        exc = PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
        response = problem_response(exc.body(scope.get("path")))
        await response(scope, _no_body, send)


class _BodyTooLarge(HTTPException):
    """Raised while a body without Content-Length (chunked) streams past the limit. An HTTPException,
    because FastAPI turns any other exception raised while it parses a body into a 400 "error parsing the
    body", and re-raises this one; the error handlers answer it as the Content-Length path does: 413
    `payload-too-large` with the same detail."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=PayloadTooLarge.status, detail=detail)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


# The API documentation pages (core/api_docs.py) load their scripts, styles and icons from this server
# only (no CDN): the policy allows nothing else. Swagger UI starts from one inline script, allowed by its
# hash (computed from the page as served); ReDoc injects <style> elements (hence 'unsafe-inline' for styles
# only) and runs its search in a worker made from a blob: URL.
DOCS_PATHS = frozenset({"/docs", "/redoc"})
DOCS_CSP = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
# Answers to these are someone's own data or an operator's: never kept by a browser or a shared cache.
_CREDENTIALS = frozenset({b"authorization", b"x-operator-token"})
_PRIVATE_PATHS = ("/v1/me/", "/v1/admin/", "/v1/auth/", "/v1/accounts/")  # the last two hand out tokens and profiles


class ResponseHeaders:
    """The one place HTTP answers' headers are shaped. Pure ASGI; HTTP only (a websocket's frames are no
    HTTP answer and pass untouched); the outermost layer, so the body limit's and the error middleware's
    answers get them too. On every answer `X-Content-Type-Options: nosniff`; `Cache-Control: no-store` on
    the answer to a request that carried credentials (Authorization, X-Operator-Token) or asked for
    /v1/me…, unless the route set its own Cache-Control; no Content-Type on a 204 (FastAPI answers a 204
    route with its JSON response class, body emptied, media type left); on the documentation pages a
    Content-Security-Policy and `X-Frame-Options: DENY`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in DOCS_PATHS:
            await self._docs_page(scope, receive, send)
            return
        private = path in ("/v1/me", "/v1/accounts") or path.startswith(_PRIVATE_PATHS) or any(name in _CREDENTIALS for name, _ in scope.get("headers", ()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if message["status"] == 204:
                    headers = [(name, value) for name, value in headers if name.lower() != b"content-type"]
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append(_NOSNIFF)
                if private and b"cache-control" not in names:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A page of about a kilobyte: held until complete, so its inline scripts can be hashed into the policy."""
        start: Message | None = None
        body: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            content = b"".join(body)
            hashes = "".join(
                f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'" for script in _INLINE_SCRIPT.findall(content)
            )
            headers = [
                *start.get("headers", ()),
                _NOSNIFF,
                (b"x-frame-options", b"DENY"),
                (b"content-security-policy", DOCS_CSP.format(hashes=hashes).encode()),
                (b"referrer-policy", b"no-referrer"),
            ]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        await self.app(scope, receive, buffering_send)


UNMATCHED = "(unmatched)"


def route_template(scope: Scope) -> str:
    """The matched route's template with every prefix (e.g. /v1/tenants/{tenant_id}/members), never the
    raw path: what access logs and metrics may record without ids or other personal data."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path_format", None)
    return template or UNMATCHED


def _allowed_query_names(route: Any) -> frozenset[str]:
    cached = getattr(route, "_confide_query_names", None)
    if cached is None:
        names: set[str] = set()
        stack = [route.dependant]
        while stack:
            dependant = stack.pop()
            names.update(p.alias for p in dependant.query_params)
            stack.extend(dependant.dependencies)
        cached = frozenset(names)
        route._confide_query_names = cached
    return cached


async def reject_unknown_query_params(request: HTTPConnection) -> None:
    """A misspelt filter must not silently return everything: unknown query parameters are a 422."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - _allowed_query_names(route))
    if unknown:
        raise UnknownQueryParameters(unknown)


async def refuse_nul_characters(request: HTTPConnection) -> None:
    """A NUL character in a path or query value (`%00`) or in a JSON body's text (`\\u0000`) is a 422 naming
    the field, before any dependency looks a value up (core.text says why). The body is the one FastAPI has
    read already; it is parsed again only when its bytes hold the escape."""
    holding = [f"path.{k}" for k, v in request.path_params.items() if isinstance(v, str) and "\x00" in v]
    holding += [f"query.{k}" for k, v in request.query_params.multi_items() if "\x00" in v or "\x00" in k]
    if not holding and isinstance(request, Request) and request.scope["type"] == "http" and request.method in _BODY_METHODS:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if b"\\u0000" in body and (not content_type or "json" in content_type):  # FastAPI reads a body without a type as JSON too
            try:
                path = nul_path(json.loads(body))
            except ValueError:  # not JSON: FastAPI answers that itself
                path = None
            if path is not None:
                holding.append(".".join(("body", *(str(p) for p in path))))
    if holding:
        raise NulCharacter(sorted(set(holding)))


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_BODY = (b"", b"{}")  # what a client that always sends JSON sends to a route without a body


async def refuse_unexpected_body(request: HTTPConnection) -> None:
    """A route that takes no body refuses one (422 on `body`), as a route with a body refuses unknown fields: a client
    that sends `{"reason": …}` to a route that reads none must learn that nothing read it. An empty body and `{}` pass."""
    route = request.scope.get("route")
    if not isinstance(request, Request) or request.scope["type"] != "http" or request.method not in _BODY_METHODS:
        return
    if route is None or getattr(route, "body_field", True) is not None or "requestBody" in (getattr(route, "openapi_extra", None) or {}):
        return  # a body FastAPI reads, or one the route reads itself (an upload, a one-click form) and documents
    body = (await request.body()).strip()
    if body not in _NO_BODY and body.replace(b" ", b"") != b"{}":
        raise UnexpectedBody()


class UnexpectedBody(ProblemError):
    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self) -> None:
        super().__init__("This route takes no request body; send none (or {}).", errors=[{"field": "body", "message": "This route takes no body", "type": "extra_forbidden"}])


class NulCharacter(ProblemError):
    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self, fields: list[str]) -> None:
        errors = [{"field": field, "message": "Must not contain the NUL character (%00)", "type": "value_error"} for field in fields]
        super().__init__("Text may not contain the NUL character: " + ", ".join(fields), errors=errors)


class UnknownQueryParameters(ProblemError):
    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self, names: list[str]) -> None:
        errors = [{"field": f"query.{name}", "message": "Unknown query parameter", "type": "extra_forbidden"} for name in names]
        super().__init__("Unknown query parameter: " + ", ".join(e["field"] for e in errors), errors=errors)
