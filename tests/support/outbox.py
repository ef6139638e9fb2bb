"""Reading the mail outbox folder the way a person reads their inbox."""

from __future__ import annotations

import asyncio
import contextlib
import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from watchfiles import awatch

from confide.core.mail import KIND_HEADER, MailKind

TOKEN = re.compile(r"\b(cft_[A-Za-z0-9_-]{20,})")


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages_to(self, address: str) -> list[Message]:
        if not self.folder.exists():
            return []
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            msg = message_from_bytes(path.read_bytes())
            if msg["To"] == address:
                found.append(msg)
        return found

    def last_token_for(self, address: str) -> str:
        for msg in reversed(self.messages_to(address)):
            match = TOKEN.search(msg.get_payload(decode=True).decode())
            if match:
                return match.group(1)
        raise AssertionError(f"no token mailed to {address}")

    def _first_of_kind(self, address: str, kind: MailKind) -> Message | None:
        return next((msg for msg in self.messages_to(address) if msg[KIND_HEADER] == kind.value), None)

    async def wait_for(self, address: str, kind: MailKind, *, timeout: float = 30.0) -> Message:
        """The first mail of `kind` to `address`, waiting until it is written: mails about a registration
        go out after its answer. Woken by the folder's change events (watchfiles, as a person's mail client
        is by new mail), never by a sleep; a mail written before the watch began is found when its wait
        times out (yield_on_timeout), so it costs 0.2 s at most, never a hang. (For an app in this process
        the factory drains its detached work instead.)"""
        self.folder.mkdir(parents=True, exist_ok=True)
        async with asyncio.timeout(timeout):
            if (found := self._first_of_kind(address, kind)) is not None:
                return found
            async with contextlib.aclosing(awatch(self.folder, rust_timeout=200, step=20, yield_on_timeout=True, recursive=False)) as changes:
                async for _ in changes:
                    if (found := self._first_of_kind(address, kind)) is not None:
                        return found
        raise AssertionError("unreachable: the watch ends only by a mail or the timeout")
