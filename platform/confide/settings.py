"""Settings from the environment (prefix CONFIDE_); every operator detail lives here, never in code."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONFIDE_", extra="ignore")

    # Storage and services
    data_dir: Path = Field(default=Path("confide-data"), description="Folder for the embedded SQLite file, the mail outbox and the generated secret key.")
    database_url: str | None = Field(default=None, description="SQLAlchemy async URL; default: SQLite in data_dir.")
    redis_url: str | None = Field(default=None, description="redis://… for pub/sub, rate limits and presence; default: in-process.")
    redis_prefix: str = Field(default="confide:", description="Prefix of every Redis key and channel.")
    secret_key: str | None = Field(default=None, description="Signing key; default: generated once and kept in data_dir.")
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="Base URL used in mails and links.")
    trusted_proxies: str = Field(default="127.0.0.1", description="Comma-separated proxy addresses whose X-Forwarded-For is believed.")

    # Accounts
    token_ttl_hours: int = Field(default=24 * 14, ge=1)
    verification_ttl_hours: int = Field(default=48, ge=1)
    invitation_ttl_hours: int = Field(default=24 * 7, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    login_limit_per_account: int = Field(default=10, ge=1, description="Failed-or-not login attempts per account per window.")
    login_limit_per_address: int = Field(default=30, ge=1, description="Login attempts per client address per window.")
    login_window_seconds: int = Field(default=900, ge=1)
    privacy_policy_version: str = Field(default="2024-01", description="The privacy policy version new registrations must acknowledge.")

    # Mail
    mail_from: str = "Confide <no-reply@confide.localhost>"
    smtp_host: str | None = Field(default=None, description="SMTP server; default: mails are written to data_dir/outbox.")
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    outbox_dir: Path | None = None

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

    # LLM (OpenAI-compatible)
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "CONFIDE_OPENAI_BASE_URL"))
    openai_api_key: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CONFIDE_OPENAI_API_KEY"))

    # Operations
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

    @cached_property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
