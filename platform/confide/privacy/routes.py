"""Public privacy facts: the records of processing, generated, never hand-written."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from confide.core.services import ServicesDep
from confide.privacy.records import records_of_processing

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])


@router.get(
    "/records",
    summary="Records of processing (Art. 30 GDPR)",
    description="Generated from the data-classification registry: for every table, whose data it holds (controller or processor), "
    "the categories of personal data per column, the purpose, legal basis and retention; with the controller and DPO from settings.",
)
async def records(services: ServicesDep) -> dict[str, Any]:
    return records_of_processing(services.settings)
