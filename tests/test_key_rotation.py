"""Rotating the secret key: the new key signs, the keys in CONFIDE_PREVIOUS_SECRET_KEYS still verify, so
visitors stay signed in and cursors and unsubscribe links keep working; a key left out verifies nothing.
(The erasure ledger's side: tests/privacy/test_erasure.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from confide.chats.tokens import VisitorTokens
from confide.core.errors import InvalidCursor
from confide.core.schemas import Cursors
from confide.privacy.consent import InvalidUnsubscribeToken, _subscription_of_token, unsubscribe_token
from confide.settings import Settings


def settings(secret_key: str, previous: str = "") -> Settings:
    return Settings(secret_key=secret_key, previous_secret_keys=previous)


def test_the_current_key_signs_and_the_previous_ones_follow_without_blanks_or_repeats():
    assert settings("new", " old , new,,older ").secret_keys == ("new", "old", "older")
    assert settings("new").secret_keys == ("new",)


def test_visitor_tokens_signed_before_a_rotation_still_identify_the_visitor():
    token, visitor_id = VisitorTokens(["old"], 30).issue(tenant_id="ten_1", avatar_id="ava_1")
    rotated = VisitorTokens(settings("new", "old").secret_keys, 30)
    assert rotated.verify(token, tenant_id="ten_1", avatar_id="ava_1") == visitor_id
    assert rotated.verify(token, tenant_id="ten_2", avatar_id="ava_1") is None, "still bound to its tenant and avatar"
    assert VisitorTokens(["new"], 30).verify(token, tenant_id="ten_1", avatar_id="ava_1") is None, "the old key dropped"
    fresh, fresh_id = rotated.issue(tenant_id="ten_1", avatar_id="ava_1")
    assert VisitorTokens(["new"], 30).verify(fresh, tenant_id="ten_1", avatar_id="ava_1") == fresh_id, "new tokens carry the new key"
    assert VisitorTokens(["old"], 30).verify(fresh, tenant_id="ten_1", avatar_id="ava_1") is None
    expired, _ = VisitorTokens(["old"], -1).issue(tenant_id="ten_1", avatar_id="ava_1")
    assert rotated.verify(expired, tenant_id="ten_1", avatar_id="ava_1") is None, "an expired token stays expired under any key"


def test_cursors_issued_before_a_rotation_still_page_on():
    cursor = Cursors("old").encode("members:ten_1", {"after": "usr_9"})
    assert Cursors("new", "old").decode("members:ten_1", cursor) == {"after": "usr_9"}
    with pytest.raises(InvalidCursor):
        Cursors("new").decode("members:ten_1", cursor)
    with pytest.raises(InvalidCursor):
        Cursors("new", "old").decode("members:ten_2", cursor)


def test_unsubscribe_links_in_newsletters_sent_before_a_rotation_still_work():
    before = SimpleNamespace(settings=settings("old"))
    link = unsubscribe_token(before, "nls_1")  # type: ignore[arg-type]
    after = SimpleNamespace(settings=settings("new", "old"))
    assert _subscription_of_token(after, link) == "nls_1"  # type: ignore[arg-type]
    assert unsubscribe_token(after, "nls_1") != link, "new links carry the new key"  # type: ignore[arg-type]
    with pytest.raises(InvalidUnsubscribeToken):
        _subscription_of_token(SimpleNamespace(settings=settings("new")), link)  # type: ignore[arg-type]
