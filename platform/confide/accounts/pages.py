"""The pages a mailed link opens, served by Confide itself: confirm an email address, choose a new password
(accounts), object to the storing of contact messages (the contact acknowledgement), confirm and leave the
newsletter. One template (confide/static/mail-link-page.html) and one script (`GET /mail-link-pages.js`).

The mails link here with the token in the URL fragment (`#token=…`): a browser never sends a fragment to
any server, whereas a path or query ends up in access logs, proxies and Referer headers. The script reads
it, drops it from the address bar and POSTs it to the page's API route (its `ACTIONS`, by `Page.action`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from string import Template

from fastapi import APIRouter, Request, Response

from confide.accounts.service import RESET_PAGE, VERIFY_PAGE
from confide.privacy.consent import CONFIRM_PAGE, UNSUBSCRIBE_PAGE
from confide.privacy.contact import OBJECTION_PAGE

STATIC = Path(__file__).parent.parent / "static"
SCRIPT_PATH = "/mail-link-pages.js"
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


@dataclass(frozen=True)
class Page:
    """One mailed link's page: where it is served, which action of the script it runs, what it shows."""

    path: str
    action: str  # a key of ACTIONS in mail-link-pages.js, which names the API route it POSTs to
    title: str
    form: str  # the inside of the page's form, HTML: the explanation, any fields, the button
    tag: str
    description: str


PAGES = (
    Page(
        VERIFY_PAGE,
        "verify",
        "Confirm your email address",
        "      <p>Confirm the address this link was mailed to for your Confide account.</p>\n"
        '      <button type="submit">Confirm my address</button>',
        "accounts",
        "Opened from the confirmation mail's link, `…/account/verify-email#token=…`. The page reads the token from the "
        "fragment, which never reaches a server, and POSTs it to `/v1/accounts/verify` when the person confirms.",
    ),
    Page(
        RESET_PAGE,
        "reset",
        "Choose a new password",
        '      <label for="new_password">New password</label>\n'
        '      <input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="10" maxlength="256">\n'
        '      <label for="repeat_password">The same again</label>\n'
        '      <input id="repeat_password" name="repeat_password" type="password" autocomplete="new-password" required>\n'
        "      <p>Setting it signs out every session of your account.</p>\n"
        '      <button type="submit">Set the new password</button>',
        "accounts",
        "Opened from the password-reset mail's link, `…/account/reset-password#token=…`. The page reads the token from "
        "the fragment, which never reaches a server, and POSTs it with the new password to `/v1/auth/password-reset/confirm`.",
    ),
    Page(
        OBJECTION_PAGE,
        "contact-objection",
        "Object to our storing your message",
        "      <p>Your contact messages to us and the details in them are deleted at once, and the conversation ends.</p>\n"
        '      <button type="submit">Delete my messages</button>',
        "contact",
        "Opened from the contact acknowledgement's link, `…/contact/objection#token=…`. The page reads the token from the "
        "fragment, which never reaches a server, and POSTs it to `/v1/contact/objection` when the person confirms.",
    ),
    Page(
        CONFIRM_PAGE,
        "newsletter-confirm",
        "Confirm your newsletter subscription",
        "      <p>Confirm that you want the Confide newsletter at the address this link was mailed to. "
        "Every issue carries a link to unsubscribe.</p>\n"
        '      <button type="submit">Subscribe</button>',
        "newsletter",
        "Opened from the subscription confirmation mail's link, `…/newsletter/confirm#token=…`. The page reads the token "
        "from the fragment, which never reaches a server, and POSTs it to `/v1/newsletter/confirm` when the person confirms.",
    ),
    Page(
        UNSUBSCRIBE_PAGE,
        "newsletter-unsubscribe",
        "Unsubscribe from the newsletter",
        "      <p>No more newsletters go to the address this link was mailed to.</p>\n"
        '      <button type="submit">Unsubscribe</button>',
        "newsletter",
        "Opened from the link in every newsletter, `…/newsletter/unsubscribe#token=…`. The page reads the token from the "
        "fragment, which never reaches a server, and POSTs it to `/v1/newsletter/unsubscribe` when the person presses Unsubscribe (never on opening: mail scanners open links).",
    ),
)

router = APIRouter()


def _with_etag(data: bytes) -> tuple[bytes, str]:
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@cache
def _script() -> tuple[bytes, str]:
    """The script's bytes and strong ETag, read once per process."""
    return _with_etag((STATIC / "mail-link-pages.js").read_bytes())


@cache
def _html(page: Page) -> tuple[bytes, str]:
    """A page's HTML from the one template, and its strong ETag, built once per process."""
    template = Template((STATIC / "mail-link-page.html").read_text(encoding="utf-8"))
    html = template.substitute(title=escape(page.title), page=escape(page.action), form=page.form, script=SCRIPT_PATH)
    return _with_etag(html.encode())


def _serve(request: Request, body: bytes, etag: str, media_type: str) -> Response:
    headers = {**PAGE_HEADERS, "ETag": etag}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


HTML = {200: {"content": {"text/html": {}}, "description": "The page."}, 304: {"description": "Not modified."}}


def _page_route(page: Page):  # noqa: ANN202  (a FastAPI endpoint)
    async def serve_page(request: Request) -> Response:
        return _serve(request, *_html(page), "text/html; charset=utf-8")

    return serve_page


for _page in PAGES:
    router.add_api_route(
        _page.path,
        _page_route(_page),
        methods=["GET"],
        name=_page.action.replace("-", "_") + "_page",
        summary=f"Page: {_page.title.lower()}, with the mailed link",
        description=_page.description,
        tags=[_page.tag],
        response_class=Response,
        responses=HTML,
    )


@router.get(
    SCRIPT_PATH,
    tags=["accounts"],
    summary="The script of the pages mailed links open",
    description="No authentication. The one script of the pages mailed links open (`/account/verify-email`, `/account/reset-password`, "
    "`/contact/objection`, `/newsletter/confirm`, `/newsletter/unsubscribe`): it takes the token from the URL fragment, removes it from the address "
    "bar and POSTs it to the page's API route when the person presses the button, never on opening. Served by Confide itself with a strong `ETag` "
    "and `Cache-Control: no-cache`: a matching `If-None-Match` answers 304.",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "The script."}, 304: {"description": "Not modified."}},
)
async def mail_link_pages_js(request: Request) -> Response:
    return _serve(request, *_script(), "application/javascript; charset=utf-8")
