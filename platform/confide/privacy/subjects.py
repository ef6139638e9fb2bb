"""Pseudonymous references to a tenant's end customers, for erasure receipts, the processing log and the
erasure ledger: a keyed hash (HMAC-SHA256 with a key derived from the secret key), so the stored value
identifies no one without the key, and the same subject always gets the same reference.

Rotating the secret key changes every reference: the ledger would no longer recognise erased subjects."""

from __future__ import annotations

import hashlib
import hmac


class SubjectKeys:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"confide:erasure-ledger:" + secret_key.encode()).digest()

    def digest(self, tenant_id: str, kind: str, value: str) -> str:
        """64 hex characters: what the ledger stores."""
        return hmac.new(self._key, f"{tenant_id}\x1f{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()

    def ref(self, tenant_id: str, kind: str, value: str) -> str:
        """`sub_` and 32 hex characters: what receipts and the processing log show."""
        return "sub_" + self.digest(tenant_id, kind, value)[:32]
