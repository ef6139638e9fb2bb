"""Privacy facts generated from the registry and settings: the notice, the sub-processor register and
the per-tenant records of processing (Art. 30(2))."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from confide.app import create_app
from confide.core.classification import REGISTRY, Holder
from confide.privacy.subprocessors import register_from_settings, unstated_llm_provider
from tests.conftest import running
from tests.privacy.conftest import hooked_client


async def test_the_notice_states_every_fact_the_policy_promises(client):
    r = await client.get("/v1/privacy/notice")
    assert r.status_code == 200
    notice = r.json()
    assert notice["controller"]["name"] == "Humanizing Technologies GmbH" and notice["controller"]["email"] == "contact@plural.io"
    assert notice["data_protection_officer"]["name"] == "DataCo GmbH"
    assert notice["automated_decision_making"]["takes_place"] is False and "Art. 22" in notice["automated_decision_making"]["statement"]
    articles = {right["article"] for right in notice["rights"]}
    assert {"Art. 15 GDPR", "Art. 16 GDPR", "Art. 17 GDPR", "Art. 18 GDPR", "Art. 20 GDPR", "Art. 21 GDPR", "Art. 77 GDPR", "Art. 7(3) GDPR"} <= articles
    assert all(right["how"] for right in notice["rights"])
    assert {"Hosting service providers", "Provider of the CDN"} <= set(notice["recipients"]["categories"])
    assert any(c.startswith("The organisations (tenants) you are a member of") for c in notice["recipients"]["categories"]), "members see each other"
    assert [c["name"] for c in notice["cookies"]] == ["lang"] and notice["cookies"][0]["max_age_days"] <= 365
    assert notice["access_logs"]["retention_days"] == 7
    controller_tables = {r.table for r in REGISTRY.values() if r.holder == Holder.CONTROLLER}
    assert {p["data"] for p in notice["processing"]} == controller_tables
    assert {p["data"] for p in notice["retention"]} == controller_tables | {"outbox"}, "the test app writes mails to its outbox folder"
    assert notice["newsletter"]["double_opt_in"] is True


async def test_the_notice_states_the_configured_retention_periods(client):
    retention = {r["data"]: r for r in (await client.get("/v1/privacy/notice")).json()["retention"]}
    contact = retention["contact_message"]
    assert contact["longest_open_days"] == 180 and "180 days after the message arrived" in contact["period"]
    assert contact["days"] == 30 and "30 days later" in contact["period"]
    account = retention["user_account"]
    assert account["unverified_hours"] == 72 and "never verified is deleted 72 hours after registration" in account["period"]
    assert "still valid" not in account["period"] and "do not extend" in account["period"], "a later token does not keep the account"
    assert retention["outbox"]["days"] == 30 and "deleted after 30 days" in retention["outbox"]["period"]
    assert retention["access_log"]["days"] == 7


async def test_the_notice_follows_the_configured_access_log_period_and_states_what_it_holds(backend):
    async with running(create_app(backend.settings(access_log_retention_days=3, smtp_host="mail.example.com"))) as app, hooked_client(app) as c:
        notice = (await c.get("/v1/privacy/notice")).json()
    retention = {r["data"]: r for r in notice["retention"]}
    assert retention["access_log"]["days"] == 3 and retention["access_log"]["period"].startswith("3 days")
    assert notice["access_logs"]["retention_days"] == 3
    assert "outbox" not in retention, "with a mail server no copies are kept"
    assert any("route template" in item for item in notice["access_logs"]["data"]), "everything the access log holds is named"
    assert any("network prefix" in item for item in notice["newsletter"]["data"]), "the consent records' network prefix is named"


async def test_the_notice_covers_telemetry(client):
    telemetry = (await client.get("/v1/privacy/notice")).json()["telemetry"]
    assert telemetry["personal_data"] is False and telemetry["legal_basis"] == "Art. 6(1)(f) GDPR"
    assert {"Troubleshooting", "Log analysis", "Infrastructure monitoring"} <= set(telemetry["purposes"])
    assert any("GET /metrics" in tool for tool in telemetry["tools"]) and telemetry["retention"] and telemetry["objection"]


WIDGET = Path(__file__).parents[2] / "platform" / "confide" / "static" / "widget.js"


async def test_the_notice_lists_what_the_widget_keeps_in_the_browser(client):
    """Read from the widget itself: its storage key and every item persist() writes."""
    source = WIDGET.read_text()
    key = re.search(r"const storeKey = `([^`$]*)\$\{widgetKey\}`", source)
    assert key is not None
    persisted = re.search(r"function persist\(\) \{\s*storage\.save\(\{(.*?)\}\);", source, re.S)
    assert persisted is not None
    items = set(re.findall(r"^\s*(\w+):", persisted.group(1), re.M))
    assert items == {"visitor_token", "conversation_id", "last_seq", "outbox"}
    assert "document.cookie" not in source and "sessionStorage" not in source and "indexedDB" not in source

    [entry] = (await client.get("/v1/privacy/notice")).json()["browser_storage"]
    assert entry["name"] == key.group(1) + "<widget key>" and entry["kind"] == "localStorage"
    listed = {c["item"]: c for c in entry["contents"]}
    assert set(listed) == items
    assert listed["visitor_token"]["max_age_days"] == 365 and "365 days" in listed["visitor_token"]["lifetime"]
    assert "acknowledges" in listed["outbox"]["lifetime"] and entry["legal_basis"].startswith("§ 25(2)")


async def test_company_details_come_from_settings(backend):
    settings = backend.settings(controller_name="Example SE", dpo_name="Privacy Ltd", controller_email="privacy@example.com", retention_job_enabled=False)
    async with running(create_app(settings)) as other, hooked_client(other) as c:
        notice = (await c.get("/v1/privacy/notice")).json()
        assert notice["controller"]["name"] == "Example SE" and notice["data_protection_officer"]["name"] == "Privacy Ltd"
        assert "privacy@example.com" in notice["rights"][0]["how"]
        assert (await c.get("/v1/privacy/records")).json()["controller"]["name"] == "Example SE"
        ids = [s["id"] for s in (await c.get("/v1/privacy/subprocessors")).json()]
        assert ids == ["hosting", "cdn"], "no LLM entry without OPENAI_BASE_URL"


async def test_the_subprocessor_register_names_the_configured_llm_provider(client):
    r = await client.get("/v1/privacy/subprocessors")
    assert r.status_code == 200
    entries = {e["id"]: e for e in r.json()}
    assert list(entries) == ["hosting", "cdn", "llm"]
    assert entries["llm"]["name"].startswith("OpenAI") and entries["llm"]["location"] == "USA"
    assert entries["llm"]["transfer_safeguard"].startswith("Standard contractual clauses, Art. 46(2)(c) GDPR")
    assert entries["hosting"]["required"] is True and entries["llm"]["required"] is False
    assert all(e["purpose"] and e["location"] for e in entries.values())


@pytest.mark.parametrize(
    ("base_url", "name", "location", "safeguard"),
    [
        ("https://api.mistral.ai/v1", "Mistral AI", "EU (France)", "Processing in the EU/EEA"),
        ("https://api.anthropic.com/v1", "Anthropic", "USA", "Standard contractual clauses"),
        ("http://vllm.internal:8000/v1", "Operator of the LLM endpoint at vllm.internal", "Not yet stated", "Not yet stated"),
    ],
)
def test_the_llm_entry_says_where_its_host_processes_or_that_nobody_said(backend, base_url, name, location, safeguard):
    # Every endpoint used to be listed as in the USA under SCCs: wrong for Mistral and for a self-hosted model.
    entry = register_from_settings(backend.settings(openai_base_url=base_url)).llm_provider
    assert entry is not None and entry.name.startswith(name)
    assert entry.location.startswith(location) and entry.transfer_safeguard.startswith(safeguard)
    # the notice is for data subjects: no setting names in it; the node's log names them (below)
    assert "CONFIDE_" not in entry.location and "CONFIDE_" not in entry.transfer_safeguard
    assert unstated_llm_provider(backend.settings(openai_base_url=base_url)) == (
        ["CONFIDE_LLM_PROVIDER_LOCATION", "CONFIDE_LLM_PROVIDER_SAFEGUARD"] if location == "Not yet stated" else []
    )


def test_the_operator_states_the_llm_providers_location_and_safeguard(backend):
    settings = backend.settings(
        openai_base_url="http://vllm.internal:8000/v1", llm_provider_name="Our own GPU cluster", llm_provider_location="Germany", llm_provider_safeguard="None needed (EU)"
    )
    entry = register_from_settings(settings).llm_provider
    assert (entry.name, entry.location, entry.transfer_safeguard) == ("Our own GPU cluster", "Germany", "None needed (EU)")
    assert unstated_llm_provider(settings) == []


def test_a_register_from_json_settings(backend):
    custom = [
        {
            "id": "hetzner",
            "name": "Hetzner Online GmbH",
            "kind": "hosting",
            "purpose": "Hosting",
            "location": "Germany",
            "transfer_safeguard": "None needed (EU)",
            "required": True,
        },
        {"id": "mistral", "name": "Mistral AI", "kind": "llm", "purpose": "Replies", "location": "France", "transfer_safeguard": "None needed (EU)"},
    ]
    register = register_from_settings(backend.settings(subprocessors_json=json.dumps(custom)))
    assert register.required_ids == ("hetzner",) and register.llm_provider.id == "mistral"
    with pytest.raises(ValueError, match="CONFIDE_SUBPROCESSORS_JSON"):
        register_from_settings(backend.settings(subprocessors_json='[{"id": "x"}]'))
    with pytest.raises(ValueError, match="at most one"):
        register_from_settings(backend.settings(subprocessors_json=json.dumps([custom[1], {**custom[1], "id": "other"}])))


async def test_tenant_records_follow_its_instructions(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner, "Records GmbH")
    url = f"/v1/tenants/{tenant}/privacy/records"
    records = (await client.get(url, headers=owner.headers)).json()
    assert records["controller"] == {"id": tenant, "name": "Records GmbH"}
    assert records["processor"]["name"] == "Humanizing Technologies GmbH" and records["instructions_version"] == 0
    purposes = [c["purpose"] for c in records["categories_of_processing"]]
    assert purposes == ["answer_chats", "store_transcripts", "evaluate", "operator_review", "export_and_erase"]
    assert records["retention_days"] == 30 and [s["id"] for s in records["subprocessors"]] == ["hosting", "cdn"]
    assert records["technical_and_organisational_measures"]
    assert {t["table"] for t in records["data_held"]} == {r.table for r in REGISTRY.values() if r.holder == Holder.PROCESSOR}

    await client.post(
        f"/v1/tenants/{tenant}/privacy/instructions",
        json={"purposes": {"evaluate": False, "external_llm": True}, "authorised_subprocessors": ["hosting", "cdn", "llm"], "retention_days": 10},
        headers=owner.headers,
    )
    records = (await client.get(url, headers=owner.headers)).json()
    categories = {c["purpose"]: c for c in records["categories_of_processing"]}
    assert "evaluate" not in categories and categories["external_llm"]["pii_redacted_before_sending"] is True
    assert categories["store_transcripts"]["retention_days"] == 10 and records["instructions_version"] == 1
    llm = next(s for s in records["subprocessors"] if s["id"] == "llm")
    assert llm["transfer_safeguard"].startswith("Standard contractual clauses")

    analyst = await factory.member(tenant, owner, "analyst")
    r = await client.get(url, headers=analyst.headers)
    assert r.status_code == 403 and r.json()["permission"] == "privacy:read"


async def test_telemetry_objections_go_to_their_own_address(client, backend):
    """Policy XI.5 names another address for telemetry than for everything else; both are settings."""
    telemetry = (await client.get("/v1/privacy/notice")).json()["telemetry"]
    assert telemetry["objection"].startswith("By email to contact@humanizing.com")
    settings = backend.settings(telemetry_contact_email="metrics-privacy@example.com", retention_job_enabled=False)
    async with running(create_app(settings)) as other, hooked_client(other) as c:
        assert "metrics-privacy@example.com" in (await c.get("/v1/privacy/notice")).json()["telemetry"]["objection"]


async def test_the_cdn_and_the_mail_provider_are_settings(backend):
    """A deployment without a CDN lists none; one that mails through SMTP names who delivers the mails (or says
    that nobody stated where they process), for the platform's own data, not in the tenants' register."""
    settings = backend.settings(cdn_provider="", smtp_host="smtp.example.com", retention_job_enabled=False)
    async with running(create_app(settings)) as other, hooked_client(other) as c:
        assert [s["id"] for s in (await c.get("/v1/privacy/subprocessors")).json()] == ["hosting"]
        recipients = (await c.get("/v1/privacy/notice")).json()["recipients"]
        [mail] = recipients["controller_recipients"]
        assert mail["name"] == "The operator of the mail server at smtp.example.com" and mail["location"].startswith("Not yet stated")
        assert "Mail delivery provider" in recipients["categories"] and "Provider of the CDN" not in recipients["categories"]
    named = backend.settings(
        cdn_provider="Bunny Way d.o.o., Slovenia", cdn_location="EU", cdn_safeguard="Processing in the EU/EEA", smtp_host="smtp.example.com",
        mail_provider_name="Mailgun Technologies, Inc.", mail_provider_location="EU (Germany)", mail_provider_safeguard="Processing in the EU/EEA",
        retention_job_enabled=False,
    )
    async with running(create_app(named)) as other, hooked_client(other) as c:
        cdn = {s["id"]: s for s in (await c.get("/v1/privacy/subprocessors")).json()}["cdn"]
        assert (cdn["name"], cdn["location"], cdn["transfer_safeguard"]) == ("Bunny Way d.o.o., Slovenia", "EU", "Processing in the EU/EEA")
        [mail] = (await c.get("/v1/privacy/notice")).json()["recipients"]["controller_recipients"]
        assert (mail["name"], mail["location"], mail["transfer_safeguard"]) == ("Mailgun Technologies, Inc.", "EU (Germany)", "Processing in the EU/EEA")


async def test_a_crm_is_named_only_when_the_operator_says_it_uses_one(backend, client):
    """Policy III.4: people who show interest in the products go into the operator's CRM. Confide sends nothing
    there itself, so the notice names none by default, and names the one the operator configures."""
    recipients = (await client.get("/v1/privacy/notice")).json()["recipients"]
    assert all(r["kind"] != "crm" for r in recipients["controller_recipients"])
    assert not any("CRM" in c for c in recipients["categories"])
    settings = backend.settings(
        crm_provider_name="Pipedrive, Inc., New York, USA", crm_provider_location="USA", crm_provider_safeguard="Standard contractual clauses (Art. 46(2)(c) GDPR)",
        retention_job_enabled=False,
    )
    async with running(create_app(settings)) as other, hooked_client(other) as c:
        recipients = (await c.get("/v1/privacy/notice")).json()["recipients"]
        [crm] = [r for r in recipients["controller_recipients"] if r["kind"] == "crm"]
        assert (crm["name"], crm["location"], crm["transfer_safeguard"]) == ("Pipedrive, Inc., New York, USA", "USA", "Standard contractual clauses (Art. 46(2)(c) GDPR)")
        assert "contact form" in crm["purpose"]
        assert "Customer relationship management (CRM) provider" in recipients["categories"]
