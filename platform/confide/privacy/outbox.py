"""The mail outbox folder (data_dir/outbox: every mail as one .eml file when no SMTP server is set): its
copies of mails hold the recipients' addresses and what the mails said, so every erasure reaches them,
and the retention job deletes them after `outbox_retention_days`.

Each helper is synchronous file work run in a thread, and idempotent: a file already gone is no error.

Erasures that go with database rows only *find* the mails, then hand them to `delete_after_commit`:
the files go once the transaction that deleted the rows has committed, and stay when it rolls back, so
a failed erasure never leaves the rows without the mails (or claims mails gone that the rows still name)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from confide.core import after_commit
from confide.core.mail import KIND_HEADER, MailKind
from confide.core.security import hash_token

log = logging.getLogger("confide.privacy.outbox")

MAIL_GLOB = "*.eml"


class OutboxIndex:
    """The mail outbox folder, indexed by the id-like tokens its mails contain (headers and decoded text),
    so each batch finds the mails naming one of its subjects without reading every file again."""

    TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@:+-]*[A-Za-z0-9_]")
    MIN_TERM = 6  # shorter customer references would match unrelated mails by accident

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stamp: int | None = None
        self._tokens: dict[str, set[Path]] = {}
        self._texts: dict[Path, str] = {}

    @staticmethod
    def _text(raw: bytes) -> str:
        msg = message_from_bytes(raw)
        parts = [str(make_header(decode_header(v))) for _, v in msg.items()]
        for part in msg.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
        return "\n".join(parts)

    def _refresh(self) -> None:
        try:
            stamp = self.folder.stat().st_mtime_ns
        except FileNotFoundError:
            self._stamp, self._tokens, self._texts = None, {}, {}
            return
        if stamp == self._stamp:
            return
        self._stamp, self._tokens, self._texts = stamp, {}, {}
        for path in self.folder.glob("*.eml"):
            try:
                text = self._text(path.read_bytes())
            except OSError:
                continue
            self._texts[path] = text
            for token in set(self.TOKEN.findall(text)):
                self._tokens.setdefault(token, set()).add(path)

    def find(self, terms: Iterable[str]) -> set[Path]:
        """Every mail that names one of `terms`."""
        terms = {t for t in terms if t and len(t) >= self.MIN_TERM}
        if not terms or not self.folder.is_dir():
            return set()
        self._refresh()
        hits: set[Path] = set()
        for term in terms:
            if self.TOKEN.fullmatch(term):
                hits |= self._tokens.get(term, set())
            else:  # a reference with spaces or odd characters: search the text itself
                hits |= {p for p, text in self._texts.items() if term in text}
        return hits

    def purge(self, terms: Iterable[str]) -> int:
        """Delete every mail that names one of `terms`; returns how many."""
        hits = self.find(terms)
        removed = _delete_files(hits)
        if hits:
            self._stamp = None  # re-read next time
        return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except FileNotFoundError:
        return 0


def _delete_files(paths: Iterable[Path]) -> int:
    return sum(_unlink(path) for path in paths)


def recipients(msg: Message) -> set[str]:
    """The addresses a mail went to, lowercased."""
    return {address.lower() for _, address in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if address}


def kind_of(msg: Message) -> MailKind | None:
    """What the mail is about, as recorded where it was queued (core.mail.MailKind); None for a mail
    written without one (by a caller that names none, or before kinds were recorded)."""
    try:
        return MailKind(str(msg.get(KIND_HEADER, "")).strip())
    except ValueError:
        return None


def token_hashes_in(msg: Message, pattern: re.Pattern[str]) -> set[str]:
    """The hashes of the tokens `pattern` finds in a mail's text: how a mail sent for a token is told
    from the token's stored hash."""
    payload = msg.get_payload(decode=True)
    text = payload.decode(msg.get_content_charset() or "utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return {hash_token(token) for token in pattern.findall(text)}


async def find_mentions(folder: Path, terms: Iterable[str]) -> set[Path]:
    """Every mail that names one of `terms` (addresses, ids) anywhere."""
    return await asyncio.to_thread(OutboxIndex(folder).find, list(terms))


def _find_matching(folder: Path, matches: Callable[[Message], bool]) -> set[Path]:
    if not folder.is_dir():
        return set()
    found: set[Path] = set()
    for path in folder.glob(MAIL_GLOB):
        try:
            msg = message_from_bytes(path.read_bytes())
        except OSError:
            continue
        if matches(msg):
            found.add(path)
    return found


async def find_matching(folder: Path, matches: Callable[[Message], bool]) -> set[Path]:
    """Every mail for which `matches(message)` holds."""
    return await asyncio.to_thread(_find_matching, folder, matches)


def delete_after_commit(session: AsyncSession | Session, paths: Iterable[Path]) -> int:
    """Delete these mail files once `session`'s transaction commits; on a rollback, or a session closed
    without a commit, they stay. Returns how many files were handed over (what the caller reports)."""
    paths = set(paths)
    if paths:
        after_commit.pending(session, "outbox-files", _delete_committed).extend(paths)
    return len(paths)


def _delete_committed(_session: Session, paths: list[Path]) -> None:
    try:  # a handful of unlinks; the rows are already gone, so a failure is logged, not raised
        _delete_files(set(paths))
    except OSError as exc:
        log.error("outbox mails not deleted after commit: %s (the outbox retention removes them later)", type(exc).__name__)


def _delete_older_than(folder: Path, cutoff: float) -> int:
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob(MAIL_GLOB):
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        if old:
            removed += _unlink(path)
    return removed


async def expire_mails(folder: Path, cutoff: datetime) -> int:
    """Delete every mail written before `cutoff` (by the file's modification time); returns how many."""
    return await asyncio.to_thread(_delete_older_than, folder, cutoff.timestamp())
