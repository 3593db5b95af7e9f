"""The Google Gemini adapter, on the ``google-genai`` SDK: SDK calls only.

Gemini takes the plan schema natively (``response_mime_type="application/json"`` with
``response_json_schema``) and returns the validated object as ``response.parsed``.
https://ai.google.dev/gemini-api/docs/structured-output

Retries are not done here (the SDK is told to try once): `ai.py` retries with its own
policy. Every SDK exception is translated to `ProviderError` in `translate_error`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from openproducer.planning.prompt import Prompt, validate_answer
from openproducer.planning.schema import (
    PlanAnswer,
    ProviderError,
    RawAnswer,
    classify_status,
    parse_retry_after,
)

# Pinned: SDK releases and GOOGLE_GENAI_API_VERSION change the default; structured output
# with `responseJsonSchema` is documented on v1beta.
API_VERSION = "v1beta"
_BLOCKED = {
    types.FinishReason.SAFETY,
    types.FinishReason.RECITATION,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.SPII,
}


def complete(
    prompt: Prompt,
    *,
    api_key: str,
    model: str,
    base_url: str | None,
    timeout: float,
    max_output_tokens: int | None = None,
    answer_type: type[BaseModel] = PlanAnswer,
) -> RawAnswer:
    """Ask Gemini for a plan (or another ``answer_type``) once."""
    options = types.HttpOptions(
        base_url=base_url,
        api_version=API_VERSION,
        timeout=int(timeout * 1000),  # milliseconds
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    config = types.GenerateContentConfig(
        system_instruction=prompt.system,
        response_mime_type="application/json",
        response_json_schema=answer_type.model_json_schema(),
        max_output_tokens=max_output_tokens,
    )
    try:
        client = genai.Client(api_key=api_key, vertexai=False, http_options=options)
        response = client.models.generate_content(model=model, contents=prompt.user, config=config)
    except (errors.APIError, httpx2.HTTPError) as exc:
        raise translate_error(exc) from exc
    return to_raw_answer(response, answer_type=answer_type)


def to_raw_answer(
    response: types.GenerateContentResponse, *, answer_type: type[BaseModel] = PlanAnswer
) -> RawAnswer:
    """The answer; ``parsed`` (the SDK's decoded JSON) is validated as a plan right here.

    No JSON from the SDK means a failed answer, never an empty plan.
    """
    usage = response.usage_metadata
    candidate = response.candidates[0] if response.candidates else None
    reason = candidate.finish_reason if candidate else None
    answer = RawAnswer(
        text=_text(response),
        truncated=reason == types.FinishReason.MAX_TOKENS,
        refusal=_refusal(response, reason),
        prompt_tokens=(usage.prompt_token_count or 0) if usage else 0,
        completion_tokens=(usage.candidates_token_count or 0) if usage else 0,
    )
    if answer.truncated or answer.refusal:
        return answer
    if response.parsed is None:
        raise ProviderError("the answer is not JSON (no parsed plan)", kind="invalid_answer")
    return dataclasses.replace(answer, parsed=validate_answer(answer_type, response.parsed))


def _text(response: types.GenerateContentResponse) -> str | None:
    if not response.candidates or not response.candidates[0].content:
        return None
    parts = response.candidates[0].content.parts or []
    return "".join(p.text for p in parts if p.text and not p.thought) or None


def _refusal(response: types.GenerateContentResponse, reason: Any) -> str | None:
    feedback = response.prompt_feedback
    if feedback and feedback.block_reason:
        return f"the prompt was blocked ({feedback.block_reason})"
    if reason in _BLOCKED:
        return f"the answer was blocked ({reason})"
    return None


def translate_error(exc: errors.APIError | httpx2.HTTPError) -> ProviderError:
    """The one place where google-genai (and its HTTP client's) exceptions become ours."""
    if isinstance(exc, httpx2.TimeoutException):
        return ProviderError("the request timed out", retryable=True, kind="timeout")
    if isinstance(exc, httpx2.HTTPError):
        return ProviderError("could not connect to the server", retryable=True, kind="connection")
    status = int(exc.code or 0)
    headers = getattr(exc.response, "headers", None)
    kind, retryable = classify_status(status, code=None, headers=headers)
    message = (
        "the provider rejected the credentials"
        if kind == "auth"
        else f"{exc.status or ''} {str(exc.message or '')[:300]}".strip()
    )
    return ProviderError(
        f"HTTP {status}: {message}",
        status=status,
        retryable=retryable,
        kind=kind,
        retry_after=parse_retry_after(headers) if headers is not None else None,
    )
