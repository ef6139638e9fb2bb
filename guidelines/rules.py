"""The guideline set model: what a tenant may configure, validated before it is ever stored.

A set is a list of rules (a discriminated union on `kind`) plus set-wide settings: the languages
the avatars speak, the AI disclosure wording, PII handling and the maximum reply length. Two
protections are not rules and cannot be configured away: the AI disclosure (EU AI Act Art. 50)
and the decision guard (GDPR Art. 22). A set that tries to switch either off, or that tells the
avatar to decide something with legal or similarly significant effect, is rejected here with a
message that says why, so the tenant learns it when saving, not in a conversation.

`GuidelineSetSpec` is usable directly as a FastAPI request body: errors are pydantic errors whose
`loc` names the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NoReturn, Union, get_args

import langcodes
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from guidelines import decisions, wording
from guidelines.normalize import fold_phrase
from guidelines.patterns import PatternError, check_pattern

MAX_RULES = 500
MAX_TERMS = 10_000  # phrases plus keywords over the whole set
MAX_TERMS_PER_RULE = 2_000
MAX_PATTERNS = 500  # regex patterns over the whole set
MAX_PATTERNS_PER_RULE = 50
MAX_TERM_CHARS = 200
MAX_PATTERN_CHARS = 500
MAX_MESSAGE_CHARS = 1_000
MAX_INSTRUCTION_CHARS = 2_000
MAX_LANGUAGES = 50
MAX_REPLY_CHARS = 20_000

BUILTIN_PREFIX = "builtin:"
BUILTIN_DECISION_GUARD = "builtin:decision-guard"
BUILTIN_PII = "builtin:pii"
BUILTIN_DISCLOSURE = "builtin:disclosure"
BUILTIN_MAX_LENGTH = "builtin:max-length"

ART_22 = (
    "GDPR Art. 22: decisions with legal or similarly significant effect for a person (approving or "
    "rejecting applications, contracts, cancellations, refunds, credit, eligibility, individual prices) "
    "must be left to humans; the avatar informs and hands such requests to a human operator"
)
ART_50 = (
    "EU AI Act Art. 50: the avatar's first message in every conversation says that it is an AI; "
    "the disclosure can be worded per language but cannot be switched off"
)

PiiEntity = Literal[
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IBAN_CODE",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "DE_TAX_ID",
    "DE_TAX_NUMBER",
    "DE_PASSPORT",
    "DE_ID_CARD",
    "DE_SOCIAL_SECURITY",
    "DE_HEALTH_INSURANCE",
    "DE_FUEHRERSCHEIN",
    "DE_VAT_ID",
    "DE_KFZ",
    "DE_PLZ",
]
PII_ENTITIES: tuple[str, ...] = get_args(PiiEntity)
# Postal codes (DE_PLZ) are off by default: five digits are mostly prices, counts and years.
DEFAULT_PII_ENTITIES: tuple[str, ...] = tuple(e for e in PII_ENTITIES if e != "DE_PLZ")

# Well-formed BCP 47 tags as chat languages use them: language, optional script, region and
# variants; no extensions or private use. langcodes then checks the subtags against the registry.
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$")


def _language_tag(value: Any) -> str:
    if not isinstance(value, str) or not _BCP47.match(value) or not langcodes.tag_is_valid(value):
        raise PydanticCustomError(
            "bcp47", "'{value}' is not a valid BCP 47 language tag (e.g. 'en', 'de', 'de-AT')", {"value": value}
        )
    return langcodes.standardize_tag(value)


LanguageTag = Annotated[str, BeforeValidator(_language_tag)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)]


def _term(value: str) -> str:
    if not fold_phrase(value):
        raise PydanticCustomError("empty_term", "a phrase or keyword must contain letters or digits")
    return value


def _pattern(value: str) -> str:
    try:
        check_pattern(value)
    except PatternError as error:
        raise PydanticCustomError("bad_pattern", "invalid regex pattern '{pattern}': {reason}",
                                  {"pattern": value, "reason": str(error)}) from None
    return value


Term = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TERM_CHARS), AfterValidator(_term)
]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN_CHARS), AfterValidator(_pattern)]
Messages = dict[LanguageTag, Text]
MatchMode = Literal["word", "prefix", "substring"]


def _fail(loc: tuple[str | int, ...], kind: str, template: str, ctx: dict[str, Any], value: Any) -> NoReturn:
    """Raise a validation error at `loc` (relative to the model being validated)."""
    error = PydanticCustomError(kind, template, ctx)
    raise ValidationError.from_exception_data("GuidelineSetSpec", [InitErrorDetails(type=error, loc=loc, input=value)])


def _saved(info: ValidationInfo) -> bool:
    """Reading back a saved version (`stored_spec`): its texts passed the Art. 22 and Art. 50 checks
    of the day it was saved, and are not checked again."""
    return bool(info.context and info.context.get("stored"))


def _no_decision_stated(messages: dict[str, str], what: str, info: ValidationInfo) -> dict[str, str]:
    """Text the avatar will say must not itself announce a decision."""
    if _saved(info):
        return messages
    for language, text in messages.items():
        if decisions.states_decision(text):
            _fail((language,), "art22", "the {what} states a decision about the person. {why}", {"what": what, "why": ART_22}, text)
    return messages


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class _RuleBase(_Strict):
    id: RuleId = Field(description="Unique within the set; shown in verdicts as the rule that fired.")
    description: str | None = Field(default=None, max_length=500)

    @field_validator("id")
    @classmethod
    def _not_builtin(cls, value: str) -> str:
        if value.startswith(BUILTIN_PREFIX):
            raise PydanticCustomError("reserved_id", "rule ids starting with 'builtin:' are reserved")
        return value


class MatchingRule(_RuleBase):
    """Shared matching fields: literal phrases, keyword lists and regex patterns."""

    phrases: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_RULE)
    keywords: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_RULE)
    min_keywords: int = Field(default=1, ge=1, le=50, description="Distinct keywords needed to fire.")
    patterns: list[Pattern] = Field(default_factory=list, max_length=MAX_PATTERNS_PER_RULE)
    match: MatchMode = Field(default="word", description="word: whole words; prefix: word starts (German compounds); substring.")

    @model_validator(mode="after")
    def _something_to_match(self) -> MatchingRule:
        if not (self.phrases or self.keywords or self.patterns):
            raise PydanticCustomError("empty_rule", "give at least one of phrases, keywords or patterns")
        if self.keywords and self.min_keywords > len(set(self.keywords)):
            raise PydanticCustomError("min_keywords", "min_keywords is larger than the number of keywords")
        return self

    def term_count(self) -> int:
        return len(self.phrases) + len(self.keywords)


class StyleRule(_RuleBase):
    """Tone and style: goes into the LLM system prompt; the checker does not evaluate it."""

    kind: Literal["style"]
    instruction: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_INSTRUCTION_CHARS)]

    @field_validator("instruction")
    @classmethod
    def _lawful_instruction(cls, value: str, info: ValidationInfo) -> str:
        if _saved(info):
            return value
        found = decisions.instructs_decision(value)
        if found:
            raise PydanticCustomError(
                "art22", "this instruction tells the avatar to decide ('{found}'). {why}",
                {"found": found, "why": ART_22},
            )
        if decisions.disables_disclosure(value):
            raise PydanticCustomError("art50", "this instruction would hide that the avatar is an AI. {why}", {"why": ART_50})
        return value


class ForbiddenTopicRule(MatchingRule):
    """A topic the avatar does not discuss: refuse with the configured message, or hand off."""

    kind: Literal["forbidden_topic"]
    action: Literal["refuse", "handoff"] = "refuse"
    message: Messages = Field(
        default_factory=dict,
        description="Refusal (or handoff) message per language; a language without one gets the built-in refusal (or handoff) wording.",
    )
    applies_to: Literal["input", "output", "both"] = "both"

    @field_validator("message")
    @classmethod
    def _message_lawful(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _no_decision_stated(value, "message", info)


class BannedPhraseRule(MatchingRule):
    """Words the avatar must never say: block the reply, or replace the phrase."""

    kind: Literal["banned_phrase"]
    action: Literal["block", "replace"] = "block"
    replacement: Annotated[str, StringConstraints(max_length=MAX_TERM_CHARS)] | None = None

    @model_validator(mode="after")
    def _replacement_fits_action(self, info: ValidationInfo) -> BannedPhraseRule:
        if self.action == "replace" and self.replacement is None:
            raise PydanticCustomError("missing_replacement", "a replace rule needs a replacement (it may be empty)")
        if self.action == "block" and self.replacement is not None:
            raise PydanticCustomError("unused_replacement", "a block rule takes no replacement")
        if self.replacement and not _saved(info) and decisions.states_decision(self.replacement):
            raise PydanticCustomError("art22", "the replacement states a decision about the person. {why}", {"why": ART_22})
        return self


class EscalationRule(MatchingRule):
    """Phrases in the end customer's message that hand the conversation to a human."""

    kind: Literal["escalation"]
    reason: Literal["customer_request", "policy_restriction"] = "customer_request"


Rule = Annotated[Union[StyleRule, ForbiddenTopicRule, BannedPhraseRule, EscalationRule], Field(discriminator="kind")]

_GUARD_KINDS = re.compile(r"decision|art\.?[ _-]?22|automated", re.I)
_DISCLOSURE_KINDS = re.compile(r"disclos|art\.?[ _-]?50|ai[ _-]?notice", re.I)


def _no_switching_off(value: Any) -> Any:
    """Name the law when someone tries to configure away a protection that is always on."""
    if isinstance(value, dict) and isinstance(value.get("kind"), str):
        kind = value["kind"]
        if _DISCLOSURE_KINDS.search(kind):
            raise PydanticCustomError("art50", "the AI disclosure is not a rule and cannot be switched off. {why}", {"why": ART_50})
        if _GUARD_KINDS.search(kind):
            raise PydanticCustomError("art22", "the decision guard is always on and cannot be configured. {why}", {"why": ART_22})
    return value


class PiiSettings(_Strict):
    """Whether end-customer messages are redacted before they go further, and which entities."""

    redact: bool = True
    entities: list[PiiEntity] = Field(default_factory=lambda: list(DEFAULT_PII_ENTITIES), min_length=1)
    min_score: float = Field(default=0.4, ge=0.0, le=1.0)


class GuidelineSetSpec(_Strict):
    """A whole guideline set as a tenant writes it (one version)."""

    rules: list[Annotated[Rule, BeforeValidator(_no_switching_off)]] = Field(default_factory=list, max_length=MAX_RULES)
    languages: list[LanguageTag] = Field(default_factory=lambda: ["en", "de"], min_length=1, max_length=MAX_LANGUAGES)
    default_language: LanguageTag = "en"
    disclosure: Messages = Field(
        default_factory=dict, description=f"AI disclosure wording per language; {', '.join(wording.DISCLOSURE)} have defaults."
    )
    handoff_message: Messages = Field(default_factory=dict, description="What the avatar says when it hands off.")
    pii: PiiSettings = Field(default_factory=PiiSettings)
    max_reply_chars: int = Field(default=2_000, ge=50, le=MAX_REPLY_CHARS)

    @model_validator(mode="before")
    @classmethod
    def _protections_stay_on(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if not isinstance(key, str):
                    continue
                if key == "disclosure" and (value is None or value is False or value in ("", "off", "none")):
                    _fail(("disclosure",), "art50", "the AI disclosure cannot be switched off. {why}", {"why": ART_50}, value)
                if key != "disclosure" and _DISCLOSURE_KINDS.search(key):
                    _fail((key,), "art50", "the AI disclosure cannot be switched off. {why}", {"why": ART_50}, value)
                if _GUARD_KINDS.search(key):
                    _fail((key,), "art22", "the decision guard is always on and cannot be configured. {why}", {"why": ART_22}, value)
        return data

    @field_validator("rules")
    @classmethod
    def _set_sizes(cls, rules: list[Any]) -> list[Any]:
        terms = sum(r.term_count() for r in rules if isinstance(r, MatchingRule))
        if terms > MAX_TERMS:
            raise PydanticCustomError(
                "too_many_terms", "a set holds at most {max} phrases and keywords in all, got {n}", {"max": MAX_TERMS, "n": terms}
            )
        patterns = sum(len(r.patterns) for r in rules if isinstance(r, MatchingRule))
        if patterns > MAX_PATTERNS:
            raise PydanticCustomError(
                "too_many_patterns", "a set holds at most {max} regex patterns in all, got {n}", {"max": MAX_PATTERNS, "n": patterns}
            )
        return rules

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, languages: list[str]) -> list[str]:
        if len(set(languages)) != len(languages):
            raise PydanticCustomError("duplicate_language", "languages must not repeat")
        return languages

    @field_validator("disclosure")
    @classmethod
    def _disclosure_says_ai(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if _saved(info):
            return value
        for language, text in value.items():
            if not decisions.discloses_ai(text, language):
                _fail((language,), "art50", "the disclosure must say that the avatar is an AI. {why}", {"why": ART_50}, text)
        return _no_decision_stated(value, "disclosure", info)

    @field_validator("handoff_message")
    @classmethod
    def _handoff_lawful(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _no_decision_stated(value, "handoff message", info)

    @model_validator(mode="after")
    def _consistent(self) -> GuidelineSetSpec:
        allowed = set(self.languages)

        def covered(language: str) -> bool:  # "de" wording serves "de-AT" and the other way round
            return language in allowed or any(wording.primary(language) == wording.primary(tag) for tag in allowed)

        if self.default_language not in allowed:
            _fail(("default_language",), "default_language", "the default language must be one of languages", {}, self.default_language)
        for field, messages in (("disclosure", self.disclosure), ("handoff_message", self.handoff_message)):
            for language in messages:
                if not covered(language):
                    _fail((field, language), "language_not_allowed", "this language is not among languages", {}, language)
        missing = [
            lang for lang in self.languages
            if wording.pick(self.disclosure, lang) is None and wording.default_disclosure(lang) is None
        ]
        if missing:
            _fail(("disclosure",), "art50", "disclosure wording missing for {langs} (defaults exist for {defaults}). {why}",
                  {"langs": ", ".join(missing), "defaults": ", ".join(wording.DISCLOSURE), "why": ART_50}, self.disclosure)
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.id in seen:
                _fail(("rules", index, rule.kind, "id"), "duplicate_id", "rule id '{id}' is used more than once", {"id": rule.id}, rule.id)
            seen.add(rule.id)
            if isinstance(rule, ForbiddenTopicRule):
                for language in rule.message:
                    if not covered(language):
                        _fail(("rules", index, rule.kind, "message", language), "language_not_allowed",
                              "this language is not among languages", {}, language)
        return self

    def style_instructions(self) -> list[str]:
        return [rule.instruction for rule in self.rules if isinstance(rule, StyleRule)]


def stored_spec(spec: Mapping[str, Any]) -> GuidelineSetSpec:
    """A saved version's spec, read back to run it (never a request's). Its texts (style instructions,
    messages, replacements, disclosures) passed the Art. 22 and Art. 50 checks when they were saved;
    a later, stricter guard must not stop a published avatar from loading (its output is still
    guarded on every reply), so they are not checked again here. A new save checks them as they are then."""
    return GuidelineSetSpec.model_validate(spec, context={"stored": True})
