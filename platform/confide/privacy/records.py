"""Records of processing (Art. 30) generated from the classification registry and settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.classification import REGISTRY, Holder
from confide.settings import Settings

# Where a domain discloses a tenant's data to someone (e.g. its webhook endpoints): each source lists
# that tenant's recipients for the records of processing. Domains register theirs at import.
RecipientSource = Callable[[AsyncSession, str], Awaitable[list[dict[str, Any]]]]
RECIPIENT_SOURCES: list[RecipientSource] = []


def add_recipient_source(source: RecipientSource) -> None:
    if source not in RECIPIENT_SOURCES:
        RECIPIENT_SOURCES.append(source)


async def tenant_recipients(session: AsyncSession, tenant_id: str) -> list[dict[str, Any]]:
    recipients: list[dict[str, Any]] = []
    for source in RECIPIENT_SOURCES:
        recipients.extend(await source(session, tenant_id))
    return recipients


def controller_details(settings: Settings) -> dict[str, Any]:
    return {
        "controller": {
            "name": settings.controller_name,
            "address": settings.controller_address,
            "phone": settings.controller_phone,
            "email": settings.controller_email,
            "web": settings.controller_web,
        },
        "data_protection_officer": {
            "name": settings.dpo_name,
            "address": settings.dpo_address,
            "phone": settings.dpo_phone,
            "web": settings.dpo_web,
        },
    }


def records_of_processing(settings: Settings) -> dict[str, Any]:
    tables = sorted(REGISTRY.values(), key=lambda r: r.table)
    return {
        **controller_details(settings),
        "automated_decision_making": "None within the meaning of Art. 22(1) and (4) GDPR: avatars inform, humans decide.",
        "as_controller": [r.as_dict() for r in tables if r.holder == Holder.CONTROLLER],
        "as_processor": [r.as_dict() for r in tables if r.holder == Holder.PROCESSOR],
        "without_personal_data": [r.table for r in tables if r.holder == Holder.NONE],
    }


PURPOSE_DESCRIPTIONS = {
    "answer_chats": "Answering end customers' chat messages with the tenant's avatars",
    "store_transcripts": "Storing chat transcripts",
    "evaluate": "Evaluating conversations: metrics per avatar and conversation, never scores about a person",
    "operator_review": "Review and takeover of conversations by the tenant's operators",
    "external_llm": "Sending conversation text to the authorised LLM provider to generate replies",
}

TECHNICAL_AND_ORGANISATIONAL_MEASURES = [
    "Every tenant-scoped query is filtered by tenant; other tenants' objects answer 404",
    "Role-based permissions per tenant member and API key",
    "Passwords hashed with argon2; login tokens, API keys and one-time tokens stored only as SHA-256",
    "Bearer-token authentication, no cookies besides the language setting",
    "Each operation on tenant data passes the purpose gate and is written to the tenant's processing log",
    "PII redaction before text leaves for an external LLM, unless the tenant instructs otherwise",
    "Access logs hold IP address, time, method, route template and status, linked to no account, and are deleted after seven days at the latest",
    "Structured application logs without personal data; metrics labelled by route template only",
    "Retention enforced by a scheduled job whose runs are recorded",
]


def processor_records(
    settings: Settings, *, tenant: dict[str, Any], instructions: Any, register: Any, recipients: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Art. 30(2): what we do for one tenant as its processor, under its instructions in force."""
    allowed = [name for name in PURPOSE_DESCRIPTIONS if getattr(instructions, name)]
    categories = []
    for name in allowed:
        entry: dict[str, Any] = {"purpose": name, "description": PURPOSE_DESCRIPTIONS[name]}
        if name == "store_transcripts":
            entry["retention_days"] = instructions.retention_days
        if name == "external_llm":
            entry["pii_redacted_before_sending"] = instructions.redact_pii_before_llm
        categories.append(entry)
    categories.append({"purpose": "export_and_erase", "description": "Exporting and erasing chat histories on the tenant's request"})
    tables = [r.as_dict() for r in sorted(REGISTRY.values(), key=lambda r: r.table) if r.holder == Holder.PROCESSOR]
    details = controller_details(settings)
    return {
        "processor": details["controller"],
        "processor_data_protection_officer": details["data_protection_officer"],
        "controller": tenant,
        "instructions_version": instructions.version,
        "categories_of_processing": categories,
        "data_held": tables,
        "retention_days": instructions.retention_days,
        "subprocessors": [register.by_id[i].model_dump() for i in instructions.subprocessors if i in register.by_id],
        "recipients": recipients or [],
        "technical_and_organisational_measures": TECHNICAL_AND_ORGANISATIONAL_MEASURES,
    }
