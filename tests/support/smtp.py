"""A real SMTP relay on a loopback port (aiosmtpd), for tests of mail sent over SMTP: it keeps what it takes and
refuses the recipients it is told to (451, as a relay that stopped taking mail does)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []  # (recipients, the message as received)
        self.refusing: set[str] = set()  # recipients answered 451
        self.refuse_all = False
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if self.refuse_all or address in self.refusing:
            return "451 4.3.0 Not taking mail just now"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"

    def received(self, to: str, subject: str | None = None) -> list[Message]:
        mails = [email.message_from_string(content) for recipients, content in self.messages if to in recipients]
        return [m for m in mails if subject is None or m["Subject"] == subject]


@contextmanager
def smtp_relay() -> Iterator[Relay]:
    relay = Relay()
    relay.port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()
