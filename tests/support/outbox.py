"""Reading the mail outbox folder the way a person reads their inbox."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path

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
