"""Refining a pending preview by comment (#16), through the Action against the local GitHub."""

from __future__ import annotations

import re

import pytest

from openproducer.demo import event_payload
from openproducer.handlers.edit import merged_title
from tests.conftest import TRIGGER, Harness, webhook
from tests.fakes.ai_server import serve_ai
from tests.test_conversation import DRY


def _preview_titles(body: str) -> list[str]:
    return re.findall(r"^\| \d+ \| (.+?) \|", body, flags=re.M)


def _preview(gh: Harness, number: int) -> str:
    return str(gh.bot_comments(number)[0]["body"])


def _created_titles(gh: Harness, number: int) -> list[str]:
    return [i["title"] for i in sorted(gh.created(number), key=lambda i: i["number"])]


def test_drop_merge_rename_add_edit_then_confirm_creates_exactly_the_edited_plan(
    gh: Harness,
) -> None:
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    before = _preview_titles(_preview(gh, number))
    assert len(before) == 8

    gh.comment(number, f"{TRIGGER} drop 8")
    gh.comment(number, f"{TRIGGER} merge 1 2")
    gh.comment(number, f"{TRIGGER} rename 3: Ship the share sheet")
    gh.comment(number, f"{TRIGGER} add: Write the launch post\nA short post for the blog.")
    gh.comment(number, f"{TRIGGER} edit 4\nThe new body, written by a person.\n- [ ] reviewed")
    preview = _preview(gh, number)
    titles = _preview_titles(preview)
    assert titles[0] == merged_title(before[:2])
    assert titles[0].endswith(f" and {before[1]}") and "(+" not in titles[0]
    assert titles[2] == "Ship the share sheet"
    assert titles[-1] == "Write the launch post" and len(titles) == 7
    assert "**Edits**" in preview and preview.count("- alice: ") == 5
    last = gh.last_reply(number)
    assert "Replaced the body of 4" in last and "updated: 7 issues planned" in last

    with serve_ai() as ai:  # no planning request on confirm, even with an AI configured
        done = gh.comment(
            number,
            f"{TRIGGER} confirm",
            ai_provider="openai",
            ai_api_key="sk-x",
            ai_base_url=ai.openai_url,
        )
        assert ai.requests == []
    assert done.outputs["status"] == "completed", done.log
    assert _created_titles(gh, number) == titles
    created = sorted(gh.created(number), key=lambda i: i["number"])
    assert "The new body, written by a person." in created[3]["body"]
    assert f"### {before[0]}" in created[0]["body"] and f"### {before[1]}" in created[0]["body"]


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("drop 99", "There is no item 99: the plan has 8."),
        ("merge 2", "at least 2 different item numbers"),
        ("rename 4", "Give the new title after a colon"),
        ("edit 3", "Write the new body on the lines below"),
        ("drop two", "`two` is not an item number."),
        ("add:", "Give the new item's title"),
    ],
)
def test_a_bad_edit_gets_a_clear_reply_and_changes_nothing(
    gh: Harness, command: str, problem: str
) -> None:
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    before = _preview(gh, number)
    result = gh.comment(number, f"{TRIGGER} {command}")
    assert result.outputs["status"] == "pending", result.log
    reply = gh.last_reply(number)
    assert problem in reply and "Nothing was changed" in reply
    assert _preview(gh, number) == before


def test_only_the_requester_or_a_maintainer_edits_and_only_a_pending_preview(gh: Harness) -> None:
    gh.user("wendy", "write")
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    gh.comment(number, f"{TRIGGER} drop 1", author="wendy")
    assert "Only `alice`" in gh.last_reply(number)
    assert len(_preview_titles(_preview(gh, number))) == 8
    gh.comment(number, f"{TRIGGER} cancel")
    gh.comment(number, f"{TRIGGER} drop 1")
    assert "No preview is waiting" in gh.last_reply(number)


def test_a_re_delivered_edit_is_not_applied_twice(gh: Harness) -> None:
    issue, _ = gh.open_issue(DRY)
    number = issue["number"]
    gh.comment(number, f"{TRIGGER} drop 1")
    assert len(_preview_titles(_preview(gh, number))) == 7
    comment = next(c for c in gh.emu.comments(gh.repo, number) if c["body"].endswith("drop 1"))
    payload = event_payload(
        "created",
        issue=gh.emu.issue(gh.repo, number),
        repository=gh.repository,
        sender=gh.emu.add_user("alice"),
        comment=comment,
        template=webhook("issue_comment.created.1"),
    )
    again = gh.run("issue_comment", payload)  # GitHub's "Re-run jobs"
    assert again.outputs["status"] == "ignored", again.log
    assert len(_preview_titles(_preview(gh, number))) == 7


@pytest.mark.parametrize(
    ("titles", "merged"),
    [
        (["Accounts: Sign up", "Accounts: Sessions"], "Accounts: Sign up and Sessions"),
        (["Export as CSV", "Import", "Archive"], "Export as CSV, Import and Archive"),
        (
            [
                "Accounts: Users sign up with their e-mail address and a one-time magic link",
                "Tags on links, with autocomplete from the team's tags",
            ],
            "Accounts: Users sign up with their e-mail… and "
            "Tags on links, with autocomplete from the…",
        ),
        (["A", "B", "C", "D", "E"], "A, B, C, D and E"),
        (
            [f"Rename module number {n} to its new name" for n in range(5)],
            "Rename module number 0 to its new name (+4 merged)",
        ),
    ],
)
def test_merged_titles_join_sensibly(titles: list[str], merged: str) -> None:
    assert merged_title(titles) == merged
    assert len(merged) <= 100
