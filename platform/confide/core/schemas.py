"""Shared request/response base classes and cursor pagination."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import types
from functools import cache
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, ValidatorFunctionWrapHandler, field_validator

from confide.core.errors import InvalidCursor
from confide.core.text import check_name

T = TypeVar("T")


class RequestBody(BaseModel):
    """Every request body rejects unknown fields, so a typo is an error, not a silent no-op; and takes booleans and
    numbers only as JSON booleans and numbers, as the chat frames do: pydantic's lax mode read `"no"` and `0` as
    false and `"1"` as a number, so `{"active": "no"}` switched a webhook off without a word."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="wrap")
    @classmethod
    def _json_scalars_as_sent(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        kind = _scalar_kind(cls, info.field_name) if info.field_name else None
        if kind == "boolean" and value is not None and not isinstance(value, bool):
            raise ValueError("must be true or false (a JSON boolean)")
        if kind == "number" and isinstance(value, (str, bool)):
            raise ValueError("must be a number (a JSON number, not text or a boolean)")
        return handler(value)


@cache
def _scalar_kind(model: type[BaseModel], field: str) -> str | None:
    """"boolean" or "number" for a field declared as bool, or int or float (optional or not); None otherwise."""
    info = model.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        annotation = options[0] if len(options) == 1 else None
    if annotation is bool:
        return "boolean"
    if annotation in (int, float):
        return "number"
    return None


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Names people see in lists (core.text.check_name): up to 100 characters (people, avatars, keys, score
# definitions, webhooks) or 200 (tenants, guideline sets, a contact form's sender).
Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(check_name)]
LongName = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(check_name)]


# The query parameters of every cursor-paged list route.
Cursor = Annotated[str | None, Query(description="The `next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page; null on the last page.")


def query_scope(kind: str, tenant_id: str, *filters: Any) -> str:
    """A cursor scope for one list query: its kind, the tenant and a digest of its filters, so a
    cursor continues only the query (and tenant) that issued it."""
    digest = hashlib.sha256(json.dumps([str(f) for f in filters]).encode()).hexdigest()[:16]
    return f"{kind}:{tenant_id}:{digest}"


class Cursors:
    """Signed opaque cursors bound to a scope (tenant and query), so one cannot be replayed elsewhere."""

    def __init__(self, *secrets: str) -> None:
        """Signed with the first secret, verified with any (the earlier ones: after a key rotation)."""
        self._keys = [hashlib.sha256(("cursor:" + secret).encode()).digest() for secret in secrets]
        self._key = self._keys[0]

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        payload = json.dumps({"s": scope, "p": position}, separators=(",", ":")).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, scope: str, cursor: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, payload = raw[:12], raw[12:]
            if not any(hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()[:12]) for key in self._keys):
                raise ValueError("bad signature")
            data = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("The cursor is malformed or was not issued by this server.") from exc
        if data.get("s") != scope:
            raise InvalidCursor("The cursor belongs to another query.")
        return data["p"]


async def paginate(
    session: Any,
    stmt: Any,
    id_column: Any,
    *,
    cursors: Cursors,
    scope: str,
    cursor: str | None,
    limit: int,
    rows: bool = False,
) -> tuple[list[Any], str | None]:
    """Keyset pagination on a time-ordered id: stable under inserts, one query per page. With `rows`,
    items are result rows (several entities or columns) and the id is read from the first of them."""
    if cursor:
        position = cursors.decode(scope, cursor)
        stmt = stmt.where(id_column > position["after"])
    stmt = stmt.order_by(id_column).limit(limit + 1)
    items = list((await session.execute(stmt)).all() if rows else (await session.scalars(stmt)).all())
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        if rows:
            last = last[0] if not hasattr(last, id_column.key) else last
        next_cursor = cursors.encode(scope, {"after": getattr(last, id_column.key)})
    return items, next_cursor
