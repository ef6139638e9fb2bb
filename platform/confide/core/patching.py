"""One rule for every PATCH body: a field left out stays as it is; `null` clears a field that can be empty
(nullable in the answer); `null` for a field that cannot be empty is a 422 naming it, never a silent no-op
(a client that sends null means something, and must learn that it did not happen). Services tell a field
left out from one sent as null by the body's `model_fields_set`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationInfo, field_validator


def _refuse_null(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} cannot be cleared: leave it out to keep it as it is, or send a new value")
    return value


def not_clearable(*fields: str) -> Any:
    """A before-validator for a PATCH body: `null` for these fields answers 422 naming `body.<field>`. Declare them
    `T = Field(default=None)` (not `T | None`), so OpenAPI does not offer null either."""
    return field_validator(*fields, mode="before")(_refuse_null)


def patch_rule(clears: Sequence[str] = ()) -> str:
    """The rule as a PATCH route's OpenAPI description says it, naming the fields `null` clears."""
    names = " and ".join(", ".join(f"`{n}`" for n in clears).rsplit(", ", 1))
    nulls = f"`null` clears {names}; for any other field it" if clears else "`null` for any of them"
    return (
        f"Fields left out stay as they are (an empty body changes nothing). {nulls} answers 422 `validation-error` "
        "naming the field (`body.<field>`): it cannot be cleared."
    )
