"""AI planning: choose a provider, ask once for the whole plan, and fall back when needed.

`resolve_ai_settings` turns inputs and environment into `AISettings` (or None: offline), and
`build_plan` returns a validated `Plan` whatever happens: when the AI fails after retries,
refuses, or answers something unusable, the offline planner's plan is returned with a note
naming the provider and the error (never the key).

Environment variables (read by `resolve_ai_settings`, for the CLI; the Action passes its
``ai-*`` inputs as arguments and non-empty ones win over these; provider ``auto`` defers to
``OPENPRODUCER_AI_PROVIDER`` when that is set):

- ``OPENPRODUCER_AI_PROVIDER``: ``auto`` (default), ``none``, ``openai``, ``zai``, ``custom``
  or ``gemini``.
- ``OPENPRODUCER_AI_API_KEY``, ``OPENPRODUCER_AI_MODEL``, ``OPENPRODUCER_AI_BASE_URL``.
- ``OPENAI_API_KEY``, ``ZAI_API_KEY``, ``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``: the providers'
  usual keys, used when no key is given (and, with ``auto``, to pick the provider).
- ``OPENPRODUCER_AI_CACHE_DIR``: where answers are cached (default
  ``$XDG_CACHE_HOME/openproducer/ai`` or ``~/.cache/openproducer/ai``; ``off`` disables).
- ``OPENPRODUCER_AI_CACHE_TTL``: seconds an answer stays valid (default 3600; 0 disables).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from openproducer import AIPlanningError, ConfigError
from openproducer.model import AIUsage, Plan, Section, Spec
from openproducer.planning.cache import DEFAULT_TTL, AnswerCache, cache_key
from openproducer.planning.prompt import (
    Prompt,
    build_prompt,
    merge_answers,
    read_answer,
    share_limit,
    split_spec,
)
from openproducer.planning.schema import PlanAnswer, ProviderError, RawAnswer
from openproducer.planning.validate import revalidate, validate_plan
from openproducer.safety import SECRET_PLACEHOLDER
from openproducer.safety import scrub as scrub_secrets

PROVIDERS = ("github", "openai", "zai", "custom", "gemini")
OFF = ("none", "off", "offline", "false")
DEFAULT_MODELS = {
    "github": "openai/gpt-4.1-mini",
    "openai": "gpt-4.1-mini",
    "zai": "glm-4.6",
    "gemini": "gemini-2.5-flash",
}
# GitHub Models: OpenAI-compatible, the workflow's own token as the bearer.
# https://docs.github.com/en/rest/models/inference
DEFAULT_BASE_URLS = {
    "github": "https://models.github.ai/inference",
    "openai": "https://api.openai.com/v1",
    "zai": "https://api.z.ai/api/paas/v4/",
}
PROVIDER_KEYS = {
    "github": ("GITHUB_TOKEN", "GH_TOKEN"),
    "openai": ("OPENAI_API_KEY",),
    "zai": ("ZAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "custom": ("OPENAI_API_KEY",),
}
_KEY_SHAPES = re.compile(r"\b(?:sk-[\w-]{12,}|AIza[\w-]{20,})|(?i:bearer\s+)\S+")


@dataclass(frozen=True)
class AISettings:
    provider: str  # "github" | "openai" | "zai" | "custom" | "gemini"
    api_key: str = field(repr=False)
    model: str
    base_url: str | None = None
    timeout: float = 60.0  # per request, seconds
    deadline: float = 300.0  # overall, for all requests and retries, seconds
    cache_dir: str | None = None  # None: no cache
    cache_ttl: float = DEFAULT_TTL
    max_attempts: int = 5  # per request, including the first
    backoff: float = 1.0  # first retry wait, seconds (doubles, with jitter)
    max_backoff: float = 30.0


# ---------------------------------------------------------------------------- settings


def resolve_ai_settings(
    *,
    provider: str,
    api_key: str,
    model: str,
    base_url: str,
    env: Mapping[str, str],
    github_token: str = "",
) -> AISettings | None:
    """The AI settings for these inputs, None for offline planning, or `ConfigError`.

    ``github_token`` is the workflow's token: GitHub Models' key, and with ``auto`` inside
    GitHub Actions the AI every repository has when no other key is set.
    """
    provider = provider.strip().lower()
    if provider in ("", "auto"):  # the input's default defers to the environment
        provider = env.get("OPENPRODUCER_AI_PROVIDER", "").strip().lower() or "auto"
    api_key = (api_key or env.get("OPENPRODUCER_AI_API_KEY", "")).strip()
    model = (model or env.get("OPENPRODUCER_AI_MODEL", "")).strip()
    base_url = (base_url or env.get("OPENPRODUCER_AI_BASE_URL", "")).strip()
    if provider in OFF:
        return None
    if provider == "auto":
        provider = detect_provider(api_key=api_key, base_url=base_url, env=env) or ""
        if not provider and github_token and env.get("GITHUB_ACTIONS") == "true":
            provider = "github"
        if not provider:
            return None
    check_provider(provider, base_url=base_url)
    key = api_key or (github_token if provider == "github" else "") or _env_key(provider, env)
    if not key:
        names = " or ".join(PROVIDER_KEYS[provider])
        raise ConfigError(
            f"`ai-provider` is {provider!r} but no API key is set: set the `ai-api-key` input "
            f"(OPENPRODUCER_AI_API_KEY) or {names}."
        )
    return AISettings(
        provider=provider,
        api_key=key,
        model=model or DEFAULT_MODELS.get(provider, ""),
        base_url=base_url or DEFAULT_BASE_URLS.get(provider),
        cache_dir=resolve_cache_dir(env),
        cache_ttl=resolve_cache_ttl(env),
    )


def detect_provider(*, api_key: str, base_url: str, env: Mapping[str, str]) -> str | None:
    """The provider ``auto`` means: from the base URL or key shape, else whose key is set."""
    if api_key:
        host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
        if host == "z.ai" or host.endswith(".z.ai"):
            return "zai"
        if host == "generativelanguage.googleapis.com" or (not host and api_key[:4] == "AIza"):
            return "gemini"
        return "custom" if host and host != "api.openai.com" else "openai"
    for name in ("openai", "zai", "gemini"):
        if _env_key(name, env):
            return name
    return None


def check_provider(provider: str, *, base_url: str) -> None:
    if provider not in PROVIDERS:
        allowed = ", ".join(("auto", "none", *PROVIDERS))
        raise ConfigError(f"`ai-provider` is {provider!r}; use one of: {allowed}.")
    if provider == "custom" and not base_url:
        raise ConfigError(
            "`ai-provider` is 'custom', which needs the server's URL in the `ai-base-url` input "
            "(OPENPRODUCER_AI_BASE_URL), e.g. http://localhost:11434/v1."
        )
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError("`ai-base-url` must be an http:// or https:// URL.")


def _env_key(provider: str, env: Mapping[str, str]) -> str:
    return next((env[n].strip() for n in PROVIDER_KEYS[provider] if env.get(n, "").strip()), "")


def resolve_cache_dir(env: Mapping[str, str]) -> str | None:
    configured = env.get("OPENPRODUCER_AI_CACHE_DIR", "").strip()
    if configured.lower() in (*OFF, "0"):
        return None
    if configured:
        return configured
    base = env.get("XDG_CACHE_HOME", "").strip() or (
        env["HOME"].rstrip("/") + "/.cache" if env.get("HOME") else ""
    )
    return base + "/openproducer/ai" if base else None


def resolve_cache_ttl(env: Mapping[str, str]) -> float:
    raw = env.get("OPENPRODUCER_AI_CACHE_TTL", "").strip()
    try:
        ttl = float(raw) if raw else DEFAULT_TTL
    except ValueError:
        ttl = -1.0
    if not 0 <= ttl < float("inf"):
        raise ConfigError("OPENPRODUCER_AI_CACHE_TTL must be a number of seconds (0 disables).")
    return ttl


# ---------------------------------------------------------------------------- planning


class OfflinePlanner(Protocol):
    def __call__(self, spec: Spec, *, max_issues: int) -> Plan: ...


def build_plan(
    spec: Spec,
    *,
    settings: AISettings | None,
    max_issues: int,
    sections: Sequence[Section] | None = None,
    offline_planner: OfflinePlanner | None = None,
) -> Plan:
    """A validated plan for ``spec``: from the AI when configured, else (or on failure) offline.

    ``sections`` defaults to `parse_sections(spec.text)`; ``offline_planner`` to
    `build_offline_plan`. Only `PlanError` (from the offline planner) can escape.
    """
    found = tuple(sections) if sections is not None else _parse_sections(spec.text)
    limit = plan_limit(spec, max_issues=max_issues)
    offline = offline_planner or _build_offline_plan
    if settings is None:
        return revalidate(offline(spec, max_issues=max_issues), max_issues=limit, sections=found)
    tally = _Tally(settings)
    try:
        return _plan_with_ai(spec, settings=settings, limit=limit, sections=found, tally=tally)
    except AIPlanningError as exc:
        plan = revalidate(offline(spec, max_issues=max_issues), max_issues=limit, sections=found)
        note = fallback_note(settings, exc)
        return dataclasses.replace(plan, notes=(note, *plan.notes), usage=tally.usage())


def plan_limit(spec: Spec, *, max_issues: int) -> int:
    count = spec.options.count
    return max(1, min(count, max_issues) if count else max_issues)


_HINTS = {
    "auth": "check the `ai-api-key` input (OPENPRODUCER_AI_API_KEY) and `ai-provider`",
    "quota": "check the provider account's quota and billing",
    "not_found": "check the `ai-model` and `ai-base-url` inputs",
    "invalid_request": "check the `ai-model` and `ai-base-url` inputs",
}


def fallback_note(settings: AISettings, exc: AIPlanningError) -> str:
    """Why the AI plan was not used, naming provider and error class, never the key."""
    if settings.provider == "github" and exc.kind in ("auth", "not_found"):
        return (
            f"GitHub Models refused this workflow's token ({exc.status or exc.kind}), so the "
            "offline planner was used. To plan with AI at no cost, add `models: read` to the "
            "workflow's `permissions:` and check that GitHub Models is enabled for the "
            "organization."
        )
    cause = type(exc.__cause__).__name__ if exc.__cause__ else type(exc).__name__
    detail = scrub(str(exc), settings.api_key)[:300]
    hint = f" To use the AI, {_HINTS[exc.kind]}." if exc.kind in _HINTS else ""
    return (
        f"AI planning with {settings.provider} ({settings.model}) failed ({exc.kind}, {cause}: "
        f"{detail}); the offline planner was used instead.{hint}"
    )


def scrub(text: str, secret: str) -> str:
    """``text`` without ``secret`` and without anything shaped like an API key."""
    return _KEY_SHAPES.sub(SECRET_PLACEHOLDER, scrub_secrets(text, [secret]))


def _parse_sections(text: str) -> tuple[Section, ...]:
    from openproducer.spec import parse_sections

    return parse_sections(text)


def _build_offline_plan(spec: Spec, *, max_issues: int) -> Plan:
    from openproducer.planning.offline import build_offline_plan

    return build_offline_plan(spec, max_issues=max_issues)


def _plan_with_ai(
    spec: Spec, *, settings: AISettings, limit: int, sections: Sequence[Section], tally: _Tally
) -> Plan:
    cache = open_cache(settings)
    key = cache_key(
        provider=settings.provider,
        model=settings.model,
        base_url=settings.base_url,
        options=spec.options,
        max_issues=limit,
        spec_text=spec.text,
    )
    answer = cache.get(key) if cache else None
    cached = answer is not None
    if answer is None:
        answer = _ask_for_plan(spec, settings=settings, limit=limit, sections=sections, tally=tally)
    plan = validate_plan(
        answer.issues,
        max_issues=limit,
        sections=sections,
        planner=settings.provider,
        notes=[*answer.notes, *count_notes(spec, found=len(answer.issues))],
    )
    if cache and not cached:
        cache.put(key, answer)
    return dataclasses.replace(plan, usage=tally.usage(cached=cached))


def open_cache(settings: AISettings) -> AnswerCache | None:
    if not settings.cache_dir or settings.cache_ttl <= 0:
        return None
    return AnswerCache(settings.cache_dir, ttl=settings.cache_ttl)


def count_notes(spec: Spec, *, found: int) -> list[str]:
    wanted = spec.options.count
    if wanted and found < wanted:
        return [f"The spec asks for {wanted} issues; the AI planned {found}."]
    return []


def _ask_for_plan(
    spec: Spec, *, settings: AISettings, limit: int, sections: Sequence[Section], tally: _Tally
) -> PlanAnswer:
    """One request for the whole plan; when the answer is cut off, one per top-level part."""
    try:
        return _ask(build_prompt(spec, max_issues=limit), settings=settings, tally=tally)
    except AIPlanningError as exc:
        parts = split_spec(sections) if exc.kind == "truncated" else []
        if len(parts) < 2:
            raise
    part_spec = dataclasses.replace(spec, options=dataclasses.replace(spec.options, count=None))
    caps = share_limit(limit, [len(text) for _, text in parts])
    answers = [
        _ask(
            build_prompt(part_spec, max_issues=cap, part=text, part_title=title),
            settings=settings,
            tally=tally,
        )
        for (title, text), cap in zip(parts, caps, strict=True)
    ]
    merged = merge_answers(answers)
    note = f"The AI's answer was too long, so the spec was planned in {len(parts)} parts."
    return merged.model_copy(update={"notes": [note, *merged.notes]})


def _ask(prompt: Prompt, *, settings: AISettings, tally: _Tally) -> PlanAnswer:
    return read_answer(_complete_with_retries(prompt, settings=settings, tally=tally))


# ---------------------------------------------------------------------------- requests


class _Tally:
    """What the AI requests of one `build_plan` call cost, and how much time is left."""

    def __init__(self, settings: AISettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self.started = clock()
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def remaining(self) -> float:
        return self.settings.deadline - (self.clock() - self.started)

    def add(self, raw: RawAnswer) -> None:
        self.requests += raw.requests - 1  # the attempt itself was counted before it was made
        self.prompt_tokens += raw.prompt_tokens
        self.completion_tokens += raw.completion_tokens

    def usage(self, *, cached: bool = False) -> AIUsage:
        return AIUsage(
            provider=self.settings.provider,
            model=self.settings.model,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_ms=int((self.clock() - self.started) * 1000),
            requests=self.requests,
            cached=cached,
        )


def _complete_with_retries(prompt: Prompt, *, settings: AISettings, tally: _Tally) -> RawAnswer:
    """One answer, retrying rate limits, server errors and timeouts within the deadline."""
    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_any(stop_after_attempt(settings.max_attempts), _PastDeadline(tally)),
        wait=_wait(settings),
        reraise=True,
    )
    return retrying(_attempt, prompt, settings=settings, tally=tally)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, AIPlanningError) and exc.retryable


class _PastDeadline(stop_base):
    """Stop when the next wait would end after the overall deadline."""

    def __init__(self, tally: _Tally):
        self.tally = tally

    def __call__(self, retry_state: RetryCallState) -> bool:
        return (retry_state.upcoming_sleep or 0) >= self.tally.remaining()


def _wait(settings: AISettings) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(
        initial=settings.backoff, max=settings.max_backoff, jitter=settings.backoff
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = exc.retry_after if isinstance(exc, ProviderError) else None
        return hinted if hinted is not None else backoff(state)

    return wait


def _attempt(prompt: Prompt, *, settings: AISettings, tally: _Tally) -> RawAnswer:
    timeout = min(settings.timeout, tally.remaining())
    if timeout <= 0:
        raise AIPlanningError("the overall planning deadline has passed", kind="timeout")
    tally.requests += 1
    try:
        raw = _complete(prompt, settings=settings, timeout=timeout)
    except AIPlanningError as exc:
        raise _scrubbed(exc, settings.api_key) from exc.__cause__
    tally.add(raw)
    return raw


def _scrubbed(exc: AIPlanningError, secret: str) -> AIPlanningError:
    text = scrub(str(exc), secret)
    if text == str(exc):
        return exc
    return ProviderError(
        text,
        status=exc.status,
        retryable=exc.retryable,
        kind=exc.kind,
        retry_after=getattr(exc, "retry_after", None),
    )


def _complete(prompt: Prompt, *, settings: AISettings, timeout: float) -> RawAnswer:
    """Dispatch to the provider's adapter (imported lazily: offline runs need no SDK)."""
    if settings.provider == "gemini":  # the others speak OpenAI's chat completions
        from openproducer.planning import gemini_provider

        return gemini_provider.complete(
            prompt,
            api_key=settings.api_key,
            model=settings.model,
            base_url=settings.base_url,
            timeout=timeout,
        )
    from openproducer.planning import openai_provider

    return openai_provider.complete(
        prompt,
        api_key=settings.api_key,
        model=settings.model,
        base_url=settings.base_url or DEFAULT_BASE_URLS["openai"],
        timeout=timeout,
    )
