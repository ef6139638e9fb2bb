"""Pseudonymous references to a tenant's end customers, for erasure receipts, the processing log and the
erasure ledger: a keyed hash (HMAC-SHA256 with a key derived from the secret key), so the stored value
identifies no one without the key, and the same subject always gets the same reference under one key.

Rotating the secret key changes every reference from then on; the ledger still recognises subjects erased
before the rotation while the earlier key is listed (Settings.previous_secret_keys)."""

from __future__ import annotations

import hashlib
import hmac


class SubjectKeys:
    def __init__(self, *secret_keys: str) -> None:
        """The first key makes new digests and references; every key's digest matches ledger entries."""
        self._keys = [hashlib.sha256(b"confide:erasure-ledger:" + key.encode()).digest() for key in secret_keys]

    def digest(self, tenant_id: str, kind: str, value: str) -> str:
        """64 hex characters: what the ledger stores."""
        return self.digests(tenant_id, kind, value)[0]

    def digests(self, tenant_id: str, kind: str, value: str) -> list[str]:
        """The digest under each key, the current one first: what a ledger lookup matches."""
        message = f"{tenant_id}\x1f{kind}\x1f{value}".encode()
        return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in self._keys]

    def ref(self, tenant_id: str, kind: str, value: str) -> str:
        """`sub_` and 32 hex characters: what receipts and the processing log show."""
        return "sub_" + self.digest(tenant_id, kind, value)[:32]
