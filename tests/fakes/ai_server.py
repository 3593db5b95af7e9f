"""One loopback fake for the AI providers, spoken to by the real SDKs.

It serves, in the providers' real wire formats:

- OpenAI-compatible ``POST .../chat/completions`` (``/v1/chat/completions``, or under any
  prefix such as Z.ai's ``/api/paas/v4``);
- Gemini ``POST /v1beta/models/{model}:generateContent``.

Usage::

    with serve_ai() as server:
        server.queue(openai_reply(plan_json), openai_error(500, "boom"))
        settings = AISettings(provider="custom", api_key="k", model="m",
                              base_url=server.openai_url)
        ...
        assert len(server.requests) == 1
        assert "<spec>" in server.requests[0].prompt

Replies are served in the order queued, whatever the route; when the queue is empty the
server asks ``server.responder`` (a callback from the `Request` to a `Reply`, e.g.
`spec_responder()`, which plans from the spec text the prompt holds), else answers
``server.default`` (a 500 unless a test sets another). Every request is recorded in
``server.requests`` (method, path, headers, JSON body, and the prompt text).
Only 127.0.0.1 is ever bound.

Like a real model server it can enforce, per request (``server.limits = Limits(...)``):

- an input limit: a longer prompt gets GitHub Models' 413 ``tokens_limit_reached``;
- an output limit: an answer longer than it (or, with it set, than the request's
  ``max_tokens`` / ``max_completion_tokens`` / ``maxOutputTokens``) is cut there, with
  ``finish_reason`` ``length`` (Gemini: ``MAX_TOKENS``);
- a generation speed: the reply waits ``answer tokens / tokens_per_second``.

Tokens are counted as characters / 4 (about what tokenizers give for English).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer. ``body`` is JSON-encoded unless it is already a str."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (for timeout tests)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # decoded JSON, or None

    @property
    def api(self) -> str:
        return "gemini" if ":generateContent" in self.path else "openai"

    @property
    def prompt(self) -> str:
        """All the text the client sent to the model, system instructions included."""
        if not isinstance(self.body, dict):
            return ""
        if self.api == "openai":
            return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))
        blocks = [self.body.get("systemInstruction") or {}, *self.body.get("contents", [])]
        return "\n".join(p.get("text", "") for b in blocks for p in b.get("parts", []))

    @property
    def max_output(self) -> int | None:
        """The output limit the client asked for, if any."""
        if not isinstance(self.body, dict):
            return None
        config = self.body.get("generationConfig") or {}
        for value in (
            self.body.get("max_completion_tokens"),
            self.body.get("max_tokens"),
            config.get("maxOutputTokens"),
        ):
            if isinstance(value, int):
                return value
        return None

    @property
    def spec(self) -> str:
        """The text between the prompt's last ``<spec>`` and ``</spec>``."""
        found = re.findall(r"<spec>\n(.*?)\n</spec>", self.prompt, re.S)
        return found[-1] if found else ""


@dataclass(frozen=True)
class Limits:
    """Per-request limits and speed, as a model server enforces them."""

    max_input: int | None = None  # tokens
    max_output: int | None = None  # tokens
    tokens_per_second: float | None = None  # generation speed of one answer


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


Responder = Callable[[Request], Reply]


class FakeAIServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.default = Reply(500, {"error": {"message": "fake AI server: no reply queued"}})
        self.responder: Responder | None = None
        self.limits = Limits()
        self.in_flight = 0
        self.max_in_flight = 0
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def openai_url(self) -> str:
        """Base URL for OpenAI-compatible clients."""
        return self.url + "/v1"

    @property
    def gemini_url(self) -> str:
        """Base URL for google-genai's ``HttpOptions(base_url=...)``."""
        return self.url + "/"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def pending(self) -> int:
        """Queued replies not served yet."""
        return len(self._replies)

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._replies:
                return self._replies.popleft()
        if self.responder is not None:
            return self.responder(request)
        return self.default

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _answer(self, request: Request) -> Reply:
        """The reply for ``request``, with the limits and the generation speed applied."""
        limits = self.limits
        tokens = count_tokens(request.prompt)
        if limits.max_input is not None and tokens > limits.max_input:
            with self._lock:
                self.requests.append(request)
            return github_too_large(tokens, limit=limits.max_input, model="fake-model")
        reply = self._next(request)
        if limits.max_output is not None:  # scripted replies stay as written otherwise
            reply = cut_reply(reply, min(limits.max_output, request.max_output or 1 << 30))
        if limits.tokens_per_second:
            spoken = count_tokens(reply_text(reply) or "")
            reply = replace(reply, delay=reply.delay + spoken / limits.tokens_per_second)
        return reply

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serve_ai() -> Iterator[FakeAIServer]:
    """A running fake for the duration of the ``with`` block."""
    server = FakeAIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _handler_for(server: FakeAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request("POST", self.path, headers, body)
            if not _known_route(self.path):
                return self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))
            server._enter()
            try:
                self._send(server._answer(request))
            finally:
                server._leave()

        def _send(self, reply: Reply) -> None:
            time.sleep(reply.delay)
            data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            payload = data.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _known_route(path: str) -> bool:
    path = path.split("?", 1)[0]
    return path.endswith("/chat/completions") or (
        path.startswith(("/v1beta/models/", "/v1/models/")) and path.endswith(":generateContent")
    )


# ------------------------------------------------------------------ wire-format builders


def openai_reply(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "gpt-4.1-mini",
    prompt_tokens: int = 812,
    completion_tokens: int = 430,
) -> Reply:
    """A 200 ``chat.completion`` as OpenAI sends it."""
    return Reply(
        200,
        {
            "id": "chatcmpl-Bx9fakeX0a1b2c3d4e5f",
            "object": "chat.completion",
            "created": 1_754_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        },
        {"x-request-id": "req_fake"},
    )


def openai_error(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An OpenAI error body: ``{"error": {"message", "type", "param", "code"}}``."""
    error = {"message": message, "type": type_, "param": param, "code": code}
    return Reply(status, {"error": error}, headers or {})


def gemini_reply(
    text: str | None,
    *,
    finish_reason: str = "STOP",
    model: str = "gemini-2.5-flash",
    prompt_tokens: int = 901,
    candidates_tokens: int = 512,
) -> Reply:
    """A 200 ``GenerateContentResponse`` as the Gemini API sends it."""
    parts = [] if text is None else [{"text": text}]
    return Reply(
        200,
        {
            "candidates": [
                {
                    "content": {"parts": parts, "role": "model"},
                    "finishReason": finish_reason,
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": candidates_tokens,
                "totalTokenCount": prompt_tokens + candidates_tokens,
            },
            "modelVersion": model,
            "responseId": "fakeResponseId01",
        },
    )


def gemini_error(
    status: int, message: str, status_name: str, *, headers: dict[str, str] | None = None
) -> Reply:
    """A Google API error body: ``{"error": {"code", "message", "status"}}``."""
    return Reply(
        status,
        {"error": {"code": status, "message": message, "status": status_name}},
        headers or {},
    )


# ------------------------------------------------------------------ limits and GitHub Models


def github_too_large(tokens: int, *, limit: int, model: str) -> Reply:
    """GitHub Models' answer to a prompt over the tier's input limit (HTTP 413)."""
    message = (
        f"Request body too large for {model} model. Max size: {limit} tokens. (requested {tokens})"
    )
    return Reply(
        413,
        {"error": {"code": "tokens_limit_reached", "message": message, "details": message}},
    )


def github_rate_limited(*, daily: bool = False, retry_after: int = 1) -> Reply:
    """GitHub Models' 429: per minute, or the day's requests for this model spent."""
    kind = "UserByModelByDay" if daily else "UserByModelByMinute"
    wait = 86_400 - 60 if daily else retry_after
    message = f"Rate limit of {'150 per 86400s' if daily else '15 per 60s'} exceeded ({kind})."
    return Reply(
        429,
        {"error": {"code": "RateLimitReached", "message": message, "details": message}},
        {"retry-after": str(wait), "x-ratelimit-type": kind},
    )


def reply_text(reply: Reply) -> str | None:
    """The answer text of an OpenAI or Gemini 200 reply (None for anything else)."""
    body = reply.body
    if (
        reply.status != 200
        or not isinstance(body, dict)
        or not body.get("choices", body.get("candidates"))
    ):
        return None
    if "choices" in body:
        content = body["choices"][0]["message"].get("content")
        return content if isinstance(content, str) else None
    parts = body["candidates"][0].get("content", {}).get("parts", [])
    return "".join(p.get("text", "") for p in parts) or None


def cut_reply(reply: Reply, max_tokens: int) -> Reply:
    """``reply`` cut at ``max_tokens`` of output, as a model stops at its limit."""
    text = reply_text(reply)
    if text is None or count_tokens(text) <= max_tokens:
        return reply
    body = json.loads(json.dumps(reply.body))
    cut = text[: max_tokens * 4]
    if "choices" in body:
        body["choices"][0]["message"]["content"] = cut
        body["choices"][0]["finish_reason"] = "length"
        body["usage"]["completion_tokens"] = max_tokens
    else:
        body["candidates"][0]["content"]["parts"] = [{"text": cut}]
        body["candidates"][0]["finishReason"] = "MAX_TOKENS"
    return replace(reply, body=body)


# ------------------------------------------------------------------ answering from the prompt

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$", re.M)
_CONTEXT_WORDS = re.compile(
    r"overview|introduction|background|goals?|glossary|terminology|constraints|context", re.I
)
_SKIP_WORDS = re.compile(r"out of scope|non-goals|open questions|references", re.I)


def spec_headings(spec: str) -> list[tuple[int, str, str]]:
    """(level, title, body) of every heading in ``spec``."""
    found = list(_HEADING.finditer(spec))
    return [
        (
            len(m.group(1)),
            m.group(2),
            spec[m.end() : found[n + 1].start() if n + 1 < len(found) else len(spec)].strip(),
        )
        for n, m in enumerate(found)
    ]


def spec_responder(*, body_words: int = 60, issues_per_section: int = 1) -> Responder:
    """A model that plans from the spec text it was sent.

    An outline request (its schema is ``OutlineAnswer``) gets one epic per top-level heading
    (context and out-of-scope headings sorted by their words); a planning request gets
    ``issues_per_section`` issues per heading with text, each covering that heading, titled
    after it, its body ``body_words`` words long. Answers come in the request's wire format.
    """

    def respond(request: Request) -> Reply:
        if "OutlineAnswer" in json.dumps(request.body):
            return _wire(request, json.dumps(build_outline(request.spec)))
        return _wire(
            request, json.dumps(build_plan_for(request.spec, body_words, issues_per_section))
        )

    return respond


def build_outline(spec: str) -> dict[str, Any]:
    headings = spec_headings(spec)
    if not headings:
        return {"epics": [], "context": [], "skip": []}
    levels = sorted({level for level, _, _ in headings})
    top = (
        levels[0]
        if sum(1 for lv, _, _ in headings if lv == levels[0]) > 1
        else levels[min(1, len(levels) - 1)]
    )
    epics: list[dict[str, Any]] = []
    context: list[str] = []
    skip: list[str] = []
    current: dict[str, Any] | None = None
    for level, title, _ in headings:
        if level < top:
            context.append(title)
        elif level == top:
            current = None
            if _SKIP_WORDS.search(title):
                skip.append(title)
            elif _CONTEXT_WORDS.search(title):
                context.append(title)
            else:
                current = {"title": title, "sections": [title], "issues": 0, "depends_on": []}
                current["depends_on"] = [len(epics)] if epics else []
                epics.append(current)
        if current is not None:
            current["issues"] += 1
    return {"epics": epics, "context": context, "skip": skip}


def build_plan_for(spec: str, body_words: int, per_section: int) -> dict[str, Any]:
    issues = []
    for _, title, body in spec_headings(spec):
        if not body:
            continue
        words = " ".join((body.split() * body_words)[:body_words])
        for n in range(per_section):
            issues.append(
                {
                    "title": f"Implement {title}" + (f" ({n + 1})" if per_section > 1 else ""),
                    "body": f"## Context\n{words}\n\n## What to do\nBuild it.\n\n"
                    "## Acceptance criteria\n- [ ] It works",
                    "labels": ["feature"],
                    "depends_on": [len(issues)] if issues else [],
                    "size": "M",
                    "covers": [title],
                }
            )
    return {"issues": issues, "notes": []}


def _wire(request: Request, text: str) -> Reply:
    tokens = count_tokens(request.prompt)
    if request.api == "gemini":
        return gemini_reply(text, prompt_tokens=tokens, candidates_tokens=count_tokens(text))
    return openai_reply(text, prompt_tokens=tokens, completion_tokens=count_tokens(text))
