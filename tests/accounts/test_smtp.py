"""Mail goes out over real SMTP when configured: a local aiosmtpd server receives the verification mail."""

from __future__ import annotations

import email
import email.utils
import re

import pytest

from confide.app import create_app
from confide.core.mail import Mailer
from tests.conftest import client_for, running
from tests.support.factory import registration
from tests.support.smtp import smtp_relay


async def test_verification_mail_over_smtp(backend):
    with smtp_relay() as inbox:
        app = create_app(backend.settings(smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_starttls=False))
        body = registration()
        async with running(app), client_for(app) as client:
            assert (await client.post("/v1/accounts", json=body)).status_code == 202
            await app.state.detached_mails.drain()  # the account and its mail come after the answer
            (recipients, content) = inbox.messages[-1]
            assert recipients == [body["email"]]
            # RFC 5322 requires a Date; the Message-ID is on the sender's domain
            sent = email.message_from_string(content)
            assert email.utils.parsedate_to_datetime(sent["Date"]).tzinfo is not None
            assert sent["Message-ID"].rstrip(">").endswith("@" + app.state.settings.mail_from.rstrip(">").rpartition("@")[2])
            token = re.search(r"cft_[A-Za-z0-9_-]{20,}", content).group(0)
            r = await client.post("/v1/accounts/verify", json={"token": token})
            assert r.status_code == 200 and r.json()["email_verified"] is True


def test_the_public_base_url_is_checked_and_its_trailing_slash_dropped(caplog, tmp_path):
    """Links in mails are the base URL plus a path: `https://chat.example.com/` made `…com//account/…`, and a
    URL without a scheme made links no mail client follows. With SMTP on and no https, the node says so."""
    import logging

    import pytest
    from pydantic import ValidationError

    from confide.app import create_mailer
    from confide.settings import Settings

    assert Settings(public_base_url="https://chat.example.com/").public_base_url == "https://chat.example.com"
    assert Settings(public_base_url="https://example.com/confide/").public_base_url == "https://example.com/confide"
    for wrong in ("chat.example.com", "ftp://chat.example.com", "https://", "https://chat.example.com/?a=1", "https://chat.example.com/#top"):
        with pytest.raises(ValidationError, match="absolute http"):
            Settings(public_base_url=wrong)

    with caplog.at_level(logging.WARNING, logger="confide.app"):
        create_mailer(Settings(data_dir=tmp_path, smtp_host="127.0.0.1", public_base_url="https://chat.example.com"))
        assert not caplog.records
        create_mailer(Settings(data_dir=tmp_path))  # the outbox: nothing leaves the machine
        assert not caplog.records
        create_mailer(Settings(data_dir=tmp_path, smtp_host="127.0.0.1", public_base_url="http://chat.example.com"))
    [record] = caplog.records
    assert "not https" in record.getMessage() and "one-click unsubscribe" in record.getMessage()


@pytest.mark.parametrize(
    ("sender", "domain"),
    [("Confide <no-reply@confide.example>", "confide.example"), ("no-reply@Bücher.de", "xn--bcher-kva.de"), ("Confide", "confide.localhost")],
)
def test_message_ids_are_on_the_senders_domain_in_ascii(sender, domain):
    # an international sender domain made every mail fail to encode; a sender without one named "Confide"
    message = bytes(Mailer(sender).compose("someone@example.com", "Subject", "Body"))
    assert f"@{domain}>".encode() in message
