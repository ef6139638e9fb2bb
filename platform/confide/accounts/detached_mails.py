"""Requests that mail an address (a registration, a password reset, the confirmation sent again), carried out after the answer.

`POST /v1/accounts`, `POST /v1/auth/password-reset` and `POST /v1/accounts/verification` must not tell whether
an address has an account, neither by their answer nor by their time nor by the latency they leave in
/metrics. So the routes do only what is the same for every address (validation, the rate-limit hits),
answer 202, and hand the rest to this runner. For a mail asked for by address, a `prepare` function looks
the account up, issues a token, and returns the mail to send (or None); the runner commits and sends it.
A registration is hashed here, then prepared, committed and mailed the same way (see `_register`).

Each request is a detached task with a session of its own and an empty context (nothing of the request's
context goes with it), held here so it is not garbage-collected, and awaited at shutdown. Registrations
and mails by address (resets, confirmations sent again) each have a lane of their own, so a flood of
registrations never delays or drops a password reset. In each lane at most `concurrency` run at once
(argon2 is expensive: this bounds the hashes, and the database connections); up to `backlog` more wait
their turn. Beyond that a request is dropped, logged and counted (`confide_account_mails_dropped` in
/metrics, by lane), never refused: the
route has answered already, the same for every address, and a full runner must not show in the answer
either (nor slow it down: submitting never waits). Failures are logged by their type alone: no address,
no token, no password.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.accounts import service
from confide.accounts.service import Mail, PendingRegistration, RegistrationOutcome
from confide.core.errors import ServiceUnavailable
from confide.core.mail import account_headers
from confide.core.services import Services

log = logging.getLogger("confide.accounts.detached_mails")

TASK_NAME = "confide-account-mail"
CONCURRENCY = 4  # requests carried out at once in each lane: a registration hashes a password with argon2 (argon2_memory_kib each)
BACKLOG = 1000  # requests waiting their turn in each lane beyond those; more are dropped

Prepare = Callable[..., Awaitable[Mail | None]]  # (session, services, *, email) -> the mail to send, or None


class _Lane:
    """Run slots and a waiting room for one kind of request."""

    __slots__ = ("capacity", "dropped", "slots", "tasks")

    def __init__(self, concurrency: int, backlog: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.capacity = concurrency + backlog
        self.tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0  # requests turned away because the lane was full, since start


class DetachedMails:
    """One per app (app.state.detached_mails), stopped in the lifespan."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        services: Services,
        *,
        stop_wait: float = 10.0,
        concurrency: int = CONCURRENCY,
        backlog: int = BACKLOG,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._services = services
        self._stop_wait = stop_wait
        self._by_address = _Lane(concurrency, backlog)
        self._registrations = _Lane(concurrency, backlog)
        self._closed = False

    def submit(self, email: str, prepare: Prepare) -> None:
        """Carry out a request for `email` in the background; returns at once."""

        async def job() -> None:
            await self._mail_by_address(email, prepare)

        self._start(self._by_address, job)

    def submit_registration(self, registration: PendingRegistration) -> None:
        """Carry out a registration in the background; returns at once. A dropped registration takes its
        password with it, unhashed and unsaved."""

        async def job() -> None:
            await self._register(registration)

        self._start(self._registrations, job)

    def _start(self, lane: _Lane, job: Callable[[], Awaitable[None]]) -> None:
        if self._closed:  # shutting down: the server no longer answers requests anyway
            log.warning("account mail dropped: shutting down")
            return
        if len(lane.tasks) >= lane.capacity:
            lane.dropped += 1
            log.warning("account mail dropped: too many waiting", extra={"count": len(lane.tasks)})
            return
        task = asyncio.create_task(self._run(lane, job), name=TASK_NAME, context=contextvars.Context())
        lane.tasks.add(task)
        task.add_done_callback(lane.tasks.discard)

    def dropped(self) -> dict[str, int]:
        """Requests dropped for a full lane since start, by lane: what an operator alerts on (a mail a
        person asked for never went out). Counts only, nothing about the addresses."""
        return {"mail_by_address": self._by_address.dropped, "registration": self._registrations.dropped}

    def _tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The requests of both lanes not yet carried out."""
        return (*self._by_address.tasks, *self._registrations.tasks)

    async def _run(self, lane: _Lane, job: Callable[[], Awaitable[None]]) -> None:
        try:
            async with lane.slots:
                await job()
        except ServiceUnavailable:
            pass  # the mailer logged the failure by its type; the token expires unused and the person can ask again
        except Exception as exc:
            log.error("account mail failed", extra={"error_type": type(exc).__name__})

    async def _mail_by_address(self, email: str, prepare: Prepare) -> None:
        async with self._sessionmaker() as session:
            mail = await prepare(session, self._services, email=email)
            await session.commit()
        if mail is not None:
            await self._send(mail)

    async def _register(self, registration: PendingRegistration) -> None:
        """Hash, then create the account (or find the address taken) and commit, then mail, then the
        newsletter request. The confirmation goes out after the commit, so its token works once it arrives;
        if it cannot be sent, the account is removed again, so a registration either mails its confirmation
        or leaves nothing. A newsletter request that fails is logged and leaves the account without one (its
        box unticked): the person can subscribe in the settings."""
        password_hash = await self._services.passwords.hash(registration.take_password())
        async with self._sessionmaker() as session:
            try:
                outcome = await service.prepare_registration(session, self._services, pending=registration, password_hash=password_hash)
                await session.commit()
            except IntegrityError:  # the same address registered at the same moment, and that one won
                await session.rollback()
                if await service.find_user_by_email(session, registration.email) is None:
                    raise  # some other constraint: a fault, logged by its type
                outcome = RegistrationOutcome(service.registration_notice(registration.email), None)
        try:
            await self._send(outcome.mail)
        except ServiceUnavailable:
            if outcome.new_user_id is not None:
                async with self._sessionmaker() as session:
                    await service.forget_new_account(session, user_id=outcome.new_user_id)
                    await session.commit()
            raise
        if outcome.new_user_id is not None and registration.newsletter_opt_in:
            try:
                async with self._sessionmaker() as session:
                    await service.request_newsletter_of_new_account(session, self._services, user_id=outcome.new_user_id, ip=registration.ip)
                    await session.commit()
            except Exception:
                # Its record and subscription were rolled back with the mail; the box goes unticked
                # too, so the account shows no consent that was never asked for.
                async with self._sessionmaker() as session:
                    await service.untick_newsletter(session, user_id=outcome.new_user_id)
                    await session.commit()
                raise

    async def _send(self, mail: Mail) -> None:
        await self._services.mailer.send(mail.to, mail.subject, mail.body, kind=mail.kind, headers=account_headers(mail.account_id))

    async def drain(self) -> None:
        """Wait until every request submitted so far is carried out (tests)."""
        while tasks := self._tasks():
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Take no more requests; let those in flight finish for up to `stop_wait` seconds (a mail on its
        way), then cancel the rest: shutdown must not hang on a mail server or database that is away."""
        self._closed = True
        tasks = self._tasks()
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self._stop_wait)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("account mails cancelled at shutdown", extra={"count": len(pending)})
