"""Injected faults and simulated rate limits: small thread-safe state machines, no HTTP."""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
# GitHub's words when the primary (hourly) limit is used up; PyGithub recognises them.
# https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-primary-rate-limit
PRIMARY_LIMIT_MESSAGE = (
    "API rate limit exceeded for {who}. If you reach out to GitHub Support for help, please "
    "include the request ID {request_id}."
)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Fault:
    """One injected misbehaviour for requests matching `method` and the `path` regex."""

    method: str
    path: str
    status: int = 500
    times: int = 1
    skip: int = 0
    apply: bool = False
    drop: bool = False
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and re.search(self.path, path) is not None


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault that fires for this request, if any; skips and uses are counted down."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


class SecondaryLimiter:
    """Content-creation limits per identity over trailing windows, as GitHub's secondary limits
    (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits)."""

    def __init__(
        self,
        *,
        per_minute: int | None,
        per_hour: int | None,
        clock: Callable[[], float],
    ) -> None:
        self._windows = [(60.0, per_minute), (3600.0, per_hour)]
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}
        self.hits = 0

    def check(self, identity: str) -> int | None:
        """Count a write; None when allowed, else the seconds to wait (Retry-After)."""
        with self._lock:
            now = self._clock()
            seen = self._seen.setdefault(identity, deque())
            while seen and seen[0] <= now - 3600.0:
                seen.popleft()
            wait = max((self._wait(seen, now, w, n) for w, n in self._windows), default=0.0)
            if wait > 0:
                self.hits += 1
                return max(math.ceil(wait), 1)
            seen.append(now)
            return None

    @staticmethod
    def _wait(seen: deque[float], now: float, window: float, limit: int | None) -> float:
        if limit is None:
            return 0.0
        recent = [t for t in seen if t > now - window]
        if len(recent) < limit:
            return 0.0
        return recent[len(recent) - limit] + window - now


class RateCounter:
    """The primary (hourly) limit's bookkeeping for the X-RateLimit-* headers."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._used: dict[str, tuple[float, int]] = {}  # identity -> (window start, used)

    def spend(self, identity: str, cost: int = 1, *, limit: int | None = None) -> tuple[int, int]:
        """Count a request; (used, reset epoch seconds) for this identity's current hour.

        With ``limit``, a request that would go past it is not counted and `LimitReached` is
        raised instead.
        """
        with self._lock:
            now = self._clock()
            start, used = self._used.get(identity, (now, 0))
            if now >= start + 3600:
                start, used = now, 0
            if limit is not None and cost and used + cost > limit:
                self._used[identity] = (start, used)
                raise LimitReached(used, int(start + 3600))
            used += cost
            self._used[identity] = (start, used)
            return used, int(start + 3600)

    def reset(self) -> None:
        """Start every identity's hour afresh, as if the reset time had passed."""
        with self._lock:
            self._used.clear()


class LimitReached(Exception):
    def __init__(self, used: int, reset: int) -> None:
        super().__init__(f"primary rate limit reached ({used} used, resets at {reset})")
        self.used = used
        self.reset = reset
