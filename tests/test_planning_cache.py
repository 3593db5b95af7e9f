"""The answer cache: keys, TTL, corrupt entries, atomic writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openproducer.model import Options
from openproducer.planning.cache import AnswerCache, cache_key
from openproducer.planning.schema import IssueDraft, PlanAnswer

ANSWER = PlanAnswer(issues=[IssueDraft.model_validate({"title": "T", "body": "B"})], notes=["n"])
BASE: dict[str, Any] = {
    "provider": "openai",
    "model": "gpt-4.1-mini",
    "base_url": "https://api.openai.com/v1",
    "options": Options(),
    "max_issues": 20,
    "spec_text": "# Spec",
}


def test_key_changes_with_everything_that_shapes_the_answer() -> None:
    variants: list[dict[str, Any]] = [
        {},
        {"provider": "zai"},
        {"model": "gpt-4.1"},
        {"base_url": "http://localhost/v1"},
        {"options": Options(count=3)},
        {"options": Options(template="bug")},
        {"options": Options(components=("api",))},
        {"max_issues": 10},
        {"spec_text": "# Spec!"},
    ]
    keys = {cache_key(**{**BASE, **change}) for change in variants}
    assert len(keys) == len(variants)
    # labels and assignees are applied after planning: same answer
    same = cache_key(**{**BASE, "options": Options(labels=("x",))})
    assert same == cache_key(**BASE)


def test_round_trip_and_ttl(tmp_path: Path) -> None:
    now = [1000.0]
    cache = AnswerCache(tmp_path / "c", ttl=60, clock=lambda: now[0])
    assert cache.get("k") is None
    cache.put("k", ANSWER)
    assert cache.get("k") == ANSWER
    now[0] += 61
    assert cache.get("k") is None
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["k.json"]  # no temp files left


def test_corrupt_entries_are_ignored(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    for text in ("{not json", '{"created": "x", "answer": {}}', '{"created": 1}', "[]"):
        (tmp_path / "k.json").write_text(text)
        assert cache.get("k") is None
    cache.put("k", ANSWER)
    assert cache.get("k") == ANSWER


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = AnswerCache(blocker / "sub")
    cache.put("k", ANSWER)  # no exception
    assert cache.get("k") is None
