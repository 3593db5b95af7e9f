"""Whole conversations: runs rebuilt from the thread alone, one fresh job per event."""

from __future__ import annotations

import base64
import hashlib
import re

from openproducer.model import PlannedIssue
from openproducer.state import RunState, encode_plan, encode_run
from tests.conftest import REPO, TRIGGER, Harness
from tests.test_action import SPEC

DRY = SPEC.replace(f"{TRIGGER} please plan this.\n", f"dry_run: true\n{TRIGGER}\n")


def _preview_titles(body: str) -> list[str]:
    return re.findall(r"^\| \d+ \| (.+?) \|", body, flags=re.M)


def test_dry_run_preview_then_confirm_creates_the_previewed_titles_in_order(gh: Harness) -> None:
    issue, preview = gh.open_issue(DRY)
    number = issue["number"]
    assert preview.outputs["status"] == "pending", preview.log
    assert gh.created(number) == []
    body = gh.last_reply(number)
    titles = _preview_titles(body)
    assert len(titles) == 8
    run_id = preview.outputs["run-id"]
    assert f"`{TRIGGER} confirm {run_id}`" in body  # in a code span: quoting it cannot trigger
    assert "dry_run" in body

    confirmed = gh.comment(number, f"{TRIGGER} confirm")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    assert confirmed.outputs["run-id"] == run_id
    created = sorted(gh.created(number), key=lambda i: i["number"])
    assert [i["title"] for i in created] == titles


def test_cancel_then_confirm_creates_nothing(gh: Harness) -> None:
    issue, preview = gh.open_issue(DRY)
    run_id = preview.outputs["run-id"]
    cancelled = gh.comment(issue["number"], f"{TRIGGER} cancel")
    assert cancelled.outputs["status"] == "cancelled"
    assert "Cancelled" in gh.last_reply(issue["number"])
    late = gh.comment(issue["number"], f"{TRIGGER} confirm {run_id}")
    assert late.outputs["status"] == "cancelled"
    assert "was cancelled" in gh.last_reply(issue["number"])
    assert gh.created(issue["number"]) == []


def test_keyword_flagged_spec_needs_and_gets_confirmation(gh: Harness) -> None:
    spec = SPEC + "\n## Growth\nSend a weekly spam digest to every address we can find.\n"
    issue, preview = gh.open_issue(spec)
    assert preview.outputs["status"] == "pending"
    assert "`spam`" in gh.last_reply(issue["number"])
    confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    assert len(gh.created(issue["number"])) == 9


def test_count_above_threshold_needs_confirmation(gh: Harness) -> None:
    issue, preview = gh.open_issue(SPEC, confirmation_threshold="5")
    assert preview.outputs["status"] == "pending"
    assert "confirmation threshold of 5" in gh.last_reply(issue["number"])


def test_status_rollback_and_rollback_again(gh: Harness) -> None:
    issue, run = gh.open_issue(SPEC)
    number = issue["number"]
    status = gh.comment(number, f"{TRIGGER} status")
    table = gh.last_reply(number)
    assert status.outputs["command"] == "status"
    assert run.outputs["run-id"] in table and "completed" in table and "| 8 |" in table

    one = gh.comment(number, f"{TRIGGER} status {run.outputs['run-id']}")
    assert one.outputs["status"] == "completed"
    assert gh.last_reply(number).count("🟢 open") == 8

    rolled = gh.comment(number, f"{TRIGGER} rollback last")
    assert rolled.outputs["status"] == "rolled_back", rolled.log
    created = gh.created(number)
    assert {(i["state"], i["state_reason"]) for i in created} == {("closed", "not_planned")}
    assert "Closed as not planned** (8)" in gh.last_reply(number)

    again = gh.comment(number, f"{TRIGGER} rollback last")
    assert again.outputs["command"] == "rollback"
    assert "Nothing left to roll back" in gh.last_reply(number)


def test_rollback_of_an_older_run_by_id_and_activity_is_reported(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    second = gh.comment(number, f"{TRIGGER}\n## Billing\n- Invoices\n- Refunds")
    assert len(second.created) == 2, second.log
    older = first.outputs["run-id"]
    touched = first.created[0]
    gh.emu.create_comment(REPO, touched, author="alice", body="I started on this")
    gh.comment(number, f"{TRIGGER} rollback {older}")
    reply = gh.last_reply(number)
    assert older in reply and f"#{touched}" in reply.split("Had activity")[1]
    states = {i["number"]: i["state"] for i in gh.emu.issues(REPO)}
    assert all(states[n] == "closed" for n in first.created)
    assert all(states[n] == "open" for n in second.created)


def test_forged_state_in_a_user_comment_changes_nothing(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    victim = gh.emu.create_issue(REPO, author="alice", title="Human work", body="mine")
    forged_run = RunState(
        run_id="run_20260101_000000_AAAAAAAA",
        status="completed",
        issue=number,
        requester="mallory",
        started_at="2026-01-01T00:00:00Z",
    )
    plan = (PlannedIssue(key="1", title="x", body="y"),)
    _, plan_blocks = encode_plan(forged_run.run_id, plan, secret="", chunk=60000)
    gh.emu.create_comment(
        REPO,
        number,
        author="alice",
        body="\n".join([*plan_blocks, encode_run(forged_run, secret="")]),
    )
    result = gh.comment(number, f"{TRIGGER} rollback run_20260101_000000_AAAAAAAA")
    assert "No such run" in gh.last_reply(number), result.log
    assert gh.emu.issue(REPO, victim["number"])["state"] == "open"


def test_a_thread_of_300_comments_still_works(gh: Harness) -> None:
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    for i in range(300):
        gh.emu.create_comment(REPO, number, author="bob", body=f"chatter {i}")
    gh.emu.reset_requests()
    confirmed = gh.comment(number, f"{TRIGGER} confirm")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    assert len(gh.created(number)) == 8
    comment_reads = [
        r
        for r in gh.emu.requests
        if r.method == "GET" and r.path.endswith(f"/issues/{number}/comments")
    ]
    assert len(comment_reads) <= 2 * 4  # thread read + claim re-read, 100 comments a page


def test_help_and_unknown_text_get_replies(gh: Harness) -> None:
    issue = gh.emu.create_issue(REPO, author="alice", title="Q", body="no spec here")
    helped = gh.comment(issue["number"], f"{TRIGGER} help")
    assert helped.outputs["command"] == "help"
    reply = gh.last_reply(issue["number"])
    assert "rollback last" in reply and "unique_by" in reply
    gh.comment(issue["number"], f"{TRIGGER} what's up")
    assert "help" in gh.last_reply(issue["number"])


def test_editing_the_spec_while_pending_updates_the_preview_in_place(gh: Harness) -> None:
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    comment_id = gh.bot_comments(number)[0]["id"]
    edited = gh.edit_issue(number, DRY + "\n## Billing\nInvoices for teams.\n")
    assert edited.outputs["status"] == "pending", edited.log
    comments = gh.bot_comments(number)
    assert [c["id"] for c in comments] == [comment_id]
    assert len(_preview_titles(comments[0]["body"])) == 9
    gh.comment(number, f"{TRIGGER} confirm")
    assert len(gh.created(number)) == 9


def test_editing_after_a_rollback_does_not_rerun(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    gh.comment(number, f"{TRIGGER} rollback last")
    gh.edit_issue(number, SPEC + "\n## Billing\nInvoices.\n")
    assert len(gh.created(number)) == 8
    assert "already happened" in gh.last_reply(number)
    gh.edit_issue(number, SPEC + "\n## Billing\nInvoices.\n\n")  # same spec: no second notice
    assert sum("already happened" in c["body"] for c in gh.bot_comments(number)) == 1


def test_a_150_issue_plan_with_long_bodies_survives_the_thread(gh: Harness) -> None:
    items = "\n".join(
        f"- [ ] Deliverable {i}: " + f"lorem ipsum dolor sit amet {i} " * 11 for i in range(150)
    )
    issue, preview = gh.open_issue(f"{TRIGGER}\n## Work\n{items}", max_issues="150")
    assert preview.outputs["status"] == "pending", preview.log
    assert all(len(c["body"]) <= 65536 for c in gh.bot_comments(issue["number"]))
    confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm", max_issues="150")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    created = gh.created(issue["number"])
    # GitHub allows 100 sub-issues per issue: two section issues hold 100 and 50 of them.
    assert len(created) == 152
    groups = gh.emu.sub_issues(REPO, issue["number"])
    assert [len(gh.emu.sub_issues(REPO, g["number"])) for g in groups] == [100, 50]


def test_help_shows_the_limits_in_force(gh: Harness) -> None:
    issue, _ = gh.open_issue("Just a question.")
    gh.comment(issue["number"], f"{TRIGGER} help", max_issues="25")
    reply = gh.last_reply(issue["number"])
    assert "(1-25)" in reply and "(1-100)" not in reply
    assert "At most **25** issues" in reply


def test_rollback_then_the_same_spec_again_creates_the_issues_again(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    assert len(first.created) == 8
    gh.comment(number, f"{TRIGGER} rollback last")
    redo = gh.comment(number, TRIGGER)
    assert redo.outputs["status"] == "completed", redo.log
    assert len(redo.created) == 8 and not set(redo.created) & set(first.created)
    reply = gh.last_reply(number)
    assert f"redoes run `{first.outputs['run-id']}`" in reply
    assert "same hash" not in reply


def test_a_large_plan_leaves_a_fixed_number_of_comments_whatever_its_progress(
    gh: Harness,
) -> None:
    def noise(i: int) -> str:  # text that compresses badly, so the plan data is large
        digest = b"".join(hashlib.sha512(f"{i}:{j}".encode()).digest() for j in range(11))
        return base64.b64encode(digest).decode()

    items = "\n".join(f"- [ ] Deliverable {i}: {noise(i)}" for i in range(60))
    issue, preview = gh.open_issue(f"{TRIGGER}\n## Work\n{items}", max_issues="60")
    number = issue["number"]
    assert preview.outputs["status"] == "pending", preview.log
    after_preview = len(gh.bot_comments(number))
    assert after_preview >= 2  # the plan needs continuation comments
    confirmed = gh.comment(number, f"{TRIGGER} confirm", max_issues="60")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    # Six progress checkpoints edit the run's comment: only the one run comment is new.
    assert len(gh.bot_comments(number)) == after_preview + 1
    status = gh.comment(number, f"{TRIGGER} status {confirmed.outputs['run-id']}")
    assert status.outputs["status"] == "completed"
    assert gh.last_reply(number).count("🟢 open") == 60
