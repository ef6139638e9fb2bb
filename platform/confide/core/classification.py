"""The data-classification registry: every table says whose data it holds, which columns are personal
data of which category, and how long rows are kept. Records of processing are generated from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Holder(StrEnum):
    CONTROLLER = "controller"  # our own platform users' data: we decide
    PROCESSOR = "processor"  # a tenant's end-customer data: we act on its instructions
    NONE = "none"  # holds no personal data


class Category(StrEnum):
    IDENTITY = "identity"  # names, pseudonym
    CONTACT = "contact"  # email address, telephone number
    ORGANISATION = "organisation"  # company name
    CREDENTIALS = "credentials"  # password and token hashes
    NETWORK = "network"  # IP addresses
    CONSENT = "consent"  # what a person agreed to, and when
    PSEUDONYMOUS_ID = "pseudonymous_id"  # visitor ids, a tenant's own customer ids
    COMMUNICATION = "communication"  # message text and comments
    ACTIVITY = "activity"  # when a person did what


@dataclass(frozen=True)
class TableRecord:
    table: str
    holder: Holder
    purpose: str
    legal_basis: str
    retention: str
    data_subjects: str
    personal: dict[str, Category] = field(default_factory=dict)
    not_personal: frozenset[str] = frozenset()
    retention_days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "holder": self.holder.value,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "data_subjects": self.data_subjects,
            "categories": sorted({c.value for c in self.personal.values()}),
            "personal_columns": {k: v.value for k, v in sorted(self.personal.items())},
            "retention": self.retention,
            "retention_days": self.retention_days,
        }


REGISTRY: dict[str, TableRecord] = {}

# Columns that by their name cannot hold personal data; everything else must be classified.
_NEUTRAL = re.compile(r"^(id|.*_id|.*_at|status|role|kind|version|name_key|count|.*_count|position|scope|purpose)$")


def classify(
    model: Any,
    *,
    holder: Holder,
    purpose: str,
    legal_basis: str,
    retention: str,
    data_subjects: str = "none",
    personal: dict[str, Category] | None = None,
    not_personal: tuple[str, ...] = (),
    retention_days: int | None = None,
) -> Any:
    """Register a table model; returns the model so it can sit right below the class."""
    table = model.__tablename__ if hasattr(model, "__tablename__") else model.name
    REGISTRY[table] = TableRecord(
        table=table,
        holder=holder,
        purpose=purpose,
        legal_basis=legal_basis,
        retention=retention,
        data_subjects=data_subjects,
        personal=dict(personal or {}),
        not_personal=frozenset(not_personal),
        retention_days=retention_days,
    )
    return model


def unclassified_columns(table: Any) -> list[str]:
    """Columns of a registered table that are neither personal, declared not personal, nor neutral by name."""
    record = REGISTRY[table.name]
    return [
        c.name
        for c in table.columns
        if c.name not in record.personal and c.name not in record.not_personal and not _NEUTRAL.match(c.name)
    ]
