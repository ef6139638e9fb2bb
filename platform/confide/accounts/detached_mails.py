"""Mails asked for by address (a password reset, the confirmation sent again), carried out after the answer.

`POST /v1/auth/password-reset` and `POST /v1/accounts/verification` must not tell whether an address has
an account, neither by their answer nor by their time nor by the latency they leave in /metrics. So the
routes do only what is the same for every address (validation, the rate-limit hits), answer 202, and
hand the rest to this runner: a `prepare` function looks the account up, issues a token, and returns
the mail to send (or None); the runner commits and sends it. Each request is a detached task with a session of
its own and an empty context (nothing of the request's context goes with it), held here so it is not
garbage-collected, and awaited at shutdown. Failures are logged by their type alone: no address, no token.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.accounts.service import Mail
from confide.core.errors import ServiceUnavailable
from confide.core.services import Services

log = logging.getLogger("confide.accounts.detached_mails")

TASK_NAME = "confide-account-mail"

Prepare = Callable[..., Awaitable[Mail | None]]  # (session, services, *, email) -> the mail to send, or None


class DetachedMails:
    """One per app (app.state.detached_mails), stopped in the lifespan."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], services: Services, *, stop_wait: float = 10.0) -> None:
        self._sessionmaker = sessionmaker
        self._services = services
        self._stop_wait = stop_wait
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def submit(self, email: str, prepare: Prepare) -> None:
        """Carry out a request for `email` in the background; returns at once."""
        if self._closed:  # shutting down: the server no longer answers requests anyway
            log.warning("account mail dropped: shutting down")
            return
        task = asyncio.create_task(self._run(email, prepare), name=TASK_NAME, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, email: str, prepare: Prepare) -> None:
        try:
            async with self._sessionmaker() as session:
                mail = await prepare(session, self._services, email=email)
                await session.commit()
            if mail is not None:
                await self._services.mailer.send(mail.to, mail.subject, mail.body, kind=mail.kind)
        except ServiceUnavailable:
            pass  # the mailer logged the failure by its type; the token expires unused and the person can ask again
        except Exception as exc:
            log.error("account mail failed", extra={"error_type": type(exc).__name__})

    async def drain(self) -> None:
        """Wait until every request submitted so far is carried out (tests)."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Take no more requests; let those in flight finish for up to `stop_wait` seconds (a mail on its
        way), then cancel the rest: shutdown must not hang on a mail server or database that is away."""
        self._closed = True
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(tuple(self._tasks), timeout=self._stop_wait)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("account mails cancelled at shutdown", extra={"count": len(pending)})
