"""Dates and times a client sends (query filters, erasure cut-offs), bounded to years the code can compute with.

Filters shift what they are given: to UTC (up to 14 hours), a day further (an inclusive last day), 29 days
back (a report's default start), ten seconds back (the activity resolution). Near year 1 or 9999 that
arithmetic overflows, which answered 500; a bounded type answers 422 naming the field instead, at the boundary,
so nothing behind it needs its own guard. No Confide data predates 1970.

Two conventions for `to`, kept as clients know them (README, "Dates and ranges"): a date-time `to` is
exclusive (before this instant), a date `to` is inclusive (the last UTC day counted)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from confide.core.errors import InvalidInput

MIN_YEAR = 1970
MAX_YEAR = 9998
RANGE_TEXT = f"years {MIN_YEAR} to {MAX_YEAR}"


def _bounded_day(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between {MIN_YEAR}-01-01 and {MAX_YEAR}-12-31 ({RANGE_TEXT})")
    return value


def _bounded_instant(value: datetime) -> datetime:
    """In UTC (without a zone it is UTC already); the year is checked as written, before the shift could overflow."""
    message = f"must be between {MIN_YEAR}-01-01T00:00:00Z and {MAX_YEAR}-12-31T23:59:59Z ({RANGE_TEXT}, UTC)"
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(message)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not MIN_YEAR <= value.year <= MAX_YEAR:  # 1970-01-01T00:00+01:00 is still 1969 in UTC
        raise ValueError(message)
    return value


_WRITTEN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]|\Z)")


def _written_as_a_date(value: Any) -> Any:
    """Text that starts with YYYY-MM-DD, as documented. Pydantic's lax mode also reads a number, or digits alone, as
    seconds since 1970: `to=20260302` (a date with its dashes left out) ended in August 1970, and an export or
    report covered the wrong window without a word."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _WRITTEN_DATE.match(value):
        raise ValueError("must be written as an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ), not a number")
    return value


# A calendar day (YYYY-MM-DD) in the bounded years.
Day = Annotated[date, BeforeValidator(_written_as_a_date), AfterValidator(_bounded_day)]
# An instant (ISO 8601 date-time, or a date meaning its midnight), in the bounded years; always UTC-aware once parsed.
Instant = Annotated[datetime, BeforeValidator(_written_as_a_date), AfterValidator(_bounded_instant)]


def check_day_range(start: date | None, end: date | None, field: str = "query.from") -> None:
    """Inclusive days: `from` may equal `to` (one day), never follow it."""
    if start is not None and end is not None and start > end:
        raise InvalidInput(field, f"the range starts ({start.isoformat()}) after it ends ({end.isoformat()}); `from` must be on or before `to`")


def check_instant_range(start: datetime | None, end: datetime | None, field: str = "query.from") -> None:
    """An exclusive date-time `to`: `from` must come before it (an equal pair is an empty window). Named and worded
    as check_day_range, so every range route refuses a reversed range alike."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput(field, f"the range starts ({start.isoformat()}) at or after it ends ({end.isoformat()}); `from` must be before `to` (exclusive)")
