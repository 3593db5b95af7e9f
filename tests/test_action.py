"""The Action end to end: real payloads through entrypoint's main against the local GitHub."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BOT, TRIGGER, Harness, webhook

SPEC = f"""{TRIGGER} please plan this.

We are building a small bookmarking service for teams. Priority: P0

## Accounts
Users sign up with e-mail and password, confirm their address and can reset a forgotten
password. Sessions last 30 days.

## Bookmarks
- [ ] Save a link with title and tags
- [ ] Edit a bookmark's title and tags
- [ ] Delete a bookmark with undo
- [ ] Import bookmarks from a browser HTML export

## Search
Full-text search over titles, tags and page text, ranked by recency and matches.

## Sharing
Teams share collections; members can add links, viewers can only read.

## Operations
Nightly backups, an uptime alert and a dashboard of sign-ups and saved links.
"""


def test_spec_issue_becomes_eight_linked_issues_and_one_summary(gh: Harness) -> None:
    issue, result = gh.open_issue(SPEC)
    assert result.code == 0, result.log
    created = gh.created(issue["number"])
    titles = [i["title"] for i in created]
    assert len(created) == 8, titles
    assert len(set(titles)) == 8
    assert any("Import bookmarks" in t for t in titles)
    assert not any("task #" in t.lower() or "auto-generated" in t.lower() for t in titles)
    run_id = result.outputs["run-id"]
    assert run_id.startswith("run_")
    for item in created:
        assert f"Part of #{issue['number']}" in item["body"]
        assert run_id in item["body"]
        assert item["user"]["login"] == BOT
    summaries = gh.bot_comments(issue["number"])
    assert len(summaries) == 1
    summary = summaries[0]["body"]
    for item in created:
        assert f"#{item['number']}" in summary
    assert "**created** 8" in summary and run_id in summary
    assert result.outputs["status"] == "completed" and result.outputs["command"] == "spawn"
    assert sorted(result.created) == sorted(i["number"] for i in created)
    assert "Created 8 issues" in result.summary
    # 👀 when the command is seen, then 🚀 when it is done.
    assert [r["content"] for r in gh.emu.reactions(gh.repo, issue["number"])] == ["eyes", "rocket"]


def test_option_lines_and_free_text_work_together(gh: Harness) -> None:
    body = SPEC.replace(f"{TRIGGER} please plan this.\n", f"labels: backend, v1\n{TRIGGER}\n")
    issue, result = gh.open_issue(body)
    created = gh.created(issue["number"])
    assert result.outputs["status"] == "completed", result.log
    assert len(created) == 8
    for item in created:
        assert {label["name"] for label in item["labels"]} >= {"backend", "v1"}
    assert any("Priority: P0" in i["body"] for i in created)  # spec text, not an option
    label_reads = [r for r in gh.emu.requests if r.method == "GET" and r.path.endswith("/labels")]
    assert len(label_reads) == 1  # the repository's labels are listed once per run


@pytest.mark.parametrize(
    ("options", "line", "words"),
    [
        ("count: 0", 1, "count"),
        ("count: 1000", 1, "count"),
        ("count: ten", 1, "count"),
        ("unique_by: colour", 1, "unique_by"),
        ("```yaml\ncount: [1,\n```", 2, "yaml"),
    ],
)
def test_invalid_options_get_a_reply_naming_the_line_and_create_nothing(
    gh: Harness, options: str, line: int, words: str
) -> None:
    issue, result = gh.open_issue(f"{options}\n{SPEC}")
    assert result.code == 0, result.log
    assert result.outputs["status"] == "invalid"
    assert gh.created(issue["number"]) == []
    reply = gh.last_reply(issue["number"])
    assert f"| {line} |" in reply and words in reply.lower()
    assert "Nothing was created" in reply


def test_comment_on_a_pull_request_is_ignored(gh: Harness) -> None:
    payload = webhook("issue_comment.created.1")
    issue = gh.emu.create_issue(gh.repo, author="alice", title="PR", body="")
    payload["issue"] = {**issue, "pull_request": {"url": "x", "html_url": "y"}}
    payload["comment"]["body"] = f"{TRIGGER} help"
    payload["repository"] = gh.repository
    result = gh.run("issue_comment", payload)
    assert (result.code, result.outputs["status"]) == (0, "ignored")
    assert gh.emu.comments(gh.repo, issue["number"]) == []


@pytest.mark.parametrize("name", ["issues.labeled.1", "issue_comment.edited.1"])
def test_other_events_are_ignored_with_one_log_line(gh: Harness, name: str) -> None:
    payload = webhook(name)
    payload["repository"] = gh.repository
    result = gh.run(name.split(".")[0], payload)
    assert result.code == 0 and result.outputs["status"] == "ignored"
    assert "Ignoring" in result.log
    assert gh.emu.requests == [] or all(r.method == "GET" for r in gh.emu.requests)


def test_events_from_bots_are_ignored(gh: Harness) -> None:
    issue, result = gh.open_issue(SPEC, author="dependabot[bot]")
    assert result.outputs["status"] == "ignored"
    assert gh.created(issue["number"]) == []


def test_entrypoint_runs_as_the_runner_runs_it(gh: Harness) -> None:
    issue = gh.emu.create_issue(gh.repo, author="alice", title="Spec", body=SPEC)
    payload = webhook("issues.opened.2")
    payload.update(issue=issue, repository=gh.repository, sender=gh.emu.add_user("alice"))
    result = gh.run("issues", payload, subprocess_=True)
    assert result.code == 0, result.log
    assert len(gh.created(issue["number"])) == 8
    assert "::add-mask::" in result.log and gh.token not in result.log.replace(
        f"::add-mask::{gh.token}", ""
    )
    assert json.loads(result.outputs["created-issues"]) == result.created


def test_a_repeated_trigger_skips_what_exists(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC)
    assert len(first.created) == 8
    again = gh.comment(issue["number"], TRIGGER)
    assert again.outputs["status"] == "completed", again.log
    assert again.created == []
    assert len(gh.created(issue["number"])) == 8
    assert "**skipped** 8" in gh.last_reply(issue["number"])


def test_the_workflow_token_is_never_sent_to_get_user(gh: Harness) -> None:
    gh.open_issue(SPEC)
    assert not [r for r in gh.emu.requests if r.path == "/user"]
    assert "GET /user" not in gh.comment(1, f"{TRIGGER} status").log


def test_an_ignored_event_writes_no_step_summary(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    result = gh.comment(issue["number"], "Thanks, looks good!")
    assert result.outputs["status"] == "ignored"
    assert result.summary == ""


def test_debug_lines_only_when_the_run_has_debug_logging_on(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    quiet = gh.comment(issue["number"], f"{TRIGGER} status")
    assert "::debug::" not in quiet.log
    gh.env["RUNNER_DEBUG"] = "1"
    loud = gh.comment(issue["number"], f"{TRIGGER} status")
    debug = [line for line in loud.log.splitlines() if line.startswith("::debug::")]
    assert len(debug) == 1 and "issue_comment.created → status ok" in debug[0]
    assert "GitHub calls" in debug[0] and gh.token not in loud.log.replace(gh.token, "", 1)


def test_a_failed_command_ends_with_a_confused_reaction(gh: Harness) -> None:
    gh.user("rita", "read")
    issue, _ = gh.open_issue("Just an issue.")
    done = gh.comment(issue["number"], f"{TRIGGER} rollback last", author="rita")
    assert done.outputs["status"] == "refused"
    comment = gh.emu.comments(gh.repo, issue["number"])[0]
    assert comment["user"]["login"] == "rita"
    reactions = gh.emu.comment_reactions(gh.repo, comment["id"])
    assert [r["content"] for r in reactions] == ["eyes", "confused"]
