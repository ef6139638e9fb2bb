"""The sub-processor register (Art. 28(2) and (4) GDPR): who processes tenants' data on our behalf,
for what, where, and under which transfer safeguard. It comes from settings, never from code."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from confide.settings import Settings

LLM = "llm"
_US_SAFEGUARD = "Standard contractual clauses, Art. 46(2)(c) GDPR; EU-U.S. Data Privacy Framework where the provider is certified"


class KnownProvider(NamedTuple):
    name: str
    location: str
    safeguard: str


KNOWN_LLM_HOSTS = {
    "api.openai.com": KnownProvider("OpenAI, L.L.C., 1455 3rd Street, San Francisco, CA 94158, USA", "USA", _US_SAFEGUARD),
    "api.mistral.ai": KnownProvider("Mistral AI, 15 rue des Halles, 75001 Paris, France", "EU (France)", "Processing in the EU/EEA; no transfer to a third country"),
    "api.anthropic.com": KnownProvider("Anthropic, PBC, 548 Market Street, San Francisco, CA 94104, USA", "USA", _US_SAFEGUARD),
}
# Any other endpoint (a self-hosted vLLM or Ollama, Azure, a reseller): where it runs is the operator's to
# say. The register says so rather than guess a country (it used to say "USA" for every endpoint), and the
# node warns at start-up (`unstated_llm_provider`) until the settings say it.
NOT_STATED = "Not yet stated by the platform operator; ask us (see the controller's contact details)"


class Subprocessor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="Stable id tenants name in their instructions.")
    name: str = Field(min_length=1, max_length=300)
    kind: str = Field(min_length=1, max_length=40, description="hosting, cdn, llm, …; `llm` marks the provider of OPENAI_BASE_URL.")
    purpose: str = Field(min_length=1, max_length=500)
    location: str = Field(min_length=1, max_length=200)
    transfer_safeguard: str = Field(min_length=1, max_length=300)
    required: bool = Field(default=False, description="Needed to deliver the service at all, so every tenant's instructions include it.")


class SubprocessorRegister:
    def __init__(self, entries: list[Subprocessor]) -> None:
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise ValueError("sub-processor ids must be unique")
        if sum(e.kind == LLM for e in entries) > 1:
            raise ValueError("at most one sub-processor of kind 'llm': the provider of OPENAI_BASE_URL")
        self.entries = tuple(entries)
        self.by_id = {e.id: e for e in entries}

    @property
    def required_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries if e.required)

    @property
    def llm_provider(self) -> Subprocessor | None:
        """The entry for the configured LLM endpoint; None when no external LLM is configured."""
        return next((e for e in self.entries if e.kind == LLM), None)

    def unknown(self, ids: list[str] | tuple[str, ...]) -> list[str]:
        return [i for i in ids if i not in self.by_id]


def unstated_llm_provider(settings: Settings) -> list[str]:
    """The settings an operator still has to give for the LLM entry to say where data goes: none for a
    known host or when they are set; otherwise the location and/or safeguard settings' names."""
    if not settings.openai_base_url or (urlsplit(settings.openai_base_url).hostname or "") in KNOWN_LLM_HOSTS:
        return []
    missing = {"CONFIDE_LLM_PROVIDER_LOCATION": settings.llm_provider_location, "CONFIDE_LLM_PROVIDER_SAFEGUARD": settings.llm_provider_safeguard}
    return [name for name, value in missing.items() if not value]


def llm_provider_entry(settings: Settings) -> Subprocessor:
    """The register's entry for OPENAI_BASE_URL: what the settings say, else what is known of its host."""
    host = urlsplit(settings.openai_base_url or "").hostname or "unknown host"
    known = KNOWN_LLM_HOSTS.get(host)
    return Subprocessor(
        id=LLM,
        name=settings.llm_provider_name or (known.name if known else f"Operator of the LLM endpoint at {host}"),
        kind=LLM,
        purpose="Generating avatar replies from the conversation (only when a tenant instructs external_llm)",
        location=settings.llm_provider_location or (known.location if known else NOT_STATED),
        transfer_safeguard=settings.llm_provider_safeguard or (known.safeguard if known else NOT_STATED),
    )


def default_entries(settings: Settings) -> list[Subprocessor]:
    entries = [
        Subprocessor(
            id="hosting",
            name=settings.hosting_provider,
            kind="hosting",
            purpose="Hosting the platform: servers, database, cache and backups",
            location=settings.hosting_location,
            transfer_safeguard=settings.hosting_safeguard,
            required=True,
        ),
    ]
    if settings.cdn_provider.strip():
        entries.append(
            Subprocessor(
                id="cdn",
                name=settings.cdn_provider,
                kind="cdn",
                purpose="Delivering the dashboard and the chat widget quickly and protecting them from misuse (policy X)",
                location=settings.cdn_location,
                transfer_safeguard=settings.cdn_safeguard,
                required=True,
            )
        )
    if settings.openai_base_url:
        entries.append(llm_provider_entry(settings))
    return entries


_ENTRIES = TypeAdapter(list[Subprocessor])


@lru_cache(maxsize=32)
def _parse(raw: str) -> tuple[Subprocessor, ...]:
    try:
        return tuple(_ENTRIES.validate_python(json.loads(raw)))
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"CONFIDE_SUBPROCESSORS_JSON is not a valid sub-processor list: {exc}") from exc


def register_from_settings(settings: Settings) -> SubprocessorRegister:
    entries = list(_parse(settings.subprocessors_json)) if settings.subprocessors_json else default_entries(settings)
    return SubprocessorRegister(entries)
