"""The retention job: deletes what the registry says is no longer kept. One runner across all nodes
(a PostgreSQL advisory lock; on SQLite, one process owns the file and a process-wide guard suffices).

Each step is a small async function returning {table: rows removed}; the tenant retention of chat
data is added later as one more step with `add_step`. Every run is stored for platform operators.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from confide.accounts.models import EmailToken
from confide.accounts.service import EMAIL_CHANGE
from confide.chats.search import compact_index
from confide.core.access_log import AccessLog
from confide.core.futures import cancel_and_wait
from confide.core.locks import cluster_lock
from confide.core.mail import MailKind
from confide.core.clock import utcnow
from confide.core.db import batched
from confide.core.identity import AuthSession, Membership, User
from confide.core.ids import new_id
from confide.privacy.chat_retention import expire_chat_data
from confide.privacy.contact import delete_acknowledgements_of, is_acknowledgement
from confide.privacy.models import ContactMessage, NewsletterSubscription, ProcessingLogEntry, RetentionRun
from confide.privacy.outbox import delete_after_commit, expire_mails, find_matching, kind_of, recipients
from confide.privacy.rights import carries_one_of, user_links
from confide.settings import Settings
from confide.tenants.models import Invitation

log = logging.getLogger("confide.privacy.retention")

StepFunction = Callable[[AsyncSession, datetime, Settings], Awaitable[dict[str, int]]]
RUN_HISTORY_DAYS = 90
BATCH = 500  # ids per IN list


@dataclass(frozen=True)
class RetentionStep:
    name: str
    run: StepFunction


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


async def expire_access_logs(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Also what would pass its period before the next run, so no entry is older than the period (policy V.4: seven days at most).
    The next run comes an interval later, or up to STARTUP_GRACE_SECONDS more when a node restarts just before it; a run
    that takes longer than an interval does not delay it (RetentionJob runs this step on its own meanwhile). With the job
    off, `confide retention run` must start at least once an interval (settings.retention_interval_seconds)."""
    ahead = settings.retention_interval_seconds + STARTUP_GRACE_SECONDS
    cutoff = now - timedelta(days=settings.access_log_retention_days) + timedelta(seconds=ahead)
    return {"access_log": _count(await session.execute(delete(AccessLog).where(AccessLog.at < cutoff)))}


async def expire_sessions(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    stmt = delete(AuthSession).where(or_(AuthSession.expires_at <= now, AuthSession.revoked_at.is_not(None)))  # type: ignore[union-attr]
    return {"auth_session": _count(await session.execute(stmt))}


async def expire_email_tokens(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Used and expired tokens go, and with them a pending email change nobody can confirm any more (the
    address someone asked for is kept only while its token works) and the outbox copies of the mails sent
    for those changes: erasure finds such a mail, at an address that was never confirmed, by its token alone.

    The token of a confirmed change stays while the outbox keeps mails: the notice to the address the change
    left (the owner's warning of a takeover) is found by it (accounts.service.change_ref), by erasure until
    then and by this step after, and must not go a day after it was sent."""
    confirmed_recently = and_(
        EmailToken.purpose == EMAIL_CHANGE,
        EmailToken.used_at > now - timedelta(days=settings.outbox_retention_days),  # type: ignore[operator]
        EmailToken.email == select(User.email).where(User.id == EmailToken.user_id).scalar_subquery(),
    )
    spent = and_(or_(EmailToken.used_at.is_not(None), EmailToken.expires_at <= now), ~confirmed_recently)  # type: ignore[union-attr]
    change_tokens = set((await session.scalars(select(EmailToken.token_hash).where(spent, EmailToken.purpose == EMAIL_CHANGE))).all())
    live_change = exists().where(
        EmailToken.user_id == User.id, EmailToken.purpose == EMAIL_CHANGE, EmailToken.used_at.is_(None), EmailToken.expires_at > now  # type: ignore[union-attr]
    )
    dropped = await session.execute(update(User).where(User.pending_email.is_not(None), ~live_change).values(pending_email=None))  # type: ignore[union-attr]
    removed = {"email_token": _count(await session.execute(delete(EmailToken).where(spent))), "user_account.pending_email": _count(dropped)}
    if change_tokens:
        mails = delete_after_commit(session, await find_matching(settings.resolved_outbox_dir, carries_one_of(change_tokens)))
        if mails:
            removed["outbox_files"] = mails
    return removed


# Mails to an address that belong to rows the unverified-account step keeps, by their recorded kind.
NOT_ABOUT_THE_ACCOUNT = frozenset({MailKind.INVITATION, MailKind.CONTACT_ACKNOWLEDGEMENT})
# A mail written without a kind (a caller that names none, or written before kinds were recorded) is told by
# its subject, as confide.tenants.service.invite writes it. DOTALL: a long subject (a long tenant name) comes
# back folded over lines from the stored mail.
INVITATION_SUBJECT = re.compile(r"You are invited to .+ on Confide", re.DOTALL)


def _not_about_the_account(msg: Message) -> bool:
    kind = kind_of(msg)
    if kind is not None:
        return kind in NOT_ABOUT_THE_ACCOUNT
    return is_acknowledgement(msg) or bool(INVITATION_SUBJECT.fullmatch(str(msg.get("Subject", ""))))


def _mails_about_accounts(emails: Iterable[str]) -> Callable[[Message], bool]:
    """Mails sent to these addresses about the accounts themselves (verification, newsletter confirmation,
    password reset, attempts to register again), which carry what the registration supplied: name, pseudonym.

    Not the tenants' invitations to the address nor the acknowledgements of contact messages from it: an
    unverified account need not be the address owner's, and those mails belong to rows this step keeps
    (the invitation until accepted or expired; the contact message, whose acknowledgement goes with it).
    The outbox retention takes them in time. Each mail is told by the kind recorded where it was queued
    (core.mail.MailKind), or by its subject when it carries none."""
    wanted = {e.lower() for e in emails}

    def about_account(msg: Message) -> bool:
        return bool(recipients(msg) & wanted) and not _not_about_the_account(msg)

    return about_account


async def expire_unverified_accounts(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Accounts whose email address was never verified cannot sign in (accounts.service.login), so they
    serve no purpose once the verification period and its grace have passed: they go with every row linked
    to them (tokens, consent records, newsletter requests) and the outbox copies of the mails about them
    (`_mails_about_accounts`). An owner of a tenant is left alone (not reachable through the API).

    The limit is measured from registered_at alone. A token mailed later (POST /v1/accounts/verification,
    which anyone who knows the address can call) does not extend it: otherwise a third party could keep an
    account with someone else's address and its own name, phone and IP alive for ever."""
    cutoff = now - timedelta(hours=settings.verification_ttl_hours + settings.unverified_account_grace_hours)
    owner = exists().where(Membership.user_id == User.id, Membership.role == "owner")
    stmt = (
        select(User.id, User.email, User.pending_email)
        .where(User.email_verified_at.is_(None), User.registered_at < cutoff, ~owner)  # type: ignore[union-attr, operator]
        .order_by(User.id)
        .limit(BATCH)
    )
    removed: dict[str, int] = {}
    emails: set[str] = set()
    while rows := (await session.execute(stmt)).all():
        ids = [r.id for r in rows]
        emails |= {e for r in rows for e in (r.email, r.pending_email) if e}
        for link in user_links():
            if link.by != "id":
                continue  # invitations and contact messages to the same address are someone else's business (their mails too)
            if (link.ondelete or "").upper() == "SET NULL":
                result = await session.execute(update(link.table).where(link.column.in_(ids)).values({link.column.name: None}))
            else:
                result = await session.execute(delete(link.table).where(link.column.in_(ids)))
            if result.rowcount:
                removed[link.table.name] = removed.get(link.table.name, 0) + int(result.rowcount)
        gone = _count(await session.execute(delete(User).where(User.id.in_(ids))))  # type: ignore[attr-defined]
        removed["user_account"] = removed.get("user_account", 0) + gone
        if not gone:
            break  # nothing more can go; never loop on the same rows
    if emails:
        # Deleted when this step's transaction commits; a rollback keeps the accounts and their mails.
        removed["outbox_files"] = delete_after_commit(session, await find_matching(settings.resolved_outbox_dir, _mails_about_accounts(emails)))
    return removed


async def expire_invitations(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Kept until accepted, revoked or expired, as registered."""
    stmt = delete(Invitation).where(
        or_(Invitation.expires_at <= now, Invitation.accepted_at.is_not(None), Invitation.revoked_at.is_not(None))  # type: ignore[union-attr]
    )
    return {"invitation": _count(await session.execute(stmt))}


async def expire_contact_messages(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Concluded conversations after contact_retention_days; those no one concluded contact_max_open_days
    after the message arrived. The outbox copies of their acknowledgements go with them."""
    concluded = now - timedelta(days=settings.contact_retention_days)
    abandoned = now - timedelta(days=settings.contact_max_open_days)
    c = ContactMessage
    due = or_(
        and_(c.concluded_at.is_not(None), c.concluded_at <= concluded),  # type: ignore[union-attr, operator]
        and_(c.concluded_at.is_(None), c.received_at <= abandoned),  # type: ignore[union-attr, operator]
    )
    rows = (await session.execute(select(c.id, c.objection_token_hash).where(due))).all()
    counts = {"contact_message": 0}
    for batch in batched(rows, BATCH):
        ids = [r.id for r in batch]
        counts["contact_message"] += _count(await session.execute(delete(c).where(c.id.in_(ids))))  # type: ignore[attr-defined]
    hashes = {r.objection_token_hash for r in rows}
    if hashes:
        counts["outbox_files"] = await delete_acknowledgements_of(session, settings.resolved_outbox_dir, token_hashes=hashes)
    return counts


async def expire_newsletter_requests(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Subscriptions never confirmed (without confirmation there is no consent to keep them for) and
    withdrawn ones (kept "until withdrawn"; the consent records keep the proof of consent and withdrawal,
    and an unsubscribe link whose subscription is gone answers as for a used one).

    Then the profile's newsletter box (user_account.newsletter_opt_in, in /v1/me and the export) is made to
    say whether a confirmed subscription stands. Confirming sets it and withdrawing clears it in the same
    transaction as the subscription, and registration no longer sets it: this clears the boxes that accounts
    registered earlier got with their request, once that request lapses (or if it already has), and sets one
    true again that this step cleared while a confirmation at the same moment set it."""
    stmt = delete(NewsletterSubscription).where(
        or_(
            and_(NewsletterSubscription.status == "pending", NewsletterSubscription.confirm_expires_at <= now),  # type: ignore[operator]
            NewsletterSubscription.status == "withdrawn",
        )
    )
    removed = {"newsletter_subscription": _count(await session.execute(stmt))}
    confirmed = exists().where(NewsletterSubscription.user_id == User.id, NewsletterSubscription.status == "active")
    box = User.newsletter_opt_in
    changed = _count(await session.execute(update(User).where(box.is_(True), ~confirmed).values(newsletter_opt_in=False)))  # type: ignore[attr-defined]
    changed += _count(await session.execute(update(User).where(box.is_(False), confirmed).values(newsletter_opt_in=True)))  # type: ignore[attr-defined]
    if changed:
        removed["user_account.newsletter_opt_in"] = changed
    return removed


async def expire_processing_log(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.processing_log_retention_days)
    return {"processing_log": _count(await session.execute(delete(ProcessingLogEntry).where(ProcessingLogEntry.at < cutoff)))}


async def expire_outbox(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Mails written to the outbox folder (no SMTP) are copies of what we sent: kept outbox_retention_days."""
    return {"outbox_files": await expire_mails(settings.resolved_outbox_dir, now - timedelta(days=settings.outbox_retention_days))}


async def expire_run_history(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    cutoff = now - timedelta(days=RUN_HISTORY_DAYS)
    return {"retention_run": _count(await session.execute(delete(RetentionRun).where(RetentionRun.started_at < cutoff)))}


async def compact_search_index(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """chats.search.compact_index: nothing is counted, the words were counted with their messages."""
    await compact_index(session)
    return {}


STEPS: list[RetentionStep] = [
    RetentionStep("access logs older than the retention period", expire_access_logs),
    RetentionStep("expired or revoked login sessions", expire_sessions),
    RetentionStep("accounts whose email address was never verified, past the verification period", expire_unverified_accounts),
    RetentionStep("used or expired email tokens, and the pending email changes they backed", expire_email_tokens),
    RetentionStep("accepted, revoked or expired invitations", expire_invitations),
    RetentionStep("contact messages concluded, or left open, past their period", expire_contact_messages),
    RetentionStep("unconfirmed or withdrawn newsletter subscriptions", expire_newsletter_requests),
    RetentionStep("mails in the outbox folder past their period", expire_outbox),
    RetentionStep("processing log entries past their period", expire_processing_log),
    RetentionStep("old retention runs", expire_run_history),
    RetentionStep("chat data past each tenant's retention period (statistics kept, legal holds honoured)", expire_chat_data),
    # After the chat data: also catches messages deleted outside a purge (a conversation without stored
    # transcripts losing its text at its end, a redaction rewriting one) and a purge cut short before its own.
    RetentionStep("words of deleted or rewritten messages left in the search index (SQLite)", compact_search_index),
]


def add_step(step: RetentionStep) -> None:
    """For other domains, e.g. chats: delete conversations older than each tenant's retention_days."""
    if all(s.name != step.name for s in STEPS):
        STEPS.append(step)


def single_runner(engine: AsyncEngine) -> Any:
    """Yields True when this caller is the only retention runner now, False when another one runs."""
    return cluster_lock(engine, "retention")


async def run_retention(engine: AsyncEngine, settings: Settings, *, now: datetime | None = None) -> RetentionRun | None:
    """One pass over every step, each in its own transaction so one failure does not undo the others.
    Returns the stored run, or None when another node is running right now. `now` is the moment the
    periods are measured from (default: the wall clock); the run is stored with wall-clock times."""
    started = utcnow()
    now = now or started  # tests pass a later `now` to see what becomes due
    async with single_runner(engine) as alone:
        if not alone:
            log.info("retention run skipped: another node is running it")
            return None
        removed: dict[str, int] = {}
        failed: list[str] = []
        for step in list(STEPS):
            try:
                async with AsyncSession(engine) as session, session.begin():
                    counted = await step.run(session, now, settings)
                for table, count in counted.items():  # only once committed: a rolled-back step removed nothing
                    removed[table] = removed.get(table, 0) + count
            except Exception as exc:
                log.error("retention step failed: %s: %s", step.name, type(exc).__name__)
                failed.append(step.name)
        run = RetentionRun(
            id=new_id("ret"),
            started_at=started,
            finished_at=utcnow(),
            status="failed" if failed else "done",
            node=socket.gethostname()[:100],
            removed=removed,
            failed_steps=failed,
        )
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            session.add(run)
        log.info("retention run done", extra={"removed": removed, "failed_steps": failed})
        return run


async def recent_runs(session: AsyncSession, *, limit: int = 20, before: str | None = None) -> list[RetentionRun]:
    """The latest runs, newest first (by id: ids grow with time), those older than the run `before` when given."""
    stmt = select(RetentionRun)
    if before is not None:
        stmt = stmt.where(RetentionRun.id < before)
    return list((await session.scalars(stmt.order_by(RetentionRun.id.desc()).limit(limit))).all())  # type: ignore[attr-defined]


STARTUP_GRACE_SECONDS = 60.0  # the least a node waits after start before its first run (or one interval, if shorter)


def first_run_delay(last: datetime | None, now: datetime, interval: float) -> float:
    """Seconds from `now` (a node's start) until its first run: one interval after the `last` run started,
    never more (a clock that moved back). Never straight at boot either, even when that is past or there
    was none: a clock not yet synchronised would measure every period from the wrong moment, and a node
    killed during a run would start the same run again at once, restart after restart."""
    grace = min(interval, STARTUP_GRACE_SECONDS)
    if last is None:
        return grace
    return max(grace, min(interval, interval - (now - last).total_seconds()))


class RetentionJob:
    """Runs `run_retention` every interval in the app's lifespan. The first run comes one interval after
    the last recorded run (any node's, or `confide retention run`), a minute after start when that is past:
    counting from start instead let restarts push it back, and access logs outlive their seven days (policy V.4).

    Runs start at fixed times, one interval after the previous one *started*, however long it took (sleeping
    an interval after each run put interval + run duration between two, more than the access-log step looks
    ahead). A run still going when the next is due (a long purge of chat data) does not hold the access logs
    up either: at each due time their step runs on its own, and the next run starts at the first due time
    after the long one ended. A node that finds another one running takes the access logs alone too, in case
    that one stops before its next due time. So the access-log step runs at least once an interval on every
    node, whatever the runs take, and expire_access_logs looking one interval (and the start-up grace) ahead
    keeps every entry under seven days."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        self.ran = asyncio.Event()  # set after each pass, for whoever waits on one

    async def _first_delay(self) -> float:
        interval = self._settings.retention_interval_seconds
        try:
            async with AsyncSession(self._engine) as session:
                last = await session.scalar(select(func.max(RetentionRun.started_at)))
        except Exception as exc:  # the database is away: wait an interval, as the loop does after a failure
            log.warning("retention: the last run could not be read: %s", type(exc).__name__)
            return interval
        return first_run_delay(last, utcnow(), interval)

    async def _run(self) -> bool:
        """Whether a run took place here (False: another node was running one, or it failed at once)."""
        try:
            return await run_retention(self._engine, self._settings) is not None
        except Exception as exc:  # the next interval tries again
            log.error("retention run failed: %s", type(exc).__name__)
            return False

    async def _expire_access_logs(self) -> None:
        """The access-log step on its own, while a run that overran its interval goes on or when another node
        runs (no cluster lock: deleting what is due twice deletes nothing more)."""
        try:
            async with AsyncSession(self._engine) as session, session.begin():
                removed = await expire_access_logs(session, utcnow(), self._settings)
            log.info("retention: access logs expired outside a run", extra={"removed": removed})
        except Exception as exc:  # the next due time tries again
            log.error("retention: expiring access logs failed: %s", type(exc).__name__)

    async def _loop(self) -> None:
        interval = self._settings.retention_interval_seconds
        clock = asyncio.get_running_loop().time
        await asyncio.sleep(await self._first_delay())
        while True:
            due = clock() + interval  # the next run: an interval after this one starts, however long it takes
            run = asyncio.create_task(self._run(), name="confide-retention-run")
            try:
                while not (await asyncio.wait((run,), timeout=max(0.0, due - clock())))[0]:
                    await self._expire_access_logs()  # due again and the run still going
                    due += interval
            finally:
                if not run.done():  # stopped while a run went on
                    await cancel_and_wait(run)
            if not run.result():  # the node running instead may stop before its next due time: take them here too
                await self._expire_access_logs()
            self.ran.set()
            await asyncio.sleep(max(0.0, due - clock()))

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="confide-retention")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait(self._task)
            self._task = None


def run_to_dict(run: RetentionRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status,
        "node": run.node,
        "removed": run.removed,
        "failed_steps": run.failed_steps,
    }
