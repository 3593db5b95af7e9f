"""Runs that lose their job, their rate limit or their comments can always be finished or undone.

Every test drives the Action through real webhook payloads against the local GitHub.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from openproducer import clock
from openproducer.clock import now as real_now
from openproducer.handlers import create
from openproducer.sandbox import Fault
from tests.conftest import REPO, TRIGGER, Harness
from tests.fakes.ai_server import openai_reply, serve_ai
from tests.test_action import SPEC
from tests.test_hierarchy import SPEC as CHECKOUT
from tests.test_hierarchy import _ai_plan

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
    # Progress is saved after every issue here; the job dies at its tenth checkpoint, with its
    # state saying "creating".
    monkeypatch.setattr(create, "PROGRESS_SECONDS", 0.0)
    gh.emu.inject(Fault("PATCH", r"/issues/comments/\d+$", status=404, skip=9, times=1))
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

    monkeypatch.setattr(clock, "now", later)
    done = gh.comment(number, f"{TRIGGER} confirm")
    assert done.outputs["status"] == "completed", done.log
    _no_duplicates(gh, number, 12)
    summary = gh.bot_comments(number)[-1]["body"]
    assert "stopped without finishing" in summary


def _delete_bot_comments(gh: Harness, number: int) -> None:
    for comment in gh.bot_comments(number):
        gh.emu.delete_comment(REPO, comment["id"])


def _spawn_with_dependencies(gh: Harness) -> tuple[int, str]:
    with serve_ai() as ai:
        ai.queue(openai_reply(_ai_plan(6)))
        issue, result = gh.open_issue(
            CHECKOUT, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
        )
    assert result.outputs["status"] == "completed", result.log
    return issue["number"], result.outputs["run-id"]


def test_status_and_rollback_rebuild_a_run_whose_comments_were_deleted(gh: Harness) -> None:
    number, run_id = _spawn_with_dependencies(gh)
    created = sorted(gh.created(number), key=lambda i: i["number"])
    assert len(gh.emu.sub_issues(REPO, number)) == 6
    assert any(gh.emu.blocked_by(REPO, i["number"]) for i in created)
    _delete_bot_comments(gh, number)

    listed = gh.comment(number, f"{TRIGGER} status")
    assert listed.outputs["status"] == "ok", listed.log
    table = gh.last_reply(number)
    assert run_id in table and "rebuilt 1 run" in table and "state comments are gone" in table

    shown = gh.comment(number, f"{TRIGGER} status {run_id}")
    assert shown.outputs["status"] == "completed", shown.log
    reply = gh.last_reply(number)
    assert "Rebuilt from the markers" in reply and "It planned 6 issues" in reply
    assert all(f"#{i['number']}" in reply for i in created)

    rolled = gh.comment(number, f"{TRIGGER} rollback {run_id}")
    assert rolled.outputs["status"] == "rolled_back", rolled.log
    assert all(gh.emu.issue(REPO, i["number"])["state"] == "closed" for i in created)
    assert gh.emu.sub_issues(REPO, number) == []  # the parent's 100 slots are free again
    assert all(gh.emu.blocked_by(REPO, i["number"]) == [] for i in created)
    assert "Rebuilt from the markers" in gh.last_reply(number)

    # The rollback reply holds the run's state again: a second rollback finds nothing to do.
    again = gh.comment(number, f"{TRIGGER} rollback last")
    assert "Nothing left to roll back" in gh.last_reply(number), again.log


def test_rollback_last_finds_a_run_only_its_markers_remember(gh: Harness) -> None:
    issue, result = gh.open_issue(SPEC)
    number = issue["number"]
    assert len(gh.created(number)) == 8
    _delete_bot_comments(gh, number)
    rolled = gh.comment(number, f"{TRIGGER} rollback last")
    assert rolled.outputs["status"] == "rolled_back", rolled.log
    assert rolled.outputs["run-id"] == result.outputs["run-id"]
    assert all(i["state"] == "closed" for i in gh.created(number))


def test_markers_of_another_issue_or_author_are_not_a_run(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    copied = gh.created(number)[0]["body"]
    other = gh.emu.create_issue(REPO, author="mallory", title="Fake", body=copied)
    _delete_bot_comments(gh, number)
    gh.comment(number, f"{TRIGGER} rollback last")
    assert gh.emu.issue(REPO, other["number"])["state"] == "open"  # not the bot's issue
    second, _ = gh.open_issue("Unrelated issue without a trigger.")
    gh.comment(second["number"], f"{TRIGGER} status")
    assert "No runs yet" in gh.last_reply(second["number"])
