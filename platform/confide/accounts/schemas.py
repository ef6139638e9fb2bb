"""Request and response bodies of the account routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import phonenumbers
from pydantic import EmailStr, Field, ValidationInfo, field_validator

from confide.accounts.password_strength import weakness
from confide.core.patching import not_clearable
from confide.core.schemas import Name, RequestBody, ResponseBody


def normalise_phone(value: str | None) -> str | None:
    """Any common notation in, E.164 out; a number that is not valid is refused."""
    if value is None or value == "":
        return None
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Give the phone number in international format, e.g. +49 221 715975 75") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("This is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_PERSONAL_FIELDS = ("email", "first_name", "surname", "pseudonym", "company_name")


def check_password_strength(value: str, info: ValidationInfo) -> str:
    """See password_strength. Only registration judges here, with the details in its body; a change or a
    reset is judged once, in its service, where the account's details are known."""
    problem = weakness(value, ((info.data or {}).get(name) for name in _PERSONAL_FIELDS))
    if problem is not None:
        raise ValueError(problem)
    return value


class Registration(RequestBody):
    email: EmailStr = Field(max_length=320)
    first_name: Name
    surname: Name
    pseudonym: Name
    phone: str | None = Field(default=None, description="Any notation with a country code; stored as E.164.")
    company_name: str | None = Field(default=None, max_length=200)
    password: str = Field(min_length=10, max_length=256, repr=False)  # never in a repr, log line or traceback
    newsletter_opt_in: bool = False
    privacy_policy_version: str = Field(min_length=1, max_length=40, description="The version of the privacy policy the user acknowledged.")

    _phone = field_validator("phone")(normalise_phone)
    _password = field_validator("password")(check_password_strength)


class Accepted(ResponseBody):
    detail: str


class VerifyEmail(RequestBody):
    token: str = Field(min_length=10, max_length=200)


class Login(RequestBody):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=256)


class LoginToken(ResponseBody):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class Profile(ResponseBody):
    id: str
    email: str
    pending_email: str | None = Field(
        description="An address asked for and not yet confirmed; dropped by the first retention run after its token expires. Until "
        "confirmed it counts for nothing: exports, erasure and objections reach only the data linked to `email` (erasure also deletes "
        "the copies of the mails sent for the change)."
    )
    email_verified: bool
    first_name: str
    surname: str
    pseudonym: str
    phone: str | None
    company_name: str | None
    newsletter_opt_in: bool
    privacy_policy_version: str
    registered_at: datetime
    updated_at: datetime
    status: Literal["active", "restricted"] = Field(
        description="active, or restricted (Art. 18: kept but not processed; lifted with DELETE /v1/me/restriction)."
    )


class ProfileUpdate(RequestBody):
    """Rectification (Art. 16): change any of these; a new email takes effect once verified. Null clears phone and
    company_name; the others cannot be empty, so null for them is a 422 rather than a change quietly not made."""

    email: EmailStr = Field(  # type: ignore[assignment]
        default=None,
        max_length=320,
        description="A new address becomes pending and takes effect once the token mailed to it is confirmed (POST /v1/accounts/verify); "
        "the current address again withdraws a pending change. A new address needs `current_password`. To have the token mailed "
        "again, send the new address again.",
    )
    current_password: str = Field(  # type: ignore[assignment]
        default=None,
        min_length=1,
        max_length=256,
        description="Required with a new `email`: a signed-in session alone (a stolen token, say) must not move the account, "
        "and with it the password reset, to another mailbox.",
    )
    first_name: Name = None  # type: ignore[assignment]
    surname: Name = None  # type: ignore[assignment]
    pseudonym: Name = None  # type: ignore[assignment]
    phone: str | None = Field(default=None, description="Null (or an empty string) clears it.")
    company_name: str | None = Field(default=None, max_length=200, description="Null clears it.")

    _phone = field_validator("phone")(normalise_phone)
    _required = not_clearable("email", "first_name", "surname", "pseudonym")


class PasswordChange(RequestBody):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256, description="Judged as at registration, against the account's details too.")


class PasswordResetRequest(RequestBody):
    email: EmailStr = Field(max_length=320, description="The address the account is registered with.")


class PasswordResetConfirm(RequestBody):
    token: str = Field(min_length=10, max_length=200, description="The token from the password-reset mail (cft_…).")
    new_password: str = Field(min_length=10, max_length=256, description="The same rules as at registration.")
