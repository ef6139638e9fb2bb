"""The privacy notice's facts (Art. 13 and 14 GDPR), generated from the registry, the sub-processor
register and settings, so the notice cannot drift from what the code does."""

from __future__ import annotations

from typing import Any

from confide.core.classification import REGISTRY, Holder
from confide.privacy.records import controller_details
from confide.privacy.subprocessors import SubprocessorRegister
from confide.settings import Settings

LANGUAGE_COOKIE = "lang"

RECIPIENT_CATEGORIES = {
    "hosting": "Hosting service providers",
    "cdn": "Provider of the CDN",
    "llm": "Providers of tools that are connected to the platform by customers",
}


def rights(settings: Settings) -> list[dict[str, str]]:
    """Each right, and how to exercise it: in the account itself, or by mail to the controller."""
    mail = f"or by email to {settings.controller_email}"
    return [
        {"right": "access", "article": "Art. 15 GDPR", "how": f"GET /v1/me/export {mail}"},
        {"right": "rectification", "article": "Art. 16 GDPR", "how": f"PATCH /v1/me {mail}"},
        {"right": "erasure", "article": "Art. 17 GDPR", "how": f"POST /v1/me/erasure with your password {mail}"},
        {"right": "restriction", "article": "Art. 18 GDPR", "how": f"POST /v1/me/restriction; lift it with DELETE /v1/me/restriction {mail}"},
        {"right": "data portability", "article": "Art. 20 GDPR", "how": f"GET /v1/me/export (JSON) {mail}"},
        {"right": "objection", "article": "Art. 21 GDPR", "how": f"POST /v1/me/objection {mail}"},
        {
            "right": "withdrawal of consent",
            "article": "Art. 7(3) GDPR",
            "how": "the unsubscribe link in every newsletter, or DELETE /v1/me/newsletter; contact messages: POST /v1/contact/objection",
        },
        {"right": "complaint to a supervisory authority", "article": "Art. 77 GDPR", "how": settings.supervisory_authority},
    ]


def privacy_notice(settings: Settings, register: SubprocessorRegister) -> dict[str, Any]:
    controller_tables = sorted((r for r in REGISTRY.values() if r.holder == Holder.CONTROLLER), key=lambda r: r.table)
    kinds = list(dict.fromkeys(e.kind for e in register.entries))
    recipient_categories = [RECIPIENT_CATEGORIES.get(k, f"Providers of {k} services") for k in kinds]
    if settings.smtp_host:
        recipient_categories.append("Mail delivery provider")
    return {
        **controller_details(settings),
        "policy_version": settings.privacy_policy_version,
        "processing": [
            {
                "data": r.table,
                "purpose": r.purpose,
                "legal_basis": r.legal_basis,
                "data_subjects": r.data_subjects,
                "categories": sorted({c.value for c in r.personal.values()}),
            }
            for r in controller_tables
        ],
        "recipients": {
            "categories": recipient_categories,
            "subprocessors": [e.model_dump() for e in register.entries],
            "third_country_transfers": "Where a recipient is outside the EU/EEA, transfers rest on appropriate safeguards, "
            "e.g. standard contractual clauses under Art. 46(2)(c) GDPR; each recipient's safeguard is listed.",
        },
        "retention": [{"data": r.table, "period": r.retention, "days": r.retention_days} for r in controller_tables],
        "rights": rights(settings),
        "automated_decision_making": {
            "takes_place": False,
            "statement": "No automated decision-making within the meaning of Art. 22(1) and (4) GDPR: avatars inform, humans decide.",
        },
        "cookies": [
            {
                "name": LANGUAGE_COOKIE,
                "purpose": "Remembering the language setting",
                "legal_basis": "§ 25(2) TDDDG with Art. 6(1)(f) GDPR",
                "max_age_days": settings.language_cookie_days,
            }
        ],
        "access_logs": {
            "data": ["IP address", "date and time of access"],
            "legal_basis": "Art. 6(1)(f) GDPR",
            "retention_days": settings.access_log_retention_days,
            "objection": "Not possible: needed to operate the platform (policy V.5).",
        },
        "newsletter": {
            "consent_text": settings.newsletter_consent_text,
            "consent_version": settings.newsletter_consent_version,
            "data": ["email address", "pseudonym"],
            "double_opt_in": True,
        },
        "processor_role": "For data of end customers who chat with a tenant's avatars, the tenant is the controller "
        "and we process on its documented instructions (Art. 28 GDPR); address such requests to the tenant.",
    }
