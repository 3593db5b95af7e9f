"""OpenProducer: turn a large specification in a GitHub issue into focused GitHub issues."""

from __future__ import annotations

__version__ = "0.1.0"


class OpenProducerError(Exception):
    """Root of every error the package raises on purpose."""


class UserError(OpenProducerError):
    """Something the user wrote or configured is wrong; shown back as a reply, exit 0."""


class ConfigError(UserError):
    """An Action input or environment variable is invalid."""


class ServiceError(OpenProducerError):
    """A remote service (GitHub or an AI provider) failed."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status, None when the service could not be reached


class GitHubError(ServiceError):
    """The GitHub API answered an error or could not be reached."""


class AIPlanningError(ServiceError):
    """An AI provider failed or answered something that is not a usable plan."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        kind: str = "error",
    ):
        super().__init__(message, status=status)
        self.retryable = retryable
        self.kind = kind  # e.g. "auth", "rate_limit", "timeout", "invalid_answer", "truncated"


class PlanError(OpenProducerError):
    """A plan cannot be built or does not pass validation."""
