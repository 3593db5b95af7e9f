"""The shape of an AI planning answer, defined once.

`PlanAnswer` is what every provider is asked for: OpenAI strict structured output
(``chat.completions.parse(response_format=PlanAnswer)``), JSON mode and plain text (its JSON
schema is in the prompt), and Gemini's ``response_json_schema``. Every field is required and
has no default in the JSON schema, as OpenAI's strict mode demands; answers that arrive as
free text are more sloppy, so a lenient pre-validator fills in the optional fields and
coerces near misses ("#2" for 2, "small" for "S") before the strict field types apply.

`RawAnswer` is what an adapter hands back from one request, and `ProviderError` is the one
exception type adapters raise (an `AIPlanningError` that can carry a server's Retry-After).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from openproducer import AIPlanningError

Size = Literal["S", "M", "L"]

_SIZE_WORDS = {"XS": "S", "S": "S", "SMALL": "S", "M": "M", "MEDIUM": "M"}
_SIZE_WORDS |= {"L": "L", "LARGE": "L", "XL": "L"}
_OPTIONAL_DEFAULTS: dict[str, Any] = {"labels": [], "depends_on": [], "size": "M", "covers": []}


class IssueDraft(BaseModel):
    """One focused GitHub issue (validated into a `PlannedIssue` by `validate_plan`)."""

    model_config = ConfigDict(extra="ignore", title="IssueDraft")

    title: str = Field(description="Short imperative title, one line, at most 120 characters.")
    body: str = Field(
        description=(
            "GitHub Markdown with three parts: '## Context', '## What to do', "
            "'## Acceptance criteria' (a '- [ ]' checklist)."
        )
    )
    labels: list[str] = Field(description="Up to 5 short GitHub labels, e.g. 'backend'.")
    depends_on: list[int] = Field(
        description="1-based positions of EARLIER issues in this list that must be done first."
    )
    size: Size = Field(description="Effort estimate: S (hours), M (a day or two), L (a week).")
    covers: list[str] = Field(
        description="Titles of the spec sections (headings) this issue implements."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_optional(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**_OPTIONAL_DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
        return data

    @field_validator("labels", "covers", mode="before")
    @classmethod
    def _as_string_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        if isinstance(value, list):
            return [str(item) for item in value if isinstance(item, str | int | float)]
        return value

    @field_validator("depends_on", mode="before")
    @classmethod
    def _as_positions(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        return [n for n in (_position(item) for item in items) if n is not None]

    @field_validator("size", mode="before")
    @classmethod
    def _as_size(cls, value: Any) -> Any:
        return _SIZE_WORDS.get(str(value).strip().upper(), "M")


class PlanAnswer(BaseModel):
    """The whole answer: the issues in the order they should be worked on, and notes."""

    model_config = ConfigDict(extra="ignore", title="PlanAnswer")

    issues: list[IssueDraft] = Field(description="The planned issues, in dependency order.")
    notes: list[str] = Field(
        description="Short remarks for the maintainer (assumptions, gaps in the spec)."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_notes(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("notes") is None:
            return {**data, "notes": []}
        return data

    @field_validator("notes", mode="before")
    @classmethod
    def _as_notes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value


def _position(item: Any) -> int | None:
    """A 1-based position from 2, "2", "#2" or "issue 2"; None for anything else."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return item
    match = re.fullmatch(r"\D{0,10}?(\d{1,4})", str(item).strip())
    return int(match.group(1)) if match else None


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema of `PlanAnswer`, for prompts and providers that take a plain schema."""
    return PlanAnswer.model_json_schema()


@dataclass(frozen=True)
class RawAnswer:
    """What one provider request returned, before any parsing decision is made."""

    text: str | None  # the answer text as the model wrote it
    parsed: BaseModel | None = None  # set when the SDK already validated the text
    truncated: bool = False  # the model hit its output limit
    refusal: str | None = None  # the model declined (OpenAI `refusal`, safety blocks)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 1  # HTTP requests it took (format negotiation can take more than one)


class ProviderError(AIPlanningError):
    """An `AIPlanningError` raised by an adapter; ``retry_after`` is the server's wish, in s."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        kind: str = "error",
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, retryable=retryable, kind=kind)
        self.retry_after = retry_after


def classify_status(
    status: int, *, code: str | None = None, headers: Mapping[str, str] | None = None
) -> tuple[str, bool]:
    """The error kind of an HTTP status and whether asking again can help.

    ``too_large`` (413, or GitHub Models' ``tokens_limit_reached``) means the request must be
    made smaller; ``daily_quota`` (GitHub Models' ``x-ratelimit-type: UserByModelByDay``, or
    a wait of over an hour) means this model answers no more today.
    """
    if status == 413 or code == "tokens_limit_reached":
        return "too_large", False
    if status in (401, 403):
        return "auth", False
    if status == 429:
        # OpenAI answers 429 for an exhausted quota too; waiting does not refill it.
        if code == "insufficient_quota":
            return "quota", False
        return ("daily_quota", False) if is_daily_limit(headers or {}) else ("rate_limit", True)
    if status == 408:
        return "timeout", True
    if status == 409 or status >= 500:
        return "server", True
    if status == 404:
        return "not_found", False
    return "invalid_request", False


def is_daily_limit(headers: Mapping[str, str]) -> bool:
    """Does this 429 say the day's requests are spent (not the minute's)?

    https://docs.github.com/en/github-models/use-github-models/prototyping-with-ai-models#rate-limits
    """
    kind = str(headers.get("x-ratelimit-type") or "")
    wait = parse_retry_after(headers)
    raw = str(headers.get("retry-after") or "")
    hours = wait is not None and wait > 3600
    return kind.endswith("ByDay") or hours or (raw.isdigit() and int(raw) >= 86_400)


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    raw = headers.get("retry-after")
    seconds = _number(raw)
    if seconds is not None or raw is None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 86_400 else None


_Strings = Annotated[list[str], BeforeValidator(IssueDraft._as_string_list)]
_Positions = Annotated[list[int], BeforeValidator(IssueDraft._as_positions)]
_Count = Annotated[int, BeforeValidator(lambda value: _position(value) or 1)]


class OutlineEpic(BaseModel):
    """One epic of the outline: spec sections planned together, and how many issues they need."""

    model_config = ConfigDict(extra="ignore", title="OutlineEpic")

    title: str = Field(description="Short name of the epic.")
    sections: _Strings = Field(description="Headings of the spec sections in this epic.")
    issues: _Count = Field(description="Estimated number of focused issues the epic needs.")
    depends_on: _Positions = Field(
        description="1-based positions of EARLIER epics that must be done first."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_optional(cls, data: Any) -> Any:
        return _filled(data, {"sections": [], "issues": 1, "depends_on": []})


class OutlineAnswer(BaseModel):
    """The outline pass: which sections are work (in epics, in order), context, or skipped."""

    model_config = ConfigDict(extra="ignore", title="OutlineAnswer")

    epics: list[OutlineEpic] = Field(description="The work, grouped in epics, in build order.")
    context: _Strings = Field(
        description="Headings of sections every epic needs as background (overview, goals, "
        "glossary, constraints), planned as no issue."
    )
    skip: _Strings = Field(
        description="Headings of sections not to plan (out of scope, non-goals, open questions)."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_optional(cls, data: Any) -> Any:
        return _filled(data, {"context": [], "skip": []})


def _filled(data: Any, defaults: dict[str, Any]) -> Any:
    """``data`` with ``defaults`` for the fields a free-text answer left out (or null)."""
    if isinstance(data, dict):
        return {**defaults, **{k: v for k, v in data.items() if v is not None}}
    return data
