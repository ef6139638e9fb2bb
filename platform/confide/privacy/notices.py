"""The privacy notice's facts (Art. 13 and 14 GDPR), generated from the registry, the sub-processor
register and settings, so the notice cannot drift from what the code does."""

from __future__ import annotations

from typing import Any

from confide.core.classification import REGISTRY, Holder
from confide.privacy.records import controller_details
from confide.privacy.subprocessors import NOT_STATED, SubprocessorRegister
from confide.settings import Settings

LANGUAGE_COOKIE = "lang"
# The chat widget's one localStorage entry (static/widget.js, `storeKey`), on the page that embeds it.
WIDGET_STORAGE_KEY = "confide:widget:<widget key>"
TELEMETRY_PURPOSES = ["Troubleshooting", "Log analysis", "Infrastructure monitoring", "Application monitoring", "Resource optimisation"]

NOTICE_ROUTE = "/v1/privacy/notice"  # privacy/routes.py; mails and consent texts refer to it (policy IX.1)
MAINTENANCE = "IT service providers for maintenance and support purposes"
OTHER_PROCESSORS = "Other processors contracted to provide and improve our platform"
# Policy IV's categories of recipients, by the kind of a register entry or of a controller recipient. A kind not
# named here (a register from CONFIDE_SUBPROCESSORS_JSON may use any) is one of the "other processors".
RECIPIENT_CATEGORIES = {
    "hosting": "Hosting service providers",
    "cdn": "Provider of the CDN",
    "llm": "Providers of tools that are connected to the platform by customers",
    "monitoring": MAINTENANCE,
    "maintenance": MAINTENANCE,
    "support": MAINTENANCE,
    "mail": "Mail delivery provider",
    "crm": "Customer relationship management (CRM) provider",
}


def recipient_category(kind: str) -> str:
    return RECIPIENT_CATEGORIES.get(kind, f"{OTHER_PROCESSORS} ({kind})")


def privacy_notice_url(settings: Settings) -> str:
    return f"{settings.public_base_url}{NOTICE_ROUTE}"


def _stated(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _recipient(kind: str, name: str, purpose: str, location: str | None, safeguard: str | None) -> dict[str, str]:
    """A controller recipient as the notice lists it: where and under what safeguard, or that it is not stated."""
    return {"kind": kind, "name": name, "purpose": purpose, "location": _stated(location) or NOT_STATED, "transfer_safeguard": _stated(safeguard) or NOT_STATED}


def monitoring_recipient(settings: Settings) -> dict[str, str] | None:
    """The monitoring service or log sink the operator names (policy XI: Microsoft Azure Monitor); None when none is named."""
    name = _stated(settings.monitoring_provider)
    if name is None:
        return None
    purpose = "Receiving the platform's telemetry (metrics and application logs, without personal data) for troubleshooting, log analysis and monitoring (policy XI)"
    return _recipient("monitoring", name, purpose, settings.monitoring_location, settings.monitoring_safeguard)


def controller_recipients(settings: Settings) -> list[dict[str, str]]:
    """Recipients of the platform's own data (ours, not tenants'): the mail provider, a CRM, the monitoring service."""
    recipients = []
    if settings.smtp_host:
        name = _stated(settings.mail_provider_name) or f"The operator of the mail server at {settings.smtp_host}"
        purpose = "Delivering the platform's mails (confirmations, password resets, invitations, newsletters)"
        recipients.append(_recipient("mail", name, purpose, settings.mail_provider_location, settings.mail_provider_safeguard))
    crm = _stated(settings.crm_provider_name)
    if crm is not None:
        purpose = "Following up people who contact us with an interest in our products and services: their name, email address and message, copied from the contact form"
        recipients.append(_recipient("crm", crm, purpose, settings.crm_provider_location, settings.crm_provider_safeguard))
    monitoring = monitoring_recipient(settings)
    if monitoring is not None:
        recipients.append(monitoring)
    return recipients


_UNSTATED_SETTINGS = {"mail": "CONFIDE_MAIL_PROVIDER", "crm": "CONFIDE_CRM_PROVIDER", "monitoring": "CONFIDE_MONITORING"}


def unstated_recipients(settings: Settings) -> dict[str, list[str]]:
    """Per configured controller recipient whose location or transfer safeguard the notice says is not stated (policy
    III.4 promises a safeguard for every recipient outside the EU/EEA): the settings the operator still has to give."""
    unstated: dict[str, list[str]] = {}
    for recipient in controller_recipients(settings):
        prefix = _UNSTATED_SETTINGS[recipient["kind"]]
        missing = [f"{prefix}_{field}" for field, key in (("LOCATION", "location"), ("SAFEGUARD", "transfer_safeguard")) if recipient[key] == NOT_STATED]
        if missing:
            unstated[recipient["kind"]] = missing
    return unstated


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
            "how": f"the unsubscribe link in every newsletter, or DELETE /v1/me/newsletter; contact messages: the link in their acknowledgement "
            f"(POST /v1/contact/objection) {mail}",
        },
        {"right": "complaint to a supervisory authority", "article": "Art. 77 GDPR", "how": settings.supervisory_authority},
    ]


def retention_details(settings: Settings) -> dict[str, dict[str, Any]]:
    """Where a table's period depends on settings, the notice states the configured figures."""
    unverified_hours = settings.verification_ttl_hours + settings.unverified_account_grace_hours
    concluded = "at the next retention run" if settings.contact_retention_days == 0 else f"{settings.contact_retention_days} days later"
    access_days = settings.access_log_retention_days
    return {
        "access_log": {
            "period": f"{access_days} day{'s' if access_days != 1 else ''}, then deleted (policy V.4: seven days at the latest).",
            "days": access_days,
        },
        "user_account": {
            "period": "Until the account is deleted. An account whose email address is never verified is deleted "
            f"{unverified_hours} hours after registration (the verification token's lifetime of {settings.verification_ttl_hours} hours "
            f"plus {settings.unverified_account_grace_hours} hours' grace); verification mails sent again later do not extend this.",
            "unverified_hours": unverified_hours,
        },
        "contact_message": {
            "period": f"Until the conversation is concluded, then deleted {concluded}; a conversation no one concludes is deleted "
            f"{settings.contact_max_open_days} days after the message arrived; everything at once on objection.",
            "days": settings.contact_retention_days,
            "longest_open_days": settings.contact_max_open_days,
        },
    }


def outbox_retention(settings: Settings) -> list[dict[str, Any]]:
    """Without an SMTP server, mails are written to a folder instead of sent: copies with names and tokens,
    kept for a set time."""
    if settings.smtp_host:
        return []
    days = settings.outbox_retention_days
    return [
        {
            "data": "outbox",
            "period": f"Copies of the mails we write (no mail server is configured, so they are kept in a folder for delivery), deleted after {days} days; "
            "those about an erased account, or acknowledging a contact message someone objected to, at once.",
            "days": days,
        }
    ]


def telemetry(settings: Settings) -> dict[str, Any]:
    """Policy XI: what Confide measures about its own operation. It holds no personal data."""
    tools = ["Structured application logs (JSON) without personal data: no IP addresses, email addresses or message text"]
    if settings.metrics_enabled:
        tools.insert(0, "Prometheus metrics at GET /metrics: requests counted and timed per method, route template and status; process figures")
    monitoring = monitoring_recipient(settings)
    if monitoring is not None:
        tools.append(f"{monitoring['name']}: the monitoring service that receives these metrics and logs")
    kept = (
        f"{monitoring['name']}, which receives them, keeps them as long as the platform operator configures it"
        if monitoring is not None
        else "a monitoring system that collects them keeps them as long as the platform operator configures it"
    )
    return {
        "tools": tools,
        "monitoring_provider": monitoring,
        "purposes": TELEMETRY_PURPOSES,
        "personal_data": False,
        "data": "Counts and durations per route template, status codes, process and memory figures; never a path with ids, "
        "a query string, an address or a user.",
        "legal_basis": "Art. 6(1)(f) GDPR",
        "retention": f"Metrics are counters in the memory of each API process and start again from zero when it restarts; {kept}.",
        "objection": f"By email to {settings.telemetry_contact_email}; every other right about telemetry too.",
    }


def browser_storage(settings: Settings) -> list[dict[str, Any]]:
    """What the chat widget keeps in the visitor's browser (§ 25 TDDDG); it sets no cookie."""
    return [
        {
            "name": WIDGET_STORAGE_KEY,
            "kind": "localStorage",
            "where": "The page of a tenant's site that embeds the chat widget; never sent as a cookie",
            "purpose": "Continuing the chat across page loads and sending messages written while the connection was lost",
            "legal_basis": "§ 25(2) no. 2 TDDDG: strictly necessary for the chat the visitor asks for; the tenant is the controller of the chat",
            "contents": [
                {
                    "item": "visitor_token",
                    "purpose": "A signed, random visitor id, so the visitor's conversation can be continued",
                    "lifetime": f"Accepted for {settings.chat_visitor_token_days} days after it was issued; then replaced by a new one",
                    "max_age_days": settings.chat_visitor_token_days,
                },
                {"item": "conversation_id", "purpose": "The open conversation", "lifetime": "Until the conversation is closed"},
                {"item": "last_seq", "purpose": "The last message shown, so only newer ones are fetched", "lifetime": "With the entry"},
                {
                    "item": "outbox",
                    "purpose": "Messages the visitor wrote that the server has not acknowledged yet (pending messages)",
                    "lifetime": "Each until the server acknowledges or refuses it",
                },
            ],
            "removal": "The entry stays in the browser until the visitor clears the site's data, or until the business erases the "
            "conversation while the widget is open (the widget then removes the entry at once); the widget keeps it in memory instead "
            "where the page forbids storage.",
        }
    ]


def privacy_notice(settings: Settings, register: SubprocessorRegister) -> dict[str, Any]:
    controller_tables = sorted((r for r in REGISTRY.values() if r.holder == Holder.CONTROLLER), key=lambda r: r.table)
    recipients = controller_recipients(settings)
    # Only the categories of recipients there are: from the register's entries and the controller recipients configured.
    categories = [recipient_category(e.kind) for e in register.entries]
    # A member's profile is shown to the other members (and API keys) of each tenant the member belongs to: the business
    # decides who may work in it, so it sees who does (GET …/members).
    categories.append("The organisations (tenants) you are a member of: your names, pseudonym and email address, to their members and API integrations")
    categories.extend(recipient_category(r["kind"]) for r in recipients)
    recipient_categories = list(dict.fromkeys(categories))
    return {
        **controller_details(settings),
        "policy_version": settings.privacy_policy_version,
        "url": privacy_notice_url(settings),
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
            "controller_recipients": recipients,  # recipients of the platform's own data only (policy IV)
            "third_country_transfers": "Where a recipient is outside the EU/EEA, transfers rest on appropriate safeguards, "
            "e.g. standard contractual clauses under Art. 46(2)(c) GDPR; each recipient's safeguard is listed.",
        },
        "retention": [
            *(
                {"data": r.table, "period": r.retention, "days": r.retention_days, **retention_details(settings).get(r.table, {})}
                for r in controller_tables
            ),
            *outbox_retention(settings),
        ],
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
        "browser_storage": browser_storage(settings),
        "access_logs": {
            "data": ["IP address", "date and time of access (to the minute)", "the request's method, route template (no ids, no query) and status"],
            "stored": "In a table of its own, linked to no account or other personal data (no ids, and times only to the minute).",
            "legal_basis": "Art. 6(1)(f) GDPR",
            "retention_days": settings.access_log_retention_days,
            "objection": "Not possible: needed to operate the platform (policy V.5).",
        },
        "telemetry": telemetry(settings),
        "newsletter": {
            "consent_text": settings.newsletter_consent_text,
            "consent_version": settings.newsletter_consent_version,
            "privacy_notice": privacy_notice_url(settings),  # policy IX.1: the consent refers to this notice
            "data": ["email address", "pseudonym", "the network prefix (/24 or /48) and channel of each consent step, as proof (Art. 7(1) GDPR)"],
            "double_opt_in": True,
        },
        "processor_role": "For data of end customers who chat with a tenant's avatars, the tenant is the controller "
        "and we process on its documented instructions (Art. 28 GDPR); address such requests to the tenant.",
    }


def contact_sender_information(settings: Settings, register: SubprocessorRegister) -> dict[str, Any]:
    """What an access request by a contact-form sender gets beside the messages (Art. 15(1)(a)-(h)): the notice's facts
    about contact messages."""
    notice = privacy_notice(settings, register)
    [processing] = [p for p in notice["processing"] if p["data"] == "contact_message"]
    [retention] = [r for r in notice["retention"] if r["data"] == "contact_message"]
    return {
        "controller": notice["controller"],
        "data_protection_officer": notice["data_protection_officer"],
        "processing": processing,
        "retention": retention,
        "recipients": notice["recipients"],
        "rights": notice["rights"],
        "automated_decision_making": notice["automated_decision_making"],
        "source": "You sent us this data with the contact form (POST /v1/contact).",
        "privacy_notice": notice["url"],
    }
