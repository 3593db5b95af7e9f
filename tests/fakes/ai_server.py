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
server answers ``server.default`` (a 500 unless a test sets another). Every request is
recorded in ``server.requests`` (method, path, headers, JSON body, and the prompt text).
Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


class FakeAIServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.default = Reply(500, {"error": {"message": "fake AI server: no reply queued"}})
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
            return self._replies.popleft() if self._replies else self.default

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
            self._send(server._next(request))

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
