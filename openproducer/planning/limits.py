"""What one request to each provider may hold, and a conservative token estimate (pure).

The figures are the documented defaults of each provider's entry tier; a custom endpoint (or a
paid tier) overrides them with the ``ai-max-input-tokens``, ``ai-max-output-tokens`` and
``ai-requests-per-minute`` inputs. Sources:

- GitHub Models, free tier (Copilot Free / no Copilot): "low" models 15 requests a minute and
  150 a day, "high" models 10 a minute and 50 a day; 8,000 input and 4,000 output tokens per
  request for both. https://docs.github.com/en/github-models/use-github-models/prototyping-with-ai-models#rate-limits
- OpenAI, usage tier 1: https://platform.openai.com/docs/models (context and output per model)
  and https://platform.openai.com/docs/guides/rate-limits (500 requests a minute).
- Z.ai GLM: https://docs.z.ai/guides/llm/glm-4.6 (200K context, 128K output).
- Gemini, free tier: https://ai.google.dev/gemini-api/docs/models and
  https://ai.google.dev/gemini-api/docs/rate-limits (flash 10 a minute, 250 a day).

Tokens are estimated from characters (3.5 a token, rounded up, plus a small per-message
overhead): English prose runs at about 4 characters a token, so the estimate errs on the large
side and a request judged to fit does fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD = 8  # tokens per chat message (role, separators)
# What one planned issue costs in output tokens (title, a three-part body, metadata), high.
TOKENS_PER_ISSUE = 350
ANSWER_OVERHEAD = 200  # the JSON envelope and notes


@dataclass(frozen=True)
class ModelLimits:
    """Per-request and per-minute limits of one model (tokens, requests)."""

    context: int  # input + output tokens the model can attend to
    max_input: int  # input tokens per request
    max_output: int  # output tokens per request
    rpm: int  # requests per minute
    rpd: int | None = None  # requests per day, where documented
    concurrency: int = 4  # requests in flight at once

    def output_for(self, input_tokens: int) -> int:
        """The most output a request with ``input_tokens`` can ask for."""
        return max(0, min(self.max_output, self.context - input_tokens))

    def issues_per_request(self) -> int:
        """How many issues one answer can hold without hitting the output limit."""
        return max(1, (self.max_output - ANSWER_OVERHEAD) // TOKENS_PER_ISSUE)


_GITHUB_LOW = ModelLimits(12_000, 8_000, 4_000, rpm=15, rpd=150, concurrency=5)
_GITHUB_HIGH = ModelLimits(12_000, 8_000, 4_000, rpm=10, rpd=50, concurrency=2)
# (provider, model prefix) -> limits; the longest matching prefix wins, "" is the default.
LIMITS: dict[tuple[str, str], ModelLimits] = {
    ("github", ""): _GITHUB_HIGH,
    ("github", "openai/gpt-4.1-mini"): _GITHUB_LOW,
    ("github", "openai/gpt-4.1-nano"): _GITHUB_LOW,
    ("github", "openai/gpt-4o-mini"): _GITHUB_LOW,
    ("github", "meta/"): _GITHUB_LOW,
    ("github", "mistral-ai/"): _GITHUB_LOW,
    ("github", "microsoft/phi"): _GITHUB_LOW,
    ("openai", ""): ModelLimits(128_000, 111_616, 16_384, rpm=500, concurrency=8),
    ("openai", "gpt-4.1"): ModelLimits(1_047_576, 1_014_808, 32_768, rpm=500, concurrency=8),
    ("openai", "gpt-5"): ModelLimits(400_000, 272_000, 128_000, rpm=500, concurrency=8),
    ("zai", ""): ModelLimits(128_000, 96_000, 32_000, rpm=60),
    ("zai", "glm-4.6"): ModelLimits(200_000, 128_000, 32_000, rpm=60),
    ("gemini", ""): ModelLimits(1_048_576, 1_048_576, 65_536, rpm=10, rpd=250),
    ("gemini", "gemini-2.5-pro"): ModelLimits(1_048_576, 1_048_576, 65_536, rpm=5, rpd=100),
    ("gemini", "gemini-2.5-flash-lite"): ModelLimits(
        1_048_576, 1_048_576, 65_536, rpm=15, rpd=1_000
    ),
    # Unknown servers (Ollama, vLLM, gateways): a small local model's window, until told.
    ("custom", ""): ModelLimits(32_768, 24_576, 8_192, rpm=60),
}


@dataclass(frozen=True)
class LimitOverrides:
    """Limits set by inputs; None keeps the table's value."""

    max_input: int | None = None
    max_output: int | None = None
    rpm: int | None = None
    concurrency: int | None = None


def find_limits(provider: str, model: str, overrides: LimitOverrides | None = None) -> ModelLimits:
    """The limits for ``model`` at ``provider``, with any overrides applied."""
    matches = [
        (len(prefix), limits)
        for (name, prefix), limits in LIMITS.items()
        if name == provider and model.casefold().startswith(prefix)
    ]
    found = max(matches, key=lambda m: m[0])[1] if matches else LIMITS[("custom", "")]
    if overrides is None:
        return found
    max_input = overrides.max_input or found.max_input
    max_output = overrides.max_output or found.max_output
    return replace(
        found,
        context=max(found.context, max_input + max_output),
        max_input=max_input,
        max_output=max_output,
        rpm=overrides.rpm or found.rpm,
        concurrency=overrides.concurrency or found.concurrency,
    )


def estimate_tokens(text: str) -> int:
    """A conservative token count for ``text`` (errs on the high side)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_messages(*texts: str) -> int:
    """Tokens of a chat request whose messages are ``texts``."""
    return sum(estimate_tokens(t) + MESSAGE_OVERHEAD for t in texts)


def output_tokens_for(issues: int) -> int:
    """The output a plan of ``issues`` issues needs."""
    return ANSWER_OVERHEAD + issues * TOKENS_PER_ISSUE
