"""The mail outbox folder (data_dir/outbox: every mail as one .eml file when no SMTP server is set): its
copies of mails hold the recipients' addresses and what the mails said, so every erasure reaches them,
and the retention job deletes them after `outbox_retention_days`.

Each helper is synchronous file work run in a thread, and idempotent: a file already gone is no error."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

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

    def purge(self, terms: Iterable[str]) -> int:
        """Delete every mail that names one of `terms`; returns how many."""
        terms = {t for t in terms if t and len(t) >= self.MIN_TERM}
        if not terms or not self.folder.is_dir():
            return 0
        self._refresh()
        if not self._texts:
            return 0
        hits: set[Path] = set()
        for term in terms:
            if self.TOKEN.fullmatch(term):
                hits |= self._tokens.get(term, set())
            else:  # a reference with spaces or odd characters: search the text itself
                hits |= {p for p, text in self._texts.items() if term in text}
        removed = 0
        for path in hits:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        if hits:
            self._stamp = None  # re-read next time
        return removed



def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except FileNotFoundError:
        return 0


def recipients(msg: Message) -> set[str]:
    """The addresses a mail went to, lowercased."""
    return {address.lower() for _, address in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if address}


async def purge_mentions(folder: Path, terms: Iterable[str]) -> int:
    """Delete every mail that names one of `terms` (addresses, ids) anywhere; returns how many."""
    return await asyncio.to_thread(OutboxIndex(folder).purge, list(terms))


def _delete_matching(folder: Path, matches: Callable[[Message], bool]) -> int:
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob(MAIL_GLOB):
        try:
            msg = message_from_bytes(path.read_bytes())
        except OSError:
            continue
        if matches(msg):
            removed += _unlink(path)
    return removed


async def purge_matching(folder: Path, matches: Callable[[Message], bool]) -> int:
    """Delete every mail for which `matches(message)` holds; returns how many."""
    return await asyncio.to_thread(_delete_matching, folder, matches)


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
