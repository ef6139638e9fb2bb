"""Request and response bodies of the guideline-set routes. The rules themselves are
`guidelines.rules.GuidelineSetSpec`; a stored set adds a name, and asks for at least one rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from confide.core.schemas import RequestBody, ResponseBody
from confide.core.text import check_name
from guidelines.rules import GuidelineSetSpec, LanguageTag


class GuidelineSetBody(GuidelineSetSpec):
    """A guideline set as the dashboard sends it: a name plus the spec. Each save is a new version."""

    name: str = Field(min_length=1, max_length=200, description="Shown in the dashboard; not part of the rules.")

    @field_validator("name")
    @classmethod
    def _name_has_text(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("empty_name", "the name must not be blank")
        return check_name(value.strip())  # then as every other name

    @field_validator("rules")
    @classmethod
    def _at_least_one_rule(cls, rules: list[Any]) -> list[Any]:
        if not rules:
            raise PydanticCustomError("empty_rules", "a guideline set needs at least one rule")
        return rules

    def spec(self) -> GuidelineSetSpec:
        return GuidelineSetSpec.model_validate(self.model_dump(exclude={"name"}))


class GuidelineSetOut(ResponseBody):
    id: str
    name: str
    current_version: int
    current_version_id: str = Field(description="The id of the current version; the key compiled guidelines are cached by.")
    spec: dict[str, Any] = Field(description="The rules of the current version.")
    created_at: datetime
    updated_at: datetime


class GuidelineVersionOut(ResponseBody):
    id: str
    set_id: str
    version: int
    author: str | None = Field(description="The user or API key that saved this version; null once they are deleted.")
    created_at: datetime
    current: bool


class GuidelineVersionDetail(GuidelineVersionOut):
    spec: dict[str, Any]


class EvaluateRequest(RequestBody):
    text: str = Field(min_length=1, max_length=20_000)
    direction: Literal["input", "output"] = Field(description="input: a visitor's message; output: an avatar's reply.")
    language: LanguageTag | None = Field(default=None, description="Default: the set's default language.")


class EvaluateOut(ResponseBody):
    set_id: str
    version: int
    direction: Literal["input", "output"]
    language: str
    verdict: dict[str, Any]
