"""HTTP guards every route shares: a request-body size limit and refusing unknown query parameters."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide.core.errors import PayloadTooLarge, ProblemError, problem_response


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
                    raise PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        exc = PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
        response = problem_response(exc.body(scope.get("path")))
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


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


class UnknownQueryParameters(ProblemError):
    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self, names: list[str]) -> None:
        errors = [{"field": f"query.{name}", "message": "Unknown query parameter", "type": "extra_forbidden"} for name in names]
        super().__init__("Unknown query parameter: " + ", ".join(e["field"] for e in errors), errors=errors)
