"""Records of processing (Art. 30) generated from the classification registry and settings."""

from __future__ import annotations

from typing import Any

from confide.core.classification import REGISTRY, Holder
from confide.settings import Settings


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
