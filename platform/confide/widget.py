"""The embeddable chat widget (`GET /widget.js`) and a demo page that embeds it (`GET /demo`).

Both are static files from confide/static, read once per process. Neither sets a cookie: the widget
keeps its state in the visitor's localStorage (docs/protocol.md)."""

from __future__ import annotations

import hashlib
import html
import re
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from confide.core.db import SessionDep
from confide.core.errors import NotFound
from confide.demo import demo_widget_key

STATIC = Path(__file__).parent / "static"
WIDGET_KEY_PATTERN = r"^cfw_[A-Za-z0-9_-]{1,60}$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

router = APIRouter(tags=["widget"])


@cache
def _static(name: str) -> tuple[bytes, str]:
    """A static file's bytes and its strong ETag."""
    data = (STATIC / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> bool:
    return etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]


@router.get(
    "/widget.js",
    summary="The embeddable chat widget script",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "The script."}, 304: {"description": "Not modified."}},
)
async def widget_js(
    request: Request,
    v: Annotated[str | None, Query(max_length=40, description="Any version string, to bust caches; ignored.")] = None,
) -> Response:
    """Embed with `<script src="https://HOST/widget.js" data-widget-key="cfw_…" data-language="de" defer></script>`.
    Cached briefly and revalidated by ETag, so a new release reaches sites within minutes."""
    body, etag = _static("widget.js")
    headers = {
        "Cache-Control": "public, max-age=300, stale-while-revalidate=86400",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",  # other sites embed it
    }
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


@router.get(
    "/demo",
    summary="A demo page that embeds the widget",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The page."}, 404: {"description": "No widget key given and no demo avatar."}},
)
async def demo_page(
    request: Request,
    session: SessionDep,
    key: Annotated[str | None, Query(pattern=WIDGET_KEY_PATTERN, description="A widget key; default: the avatar `confide demo` created.")] = None,
    language: Annotated[str, Query(pattern=LANGUAGE_PATTERN, max_length=35, description="The chat's language, e.g. `de`.")] = "en",
) -> Response:
    """The page `confide demo` prints. The avatar's allowed origins must include this server's origin."""
    key = key or await demo_widget_key(session)
    if key is None:
        raise NotFound("No demo avatar here: start the server with `confide demo`, or pass ?key=cfw_… of an avatar that allows this origin.")
    template, _ = _static("demo.html")
    page = template.decode().replace("__WIDGET_KEY__", html.escape(key, quote=True)).replace("__LANGUAGE__", html.escape(language, quote=True))
    netloc = request.url.netloc if re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,300}", request.url.netloc) else ""
    ws = f"{'wss' if request.url.scheme == 'https' else 'ws'}://{netloc}" if netloc else ""
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
            f"connect-src 'self' {ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)
