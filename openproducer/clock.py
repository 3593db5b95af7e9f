"""Time as the bot records it: UTC, ISO 8601 with a Z, second precision."""

from __future__ import annotations

import secrets
import string
import time
from datetime import UTC, datetime
from typing import Protocol

_ALPHABET = string.ascii_letters + string.digits
FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    """Time as the handlers see it: wall-clock UTC, and a monotonic clock for durations."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return now()

    def monotonic(self) -> float:
        return time.monotonic()


def iso(moment: datetime) -> str:
    return moment.strftime(FORMAT)


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)


def seconds_between(start: str, end: str) -> float:
    return (parse_iso(end) - parse_iso(start)).total_seconds()


def new_run_id(moment: datetime) -> str:
    """``run_YYYYMMDD_HHMMSS_<8 random alphanumerics>``."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"run_{moment.strftime('%Y%m%d_%H%M%S')}_{suffix}"
