"""Cookie audit for the whole suite: the only cookie Confide may set is `lang` (policy VI).

`record_set_cookies` is an httpx response hook; `client_for` in tests/conftest.py installs it on every
client, and the session-scoped `cookie_audit` fixture fails the run if any other cookie was ever set."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

ALLOWED_COOKIES = frozenset({"lang"})
SEEN: list[tuple[str, str]] = []  # (cookie name, "METHOD path") of every Set-Cookie in the run


def cookie_names(response: httpx.Response) -> list[str]:
    return [header.split("=", 1)[0].strip() for header in response.headers.get_list("set-cookie")]


async def record_set_cookies(response: httpx.Response) -> None:
    for name in cookie_names(response):
        SEEN.append((name, f"{response.request.method} {response.request.url.path}"))


def foreign_cookies(seen: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    return [(name, where) for name, where in (SEEN if seen is None else seen) if name not in ALLOWED_COOKIES]


@pytest.fixture(scope="session", autouse=True)
def cookie_audit() -> Iterator[None]:
    yield
    foreign = foreign_cookies()
    assert not foreign, f"cookies other than {sorted(ALLOWED_COOKIES)} were set: {sorted(set(foreign))[:20]}"
