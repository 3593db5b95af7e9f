"""Runs that lose their job, their rate limit or their comments can always be finished or undone.

Every test drives the Action through real webhook payloads against the local GitHub.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from openproducer import engine
from openproducer.clock import now as real_now
from openproducer.sandbox import Fault
from tests.conftest import REPO, TRIGGER, Harness
from tests.test_action import SPEC

TWELVE = f"{TRIGGER}\n\n## Reports\n" + "".join(
    f"- [ ] Report {n}: export the {n}th ledger as CSV\n" for n in range(1, 13)
)


def _no_duplicates(gh: Harness, parent: int, expected: int) -> None:
    titles = Counter(i["title"] for i in gh.created(parent))
    assert len(titles) == expected and max(titles.values()) == 1, titles
    assert len(gh.emu.sub_issues(REPO, parent)) == expected


def test_a_run_that_nears_the_primary_limit_stops_as_partial_and_confirm_finishes_it(
    gh: Harness,
) -> None:
    gh.emu.primary_limit = 29  # about three issues' worth, with the reserve kept back
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    assert first.code == 0, first.log
    assert first.outputs["status"] == "partial", first.log
    made = len(gh.created(number))
    assert 0 < made < 8
    reply = gh.bot_comments(number)[-1]["body"]
    assert "requests left this hour" in reply and "resets at" in reply and "UTC" in reply
    assert f"{TRIGGER} confirm run_" in reply

    gh.emu.primary_limit = None  # the hour passes: the token's whole limit is back
    gh.emu.reset_primary_limit()
    done = gh.comment(number, f"{TRIGGER} confirm")
    assert done.outputs["status"] == "completed", done.log
    _no_duplicates(gh, number, 8)


def test_a_run_stopped_before_its_first_issue_can_still_be_confirmed(gh: Harness) -> None:
    gh.emu.primary_limit = 20  # nothing can be created within the reserve
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    assert first.outputs["status"] == "partial", first.log
    assert gh.created(number) == []
    gh.emu.primary_limit = None
    gh.emu.reset_primary_limit()
    done = gh.comment(number, f"{TRIGGER} confirm")
    assert done.outputs["status"] == "completed", done.log
    _no_duplicates(gh, number, 8)


def test_a_creating_run_whose_job_died_is_resumed_by_confirm_once_its_lease_ran_out(
    gh: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job dies at its first progress checkpoint (after 10 issues): state says "creating".
    gh.emu.inject(Fault("PATCH", r"/issues/comments/\d+$", status=404, times=1))
    issue, first = gh.open_issue(TWELVE)
    number = issue["number"]
    assert first.code == 1, first.log
    assert len(gh.created(number)) == 10

    early = gh.comment(number, f"{TRIGGER} confirm")
    assert early.outputs["status"] == "creating", early.log
    reply = gh.last_reply(number)
    assert "is being created right now" in reply and "resumes it from" in reply
    assert len(gh.created(number)) == 10

    def later() -> datetime:
        return real_now() + timedelta(minutes=31)

    monkeypatch.setattr(engine, "now", later)
    done = gh.comment(number, f"{TRIGGER} confirm")
    assert done.outputs["status"] == "completed", done.log
    _no_duplicates(gh, number, 12)
    summary = gh.bot_comments(number)[-1]["body"]
    assert "stopped without finishing" in summary
