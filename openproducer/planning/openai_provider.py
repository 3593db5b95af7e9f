"""The OpenAI-compatible adapter (OpenAI, Z.ai GLM, any compatible server): SDK calls only.

The answer format is negotiated per server, best first: strict structured output
(``chat.completions.parse(response_format=PlanAnswer)``), then JSON mode
(``{"type": "json_object"}``), then plain text. A server that rejects a format
(HTTP 400 naming ``response_format``/``json_schema``, or 422) is asked again with the next
one, and the format that worked is remembered per base URL for the rest of the process.
https://platform.openai.com/docs/guides/structured-outputs

Every request states its output limit: ``max_completion_tokens`` for OpenAI itself (its
reasoning models reject ``max_tokens``), ``max_tokens`` for GitHub Models, Z.ai and other
compatible servers, which do not all know the newer name.

Retries are not done here (``max_retries=0``): `ai.py` retries with its own policy. Every SDK
exception is translated to `ProviderError` in `translate_error`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

from openproducer.planning.prompt import Prompt
from openproducer.planning.schema import (
    PlanAnswer,
    ProviderError,
    RawAnswer,
    classify_status,
    parse_retry_after,
)

FORMATS = ("json_schema", "json_object", "text")

# base URL -> the first answer format that server accepted (per process, on purpose).
_WORKING_FORMAT: dict[str, str] = {}


@dataclass(frozen=True)
class Request:
    """What to ask besides the prompt: the answer's shape and its output limit."""

    model: str
    answer_type: type[BaseModel] = PlanAnswer
    max_output_tokens: int | None = None
    token_param: str = "max_tokens"  # or "max_completion_tokens"

    def extra(self) -> dict[str, Any]:
        return {self.token_param: self.max_output_tokens} if self.max_output_tokens else {}


def complete(
    prompt: Prompt, *, api_key: str, request: Request, base_url: str, timeout: float
) -> RawAnswer:
    """Ask for a plan once, stepping down the answer formats the server rejects."""
    client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": prompt.user},
    ]
    first = FORMATS.index(_WORKING_FORMAT.get(base_url, FORMATS[0]))
    for requests, answer_format in enumerate(FORMATS[first:], start=1):
        try:
            answer = _request(client, answer_format, request=request, messages=messages)
        except openai.APIStatusError as exc:
            if answer_format != "text" and rejects_format(exc.status_code, str(exc.message)):
                continue
            raise translate_error(exc) from exc
        except openai.OpenAIError as exc:
            raise translate_error(exc) from exc
        _WORKING_FORMAT[base_url] = answer_format
        return dataclasses.replace(answer, requests=requests)
    raise AssertionError("unreachable: the text format is never skipped")


def forget_formats() -> None:
    """Forget which answer format each server accepted (for tests and long-lived processes)."""
    _WORKING_FORMAT.clear()


def rejects_format(status: int, message: str) -> bool:
    """Does this error mean "this server does not support that response_format"?"""
    text = message.lower()
    return status == 422 or (
        status == 400 and any(w in text for w in ("response_format", "json_schema", "json_object"))
    )


def _request(
    client: openai.OpenAI,
    answer_format: str,
    *,
    request: Request,
    messages: list[ChatCompletionMessageParam],
) -> RawAnswer:
    if answer_format == "json_schema":
        return _request_schema(client, request=request, messages=messages)
    extra = request.extra()
    if answer_format == "json_object":
        extra["response_format"] = {"type": "json_object"}
    completion = client.chat.completions.create(model=request.model, messages=messages, **extra)
    return to_raw_answer(completion, parsed=None)


def _request_schema(
    client: openai.OpenAI, *, request: Request, messages: list[ChatCompletionMessageParam]
) -> RawAnswer:
    """Strict structured output; the raw response stays at hand for answers the SDK rejects."""
    response = client.chat.completions.with_raw_response.parse(
        model=request.model,
        messages=messages,
        response_format=request.answer_type,
        **request.extra(),
    )
    try:
        parsed = response.parse()
    except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
        return to_raw_answer(exc.completion, parsed=None)
    except (ValidationError, ValueError):
        # e.g. a compatible server that ignored the schema and answered fenced JSON
        return to_raw_answer(_plain_completion(response.http_response.text), parsed=None)
    message = parsed.choices[0].message if parsed.choices else None
    return to_raw_answer(parsed, parsed=message.parsed if message else None)


def _plain_completion(body: str) -> ChatCompletion | None:
    try:
        return ChatCompletion.model_validate_json(body)
    except ValueError:
        return None


def to_raw_answer(completion: ChatCompletion | None, *, parsed: BaseModel | None) -> RawAnswer:
    if completion is None or not completion.choices:
        return RawAnswer(text=None)
    choice = completion.choices[0]
    usage = completion.usage
    refusal = choice.message.refusal
    if choice.finish_reason == "content_filter":
        refusal = refusal or "the answer was stopped by the provider's content filter"
    return RawAnswer(
        text=choice.message.content,
        parsed=parsed,
        truncated=choice.finish_reason == "length",
        refusal=refusal,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )


def translate_error(exc: openai.OpenAIError) -> ProviderError:
    """The one place where OpenAI SDK exceptions become OpenProducer's."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("the request timed out", retryable=True, kind="timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("could not connect to the server", retryable=True, kind="connection")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers
        kind, retryable = classify_status(status, code=_error_code(exc.body), headers=headers)
        return ProviderError(
            describe_status(status, kind, str(exc.message)),
            status=status,
            retryable=retryable,
            kind=kind,
            retry_after=parse_retry_after(headers),
        )
    return ProviderError(f"{type(exc).__name__}: {str(exc)[:300]}", kind="error")


def describe_status(status: int, kind: str, server_message: str) -> str:
    # Authentication messages can quote part of the key: never pass them on.
    if kind == "auth":
        return f"HTTP {status}: the provider rejected the credentials"
    return f"HTTP {status}: {server_message[:300]}"


def _error_code(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return str(error["code"])
    return None
