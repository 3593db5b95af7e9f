"""A small file cache of AI planning answers, so asking twice for the same plan is free.

One JSON file per answer, named by a hash of everything that shapes the answer: provider,
model, base URL, `PROMPT_VERSION`, the plan-shaping options, the issue limit and the spec
text. The API key is not part of the key and is never written. Entries older than the TTL,
unreadable or corrupt are treated as absent; writes are atomic (temporary file + rename), and
a cache that cannot be written is simply skipped: it is an optimisation, never a requirement.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from openproducer.model import Options
from openproducer.planning.prompt import PROMPT_VERSION
from openproducer.planning.schema import PlanAnswer

DEFAULT_TTL = 3600.0
_FORMAT = 1


def cache_key(
    *,
    provider: str,
    model: str,
    base_url: str | None,
    options: Options,
    max_issues: int,
    spec_text: str,
) -> str:
    """A hex digest naming one planning request."""
    material = {
        "format": _FORMAT,
        "prompt": PROMPT_VERSION,
        "provider": provider,
        "model": model,
        "base_url": (base_url or "").rstrip("/"),
        "count": options.count,
        "template": options.template,
        "components": list(options.components),
        "max_issues": max_issues,
        "spec": hashlib.sha256(spec_text.encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class AnswerCache:
    """Planning answers stored under ``directory`` for ``ttl`` seconds."""

    def __init__(
        self,
        directory: str | Path,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ):
        self.directory = Path(directory)
        self.ttl = ttl
        self._clock = clock

    def get(self, key: str) -> PlanAnswer | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            created = float(entry["created"])
            answer = PlanAnswer.model_validate(entry["answer"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None
        if not 0 <= self._clock() - created <= self.ttl:
            return None
        return answer

    def put(self, key: str, answer: PlanAnswer) -> None:
        entry = {"format": _FORMAT, "created": self._clock(), "answer": answer.model_dump()}
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(self._path(key), json.dumps(entry))

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
