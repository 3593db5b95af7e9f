"""When the shared hourly budget has room again (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openproducer.handlers.budget import Budget, Spent

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _budget(*spent: tuple[int, int]) -> Budget:
    """``spent``: (minutes before noon, writes)."""
    return Budget(
        hourly=500,
        spent=tuple(Spent(NOON - timedelta(minutes=m), w) for m, w in spent),
        recorded=0,
    )


def test_the_limit_is_what_the_last_hour_left() -> None:
    assert _budget((50, 300), (10, 150)).limit == 50


def test_room_returns_when_the_writes_that_block_it_leave_the_hour() -> None:
    budget = _budget((50, 300), (10, 150))
    # This job made 40 at noon: 490 in the hour; 12 more fit once the 300 of 11:10 age out.
    assert budget.resumes_at(NOON, used=40, needed=12) == NOON + timedelta(minutes=10)
    # 400 more fit only once the 150 of 11:50 age out too (12:50); this job's 40 stay.
    assert budget.resumes_at(NOON, used=40, needed=400) == NOON + timedelta(minutes=50)


def test_a_need_above_the_hourly_budget_waits_a_full_hour() -> None:
    assert _budget().resumes_at(NOON, used=10, needed=600) == NOON + timedelta(hours=1)
