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
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from openproducer import AIPlanningError, ConfigError, PlanError
from openproducer.model import AIUsage, Plan, PlannedIssue, Section, Spec
from openproducer.planning.cache import DEFAULT_TTL, AnswerCache, cache_key
from openproducer.planning.limits import (
    CHARS_PER_TOKEN,
    LimitOverrides,
    ModelLimits,
    estimate_messages,
    estimate_tokens,
    find_limits,
    output_tokens_for,
)
from openproducer.planning.passes import (
    DIGEST_LINES,
    Outline,
    Part,
    build_digest,
    build_offline_outline,
    build_outline,
    build_parts,
    build_units,
    fit_parts,
    merge_parts,
    split_part,
)
from openproducer.planning.prompt import (
    Prompt,
    build_outline_prompt,
    build_part_prompt,
    build_prompt,
    read_answer,
    read_typed_answer,
    render_section,
)
from openproducer.planning.schema import (
    IssueDraft,
    OutlineAnswer,
    PlanAnswer,
    ProviderError,
    RawAnswer,
)
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
# A request may take as long as its largest answer needs at this many tokens a second
# (GitHub Models' free tier writes about 60): 4,000 tokens get 90 s, not `timeout`'s 60.
MIN_OUTPUT_RATE = 50.0
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
    limits: LimitOverrides | None = None  # the ai-max-*-tokens, rpm and concurrency inputs
    output_rate: float | None = None  # tokens/s to allow per request; None: `timeout` only

    def model_limits(self) -> ModelLimits:
        return find_limits(self.provider, self.model, self.limits)


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
        output_rate=MIN_OUTPUT_RATE,
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
        return _plan_with_ai(
            spec, settings=settings, limit=limit, sections=found, tally=tally, offline=offline
        )
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
    spec: Spec,
    *,
    settings: AISettings,
    limit: int,
    sections: Sequence[Section],
    tally: _Tally,
    offline: OfflinePlanner,
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
        answer = _ask_for_plan(
            spec, settings=settings, limit=limit, sections=sections, tally=tally, offline=offline
        )
    plan = validate_plan(
        answer.issues,
        max_issues=limit,
        sections=sections,
        planner=settings.provider,
        notes=[*answer.notes, *count_notes(spec, found=len(answer.issues))],
        reorder=True,
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


SPLIT_KINDS = ("truncated", "timeout", "too_large")  # ask again, smaller
# Kinds after which this model is asked nothing more in this run.
STOP_KINDS = ("auth", "not_found", "quota", "daily_quota", "invalid_request", "refusal")


def _ask_for_plan(
    spec: Spec, *, settings: AISettings, limit: int, sections: Sequence[Section], **run: Any
) -> PlanAnswer:
    """One request when the spec fits in one; else an outline, then one request per part.

    ``run`` holds the `_Tally` (``tally``) and the `OfflinePlanner` (``offline``).
    """
    tally: _Tally = run["tally"]
    offline: OfflinePlanner = run["offline"]
    limits = settings.model_limits()
    whole = build_prompt(spec, max_issues=limit)
    units = build_units(sections)[1]
    expected = spec.options.count or min(limit, _work_sections(sections))
    estimate = _offline_estimate(spec, offline=offline, limit=limit)
    if fits_request(whole, limits, issues=expected):
        try:
            return _ask(
                whole, settings=settings, tally=tally, stage="plan", retry_timeouts=not units
            )
        except AIPlanningError as exc:
            if exc.kind not in SPLIT_KINDS or len(units) < 2:
                raise
            reason = _SPLIT_REASONS[exc.kind]
        outline = build_offline_outline(sections, estimate=estimate)
    else:
        reason = f"The spec is larger than one request to {settings.provider} allows"
        outline = _ask_outline(
            spec, sections=sections, settings=settings, limit=limit, tally=tally, estimate=estimate
        )
    return _plan_in_parts(
        spec, outline, reason=reason, settings=settings, limit=limit, tally=tally, offline=offline
    )


_SPLIT_REASONS = {
    "truncated": "The AI's answer was too long",
    "timeout": "The request for the whole plan timed out",
    "too_large": "The spec was too large for one request",
}


def fits_request(
    prompt: Prompt, limits: ModelLimits, *, issues: int, answer_type: type[BaseModel] = PlanAnswer
) -> bool:
    """Whether ``prompt`` and an answer of ``issues`` issues fit one request."""
    tokens = estimate_request(prompt, answer_type)
    return tokens <= limits.max_input and output_tokens_for(issues) <= limits.output_for(tokens)


def estimate_request(prompt: Prompt, answer_type: type[BaseModel] = PlanAnswer) -> int:
    """The request's input tokens: both messages and the response schema sent beside them."""
    schema = json.dumps(answer_type.model_json_schema(), separators=(",", ":"))
    return estimate_messages(prompt.system, prompt.user) + estimate_tokens(schema)


def _work_sections(sections: Sequence[Section]) -> int:
    return max(
        1,
        sum(
            1
            for u in build_units(sections)[1]
            if u.kind == "work"
            for s in u.sections
            if s.body.strip()
        ),
    )


def _offline_estimate(
    spec: Spec, *, offline: OfflinePlanner, limit: int
) -> Callable[[Sequence[Section]], int]:
    """How many issues the offline planner finds in some sections: the outline's fallback."""

    def estimate(sections: Sequence[Section]) -> int:
        try:
            return len(offline(_part_spec(spec, sections, count=None), max_issues=limit).issues)
        except PlanError:
            return 1

    return estimate


def _part_spec(spec: Spec, sections: Sequence[Section], *, count: int | None) -> Spec:
    text = "\n\n".join(render_section(s) for s in sections)
    return dataclasses.replace(
        spec, text=text, options=dataclasses.replace(spec.options, count=count)
    )


def _ask_outline(
    spec: Spec,
    *,
    sections: Sequence[Section],
    settings: AISettings,
    limit: int,
    tally: _Tally,
    estimate: Callable[[Sequence[Section]], int],
) -> Outline:
    """The AI's outline of the spec (the whole text or, when that is too big, a digest)."""
    limits = settings.model_limits()
    started = time.monotonic()
    outline_out = 150 + 30 * len(sections)  # tokens: each heading named once, briefly
    texts = [(spec.text, False), *((build_digest(sections, lines=n), True) for n in DIGEST_LINES)]
    for text, digest in texts:
        prompt = build_outline_prompt(text, max_issues=limit, digest=digest)
        tokens = estimate_request(prompt, OutlineAnswer)
        if tokens <= limits.max_input and outline_out <= limits.output_for(tokens):
            break
    else:
        return build_offline_outline(sections, estimate=estimate)
    try:
        raw = _complete_with_retries(
            prompt,
            settings=settings,
            tally=tally,
            call=_Call("outline", OutlineAnswer, limits.output_for(tokens)),
        )
        answer = read_typed_answer(raw, OutlineAnswer)
    except AIPlanningError as exc:
        if exc.kind in STOP_KINDS:
            raise
        return build_offline_outline(sections, estimate=estimate)
    finally:
        tally.timed("outline", time.monotonic() - started)
    outline = build_outline(answer, sections, estimate=estimate)
    return outline if outline.epics else build_offline_outline(sections, estimate=estimate)


def _plan_in_parts(
    spec: Spec,
    outline: Outline,
    *,
    reason: str,
    settings: AISettings,
    limit: int,
    tally: _Tally,
    offline: OfflinePlanner,
) -> PlanAnswer:
    """Each part of the outline planned by its own request, concurrently, then merged."""
    limits = settings.model_limits()
    total = min(spec.options.count, limit) if spec.options.count else limit
    per_request = limits.issues_per_request()
    ask = _PartAsker(spec, outline, settings=settings, tally=tally, per_request=per_request)
    parts = fit_parts(
        build_parts(outline, total=total),
        fits=lambda p: fits_request(ask.prompt(p), limits, issues=p.estimate),
        per_request=per_request,
    )
    started = time.monotonic()
    results, failures = _run_parts(parts, ask=ask, workers=limits.concurrency)
    tally.timed("parts", time.monotonic() - started)
    if not any(p not in failures for p, _ in results):
        raise next(iter(failures.values()))
    planned = [
        (p, _offline_part(spec, p, offline=offline) if p in failures else answer)
        for p, answer in results
    ]
    merged = merge_parts(planned, after=[e.after for e in outline.epics])
    notes = [
        f"{reason}, so the spec was planned in {len(results)} parts.",
        *_failure_notes(failures),
        *_skipped_notes(outline),
        tally.pass_note(),
    ]
    return merged.model_copy(update={"notes": [*notes, *merged.notes]})


class _PartAsker:
    """Builds a part's prompt and asks for it; never raises (a failure is returned)."""

    def __init__(
        self,
        spec: Spec,
        outline: Outline,
        *,
        settings: AISettings,
        tally: _Tally,
        per_request: int,
    ):
        self.spec = spec
        self.outline = outline
        self.settings = settings
        self.tally = tally
        self.per_request = per_request
        limits = settings.model_limits()
        # The shared context may take a quarter of a request, no more.
        self.context = clip_text(
            outline.context_text(), int(limits.max_input * CHARS_PER_TOKEN / 4)
        )

    def prompt(self, part: Part) -> Prompt:
        cap = min(part.budget, self.per_request)
        count = cap if self.spec.options.count else None
        return build_part_prompt(
            _part_spec(self.spec, part.sections, count=count),
            part=part.text,
            part_title=part.title,
            max_issues=cap,
            context=self.context,
            outline=[e.title for e in self.outline.epics],
            position=part.epic + 1,
        )

    def __call__(self, part: Part) -> PlanAnswer | AIPlanningError:
        if self.tally.stopped is not None:
            return self.tally.stopped
        try:
            return _ask(self.prompt(part), settings=self.settings, tally=self.tally, stage="parts")
        except AIPlanningError as exc:
            if exc.kind in STOP_KINDS:
                self.tally.stop(exc)
            return exc


def _run_parts(
    parts: Sequence[Part], *, ask: _PartAsker, workers: int
) -> tuple[list[tuple[Part, PlanAnswer]], dict[Part, AIPlanningError]]:
    """Every part asked, at most ``workers`` in flight; a part cut off or too big is split."""
    results: list[tuple[Part, PlanAnswer]] = []
    failures: dict[Part, AIPlanningError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(parts)))) as pool:
        running = {pool.submit(ask, p): p for p in parts}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                part = running.pop(future)
                outcome = future.result()
                if isinstance(outcome, PlanAnswer):
                    results.append((part, outcome))
                    continue
                children = split_part(part) if outcome.kind in SPLIT_KINDS else []
                running |= {pool.submit(ask, child): child for child in children}
                if not children:
                    failures[part] = outcome
                    results.append((part, PlanAnswer(issues=[], notes=[])))
    return results, failures


def _offline_part(spec: Spec, part: Part, *, offline: OfflinePlanner) -> PlanAnswer:
    """The offline planner's plan for one part, as drafts the merge can take."""
    try:
        plan = revalidate(
            offline(_part_spec(spec, part.sections, count=None), max_issues=part.budget),
            max_issues=part.budget,
            sections=part.sections,
        )
    except PlanError:
        return PlanAnswer(issues=[], notes=[])
    return PlanAnswer(issues=[draft_from_issue(i) for i in plan.issues], notes=[])


def draft_from_issue(issue: PlannedIssue) -> IssueDraft:
    return IssueDraft.model_validate(
        {
            "title": issue.title,
            "body": issue.body,
            "labels": list(issue.labels),
            "depends_on": [int(k) for k in issue.depends_on if k.isdigit()],
            "size": issue.size or "M",
            "covers": list(issue.covers),
        }
    )


def _failure_notes(failures: Mapping[Part, AIPlanningError]) -> list[str]:
    if not failures:
        return []
    named = "; ".join(f"{p.title} ({e.kind})" for p, e in failures.items())
    return [f"The AI could not plan {len(failures)} part(s), so the offline planner did: {named}."]


def _skipped_notes(outline: Outline) -> list[str]:
    if not outline.skipped:
        return []
    return ["Not planned (out of scope): " + "; ".join(outline.skipped) + "."]


def clip_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 20)].rstrip() + "\n[…]"


def _ask(
    prompt: Prompt,
    *,
    settings: AISettings,
    tally: _Tally,
    stage: str,
    retry_timeouts: bool = False,
) -> PlanAnswer:
    """A plan for ``prompt``; `AIPlanningError(kind="too_large")` when it cannot fit, unsent."""
    limits = settings.model_limits()
    tokens = estimate_request(prompt)
    if tokens > limits.max_input:
        raise AIPlanningError(
            f"the request would be {tokens} tokens, over the {limits.max_input} allowed",
            kind="too_large",
        )
    call = _Call(stage, PlanAnswer, limits.output_for(tokens), retry_timeouts=retry_timeouts)
    return read_answer(_complete_with_retries(prompt, settings=settings, tally=tally, call=call))


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Call:
    """What one request asks for, besides the prompt."""

    stage: str  # "plan", "outline" or "parts": the pass its usage is counted under
    answer_type: type[BaseModel]
    max_output: int
    retry_timeouts: bool = False  # a timeout is retried only when the request cannot shrink


class _Tally:
    """What the AI requests of one `build_plan` call cost, how much time is left, and the pace.

    Shared by the part requests' threads: every change happens under the lock.
    """

    def __init__(
        self,
        settings: AISettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.stages: dict[str, list[float]] = {}  # stage -> [requests, in, out, seconds]
        self.stopped: AIPlanningError | None = None
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.settings.deadline - (self.clock() - self.started)

    def begin(self, stage: str) -> None:
        """Count a request about to be made, after waiting for room in the minute's quota."""
        rpm = self.settings.model_limits().rpm
        with self._lock:
            now = self.clock()
            while self._starts and self._starts[0] <= now - 60:
                self._starts.popleft()
            wait = self._starts[-rpm] + 60 - now if len(self._starts) >= rpm else 0.0
            if wait >= self.remaining():
                raise AIPlanningError(
                    "the requests-per-minute limit leaves no time before the deadline",
                    kind="timeout",
                )
            self._starts.append(now + wait)
            self.requests += 1
            self._stage(stage)[0] += 1
        if wait > 0:
            self.sleep(wait)

    def add(self, raw: RawAnswer, stage: str) -> None:
        with self._lock:
            extra = raw.requests - 1  # the attempt itself was counted before it was made
            self.requests += extra
            numbers = self._stage(stage)
            numbers[0] += extra
            numbers[1] += raw.prompt_tokens
            numbers[2] += raw.completion_tokens
            self.prompt_tokens += raw.prompt_tokens
            self.completion_tokens += raw.completion_tokens

    def timed(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._stage(stage)[3] += seconds

    def stop(self, exc: AIPlanningError) -> None:
        with self._lock:
            self.stopped = self.stopped or exc

    def _stage(self, stage: str) -> list[float]:
        return self.stages.setdefault(stage, [0, 0, 0, 0.0])

    def pass_note(self) -> str:
        """Requests, tokens and wall time of each pass, for the plan's notes."""
        parts = [
            f"{stage} {int(n[0])} request{'s' if n[0] != 1 else ''}, "
            f"{int(n[1]):,} in / {int(n[2]):,} out tokens, {n[3]:.1f} s"
            for stage, n in self.stages.items()
        ]
        return "AI passes: " + "; ".join(parts) + "."

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


def _complete_with_retries(
    prompt: Prompt, *, settings: AISettings, tally: _Tally, call: _Call
) -> RawAnswer:
    """One answer, retrying rate limits and server errors within the deadline.

    A timeout is retried only when ``call.retry_timeouts``: otherwise the caller asks again
    with a smaller request, never the same one.
    """

    def retryable(exc: BaseException) -> bool:
        return is_retryable(exc) and (call.retry_timeouts or getattr(exc, "kind", "") != "timeout")

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        stop=stop_any(stop_after_attempt(settings.max_attempts), _PastDeadline(tally)),
        wait=_wait(settings),
        reraise=True,
    )
    return retrying(_attempt, prompt, settings=settings, tally=tally, call=call)


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


def _attempt(prompt: Prompt, *, settings: AISettings, tally: _Tally, call: _Call) -> RawAnswer:
    if tally.stopped is not None:
        raise tally.stopped
    tally.begin(call.stage)
    timeout = min(request_timeout(settings, max_output=call.max_output), tally.remaining())
    if timeout <= 0:
        raise AIPlanningError("the overall planning deadline has passed", kind="timeout")
    try:
        raw = _complete(prompt, settings=settings, timeout=timeout, call=call)
    except AIPlanningError as exc:
        raise _scrubbed(exc, settings.api_key) from exc.__cause__
    tally.add(raw, call.stage)
    return raw


def request_timeout(settings: AISettings, *, max_output: int) -> float:
    """The per-request timeout: ``settings.timeout``, longer for answers that take longer."""
    if not settings.output_rate:
        return settings.timeout
    return max(settings.timeout, 10 + max_output / settings.output_rate)


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


def _complete(prompt: Prompt, *, settings: AISettings, timeout: float, call: _Call) -> RawAnswer:
    """Dispatch to the provider's adapter (imported lazily: offline runs need no SDK)."""
    if settings.provider == "gemini":  # the others speak OpenAI's chat completions
        from openproducer.planning import gemini_provider

        return gemini_provider.complete(
            prompt,
            api_key=settings.api_key,
            model=settings.model,
            base_url=settings.base_url,
            timeout=timeout,
            max_output_tokens=call.max_output,
            answer_type=call.answer_type,
        )
    from openproducer.planning import openai_provider

    request = openai_provider.Request(
        model=settings.model,
        answer_type=call.answer_type,
        max_output_tokens=call.max_output,
        # OpenAI's reasoning models take only the new name; other servers know the old one.
        token_param="max_completion_tokens" if settings.provider == "openai" else "max_tokens",
    )
    return openai_provider.complete(
        prompt,
        api_key=settings.api_key,
        request=request,
        base_url=settings.base_url or DEFAULT_BASE_URLS["openai"],
        timeout=timeout,
    )
