"""Exactly-once creation under faults, crashes, re-runs and concurrency (run 3 times in CI)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from openproducer import clock
from openproducer.demo import action_env, event_payload
from openproducer.sandbox import Fault, GitHubEmulator
from openproducer.state import BotComment, read_thread
from tests.conftest import BOT, REPO, ROOT, TRIGGER, Harness, webhook
from tests.test_action import SPEC
from tests.test_conversation import DRY

# A create on either path: REST's POST .../issues, or GraphQL's createIssue mutation.
CREATE = r"/repos/[^/]+/[^/]+/issues$|/graphql/createIssue$"


@pytest.fixture(params=["graphql", "rest"])
def gh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Every fault on both creation paths: GraphQL sub-issues, and REST create-then-link."""
    with GitHubEmulator(graphql=request.param == "graphql") as emu:
        harness = Harness(emu, tmp_path)
        harness.user("alice", "write")
        yield harness


def _assert_exactly_once(gh: Harness, number: int, expected: int) -> None:
    """Every planned issue exists once, and the run's state links every one of them."""
    created = gh.created(number)
    titles = Counter(i["title"] for i in created)
    assert len(created) == expected, titles
    assert all(count == 1 for count in titles.values()), titles
    comments = [BotComment(c["id"], c["body"]) for c in gh.bot_comments(number)]
    runs = read_thread(comments, secret="").runs
    recorded = {c.number for run in runs.values() for c in run.created}
    assert recorded == {i["number"] for i in created}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_create_are_retried_without_duplicates(gh: Harness, status: int) -> None:
    gh.emu.inject(Fault("POST", CREATE, status=status, times=2, skip=2))
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "completed", result.log
    _assert_exactly_once(gh, issue["number"], 8)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("POST", CREATE, status=502, apply=True, skip=3),  # created, but the client saw 502
        Fault("POST", CREATE, apply=True, drop=True, skip=1),  # created, connection dropped
        Fault("POST", CREATE, apply=True, delay=2.5, skip=4),  # created, answer past the timeout
    ],
    ids=["applied-502", "applied-drop", "applied-timeout"],
)
def test_a_create_that_succeeded_unseen_is_found_by_its_marker(gh: Harness, fault: Fault) -> None:
    gh.emu.inject(fault)
    issue, result = gh.open_issue(SPEC, github_timeout="1")
    assert result.outputs["status"] == "completed", result.log
    _assert_exactly_once(gh, issue["number"], 8)


def test_secondary_limit_and_429_with_retry_after_are_waited_out(gh: Harness) -> None:
    message = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    gh.emu.inject(
        Fault("POST", CREATE, status=403, skip=1, headers={"Retry-After": "1"}, body=message)
    )
    gh.emu.inject(Fault("POST", CREATE, status=429, skip=4, headers={"Retry-After": "1"}))
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "completed", result.log
    _assert_exactly_once(gh, issue["number"], 8)


def test_primary_limit_exhaustion_ends_partial_and_confirm_resumes(gh: Harness) -> None:
    reset = str(int(time.time()) + 3600)
    gh.emu.inject(
        Fault(
            "POST",
            CREATE,
            status=403,
            skip=3,
            times=50,
            body={"message": "API rate limit exceeded for installation ID 1."},
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    )
    issue, first = gh.open_issue(SPEC)
    assert first.outputs["status"] == "partial", first.log
    assert len(gh.created(issue["number"])) == 3
    assert "confirm" in gh.last_reply(issue["number"])
    gh.emu.clear_faults()
    resumed = gh.comment(issue["number"], f"{TRIGGER} confirm")
    assert resumed.outputs["status"] == "completed", resumed.log
    _assert_exactly_once(gh, issue["number"], 8)


def test_hourly_budget_creates_what_fits_and_confirm_resumes(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC, hourly_writes="8")
    assert first.outputs["status"] == "partial", first.log
    assert 0 < len(gh.created(issue["number"])) < 8
    reply = gh.last_reply(issue["number"])
    assert "8 content-creating requests an hour" in reply
    assert re.search(r"confirm run_\w+` after \d\d:\d\d UTC \(in about 60 min\)", reply), reply
    resumed = gh.comment(issue["number"], f"{TRIGGER} confirm")
    assert resumed.outputs["status"] == "completed", resumed.log
    _assert_exactly_once(gh, issue["number"], 8)


def test_runs_in_two_issues_share_the_hourly_budget(
    gh: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, done = gh.open_issue(SPEC)
    assert done.outputs["status"] == "completed", done.log
    comments = [BotComment(c["id"], c["body"]) for c in gh.bot_comments(first["number"])]
    (run,) = read_thread(comments, secret="").runs.values()
    hourly = str(run.writes + 5)  # the first run fitted; the second has 5 writes left

    other = SPEC.replace("bookmark", "recipe").replace("Bookmark", "Recipe")
    second, later = gh.open_issue(other, hourly_writes=hourly)
    assert later.outputs["status"] == "partial", later.log
    fitted = len(gh.created(second["number"]))
    assert 0 < fitted < 5
    reply = gh.last_reply(second["number"])
    at = re.search(r"after \d\d:\d\d UTC \(in about (\d+) min\)", reply)
    assert at, reply
    assert 55 <= int(at.group(1)) <= 60  # when the first run's writes leave the hour

    again = gh.comment(second["number"], f"{TRIGGER} confirm", hourly_writes=hourly)
    assert again.outputs["status"] == "partial", again.log
    assert len(gh.created(second["number"])) == fitted  # the hour is still full

    hour_later = clock.now() + timedelta(minutes=61)
    monkeypatch.setattr(clock, "now", lambda: hour_later)
    resumed = gh.comment(second["number"], f"{TRIGGER} confirm", hourly_writes=hourly)
    assert resumed.outputs["status"] == "completed", resumed.log
    _assert_exactly_once(gh, first["number"], 8)
    _assert_exactly_once(gh, second["number"], 8)


def test_a_run_counts_again_what_another_run_wrote_while_it_was_creating(
    gh: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openproducer.handlers import create

    monkeypatch.setattr(create, "PROGRESS_SECONDS", 0.0)  # a checkpoint after each issue
    first, done = gh.open_issue(SPEC)
    assert done.outputs["status"] == "completed", done.log
    comments = [BotComment(c["id"], c["body"]) for c in gh.bot_comments(first["number"])]
    (run,) = read_thread(comments, secret="").runs.values()
    hourly = str(2 * run.writes + 3)  # a second run like the first fits, with 3 to spare

    original = create.checkpoint
    calls: list[int] = []

    def checkpoint_while_another_run_writes(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # meanwhile a run in a third issue creates 8 issues
            for n in range(8):
                gh.emu.create_issue(REPO, author=BOT, title=f"Elsewhere {n}", body="Part of #99")
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(create, "checkpoint", checkpoint_while_another_run_writes)
    other = SPEC.replace("bookmark", "recipe").replace("Bookmark", "Recipe")
    second, later = gh.open_issue(other, hourly_writes=hourly)
    assert later.outputs["status"] == "partial", later.log
    created = len(gh.created(second["number"]))
    assert 0 < created < 8
    assert re.search(r"after \d\d:\d\d UTC", gh.last_reply(second["number"]))
    _assert_exactly_once(gh, second["number"], created)


def test_a_422_on_one_field_does_not_stop_the_run(gh: Harness) -> None:
    gh.user("carol", "read")  # not assignable
    body = SPEC.replace(f"{TRIGGER} please plan this.\n", f"assignees: carol\n{TRIGGER}\n")
    issue, result = gh.open_issue(body)
    assert result.outputs["status"] == "completed", result.log
    assert "`carol`" in gh.last_reply(issue["number"])
    _assert_exactly_once(gh, issue["number"], 8)


def _start_job(
    gh: Harness, tmp: Path, name: str, event_name: str, payload: dict[str, object], **inputs: str
) -> subprocess.Popen[str]:
    workdir = tmp / name
    workdir.mkdir()
    (workdir / "event.json").write_text(json.dumps(payload))
    env = action_env(
        gh.emu,
        event_name=event_name,
        event_path=str(workdir / "event.json"),
        repo=REPO,
        workdir=str(workdir),
        token=gh.token,
        **inputs,
    )
    env["PATH"] = os.environ.get("PATH", "")
    return subprocess.Popen(
        [sys.executable, "entrypoint.py"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_job_killed_midway_is_finished_by_a_rerun(gh: Harness, tmp_path: Path) -> None:
    issue = gh.emu.create_issue(REPO, author="alice", title="Spec", body=SPEC)
    payload = event_payload(
        "opened",
        issue=issue,
        repository=gh.repository,
        sender=gh.emu.add_user("alice"),
        template=webhook("issues.opened.1"),
    )
    job = _start_job(gh, tmp_path, "first", "issues", payload, rate_limit_per_minute="300")
    deadline = time.monotonic() + 60
    while len(gh.created(issue["number"])) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    job.kill()
    job.wait()
    killed_at = len(gh.created(issue["number"]))
    assert 3 <= killed_at < 8
    rerun = gh.run("issues", payload)  # GitHub's "Re-run jobs": the same event again
    assert rerun.outputs["status"] == "completed", rerun.log
    _assert_exactly_once(gh, issue["number"], 8)
    status = gh.comment(issue["number"], f"{TRIGGER} status {rerun.outputs['run-id']}")
    assert status.outputs["status"] == "completed"
    assert gh.last_reply(issue["number"]).count("🟢 open") == 8


def test_two_concurrent_confirms_create_each_issue_once(gh: Harness, tmp_path: Path) -> None:
    issue, preview = gh.open_issue(DRY)
    assert preview.outputs["status"] == "pending"
    jobs = []
    for name in ("one", "two"):
        comment = gh.emu.create_comment(
            REPO, issue["number"], author="alice", body=f"{TRIGGER} confirm"
        )
        payload = event_payload(
            "created",
            issue=gh.emu.issue(REPO, issue["number"]),
            repository=gh.repository,
            sender=gh.emu.add_user("alice"),
            comment=comment,
            template=webhook("issue_comment.created.1"),
        )
        jobs.append(
            _start_job(gh, tmp_path, name, "issue_comment", payload, rate_limit_per_minute="6000")
        )
    logs = [job.communicate(timeout=120)[0] for job in jobs]
    assert all(job.returncode == 0 for job in jobs), logs
    _assert_exactly_once(gh, issue["number"], 8)
    summaries = [c for c in gh.bot_comments(issue["number"]) if "Created 8 issues" in c["body"]]
    assert len(summaries) == 1
    # The loser either lost the claim, or (when the jobs did not overlap) saw the run taken.
    replies = " ".join(c["body"] for c in gh.bot_comments(issue["number"]))
    assert any("Another job is already creating" in log for log in logs) or (
        "already created its issues" in replies or "being created right now" in replies
    )
    assert all(c["user"]["login"] == BOT for c in gh.bot_comments(issue["number"]))


def test_a_rerun_after_a_lost_checkpoint_keeps_its_links_and_rollback_removes_them(
    gh: Harness,
) -> None:
    gh.emu.inject(Fault("PATCH", r"/issues/comments/\d+$", status=502, times=30))
    issue, first = gh.open_issue(SPEC)
    assert first.code != 0  # the job died before it could record what it created
    number = issue["number"]
    assert len(gh.emu.sub_issues(REPO, number)) == 8
    gh.emu.clear_faults()
    payload = event_payload(
        "opened",
        issue=gh.emu.issue(REPO, number),
        repository=gh.repository,
        sender=gh.emu.add_user("alice"),
        template=webhook("issues.opened.1"),
    )
    rerun = gh.run("issues", payload)  # GitHub's "Re-run jobs"
    assert rerun.outputs["status"] == "completed", rerun.log
    assert "could not be added" not in gh.last_reply(number)
    _assert_exactly_once(gh, number, 8)
    gh.comment(number, f"{TRIGGER} rollback last")
    assert gh.emu.sub_issues(REPO, number) == []
