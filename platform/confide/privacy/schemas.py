"""Request and response bodies of the privacy routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from confide.accounts.schemas import normalise_phone
from confide.core.patching import not_clearable
from confide.core.schemas import LongName, Name, RequestBody, ResponseBody
from confide.privacy.cookies import standard_language_tag
from confide.privacy.gate import Purpose
from confide.privacy.instructions import Instructions

TOKEN = Field(min_length=10, max_length=300)


# Processing instructions


class PurposesChange(RequestBody):
    answer_chats: bool | None = None
    store_transcripts: bool | None = None
    evaluate: bool | None = None
    operator_review: bool | None = None
    external_llm: bool | None = Field(default=None, description="Needs the LLM provider among authorised_subprocessors.")


class InstructionsChange(RequestBody):
    """A new version: the current one with these fields replaced. Omitted fields keep their value."""

    purposes: PurposesChange | None = None
    redact_pii_before_llm: bool | None = None
    retention_days: int | None = Field(default=None, ge=1, le=3650, description="Days chat transcripts are kept.")
    authorised_subprocessors: list[str] | None = Field(
        default=None, max_length=50, description="Ids from GET /v1/privacy/subprocessors; the required ones must stay."
    )


class Purposes(ResponseBody):
    answer_chats: bool
    store_transcripts: bool
    evaluate: bool
    operator_review: bool
    external_llm: bool


class Author(ResponseBody):
    kind: Literal["user", "api_key", "erased"] = Field(description="user, api_key, or erased (the author's account or key no longer exists).")
    id: str | None


class InstructionsOut(ResponseBody):
    tenant_id: str
    version: int = Field(description="0: the defaults, nothing stored yet.")
    purposes: Purposes
    redact_pii_before_llm: bool
    retention_days: int
    authorised_subprocessors: list[str]
    llm_provider_authorised: bool = Field(
        description="The LLM provider configured now is authorised: `llm` is among authorised_subprocessors, and was put "
        "there while this provider stood behind it."
    )
    llm_provider: dict[str, str] | None = Field(
        description="The LLM provider (`name`, `location`, `transfer_safeguard`) as it stood when `llm` was authorised; "
        "`{}` when it is not authorised, null for the defaults."
    )
    llm_provider_changed: bool = Field(
        description="The platform has changed its LLM provider since this tenant authorised `llm`: avatars answer from "
        "their knowledge until the tenant authorises the new one, by sending authorised_subprocessors (with `llm`) again."
    )
    set_by: Author | None = Field(description="Null for the defaults.")
    set_at: datetime | None

    @classmethod
    def of(cls, instructions: Instructions, *, llm_authorised: bool) -> InstructionsOut:
        if instructions.version == 0:
            author = None
        elif instructions.author_user_id:
            author = Author(kind="user", id=instructions.author_user_id)
        elif instructions.author_api_key_id:
            author = Author(kind="api_key", id=instructions.author_api_key_id)
        else:
            author = Author(kind="erased", id=None)
        return cls(
            tenant_id=instructions.tenant_id,
            version=instructions.version,
            purposes=Purposes(
                answer_chats=instructions.answer_chats,
                store_transcripts=instructions.store_transcripts,
                evaluate=instructions.evaluate,
                operator_review=instructions.operator_review,
                external_llm=instructions.external_llm,
            ),
            redact_pii_before_llm=instructions.redact_pii_before_llm,
            retention_days=instructions.retention_days,
            authorised_subprocessors=list(instructions.subprocessors),
            llm_provider_authorised=llm_authorised,
            llm_provider=instructions.llm_provider if instructions.version else None,
            llm_provider_changed=instructions.llm_provider_changed,
            set_by=author,
            set_at=instructions.created_at,
        )


class ProcessingLogOut(ResponseBody):
    id: str
    at: datetime
    purpose: Purpose = Field(description="What the operation was for (the purposes of the processing instructions, and the tenant's export and erasure).")
    actor: str
    subject_ref: str | None
    counts: dict[str, Any]
    instructions_version: int


# Platform users' rights


class ErasureRequest(RequestBody):
    password: str = Field(min_length=1, max_length=256, description="Your current password, to confirm it is you.")


class ErasureReceipt(ResponseBody):
    erased_at: datetime
    carried_out_by: Literal["self-service", "operator"] = Field(
        description="self-service: you, signed in and with your password; operator: the platform operator, on your request "
        "by email to the controller, once verified."
    )
    deleted: dict[str, int] = Field(description="Rows deleted per table.")
    unlinked: dict[str, int] = Field(description="Rows kept for their owner but no longer linked to you.")
    kept: list[dict[str, str]]


class RestrictionOut(ResponseBody):
    status: Literal["restricted", "active"] = Field(description="The account's status after the call: restricted, or active once the restriction is lifted.")
    detail: str


class ObjectionRequest(RequestBody):
    grounds: str | None = Field(default=None, max_length=2000, description="Your particular situation (optional).")


class ObjectionDeleted(ResponseBody):
    contact_message: int = Field(description="Your contact messages deleted (rows).")
    outbox_files: int = Field(
        description="Copies of the acknowledgements of your contact messages deleted from the mail outbox folder (files; only without SMTP)."
    )


class ObjectionOut(ResponseBody):
    id: str
    created_at: datetime
    stopped: list[str] = Field(description="What the objection stopped: newsletter, contact_messages.")
    deleted: ObjectionDeleted = Field(description="What it deleted, rows and outbox files counted apart.")
    continues: list[dict[str, str]]


class NewsletterOut(ResponseBody):
    status: Literal["none", "pending", "active"] = Field(description="none, pending (confirmation mailed) or active.")
    consent_version: str
    requested_at: datetime | None = None
    confirmed_at: datetime | None = None


class TokenBody(RequestBody):
    token: str = TOKEN


# Contact


class ContactRequest(RequestBody):
    name: LongName
    email: EmailStr = Field(max_length=320)
    message: str = Field(min_length=1, max_length=10_000)
    consent: bool = Field(description="Consent to processing your details to answer you (Art. 6(1)(a) GDPR). Must be true.")

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("We can only store and answer your message with your consent")
        return value


class Accepted(ResponseBody):
    detail: str


class ContactSender(RequestBody):
    """A contact-form sender's request by email or in writing (an objection, policy VIII.5, or access to what is held,
    Art. 15), verified by the operator."""

    email: EmailStr = Field(max_length=320, description="The address the contact messages came from (case is ignored); no account is needed.")


class ContactObjectionOut(ResponseBody):
    deleted: int
    detail: str


class ContactOut(ResponseBody):
    id: str
    name: str
    email: str
    message: str
    consent_version: str
    received_at: datetime
    concluded_at: datetime | None


class ContactSenderExport(ResponseBody):
    """Everything held about a contact-form sender (Art. 15 and 20), for the operator to send them."""

    email: str = Field(description="The address asked about, as stored (lower case).")
    generated_at: datetime
    contact_messages: list[ContactOut] = Field(description="Every stored message from this address, oldest first; empty when none is held.")
    information: dict[str, Any] = Field(
        description="What Art. 15(1) asks beside the data, from the privacy notice: purpose and legal basis, retention, recipients, "
        "rights, and the data's source."
    )


# Preferences


class LanguageBody(RequestBody):
    language: str = Field(min_length=1, max_length=35, description="A BCP 47 language tag, e.g. de, en-GB.")

    @field_validator("language")
    @classmethod
    def _bcp47(cls, value: str) -> str:
        return standard_language_tag(value)


class LanguageOut(ResponseBody):
    language: str | None


# Operators


class NewsletterIssue(RequestBody):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=100_000)
    resume_after: str | None = Field(
        default=None, max_length=64, description="The `resume_after` of a run that stopped part-way: this run sends the issue to the subscribers it did not reach."
    )


class NewsletterSent(ResponseBody):
    sent: int = Field(description="Subscribers this run mailed the issue to.")
    not_sent: int = Field(description="Subscribers it did not reach because the mail server stopped taking mail; 0 when it went to everyone.")
    resume_after: str | None = Field(description="When `not_sent` > 0: send the same issue again with this as `resume_after` to reach only them.")


class NewsletterSubscriber(RequestBody):
    """A newsletter subscriber's withdrawal of consent by email or in writing (Art. 7(3)), verified by the operator."""

    email: EmailStr = Field(
        max_length=320,
        description="The address the newsletter goes to, the account's (confirmed or not yet confirmed) email address (case is ignored).",
    )


class NewsletterWithdrawalOut(ResponseBody):
    withdrawn: bool = Field(description="true: a pending or active subscription was withdrawn now; false: there was none (withdrawn before, or never).")
    status: Literal["none"] = Field(description="The address's newsletter status now: no newsletter goes to it.")
    consent_version: str = Field(description="The consent text version recorded with the withdrawal.")
    detail: str


class AccountRequest(RequestBody):
    """A data-rights request a platform user sent by email to the controller, which the operator has verified."""

    email: EmailStr = Field(
        max_length=320,
        description="The account's confirmed email address, the one the request came from (case is ignored; "
        "a pending, unconfirmed address change does not count).",
    )


class AccountRectification(AccountRequest):
    """Corrections a user asked for by email (Art. 16), as PATCH /v1/me makes them; the email address itself the user
    changes there, where the new mailbox confirms it. Null clears phone and company_name."""

    first_name: Name = None  # type: ignore[assignment]
    surname: Name = None  # type: ignore[assignment]
    pseudonym: Name = None  # type: ignore[assignment]
    phone: str | None = Field(default=None, description="Null (or an empty string) clears it.")
    company_name: str | None = Field(default=None, max_length=200, description="Null clears it.")

    _phone = field_validator("phone")(normalise_phone)
    _required = not_clearable("first_name", "surname", "pseudonym")

    @model_validator(mode="after")
    def _some_change(self) -> AccountRectification:
        if not self.model_fields_set - {"email"}:
            raise ValueError("Name at least one field to correct: first_name, surname, pseudonym, phone or company_name.")
        return self

    def corrections(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"email"})


class AccountObjection(AccountRequest):
    grounds: str | None = Field(default=None, max_length=2000, description="The user's particular situation, as their mail gave it (optional).")


class RetentionRunOut(ResponseBody):
    id: str
    started_at: datetime
    finished_at: datetime | None
    status: Literal["done", "failed"] = Field(description="done, or failed when a step failed (see `failed_steps`; the other steps ran).")
    node: str
    removed: dict[str, int]
    failed_steps: list[str]
