"""Platform users' own rights: access and portability (export), erasure, restriction and objection,
self-service under /v1/me, and the same carried out by the platform operator for a request a user sent by
email to the controller (privacy policy III.6 and VII.5; /v1/admin/accounts). Which tables hold a user's
data is read from the classification registry and the foreign keys, so a new table is covered the moment
it is registered."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from typing import Any

from sqlalchemy import Column, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, aliased

from confide.core import after_commit
from confide.core.classification import REGISTRY, Category, Holder
from confide.core.clock import utcnow
from confide.core.db import UTCDateTime, lock_rows
from confide.core.futures import cancel_and_wait
from confide.core.mail import ACCOUNT_REF_HEADER, account_ref
from confide.core.errors import Conflict, InvalidCredentials, NotFound
from confide.core.identity import Membership, Tenant, User
from confide.accounts.models import EmailToken
from confide.accounts.service import CHANGE_REF_HEADER, EMAIL_CHANGE, change_ref, find_user_by_email, limit_password_checks
from confide.core.ids import new_id
from confide.core.security import ONE_TIME_TOKEN_PREFIX
from confide.core.services import Services
from confide.chats.models import ConversationTag
from confide.tenants.service import withdraw_grants
from confide.evaluation.models import ConversationOutcome
from confide.privacy.consent import withdraw_newsletter
from confide.privacy.contact import acknowledges, erase_contacts, token_hashes_from
from confide.privacy.gate import gate_for
from confide.privacy.holds import lock_tenant
from confide.privacy.models import Objection, ProcessingLogEntry
from confide.privacy.notices import privacy_notice
from confide.privacy.outbox import delete_after_commit, find_matching, find_mentions, token_hashes_in
from confide.privacy.subprocessors import SubprocessorRegister
from confide.realtime.access import access_changed_after_commit
from confide.settings import Settings
from confide.tables import metadata

log = logging.getLogger("confide.privacy.rights")

USER_TABLE = "user_account"
ERASED_ACTOR = "erased-user"
# Columns that name the acting staff member by user id without a foreign key (the id may also be an API
# key's): on erasure the row stays and the id becomes ERASED_ACTOR, as in the processing log.
STAFF_ID_COLUMNS: list[Column[Any]] = [
    ProcessingLogEntry.__table__.c.actor,  # type: ignore[attr-defined]
    ConversationTag.__table__.c.created_by,  # type: ignore[attr-defined]
    ConversationOutcome.__table__.c.resolved_by,  # type: ignore[attr-defined]
]
# The erasure unlinks the staff id once more this long after it committed, on top of one flush interval of the
# processing log: entries naming the account that reach the log after the erasure (see _unlink_again_after_commit).
UNLINK_AGAIN_MARGIN_SECONDS = 10.0
EXPORT_FORMAT = "confide-export/1"
# Who carried out an erasure, as its receipt says: the user, signed in with their password; or the platform
# operator, on the user's request by email to the controller once the operator has verified it.
BY_SELF_SERVICE = "self-service"
BY_OPERATOR = "operator"

# What an objection cannot stop, and why (policy V.5, VII and XI).
CONTINUES_AFTER_OBJECTION = [
    {
        "processing": "access logs (IP address and time)",
        "reason": "Mandatory to deliver and secure the platform (policy V.5); linked to no account and deleted after seven days.",
    },
    {
        "processing": "your account and memberships",
        "reason": "Needed to perform the contract (Art. 6(1)(b)), not based on legitimate interest; erase your account to end it.",
    },
    {"processing": "telemetry", "reason": "Holds no personal data: request counts and durations per route template only."},
]


class SoleOwner(Conflict):
    slug, title = "sole-owner", "Sole owner of a tenant"


class NotRestricted(NotFound):
    slug, title = "not-restricted", "Account not restricted"


@dataclass(frozen=True)
class UserLink:
    """A column through which a table's rows belong to a platform user."""

    table: Table
    column: Column[Any]
    by: str  # "id": a foreign key to the user; "email": the user's address
    ondelete: str | None
    holder: Holder
    about_user: bool  # False for links like "invited by": the row is about someone else

    @property
    def exported(self) -> bool:
        return self.holder == Holder.CONTROLLER and self.about_user


def user_links() -> list[UserLink]:
    """Every registered table's link to a user, children before parents so deletes run in a safe order.

    A foreign key to the user links by id; a controller table whose rows are not otherwise about a
    user but hold a contact `email` (invitations, contact messages) links by the user's address."""
    links: list[UserLink] = []
    for table in reversed(metadata.sorted_tables):
        record = REGISTRY.get(table.name)
        if record is None or table.name == USER_TABLE:
            continue
        by_id = [
            UserLink(table, column, "id", fk.ondelete, record.holder, column.name not in record.not_personal)
            for column in table.columns
            for fk in column.foreign_keys
            if fk.column.table.name == USER_TABLE
        ]
        links.extend(by_id)
        about_user_by_id = any(link.about_user for link in by_id)
        if not about_user_by_id and record.holder == Holder.CONTROLLER and record.personal.get("email") == Category.CONTACT:
            links.append(UserLink(table, table.c.email, "email", None, record.holder, True))
    return links


def _exported_columns(table: Table) -> list[Column[Any]]:
    """Everything but secrets: password and token hashes are no use to anyone and must not leave."""
    record = REGISTRY[table.name]
    return [c for c in table.columns if record.personal.get(c.name) != Category.CREDENTIALS]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


async def _rows(session: AsyncSession, table: Table, where: Any) -> list[dict[str, Any]]:
    columns = _exported_columns(table)
    result = await session.execute(select(*columns).where(where).order_by(*table.primary_key.columns))
    return [{k: _jsonable(v) for k, v in row.items()} for row in result.mappings().all()]


def confirmed_emails(user: User) -> list[str]:
    """The addresses whose rows (invitations, contact messages) are this user's to export, erase or
    object for: the confirmed one only (signing in needs it confirmed). A pending change proves
    nothing until its token comes back: anyone can type someone else's address into PATCH /v1/me."""
    return [user.email]


_ONE_TIME_TOKEN = re.compile(rf"\b{ONE_TIME_TOKEN_PREFIX}[A-Za-z0-9_-]+")


def carries_one_of(token_hashes: set[str]) -> Callable[[Message], bool]:
    """Mails whose text carries one of these one-time tokens (by hash): the mails sent for those tokens alone;
    and the notices to the addresses the email changes they confirmed left (by their change reference)."""
    refs = {change_ref(h) for h in token_hashes}
    return lambda msg: msg.get(CHANGE_REF_HEADER) in refs or bool(token_hashes_in(msg, _ONE_TIME_TOKEN) & token_hashes)


async def get_user(session: AsyncSession, *, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    return user


async def find_account(session: AsyncSession, *, email: str) -> User:
    """The account whose confirmed address is `email` (case and surrounding space ignored), for a request the
    platform operator carries out. A pending, unconfirmed address change does not count, as for export and erasure."""
    user = await find_user_by_email(session, email)
    if user is None:
        raise NotFound("No account has this email address (a pending, unconfirmed address change does not count).")
    return user


def export_information(settings: Settings, register: SubprocessorRegister) -> dict[str, Any]:
    """The information an export carries beside the data (Art. 15(1)(a)-(h)): from the privacy notice."""
    notice = privacy_notice(settings, register)
    information = {
        key: notice[key] for key in ("controller", "data_protection_officer", "processing", "recipients", "retention", "rights", "automated_decision_making")
    }
    information["source"] = "You gave us this data, or it arose from your use of the platform."
    return information


async def export_my_data(session: AsyncSession, *, user_id: str, information: dict[str, Any]) -> dict[str, Any]:
    """Art. 15 and 20: every controller table that references me, as JSON, with what each column is and why we keep it."""
    user = await get_user(session, user_id=user_id)
    user_table = metadata.tables[USER_TABLE]
    data: dict[str, list[dict[str, Any]]] = {USER_TABLE: await _rows(session, user_table, user_table.c.id == user.id)}
    emails = confirmed_emails(user)
    for link in user_links():
        if not link.exported:
            continue  # processor tables hold tenants' data (the tenant answers as controller); "invited by" rows are about others
        where = link.column == user.id if link.by == "id" else link.column.in_(emails)
        rows = [r for r in await _rows(session, link.table, where) if r not in data.get(link.table.name, [])]
        if rows:
            data.setdefault(link.table.name, []).extend(rows)
    in_tenants = await _tenant_records_naming(session, user.id)
    categories: dict[str, list[str]] = {}
    for table_name, rows in data.items():
        if not rows:
            continue
        for column, category in REGISTRY[table_name].personal.items():
            if category != Category.CREDENTIALS:
                categories.setdefault(category.value, []).append(f"{table_name}.{column}")
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utcnow().isoformat(),
        "subject": {"user_id": user.id},
        "categories": {k: sorted(v) for k, v in sorted(categories.items())},
        "records": {name: REGISTRY[name].as_dict() for name in sorted(data)},
        "data": data,
        "in_tenants": in_tenants,
        "information": information,
    }


async def _tenant_records_naming(session: AsyncSession, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Where tenants' records name the account as the staff member who acted (created a key, published a version,
    wrote a tag, was assigned a conversation; the processing log's actor): per table, each row's id, tenant, the
    column that names the account and the row's times. Confide keeps these rows for the tenants as their processor,
    and their content is the tenant's (or its end customers'), so it stays out; which records exist, and when, is
    data about the account that its erasure unlinks, and so its export lists it."""
    columns = [link.column for link in user_links() if link.by == "id" and not link.exported] + STAFF_ID_COLUMNS
    found: dict[str, list[dict[str, Any]]] = {}
    for column in columns:
        table = column.table
        times = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
        picked = list(table.primary_key.columns) + [c for c in (table.c.get("tenant_id"),) if c is not None] + times
        result = await session.execute(select(*picked).where(column == user_id).order_by(*table.primary_key.columns))
        rows = [{"column": column.name, **{k: _jsonable(v) for k, v in row.items()}} for row in result.mappings().all()]
        if rows:
            found.setdefault(str(table.name), []).extend(rows)
    return dict(sorted(found.items()))


async def sole_owner_tenants(session: AsyncSession, *, user_id: str) -> list[dict[str, str]]:
    other = aliased(Membership)
    owners = select(func.count()).select_from(other).where(other.tenant_id == Tenant.id, other.role == "owner").correlate(Tenant).scalar_subquery()
    rows = (
        await session.execute(
            select(Tenant.id, Tenant.name)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user_id, Membership.role == "owner", owners == 1)
            .order_by(Tenant.name)
        )
    ).all()
    return [{"id": r.id, "name": r.name} for r in rows]


async def _refuse_if_sole_owner(session: AsyncSession, user_id: str, *, operator_verified: bool) -> None:
    owned = await sole_owner_tenants(session, user_id=user_id)
    if owned:
        names = ", ".join(f"{t['name']} ({t['id']})" for t in owned)
        who, erasing = ("The account is", "erasing it") if operator_verified else ("You are", "erasing your account")
        raise SoleOwner(
            f"{who} the only owner of {names}. Make another member owner, or close the tenant (DELETE /v1/tenants/{{tenant_id}} "
            f"with the tenant's id as confirm_tenant_id), before {erasing}.",
            tenants=owned,
        )


async def erase_my_account(
    session: AsyncSession, services: Services, *, user_id: str, password: str | None = None, operator_verified: bool = False
) -> dict[str, Any]:
    """Art. 17: remove the account and everything linked to it; return a receipt with counts and no content.

    Self-service, the user's `password` confirms it. `operator_verified=True` is a request the user sent by
    email to the controller, which the platform operator has verified and carries out: no password is
    checked, and the receipt says the operator carried it out. Everything else is the same.

    Where tenants' processing logs, tags and resolutions name the account as the acting staff member, the
    rows stay and name ERASED_ACTOR: this node's buffered log entries are written first so that they are
    among them, and the id is unlinked once more shortly after the commit (_unlink_again_after_commit)."""
    if operator_verified:
        user = await get_user(session, user_id=user_id)
    else:
        if password is None:
            raise TypeError("erase_my_account needs the user's password, or operator_verified=True")
        # The same budget as every other password check of a signed-in session: a stolen token gets no
        # second allowance of guesses through this route.
        await limit_password_checks(services, user_id=user_id)
        user = await get_user(session, user_id=user_id)
        if not await services.passwords.verify(user.password_hash, password):
            raise InvalidCredentials("The password is wrong; your account was not erased.")
    await _refuse_if_sole_owner(session, user.id, operator_verified=operator_verified)  # before any work
    # The processing-log entries this node still buffers about the account's own work (an operator's review a
    # moment ago) reach the table now, so that the unlinking below finds them, as the erasure worker does before
    # it unlinks a subject. Written in their own transaction, before this one writes (SQLite has one writer).
    await gate_for(session).flush()
    # Again with the tenants it is a member of locked (in id order, so two erasures never wait on each other in a cycle):
    # two co-owners erasing their accounts at the same moment both found the other and left the tenant with no owner
    # (API review). Every tenant, not only those it owns: a role change (made owner meanwhile) or an API key or
    # invitation the account is creating in one of them (tenants.service) takes the same lock, and so either comes
    # first and is withdrawn below, or comes after and finds the membership gone.
    for tenant_id in sorted(set((await session.scalars(select(Membership.tenant_id).where(Membership.user_id == user.id))).all())):
        await lock_tenant(session, tenant_id)
    # Then the account's row, as the newsletter and email-change steps lock it before they touch its subscriptions
    # and tokens: erasure deleted those first and locked the account only with its DELETE at the end, so a withdrawal
    # in between held the account and waited for a subscription row while the erasure waited for the account (a
    # deadlock on PostgreSQL: a 500; review). FOR NO KEY UPDATE: inserts naming the account in the tenants locked
    # above cannot come now anyway.
    await lock_rows(session, User.newsletter_opt_in, User.id == user.id)
    await _refuse_if_sole_owner(session, user.id, operator_verified=operator_verified)
    # The API keys and open invitations this person handed out in any tenant go with them (tenants.service).
    await withdraw_grants(session, user_id=user.id, tenant_id=None, role=None)
    emails = confirmed_emails(user)
    # Read before the rows go: the tokens this account was mailed for its email changes, which find its mails there.
    change_tokens = set((await session.scalars(select(EmailToken.token_hash).where(EmailToken.user_id == user.id, EmailToken.purpose == EMAIL_CHANGE))).all())
    # And of its contact messages, whose acknowledgements may have gone to an address it had before.
    contact_tokens = await token_hashes_from(session, set(emails))
    deleted: dict[str, int] = {}
    unlinked: dict[str, int] = {}
    for link in user_links():
        if link.by == "email":
            result = await session.execute(delete(link.table).where(link.column.in_(emails)))
            target = deleted
        elif link.ondelete and link.ondelete.upper() == "SET NULL":
            result = await session.execute(update(link.table).where(link.column == user.id).values({link.column.name: None}))
            target = unlinked
        else:
            result = await session.execute(delete(link.table).where(link.column == user.id))
            target = deleted
        if result.rowcount:  # type: ignore[attr-defined]
            target[link.table.name] = target.get(link.table.name, 0) + int(result.rowcount)  # type: ignore[attr-defined]
    # Tenants' processing logs, tags and resolutions name the acting user by id; keep the row, drop the link to the person.
    for table, count in (await unlink_staff_id(session, user.id)).items():
        unlinked[table] = unlinked.get(table, 0) + count
    await session.execute(delete(User).where(User.id == user.id))  # type: ignore[arg-type]
    deleted[USER_TABLE] = 1
    access_changed_after_commit(session, user_id=user.id)  # its open operator sockets close once committed (realtime/access.py)
    _unlink_again_after_commit(session, services.settings, user.id)
    await session.flush()
    # The copies of the mails we sent to the account's addresses (no SMTP: the outbox folder), deleted once
    # the caller commits the rows' deletion: a rollback keeps the account and the mails alike.
    outbox = services.settings.resolved_outbox_dir
    found = await find_mentions(outbox, emails)
    ref = account_ref(user.id)  # the mails about it, those to an address it has since left too
    found |= await find_matching(outbox, lambda msg: msg.get(ACCOUNT_REF_HEADER) == ref)
    if change_tokens:  # to a pending address only the change's own confirmations: the address may have an account of its own
        found |= await find_matching(outbox, carries_one_of(change_tokens))
    if contact_tokens:
        found |= await find_matching(outbox, acknowledges(set(), contact_tokens))
    mails = delete_after_commit(session, found)
    if mails:
        deleted["outbox_files"] = mails
    return {
        "erased_at": utcnow().isoformat(),
        "carried_out_by": BY_OPERATOR if operator_verified else BY_SELF_SERVICE,
        "deleted": dict(sorted(deleted.items())),
        "unlinked": dict(sorted(unlinked.items())),
        "kept": [
            {
                "table": "access_log",
                "reason": "IP address and time of requests, linked to no account; deleted after seven days (policy V).",
            }
        ],
    }


async def unlink_staff_id(session: AsyncSession, user_id: str) -> dict[str, int]:
    """Replace the user id by ERASED_ACTOR wherever it names the acting staff member (STAFF_ID_COLUMNS);
    returns the rows changed per table."""
    unlinked: dict[str, int] = {}
    for column in STAFF_ID_COLUMNS:
        result = await session.execute(update(column.table).where(column == user_id).values({column.name: ERASED_ACTOR}))
        if result.rowcount:  # type: ignore[attr-defined]
            unlinked[column.table.name] = unlinked.get(column.table.name, 0) + int(result.rowcount)  # type: ignore[attr-defined]
    return unlinked


# The follow-up unlinkings scheduled on this node, held so that they are not collected while they wait.
_UNLINKING: set[asyncio.Task[None]] = set()


def _unlink_again_after_commit(session: AsyncSession, settings: Settings, user_id: str) -> None:
    """Once the erasure has committed, unlink the account's id a second time, a processing-log flush interval
    and UNLINK_AGAIN_MARGIN_SECONDS later. The erasure flushed only this node's buffer; an entry naming the
    account can still reach the log after it: from another node's buffer (written every
    processing_log_flush_seconds), or from a request or operator socket of the account that passed its checks
    just before the erasure and logged after it. The second pass flushes this node's buffer again and rewrites
    what arrived meanwhile. Best effort: a node stopped within that time skips it, and an entry that reaches the
    log later still (a node that could not write to the database for longer) keeps the id."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        return
    delay = settings.processing_log_flush_seconds + UNLINK_AGAIN_MARGIN_SECONDS
    after_commit.pending(session, "unlink-erased-staff-again", _schedule_unlink_again).append((engine, user_id, delay))


def _schedule_unlink_again(_session: Session, items: list[tuple[AsyncEngine, str, float]]) -> None:
    for engine, user_id, delay in items:
        task = asyncio.get_running_loop().create_task(_unlink_again(engine, user_id, delay), name=_task_name(engine))
        _UNLINKING.add(task)
        task.add_done_callback(_UNLINKING.discard)


async def stop_unlinking(engine: AsyncEngine) -> None:
    """At the app's shutdown: its follow-up unlinkings still waiting are dropped (best effort, see above), as its
    engine closes."""
    for task in [t for t in _UNLINKING if t.get_name() == _task_name(engine)]:
        _UNLINKING.discard(task)
        await cancel_and_wait(task)


def _task_name(engine: AsyncEngine) -> str:
    return f"confide-unlink-erased-staff-{id(engine.sync_engine)}"


async def _unlink_again(engine: AsyncEngine, user_id: str, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
        async with AsyncSession(engine) as session:
            await gate_for(session).flush()
        async with AsyncSession(engine) as session, session.begin():
            unlinked = await unlink_staff_id(session, user_id)
        if unlinked:
            log.info("erased account's id unlinked again from entries that arrived after its erasure", extra={"unlinked": unlinked})
    except Exception as exc:  # noqa: BLE001 - a background pass: logged, never raised
        log.error("unlinking an erased account's id again failed", extra={"error_type": type(exc).__name__})


async def restrict(session: AsyncSession, *, user_id: str) -> User:
    """Art. 18: freeze the account. Data is kept but not processed: no tenant work, no changes, no newsletter."""
    user = await get_user(session, user_id=user_id)
    if user.status != "restricted":
        user.status = "restricted"
        user.updated_at = utcnow()
        await session.flush()
        access_changed_after_commit(session, user_id=user.id)  # a restricted account operates no chat: its sockets close once committed
    return user


async def lift_restriction(session: AsyncSession, *, user_id: str) -> User:
    user = await get_user(session, user_id=user_id)
    if user.status != "restricted":
        raise NotRestricted("Your account is not restricted, so there is no restriction to lift.")
    user.status = "active"
    user.updated_at = utcnow()
    await session.flush()
    return user


@dataclass(frozen=True)
class ObjectionResult:
    """The recorded objection and what it deleted: contact messages (rows) and, counted apart, the outbox
    copies of their acknowledgements (files, deleted when the caller commits)."""

    objection: Objection
    contact_messages: int
    outbox_files: int


async def object_to_processing(session: AsyncSession, services: Services, *, user_id: str, grounds: str | None) -> ObjectionResult:
    """Art. 21: record the objection and stop what rests on consent for marketing or on legitimate interest."""
    user = await get_user(session, user_id=user_id)
    effects: list[str] = []
    if await withdraw_newsletter(session, services, user_id=user.id, channel="objection", quiet=True):
        effects.append("newsletter")
    messages, mails = await erase_contacts(session, services.settings.resolved_outbox_dir, emails=confirmed_emails(user))
    if messages:
        effects.append("contact_messages")
    objection = Objection(id=new_id("obj"), user_id=user.id, grounds=grounds, effects=effects)
    session.add(objection)
    await session.flush()
    return ObjectionResult(objection=objection, contact_messages=messages, outbox_files=mails)
