"""The only cookie Confide sets: `lang`, the language setting (policy VI). Technically necessary,
SameSite=Lax, Secure over HTTPS, a bounded lifetime; authentication never uses cookies."""

from __future__ import annotations

import langcodes
from fastapi import Request, Response

from confide.privacy.notices import LANGUAGE_COOKIE
from confide.settings import Settings


def standard_language_tag(value: str) -> str:
    """A BCP 47 tag in its standard form (`en-gb` → `en-GB`); ValueError when it is not one."""
    try:
        if not langcodes.tag_is_valid(value):
            raise ValueError
        return str(langcodes.standardize_tag(value))
    except (ValueError, langcodes.LanguageTagError) as exc:
        raise ValueError("Give a BCP 47 language tag such as 'de', 'en-GB' or 'zh-Hant-TW'") from exc


def set_language_cookie(response: Response, request: Request, settings: Settings, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=settings.language_cookie_days * 86400,
        path="/",
        secure=request.url.scheme == "https",
        httponly=False,  # the dashboard's script may read it; it is no secret
        samesite="lax",
    )


def clear_language_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(LANGUAGE_COOKIE, path="/", secure=request.url.scheme == "https", samesite="lax")


def language_of(request: Request) -> str | None:
    raw = request.cookies.get(LANGUAGE_COOKIE)
    if not raw:
        return None
    try:
        return standard_language_tag(raw)
    except ValueError:
        return None
