"""Opaque, time-ordered ids: a short type prefix and a lowercase ULID, so cursors can sort by id."""

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{str(ULID()).lower()}"
