"""Rotating the secret key: the new key signs, the keys in CONFIDE_PREVIOUS_SECRET_KEYS still verify, so
visitors stay signed in and cursors and unsubscribe links keep working; a key left out verifies nothing.
(The erasure ledger's side: tests/privacy/test_erasure.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from confide.chats.tokens import VisitorTokens
from confide.core.errors import InvalidCursor
from confide.core.schemas import Cursors
from confide.privacy.consent import InvalidUnsubscribeToken, _subscription_of_token, unsubscribe_token
from confide.settings import Settings


NEW, OLD, OLDER = ("new-key-" * 5, "old-key-" * 5, "older-key-" * 5)  # signing keys have at least 32 characters


def settings(secret_key: str, previous: str = "") -> Settings:
    return Settings(secret_key=secret_key, previous_secret_keys=previous)


def test_the_current_key_signs_and_the_previous_ones_follow_without_blanks_or_repeats():
    assert settings(NEW, f" {OLD} , {NEW},,{OLDER} ").secret_keys == (NEW, OLD, OLDER)
    assert settings(NEW).secret_keys == (NEW,)


def test_visitor_tokens_signed_before_a_rotation_still_identify_the_visitor():
    token, visitor_id = VisitorTokens([OLD], 30).issue(tenant_id="ten_1", avatar_id="ava_1")
    rotated = VisitorTokens(settings(NEW, OLD).secret_keys, 30)
    assert rotated.verify(token, tenant_id="ten_1", avatar_id="ava_1") == visitor_id
    assert rotated.verify(token, tenant_id="ten_2", avatar_id="ava_1") is None, "still bound to its tenant and avatar"
    assert VisitorTokens([NEW], 30).verify(token, tenant_id="ten_1", avatar_id="ava_1") is None, "the old key dropped"
    fresh, fresh_id = rotated.issue(tenant_id="ten_1", avatar_id="ava_1")
    assert VisitorTokens([NEW], 30).verify(fresh, tenant_id="ten_1", avatar_id="ava_1") == fresh_id, "new tokens carry the new key"
    assert VisitorTokens([OLD], 30).verify(fresh, tenant_id="ten_1", avatar_id="ava_1") is None
    expired, _ = VisitorTokens([OLD], -1).issue(tenant_id="ten_1", avatar_id="ava_1")
    assert rotated.verify(expired, tenant_id="ten_1", avatar_id="ava_1") is None, "an expired token stays expired under any key"


def test_cursors_issued_before_a_rotation_still_page_on():
    cursor = Cursors(OLD).encode("members:ten_1", {"after": "usr_9"})
    assert Cursors(NEW, OLD).decode("members:ten_1", cursor) == {"after": "usr_9"}
    with pytest.raises(InvalidCursor):
        Cursors(NEW).decode("members:ten_1", cursor)
    with pytest.raises(InvalidCursor):
        Cursors(NEW, OLD).decode("members:ten_2", cursor)


def test_unsubscribe_links_in_newsletters_sent_before_a_rotation_still_work():
    before = SimpleNamespace(settings=settings(OLD))
    link = unsubscribe_token(before, "nls_1")  # type: ignore[arg-type]
    after = SimpleNamespace(settings=settings(NEW, OLD))
    assert _subscription_of_token(after, link) == "nls_1"  # type: ignore[arg-type]
    assert unsubscribe_token(after, "nls_1") != link, "new links carry the new key"  # type: ignore[arg-type]
    with pytest.raises(InvalidUnsubscribeToken):
        _subscription_of_token(SimpleNamespace(settings=settings(NEW)), link)  # type: ignore[arg-type]


def test_a_short_signing_key_is_refused_but_may_still_be_accepted_as_a_previous_one():
    """A key that brute force can reach forges visitor tokens; one used before the limit can still verify
    what it signed while a long key signs."""
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(secret_key="x" * 31)
    assert settings(NEW, "short-old-key").secret_keys == (NEW, "short-old-key")
