"""Who receives what, as the privacy notice and the sub-processor register tell it (policy III.4, IV and XI): the
hosting provider's safeguard, the monitoring service that receives telemetry, recipient categories only for recipients
there are, and a start-up warning for every recipient whose location or safeguard nobody stated."""

from __future__ import annotations

import json
import logging

from confide.app import create_app
from tests.conftest import running
from tests.privacy.conftest import hooked_client

MAINTENANCE = "IT service providers for maintenance and support purposes"


async def _notice_and_register(settings) -> tuple[dict, list[dict]]:  # noqa: ANN001
    async with running(create_app(settings)) as other, hooked_client(other) as c:
        notice = (await c.get("/v1/privacy/notice")).json()
        register = (await c.get("/v1/privacy/subprocessors")).json()
    return notice, register


async def test_the_hosting_providers_safeguard_is_a_setting(backend, client):
    [hosting] = [e for e in (await client.get("/v1/privacy/subprocessors")).json() if e["id"] == "hosting"]
    assert hosting["transfer_safeguard"].startswith("Processing in the EU; Standard contractual clauses, Art. 46(2)(c) GDPR"), "the default stays"
    settings = backend.settings(hosting_provider="Hetzner Online GmbH", hosting_location="Germany", hosting_safeguard="None needed: processing in Germany only")
    notice, register = await _notice_and_register(settings)
    [hosting] = [e for e in register if e["id"] == "hosting"]
    assert (hosting["name"], hosting["location"], hosting["transfer_safeguard"]) == ("Hetzner Online GmbH", "Germany", "None needed: processing in Germany only")
    [listed] = [e for e in notice["recipients"]["subprocessors"] if e["id"] == "hosting"]
    assert listed["transfer_safeguard"] == "None needed: processing in Germany only"


async def test_the_monitoring_service_is_named_in_the_telemetry_and_among_the_recipients(backend, client):
    """Policy XI names Microsoft Azure Monitor as the telemetry tool; the notice named none and had no setting for it."""
    notice = (await client.get("/v1/privacy/notice")).json()
    assert notice["telemetry"]["monitoring_provider"] is None, "none named by default"
    assert all(r["kind"] != "monitoring" for r in notice["recipients"]["controller_recipients"])
    assert MAINTENANCE not in notice["recipients"]["categories"], "no maintenance provider is claimed when none is configured"

    settings = backend.settings(
        monitoring_provider="Microsoft Ireland Operations Limited (Azure Monitor)", monitoring_location="EU (West Europe)",
        monitoring_safeguard="Processing in the EU/EEA",
    )
    notice, register = await _notice_and_register(settings)
    telemetry = notice["telemetry"]
    monitoring = telemetry["monitoring_provider"]
    assert (monitoring["name"], monitoring["location"], monitoring["transfer_safeguard"]) == (
        "Microsoft Ireland Operations Limited (Azure Monitor)", "EU (West Europe)", "Processing in the EU/EEA"
    )
    assert any(tool.startswith("Microsoft Ireland Operations Limited (Azure Monitor)") for tool in telemetry["tools"])
    assert "Azure Monitor" in telemetry["retention"]
    assert [r for r in notice["recipients"]["controller_recipients"] if r["kind"] == "monitoring"] == [monitoring]
    assert notice["recipients"]["categories"].count(MAINTENANCE) == 1
    assert [e["id"] for e in register] == ["hosting", "cdn"], "telemetry carries no tenant data: no sub-processor entry"


async def test_register_kinds_map_to_the_policys_categories(backend, client):
    """Policy IV: hosting, tools connected by customers, maintenance and support, the CDN, other processors. Only the
    categories of recipients there are: the default deployment has no maintenance provider or other processor."""
    categories = (await client.get("/v1/privacy/notice")).json()["recipients"]["categories"]
    assert categories[:3] == ["Hosting service providers", "Provider of the CDN", "Providers of tools that are connected to the platform by customers"]
    assert not any(c.startswith("Other processors") for c in categories) and MAINTENANCE not in categories
    custom = [
        {"id": "hetzner", "name": "Hetzner Online GmbH", "kind": "hosting", "purpose": "Hosting", "location": "Germany", "transfer_safeguard": "EU", "required": True},
        {"id": "grafana", "name": "Grafana Labs", "kind": "monitoring", "purpose": "Monitoring", "location": "EU", "transfer_safeguard": "EU"},
        {"id": "ops", "name": "Ops GmbH", "kind": "support", "purpose": "On-call support", "location": "Germany", "transfer_safeguard": "EU"},
        {"id": "sentry", "name": "Functional Software, Inc.", "kind": "error-tracking", "purpose": "Errors", "location": "USA", "transfer_safeguard": "SCC"},
    ]
    notice, _ = await _notice_and_register(backend.settings(subprocessors_json=json.dumps(custom)))
    categories = notice["recipients"]["categories"]
    assert categories[:3] == ["Hosting service providers", MAINTENANCE, "Other processors contracted to provide and improve our platform (error-tracking)"]
    assert "Provider of the CDN" not in categories and not any(c.startswith("Providers of tools") for c in categories), "no CDN or LLM in this register"
    assert len(categories) == len(set(categories))


async def test_recipients_whose_location_or_safeguard_is_not_stated_are_warned_about_at_start(backend, caplog):
    """Policy III.4: a safeguard for every recipient outside the EU/EEA. The notice says "not yet stated" for the
    mail provider and a CRM as it does for an unknown LLM endpoint, and now the node warns for them too."""
    settings = backend.settings(smtp_host="smtp.example.com", crm_provider_name="Pipedrive, Inc.", monitoring_provider="Azure Monitor", monitoring_location="EU")
    with caplog.at_level(logging.WARNING, logger="confide.privacy"):
        notice, _ = await _notice_and_register(settings)
    messages = [r.getMessage() for r in caplog.records if r.name == "confide.privacy"]
    assert any("mail provider" in m and "CONFIDE_MAIL_PROVIDER_LOCATION and CONFIDE_MAIL_PROVIDER_SAFEGUARD" in m for m in messages), messages
    assert any("crm provider" in m and "CONFIDE_CRM_PROVIDER_LOCATION and CONFIDE_CRM_PROVIDER_SAFEGUARD" in m for m in messages), messages
    assert any("monitoring provider" in m and m.endswith("until CONFIDE_MONITORING_SAFEGUARD say them") for m in messages), messages
    by_kind = {r["kind"]: r for r in notice["recipients"]["controller_recipients"]}
    assert by_kind["mail"]["location"].startswith("Not yet stated") and by_kind["crm"]["transfer_safeguard"].startswith("Not yet stated")
    assert "CONFIDE_" not in json.dumps(notice["recipients"]), "the notice is for data subjects: setting names go to the log only"

    caplog.clear()
    stated = backend.settings(
        smtp_host="smtp.example.com", mail_provider_location="EU (Germany)", mail_provider_safeguard="Processing in the EU/EEA",
        crm_provider_name="Pipedrive, Inc.", crm_provider_location="USA", crm_provider_safeguard="Standard contractual clauses",
    )
    with caplog.at_level(logging.WARNING, logger="confide.privacy"):
        await _notice_and_register(stated)
    assert not [r for r in caplog.records if r.name == "confide.privacy" and "not stated" in r.getMessage()]
