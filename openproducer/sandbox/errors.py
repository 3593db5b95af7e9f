"""The one error the emulator's logic raises: it carries the HTTP answer GitHub would give."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message or HTTPStatus(status).phrase
        self.errors = errors
        self.headers = headers or {}
        details = "; ".join(_describe(e) for e in errors or [])
        super().__init__(f"{status} {self.message}" + (f": {details}" if details else ""))

    def body(self) -> dict[str, Any]:
        return build_error_body(self.status, self.message, errors=self.errors)


def build_error_body(
    status: int, message: str, *, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """GitHub's error JSON: `message`, `documentation_url`, `status`, and `errors` on a 422."""
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return body


def _describe(error: dict[str, Any]) -> str:
    where = f"{error.get('resource', '?')}.{error.get('field', '?')}"
    extra = error.get("message") or error.get("value")
    return f"{where} {error.get('code', '?')}" + (f" ({extra})" if extra is not None else "")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(resource: str, field: str, code: str = "invalid", **extra: Any) -> ApiError:
    """A 422 "Validation Failed" with one error, as GitHub reports a bad field."""
    error: dict[str, Any] = {"resource": resource, "field": field, "code": code, **extra}
    return ApiError(422, "Validation Failed", errors=[error])


def too_long(resource: str, field: str, limit: int) -> ApiError:
    message = f"{field} is too long (maximum is {limit} characters)"
    return invalid(resource, field, "custom", message=message)
