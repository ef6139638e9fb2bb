"""Settings from the environment (prefix CONFIDE_); every operator detail lives here, never in code."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONFIDE_", extra="ignore")

    # Storage and services
    data_dir: Path = Field(default=Path("confide-data"), description="Folder for the embedded SQLite file, the mail outbox and the generated secret key.")
    database_url: str | None = Field(default=None, description="SQLAlchemy async URL; default: SQLite in data_dir.")
    database_pool_size: int = Field(
        default=20, ge=2, le=500, description="PostgreSQL connections kept open per process (plus up to 10 more under bursts); chat messages use up to half as many again, plus one."
    )
    database_pool_pre_ping: bool = Field(
        default=False, description="Test each pooled PostgreSQL connection before use: no failed request after a database restart, at one more round trip per transaction."
    )
    redis_url: str | None = Field(default=None, description="redis://… for pub/sub, rate limits and presence; default: in-process.")
    redis_prefix: str = Field(default="confide:", description="Prefix of every Redis key and channel.")
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="Signing key (visitor tokens, cursors, links), at least 32 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`); "
        "default: generated once and kept in data_dir. A shorter key used before goes to previous_secret_keys while a new one signs.",
    )
    previous_secret_keys: str = Field(
        default="",
        description="Comma-separated earlier signing keys, accepted but never used to sign, so a rotation logs no visitor out and breaks no "
        "cursor, unsubscribe link or erasure-ledger match. Keep a key listed while the erasure ledger should still recognise subjects erased "
        "under it; never list one that leaked.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL used in mails and links: an absolute http(s) URL (a trailing `/` is dropped). Use https in production: mail clients "
        "offer one-click unsubscribe only for https, and a node sending over SMTP logs a warning otherwise.",
    )
    trusted_proxies: str = Field(default="127.0.0.1", description="Comma-separated proxy addresses whose X-Forwarded-For is believed.")

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str) -> str:
        """Links in mails are this plus a path: an absolute http(s) URL with a host, no query or fragment, and
        no trailing slash (which made `…//newsletter/unsubscribe`)."""
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://chat.example.com (no query or fragment)")
        return value.strip().rstrip("/")

    # Accounts
    token_ttl_hours: int = Field(default=24 * 14, ge=1)
    verification_ttl_hours: int = Field(default=48, ge=1)
    unverified_account_grace_hours: int = Field(
        default=24,
        ge=0,
        description="Hours past the verification token's lifetime (verification_ttl_hours) after registration that an account whose email "
        "address was never verified is kept; then the retention job deletes it with everything linked to it. Counted from registration: a "
        "verification mail sent again later does not extend it.",
    )
    invitation_ttl_hours: int = Field(default=24 * 7, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    login_limit_per_account: int = Field(
        default=10,
        ge=1,
        description="Failed sign-ins per account from one client address per window; then that address is refused for that account until "
        "the window ends. Only failures count, so guessing from elsewhere leaves a person's own sign-in alone (up to "
        "CONFIDE_LOGIN_FAILURES_PER_ACCOUNT).",
    )
    login_failures_per_account: int = Field(
        default=100,
        ge=1,
        description="Failed sign-ins per account from all addresses together per window: the ceiling on guessing spread over many addresses. "
        "Reached, it refuses every sign-in to that account until the window ends (a password reset still works).",
    )
    login_limit_per_address: int = Field(default=30, ge=1, description="Login attempts per client address per window.")
    login_window_seconds: int = Field(default=900, ge=1)
    password_reset_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60, description="Lifetime of a mailed password-reset token; it works once, and a newer one voids it.")
    password_reset_limit_per_account: int = Field(default=5, ge=1, description="Password-reset requests per email address per window (known or not, so the limit reveals nothing).")
    password_reset_limit_per_address: int = Field(default=30, ge=1, description="Password-reset requests, and separately confirmations, per client address per window.")
    password_reset_window_seconds: int = Field(default=3600, ge=1, description="Window of the password-reset rate limits.")
    verification_resend_limit_per_account: int = Field(
        default=5, ge=1, description="Confirmation mails sent again per email address per password_reset_window_seconds (known or not)."
    )
    verification_resend_limit_per_address: int = Field(default=30, ge=1, description="Confirmation mails sent again per client address per password_reset_window_seconds.")
    registration_limit_per_account: int = Field(
        default=5, ge=1, description="Registrations per email address per password_reset_window_seconds (known or not, so the limit reveals nothing)."
    )
    registration_limit_per_address: int = Field(default=30, ge=1, description="Registrations per client address per password_reset_window_seconds.")
    privacy_policy_version: str = Field(default="2024-01", description="The privacy policy version new registrations must acknowledge.")

    # Mail
    mail_from: str = "Confide <no-reply@confide.localhost>"
    smtp_host: str | None = Field(default=None, description="SMTP server; default: mails are written to data_dir/outbox.")
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    outbox_dir: Path | None = None
    outbox_retention_days: int = Field(default=30, ge=1, description="Days a mail stays in the outbox folder (data_dir/outbox, written when no SMTP server is set) before the retention job deletes it.")

    # Privacy: access logs, controller and DPO (privacy policy sections I, II and V)
    access_log_retention_days: int = Field(default=7, ge=1, le=7)
    access_log_flush_seconds: float = Field(default=1.0, gt=0)
    controller_name: str = "Humanizing Technologies GmbH"
    controller_address: str = "In der Trift 1, 57462 Olpe, Germany"
    controller_phone: str = "+49 221 715975 75"
    controller_email: str = "contact@plural.io"
    controller_web: str = "go.plural.io"
    dpo_name: str = "DataCo GmbH"
    dpo_address: str = "Dachauer Straße 65, 80335 München, Germany"
    dpo_phone: str = "+49 89 7400 45840"
    dpo_web: str = "www.dataguard.de"
    telemetry_contact_email: str = Field(
        default="contact@humanizing.com", description="Where objections to telemetry (metrics, logs) and other rights about it go (policy XI.5)."
    )

    # LLM (OpenAI-compatible)
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "CONFIDE_OPENAI_BASE_URL"),
        description="An OpenAI-compatible endpoint for avatars with engine `openai` (OpenAI, Azure OpenAI, vLLM, Ollama, ...). It receives the "
        "avatar's prompt and the conversation's recent turns, PII-redacted where the tenant instructs, and nothing about our servers (the "
        "`openai` client's platform headers are left out and its user agent is just `Confide`).",
    )
    openai_api_key: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CONFIDE_OPENAI_API_KEY"), description="Its API key.")
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL", "CONFIDE_OPENAI_MODEL"), description="Model for avatars that name none.")
    openai_allowed_models: str = Field(
        default="",
        description="Comma-separated further models a tenant's avatar may name, besides CONFIDE_OPENAI_MODEL (empty: only that one). The calls "
        "run on this deployment's key, so tenants choose among what the operator pays for; an avatar saved with another is refused (422), "
        "and one whose model was since taken off the list answers with CONFIDE_OPENAI_MODEL.",
    )
    openai_max_tokens: int = Field(
        default=1024,
        ge=1,
        description="The most tokens one reply may ask the LLM for: an avatar's responder.max_tokens above it is refused (422), and a reply "
        "never asks for more.",
    )
    preview_limit_per_minute: int = Field(default=60, ge=1, description="Previews of avatar drafts (each may call the LLM) per minute, per tenant and per person or API key.")

    # Realtime chat
    chat_max_frame_bytes: int = Field(
        default=16_384, ge=256, description="Largest websocket frame accepted; larger ones get an error frame, and one over websocket_max_size closes the connection (1009)."
    )
    chat_max_message_chars: int = Field(default=4_000, ge=1, description="Longest chat message text.")
    chat_visitor_messages_per_window: int = Field(default=30, ge=1, description="Messages one visitor may send per rate window.")
    chat_address_connects_per_window: int = Field(default=120, ge=1, description="Websocket connections one client address may open per rate window.")
    chat_rate_window_seconds: int = Field(default=60, ge=1)
    chat_max_connections_per_visitor: int = Field(default=5, ge=1, description="Open websocket connections one visitor may hold at once.")
    chat_idle_timeout_seconds: float = Field(default=300, gt=0, description="Close a chat connection after this long without a frame.")
    chat_hello_timeout_seconds: float = Field(default=10, gt=0, description="Time a new connection has to send its hello frame.")
    chat_flood_strikes: int = Field(default=5, ge=1, description="Rate-limited frames in a row tolerated before the connection is closed; a frame that goes through forgives the earlier ones.")
    chat_frames_per_second: float = Field(
        default=10.0, gt=0, description="Frames of any kind (typing, ping, invalid ones too) one chat connection (visitor or operator) may send per second on average; more get rate-limited errors."
    )
    chat_frame_burst: int = Field(default=30, ge=1, description="Frames one chat connection (visitor or operator) may send at once before chat_frames_per_second applies.")
    chat_visitor_token_days: int = Field(default=365, ge=1, description="Lifetime of a signed visitor token kept by the widget.")

    # Operations
    gc_freeze_after_startup: bool = Field(default=True, description="Move the heap built at start-up out of the garbage collector's way, so full collections do not pause chats for hundreds of milliseconds.")
    gc_thresholds: tuple[int, int, int] | None = Field(
        default=(50_000, 20, 20),
        description="The cyclic garbage collector's thresholds (gc.set_threshold), set after start-up; null keeps Python's (700, 10, 10). "
        "Rarer young collections let a chat message's short-lived objects die before they are collected, so fewer reach the old "
        "generation and full collections, which pause the node for every open connection, come rarely.",
    )
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'confide.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def openai_models(self) -> tuple[str, ...]:
        """The models an avatar may name: the default first, then CONFIDE_OPENAI_ALLOWED_MODELS."""
        extra = (m.strip() for m in self.openai_allowed_models.split(","))
        return tuple(dict.fromkeys([self.openai_model, *(m for m in extra if m)]))

    @cached_property
    def secret_keys(self) -> tuple[str, ...]:
        """The key that signs, then the earlier ones that still verify."""
        previous = (key.strip() for key in self.previous_secret_keys.split(","))
        return (self.resolved_secret_key, *(key for key in previous if key and key != self.resolved_secret_key))

    @cached_property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def websocket_max_size(self) -> int:
        """The largest websocket message the server reads at all: four times the frame limit (at least
        64 KiB), so a frame over the limit still gets its error frame; beyond, the close code 1009."""
        return max(65_536, 4 * self.chat_max_frame_bytes)

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    # Privacy controls
    subprocessors_json: str | None = Field(
        default=None,
        description="The sub-processor register as a JSON list of {id, name, kind, purpose, location, transfer_safeguard, required}; "
        "default: the hosting provider, the CDN (unless cdn_provider is empty), and the LLM provider of OPENAI_BASE_URL when one is configured.",
    )
    hosting_provider: str = "Microsoft Ireland Operations Limited (Microsoft Azure)"
    hosting_location: str = "EU (Azure region West Europe, Netherlands)"
    hosting_safeguard: str = Field(
        default="Processing in the EU; Standard contractual clauses, Art. 46(2)(c) GDPR, for any access from outside the EU/EEA",
        min_length=1,
        description="The hosting provider's transfer safeguard, listed in the sub-processor register (policy III.4).",
    )
    cdn_provider: str = Field(
        default="Microsoft Corporation (Microsoft Azure CDN), One Microsoft Way, Redmond, WA 98052-6399, USA",
        description="The CDN in front of the platform (policy X), listed in the sub-processor register; empty: no CDN, no entry.",
    )
    cdn_location: str = Field(default="Worldwide edge servers; USA", description="Where the CDN processes.")
    cdn_safeguard: str = Field(default="Standard contractual clauses, Art. 46(2)(c) GDPR; EU-U.S. Data Privacy Framework", description="The CDN's transfer safeguard.")
    mail_provider_name: str | None = Field(
        default=None, description="Who runs SMTP_HOST, named among the recipients of the privacy notice; default: the operator of that host, unnamed."
    )
    mail_provider_location: str | None = Field(default=None, description="Where the mail provider processes; default: not stated (with SMTP_HOST set, a warning at start-up).")
    mail_provider_safeguard: str | None = Field(default=None, description="The mail provider's transfer safeguard; default: not stated (with SMTP_HOST set, a warning at start-up).")
    crm_provider_name: str | None = Field(
        default=None,
        description="The CRM into which the platform operator copies the enquiries of people interested in its products (contact messages), "
        "named among the recipients of the privacy notice (policy III.4). Confide sends nothing there itself; default: no CRM.",
    )
    crm_provider_location: str | None = Field(default=None, description="Where the CRM provider processes; default: not stated (with a CRM named, a warning at start-up).")
    crm_provider_safeguard: str | None = Field(default=None, description="The CRM provider's transfer safeguard; default: not stated (with a CRM named, a warning at start-up).")
    monitoring_provider: str | None = Field(
        default=None,
        description="The monitoring service or log sink that receives the platform's telemetry (the /metrics figures and the JSON logs, "
        "neither with personal data), e.g. `Microsoft Corporation (Azure Monitor)` (policy XI), named in the privacy notice's telemetry "
        "and among its recipients; default: none named.",
    )
    monitoring_location: str | None = Field(default=None, description="Where the monitoring provider processes; default: not stated (a warning at start-up).")
    monitoring_safeguard: str | None = Field(default=None, description="The monitoring provider's transfer safeguard; default: not stated (a warning at start-up).")
    llm_provider_name: str | None = Field(default=None, description="Who runs OPENAI_BASE_URL; default: derived from its host name.")
    llm_provider_location: str | None = Field(
        default=None,
        description="Where the provider of OPENAI_BASE_URL processes; default: known for OpenAI's, Anthropic's and Mistral's APIs, else the register says it is not stated.",
    )
    llm_provider_safeguard: str | None = Field(
        default=None, description="The transfer safeguard for that provider; default: known for those three APIs, else the register says it is not stated."
    )
    supervisory_authority: str = "Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen, Kavalleriestraße 2-4, 40213 Düsseldorf"
    instructions_cache_seconds: float = Field(default=2.0, ge=0, description="How long a node trusts its cached copy of a tenant's processing instructions.")
    processing_log_flush_seconds: float = Field(default=1.0, gt=0)
    processing_log_retention_days: int = Field(default=365, ge=1, description="How long a tenant's processing log entries are kept.")
    newsletter_consent_version: str = Field(
        default="newsletter-2026-12",
        description="Version of the newsletter consent text people agree to, recorded with each consent step; give a new one whenever the text changes.",
    )
    newsletter_consent_text: str = Field(
        default="Yes, send me the Confide newsletter by email. I can withdraw at any time with the link in every newsletter. "
        "How my data is processed for it is explained in the privacy notice.",
        min_length=1,
        description="The newsletter consent text (policy IX.1: it refers to the privacy notice, whose address the confirmation mail "
        "gives); change newsletter_consent_version with it.",
    )
    contact_consent_version: str = "contact-2024-01"
    contact_retention_days: int = Field(default=0, ge=0, description="Days a concluded contact message is kept; 0: deleted by the next retention run after the conversation ended (policy VIII.4).")
    contact_max_open_days: int = Field(
        default=180, ge=1, description="Longest time a contact message is kept while no one concludes its conversation; the retention job then deletes it (policy VIII.4)."
    )
    contact_limit_per_hour: int = Field(default=10, ge=1, description="Contact messages per client address (and per email address) per hour.")
    retention_job_enabled: bool = Field(default=True, description="Run the retention job in the background of `confide serve`.")
    retention_interval_seconds: float = Field(
        default=3600,
        gt=0,
        le=86400,
        description="Seconds between retention runs (at most a day; with the job off, run `confide retention run` at least this often); "
        "the first runs one interval after the last recorded run, or a minute after start when that is past. Each run also deletes the access logs that would pass their retention before the next run.",
    )
    erasure_worker_enabled: bool = Field(default=True, description="Carry out tenants' erasure requests in the background of `confide serve` (one runner per cluster).")
    erasure_batch_rows: int = Field(default=5000, ge=1, description="Rows the erasure worker removes per transaction; it yields to the chat between batches.")
    erasure_poll_seconds: float = Field(default=5.0, gt=0, description="Seconds between the erasure worker's looks at the queue (a request on the same node wakes it at once).")
    erasure_ledger_sweep_seconds: float = Field(default=600.0, gt=0, description="Seconds between sweeps that erase again any data of erased subjects that reappears (imports, tables or tenants restored from a backup; a whole-database restore brings back an older ledger, see docs/tenant-data.md).")
    operator_token: str | None = Field(
        default=None,
        min_length=32,
        description="Secret for the platform-operator routes under /v1/admin (header X-Operator-Token), at least 32 characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`); unset disables them.",
    )
    operator_token_failures_per_address: int = Field(
        default=10, ge=1, description="Wrong operator tokens one client address may send per 15 minutes; then the operator routes refuse it (429) until the window ends."
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics (no personal data in any label).")
    metrics_token: str | None = Field(
        default=None,
        min_length=32,
        description="When set (at least 32 characters), /metrics answers only requests with `Authorization: Bearer <token>`; unset, it is open: then serve it on an "
        "internal port or network only (it shows per-route request counts and process memory, no personal data).",
    )
    language_cookie_days: int = Field(default=365, ge=1, le=365, description="Lifetime of the `lang` cookie, the only cookie Confide sets.")
    export_concurrency_per_node: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Tenant exports (and export manifests) one node reads at once, each on a database connection of its own; more answer 503 "
        "service-unavailable with Retry-After. Keep it well below the pool (database_pool_size plus 10; 15 on SQLite), so stalled downloads "
        "never take the connections every other request needs.",
    )
    export_concurrency_per_tenant: int = Field(
        default=2, ge=1, le=100, description="Exports (and export manifests) one tenant runs at once across all nodes; more answer 429 rate-limited with Retry-After."
    )
    export_stall_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="An export whose client takes no data for this long is ended (the download stops without its manifest) and its database connection and snapshot are released."
    )
    export_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Longest an export may stream, however steadily its client reads: it holds a database connection and, on PostgreSQL, a "
        "REPEATABLE READ snapshot throughout. A longer one is ended without its manifest; export in parts with from/to instead.",
    )

    # Evaluation and webhooks
    webhook_allow_http_loopback: bool = Field(default=False, description="Allow http:// webhook URLs to loopback addresses (tests, development); otherwise only https to public hosts.")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Time a webhook receiver has to answer one delivery attempt.")
    webhook_max_attempts: int = Field(default=6, ge=1, le=20, description="Attempts per webhook delivery (the first and its retries).")
    webhook_retry_base_seconds: float = Field(default=2.0, ge=0, description="Backoff before the first retry; doubles each retry, with jitter.")
    webhook_retry_max_seconds: float = Field(default=300.0, ge=0, description="Longest wait between two webhook attempts.")
    webhook_delivery_log_days: int = Field(default=30, ge=1, description="Days the webhook delivery log (status codes and times, never payloads) is kept; so are the records of ended deliveries (their payload is deleted when they end).")
    webhook_allowed_ports: list[int] = Field(
        default=[443], description="Ports a webhook URL may name (JSON list); default 443 only. Loopback URLs allowed by webhook_allow_http_loopback may name any port. Narrowing the list leaves endpoints saved under the wider one failing their deliveries: each node names them (ids) in a warning at start."
    )
    webhook_endpoints_per_tenant: int = Field(default=20, ge=1, description="Most webhook endpoints one tenant may have.")
    webhook_pings_per_minute: int = Field(default=10, ge=1, description="Test pings (POST .../webhooks/{id}/ping) one tenant may send per minute.")
