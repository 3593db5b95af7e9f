"""Action inputs: read once from the environment, validated into one frozen `Settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openproducer import ConfigError
from openproducer.model import GroupMode
from openproducer.safety import DEFAULT_PROHIBITED_KEYWORDS, PERMISSION_ORDER, parse_keyword_list

DEFAULT_TRIGGER = "@TheOpenProducerBot"
ACTIONS_BOT_LOGIN = "github-actions[bot]"

# name -> default, exactly as in action.yml
INPUT_DEFAULTS: dict[str, str] = {
    "github-token": "",
    "trigger": DEFAULT_TRIGGER,
    "ai-provider": "auto",
    "ai-api-key": "",
    "ai-model": "",
    "ai-base-url": "",
    "ai-deadline": "300",
    "ai-max-input-tokens": "0",
    "ai-max-output-tokens": "0",
    "ai-requests-per-minute": "0",
    "ai-concurrency": "0",
    "max-issues": "100",
    "confirmation-threshold": "50",
    "rate-limit-per-minute": "60",
    "prohibited-keywords": "",
    "allowed-permission": "write",
    "labels": "",
    "dry-run": "false",
    "group": "auto",
    "bot-login": "",
    "allowed-bots": "",
    "state-secret": "",
}
SECRET_INPUTS = ("github-token", "ai-api-key", "state-secret")
AI_PROVIDERS = ("auto", "none", "github", "openai", "zai", "custom", "gemini")
HARD_MAX_ISSUES = 500
_GROUP_MODES: dict[str, GroupMode] = {"auto": "auto", "sections": "sections", "flat": "flat"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


@dataclass(frozen=True)
class Settings:
    github_token: str = ""
    trigger: str = DEFAULT_TRIGGER
    ai_provider: str = "auto"
    ai_api_key: str = ""
    ai_model: str = ""
    ai_base_url: str = ""
    ai_deadline: int = 300  # seconds for all of planning
    # Limits of a custom or paid endpoint; 0 keeps the provider's known limits.
    ai_max_input_tokens: int = 0
    ai_max_output_tokens: int = 0
    ai_requests_per_minute: int = 0
    ai_concurrency: int = 0
    max_issues: int = 100
    confirmation_threshold: int = 50
    rate_limit_per_minute: int = 60
    prohibited_keywords: tuple[str, ...] = DEFAULT_PROHIBITED_KEYWORDS
    allowed_permission: str = "write"
    labels: tuple[str, ...] = ()
    dry_run: bool = False
    group: GroupMode = "auto"
    bot_login: str = ""
    allowed_bots: tuple[str, ...] = ()
    state_secret: str = ""


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """The raw inputs as the runner passes them: ``INPUT_<NAME>`` upper-cased, hyphens kept.

    Underscore spellings (``INPUT_GITHUB_TOKEN``) are accepted too, for shells that cannot set
    hyphenated variables.
    """
    raw = {}
    for name, default in INPUT_DEFAULTS.items():
        key = "INPUT_" + name.upper()
        value = env.get(key, env.get(key.replace("-", "_"), default))
        raw[name] = value.strip() if value is not None else default
    return raw


def parse_settings(raw: Mapping[str, str]) -> Settings:
    """Validate every input; one ConfigError lists all problems at once."""
    problems: list[str] = []

    def integer(name: str, low: int, high: int) -> int:
        text = raw.get(name, "") or INPUT_DEFAULTS[name]
        try:
            value = int(text)
        except ValueError:
            problems.append(f"`{name}` must be a whole number (got `{text}`).")
            return int(INPUT_DEFAULTS[name])
        if not low <= value <= high:
            problems.append(f"`{name}` must be between {low} and {high} (got {value}).")
        return value

    def boolean(name: str) -> bool:
        text = raw.get(name, "").lower()
        if text not in _TRUE | _FALSE:
            problems.append(f"`{name}` must be `true` or `false` (got `{raw.get(name)}`).")
        return text in _TRUE

    trigger = raw.get("trigger", "") or DEFAULT_TRIGGER
    if not trigger.startswith("@") or len(trigger) < 2 or any(c.isspace() for c in trigger):
        problems.append(f"`trigger` must be one @-mention such as `{DEFAULT_TRIGGER}`.")
    permission = (raw.get("allowed-permission", "") or "write").lower()
    if permission not in PERMISSION_ORDER[2:]:
        problems.append("`allowed-permission` must be one of triage, write, maintain, admin.")
    provider = (raw.get("ai-provider", "") or "auto").lower()
    if provider not in AI_PROVIDERS:
        problems.append(
            f"`ai-provider` must be one of {', '.join(AI_PROVIDERS)} (got `{provider}`)."
        )
    labels = _split_list(raw.get("labels", ""))
    problems.extend(
        f"Label `{x[:60]}` is longer than 50 characters." for x in labels if len(x) > 50
    )
    group = (raw.get("group", "") or "auto").lower()
    if group not in _GROUP_MODES:
        problems.append(f"`group` must be one of auto, sections, flat (got `{group}`).")
    keywords = raw.get("prohibited-keywords", "")
    settings = Settings(
        github_token=raw.get("github-token", ""),
        trigger=trigger,
        ai_provider=provider,
        ai_api_key=raw.get("ai-api-key", ""),
        ai_model=raw.get("ai-model", ""),
        ai_base_url=raw.get("ai-base-url", ""),
        ai_deadline=integer("ai-deadline", 10, 3600),
        ai_max_input_tokens=integer("ai-max-input-tokens", 0, 10_000_000),
        ai_max_output_tokens=integer("ai-max-output-tokens", 0, 1_000_000),
        ai_requests_per_minute=integer("ai-requests-per-minute", 0, 100_000),
        ai_concurrency=integer("ai-concurrency", 0, 64),
        max_issues=integer("max-issues", 1, HARD_MAX_ISSUES),
        confirmation_threshold=integer("confirmation-threshold", 1, HARD_MAX_ISSUES),
        rate_limit_per_minute=integer("rate-limit-per-minute", 1, 100_000),
        prohibited_keywords=parse_keyword_list(keywords)
        if keywords
        else DEFAULT_PROHIBITED_KEYWORDS,
        allowed_permission=permission,
        labels=labels,
        dry_run=boolean("dry-run"),
        group=_GROUP_MODES.get(group, "auto"),
        bot_login=raw.get("bot-login", ""),
        allowed_bots=tuple(x.lower() for x in _split_list(raw.get("allowed-bots", ""))),
        state_secret=raw.get("state-secret", ""),
    )
    if problems:
        raise ConfigError("Invalid action inputs:\n" + "\n".join(f"- {p}" for p in problems))
    return settings


def _split_list(text: str) -> tuple[str, ...]:
    items = (part.strip() for chunk in text.splitlines() for part in chunk.split(","))
    return tuple(dict.fromkeys(item for item in items if item))
