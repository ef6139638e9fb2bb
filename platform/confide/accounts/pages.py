"""The two pages a mailed link opens (`GET /account/verify-email`, `GET /account/reset-password`) and their
script (`GET /account/pages.js`), static files from confide/static.

The mails link here with the token in the URL fragment (`#token=…`, accounts.service.dashboard_link): a
browser never sends a fragment to any server, whereas a path or query ends up in access logs, proxies and
Referer headers. The script reads it, drops it from the address bar and POSTs it to the confirm routes."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from confide.accounts.service import RESET_PAGE, VERIFY_PAGE

STATIC = Path(__file__).parent.parent / "static"
SCRIPT_PATH = "/account/pages.js"
PAGE_HEADERS = {
    "Cache-Control": "no-cache",  # revalidated by ETag: a new release reaches the next click
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

router = APIRouter(tags=["accounts"])


@cache
def _static(name: str) -> tuple[bytes, str]:
    """A static file's bytes and its strong ETag, read once per process."""
    data = (STATIC / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _serve(request: Request, name: str, media_type: str) -> Response:
    body, etag = _static(name)
    headers = {**PAGE_HEADERS, "ETag": etag}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


HTML = {200: {"content": {"text/html": {}}, "description": "The page."}, 304: {"description": "Not modified."}}


@router.get(
    VERIFY_PAGE,
    summary="Page: confirm an email address with the mailed link",
    description="Opened from the confirmation mail's link, `…/account/verify-email#token=…`. The page reads the token from the "
    "fragment, which never reaches a server, and POSTs it to `/v1/accounts/verify` when the person confirms.",
    response_class=Response,
    responses=HTML,
)
async def verify_email_page(request: Request) -> Response:
    return _serve(request, "account-verify-email.html", "text/html; charset=utf-8")


@router.get(
    RESET_PAGE,
    summary="Page: choose a new password with the mailed link",
    description="Opened from the password-reset mail's link, `…/account/reset-password#token=…`. The page reads the token from "
    "the fragment, which never reaches a server, and POSTs it with the new password to `/v1/auth/password-reset/confirm`.",
    response_class=Response,
    responses=HTML,
)
async def reset_password_page(request: Request) -> Response:
    return _serve(request, "account-reset-password.html", "text/html; charset=utf-8")


@router.get(
    SCRIPT_PATH,
    summary="The script of the two account pages",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "The script."}, 304: {"description": "Not modified."}},
)
async def account_pages_js(request: Request) -> Response:
    return _serve(request, "account-pages.js", "application/javascript; charset=utf-8")
