"""Applying a reconcile (#16): its new issues are created as a spawn creates them, under the
shared hourly budget and exactly once, and the "blocked by" links follow the changed plan.

Whole conversations through the Action against the local GitHub, on both creation paths. The
plans come from the fake AI server, so each test says exactly which items depend on which.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from github import Auth, Github

from openproducer import clock
from openproducer.sandbox import Fault
from openproducer.state import BotComment, RunState, read_thread
from tests.conftest import REPO, TRIGGER, Harness
from tests.fakes.ai_server import FakeAIServer, openai_reply, serve_ai
from tests.test_faults import CREATE
from tests.test_faults import gh as gh  # both creation paths: GraphQL sub-issues, REST + link
from tests.test_reconcile import _redeliver_comment, _redeliver_edit, _writes

SPEC = f"""{TRIGGER}

## Accounts
Users sign up with e-mail and password; sessions last 30 days.

## Bookmarks
Save a link with a title and tags.

## Search
Full-text search over titles and tags.
"""
EXPORT = "\n## Export\nExport every bookmark as a CSV file.\n"

# (title, section, 1-based indices of the items it depends on)
Item = tuple[str, str, list[int]]
ACCOUNTS: Item = ("Sign-up and sessions", "Accounts", [])
BOOKMARKS: Item = ("Save a link with title and tags", "Bookmarks", [1])
SEARCH: Item = ("Full-text search over titles and tags", "Search", [2])


def _plan(*items: Item) -> str:
    return json.dumps(
        {
            "issues": [
                {
                    "title": title,
                    "body": f"## Context\n{section} of the spec.\n## What to do\nBuild {title}.\n"
                    "## Acceptance criteria\n- [ ] it works",
                    "labels": [],
                    "depends_on": deps,
                    "size": "S",
                    "covers": [section],
                }
                for title, section, deps in items
            ],
            "notes": [],
        }
    )


@pytest.fixture
def ai(gh: Harness) -> Iterator[FakeAIServer]:
    """The fake AI server, and every job of the test planning with it."""
    with serve_ai() as server:
        gh.inputs.update(ai_provider="openai", ai_api_key="sk-test", ai_base_url=server.openai_url)
        yield server


def _spawn(gh: Harness, ai: FakeAIServer, spec: str, *items: Item) -> tuple[int, RunState]:
    ai.queue(openai_reply(_plan(*items)))
    issue, result = gh.open_issue(spec)
    assert result.outputs["status"] == "completed", result.log
    return issue["number"], _runs(gh, issue["number"])[result.outputs["run-id"]]


def _edit(
    gh: Harness, ai: FakeAIServer, number: int, spec: str, *items: Item, **inputs: str
) -> Any:
    ai.queue(openai_reply(_plan(*items)))
    return gh.edit_issue(number, spec, **inputs)


def _runs(gh: Harness, number: int) -> dict[str, RunState]:
    comments = [BotComment(c["id"], c["body"]) for c in gh.bot_comments(number)]
    return dict(read_thread(comments, secret="").runs)


def _by_title(gh: Harness, number: int) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for issue in gh.created(number):
        assert issue["title"] not in found, f"{issue['title']} exists twice"
        found[issue["title"]] = issue
    return found


def _links(gh: Harness, number: int) -> dict[str, set[str]]:
    """Each issue of the spec's title, and the titles of the issues it is blocked by."""
    return {
        title: {b["title"] for b in gh.emu.blocked_by(REPO, issue["number"])}
        for title, issue in _by_title(gh, number).items()
    }


def _blocked_lines(gh: Harness, number: int) -> dict[str, set[str]]:
    """Each issue of the spec's title, and the titles its body's "Blocked by" line names."""
    issues = _by_title(gh, number)
    titles = {f"#{i['number']}": t for t, i in issues.items()}
    found = {}
    for title, issue in issues.items():
        line = re.search(r"^Blocked by (.+)$", issue["body"], flags=re.M)
        refs = line[1].split(", ") if line else []
        found[title] = {titles[r] for r in refs}
    return found


# -- creating as a spawn does ----------------------------------------------------------------


def test_a_new_item_is_created_like_a_spawns_issues_with_the_runs_fields(
    gh: Harness, ai: FakeAIServer
) -> None:
    gh.user("bob", "write")
    Github(base_url=gh.emu.base_url, auth=Auth.Token(gh.emu.token_for("alice"))).get_repo(
        REPO
    ).create_milestone("v1")
    options = "labels: planned\nassignees: bob\nmilestone: v1\n"
    number, _ = _spawn(gh, ai, options + SPEC, ACCOUNTS, BOOKMARKS, SEARCH)
    gh.emu.reset_requests()
    result = _edit(
        gh,
        ai,
        number,
        options + SPEC + EXPORT,
        ACCOUNTS,
        BOOKMARKS,
        SEARCH,
        ("Export", "Export", []),
    )
    assert result.outputs["status"] == "completed", result.log
    export = _by_title(gh, number)["Export"]
    assert [a["login"] for a in export["assignees"]] == ["bob"]
    assert export["milestone"]["title"] == "v1"
    assert [label["name"] for label in export["labels"]] == ["planned"]
    assert export["number"] in [i["number"] for i in gh.emu.sub_issues(REPO, number)]
    writes = [r.graphql or f"{r.method} {r.path}" for r in gh.emu.requests if r.creates_content]
    sub_issue_links = [w for w in writes if w.endswith(f"/issues/{number}/sub_issues")]
    if gh.emu.graphql_enabled:  # one request: created as a sub-issue already
        assert "as a sub-issue in one GraphQL request" in result.log
        assert writes.count("mutation createIssue") == 1 and sub_issue_links == []
        assert f"POST /repos/{REPO}/issues" not in writes
    else:
        assert "Creating issues with REST, then linking them" in result.log
        assert writes.count(f"POST /repos/{REPO}/issues") == 1 and len(sub_issue_links) == 1


def test_a_create_that_succeeded_unseen_is_found_by_its_marker_not_made_twice(
    gh: Harness, ai: FakeAIServer
) -> None:
    number, _ = _spawn(gh, ai, SPEC, ACCOUNTS, BOOKMARKS, SEARCH)
    gh.emu.inject(Fault("POST", CREATE, status=502, apply=True))  # created; the client saw 502
    result = _edit(
        gh, ai, number, SPEC + EXPORT, ACCOUNTS, BOOKMARKS, SEARCH, ("Export", "Export", [])
    )
    assert result.outputs["status"] == "completed", result.log
    assert list(_by_title(gh, number)) == [ACCOUNTS[0], BOOKMARKS[0], SEARCH[0], "Export"]
    run = _runs(gh, number)[result.outputs["run-id"]]
    (created,) = [c for c in run.changes if c.op == "create"]
    assert created.done and created.number == _by_title(gh, number)["Export"]["number"]


SECTIONS: list[Item] = [(f"Report {n}", f"Report {n}", []) for n in range(1, 5)]
REPORTS = "".join(f"\n## Report {n}\nA weekly report of kind {n}.\n" for n in range(1, 5))


def test_past_the_hourly_budget_a_reconcile_stops_partial_and_confirm_applies_the_rest(
    gh: Harness, ai: FakeAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, spawn = _spawn(gh, ai, SPEC, ACCOUNTS, BOOKMARKS, SEARCH)
    hourly = str(spawn.writes + 4)  # the spawn's writes are in the hour: room for a few more
    result = _edit(
        gh, ai, number, SPEC + REPORTS, ACCOUNTS, BOOKMARKS, SEARCH, *SECTIONS, hourly_writes=hourly
    )
    assert result.outputs["status"] == "partial", result.log
    made = len(gh.created(number)) - 3
    assert 0 < made < 4
    reply = gh.last_reply(number)
    assert f"about {hourly} content-creating requests an hour" in reply
    assert re.search(r"confirm run_\w+` after \d\d:\d\d UTC \(in about \d+ min\) to apply", reply)
    run_id = result.outputs["run-id"]
    recorded = _runs(gh, number)[run_id]
    assert recorded.status == "partial" and recorded.writes > 0  # counted for other runs too

    again = gh.comment(number, f"{TRIGGER} confirm", hourly_writes=hourly)
    assert again.outputs["status"] == "partial", again.log
    assert len(gh.created(number)) - 3 == made  # the hour is still full

    # A newer edit would plan from the spawn again and create the same reports twice: it
    # waits for the unfinished run, says so once, and plans nothing (no AI request).
    asked = len(ai.requests)
    later = gh.edit_issue(number, SPEC + REPORTS + EXPORT)
    assert later.outputs["run-id"] == run_id and len(ai.requests) == asked, later.log
    assert "not finished" in gh.last_reply(number) and f"confirm {run_id}" in gh.last_reply(number)
    replies = len(gh.bot_comments(number))
    _redeliver_edit(gh, number)
    assert len(gh.bot_comments(number)) == replies
    assert len(gh.created(number)) - 3 == made

    hour_later = clock.now() + timedelta(minutes=61)
    monkeypatch.setattr(clock, "now", lambda: hour_later)
    resumed = gh.comment(number, f"{TRIGGER} confirm", hourly_writes=hourly)
    assert resumed.outputs["status"] == "completed", resumed.log
    issues = _by_title(gh, number)  # each once
    assert sorted(issues) == sorted(
        [ACCOUNTS[0], BOOKMARKS[0], SEARCH[0], *(s[0] for s in SECTIONS)]
    )
    children = {i["number"] for i in gh.emu.sub_issues(REPO, number)}
    assert {i["number"] for i in issues.values()} == children
    run = _runs(gh, number)[run_id]
    assert run.status == "completed" and all(c.done for c in run.changes)

    state = {n: i["updated_at"] for n, i in issues.items()}
    gh.emu.reset_requests()
    _redeliver_comment(gh, number, f"{TRIGGER} confirm")
    assert {n: i["updated_at"] for n, i in _by_title(gh, number).items()} == state
    assert not any("issues" in path and "comments" not in path for _, path in _writes(gh))

    ai.queue(openai_reply(_plan(ACCOUNTS, BOOKMARKS, SEARCH, *SECTIONS, ("Export", "Export", []))))
    synced = gh.comment(number, f"{TRIGGER} sync")  # the edit it waited for
    assert synced.outputs["status"] == "completed", synced.log
    assert len(_by_title(gh, number)) == 8 and "Export" in _by_title(gh, number)


# -- dependencies ----------------------------------------------------------------------------


def test_changed_dependencies_are_relinked_and_rollback_restores_the_links(
    gh: Harness, ai: FakeAIServer
) -> None:
    number, _ = _spawn(gh, ai, SPEC, ACCOUNTS, BOOKMARKS, SEARCH)
    before = _links(gh, number)
    assert before == {
        ACCOUNTS[0]: set(),
        BOOKMARKS[0]: {ACCOUNTS[0]},
        SEARCH[0]: {BOOKMARKS[0]},
    }
    # Bookmarks no longer waits for accounts; search waits for accounts and the new export,
    # which itself waits for accounts (a new item blocked by an existing issue).
    result = _edit(
        gh,
        ai,
        number,
        SPEC + EXPORT,
        ACCOUNTS,
        (BOOKMARKS[0], BOOKMARKS[1], []),
        ("Export", "Export", [1]),
        (SEARCH[0], SEARCH[1], [1, 3]),
    )
    assert result.outputs["status"] == "completed", result.log
    assert _links(gh, number) == {
        ACCOUNTS[0]: set(),
        BOOKMARKS[0]: set(),
        "Export": {ACCOUNTS[0]},
        SEARCH[0]: {ACCOUNTS[0], "Export"},
    }
    run_id = result.outputs["run-id"]
    summary = [c["body"] for c in gh.bot_comments(number) if f"run={run_id}" in c["body"]][-1]
    assert "1 created · 2 relinked · 1 unchanged" in summary
    assert "🔗 relink ✓" in summary and "+Blocked by #" in summary
    assert _blocked_lines(gh, number) == {
        ACCOUNTS[0]: set(),
        BOOKMARKS[0]: set(),
        "Export": {ACCOUNTS[0]},
        SEARCH[0]: {ACCOUNTS[0], "Export"},
    }  # the bodies' "Blocked by" lines follow the links

    gh.emu.reset_requests()
    assert _redeliver_edit(gh, number).outputs["status"] == "ignored"
    assert _writes(gh) == []

    rolled = gh.comment(number, f"{TRIGGER} rollback {run_id}")
    assert rolled.outputs["status"] == "rolled_back", rolled.log
    assert "“Blocked by” links restored" in gh.last_reply(number)
    after = _links(gh, number)
    assert {t: after[t] for t in before} == before
    lines = _blocked_lines(gh, number)
    assert {t: lines[t] for t in before} == before
    assert after["Export"] == set()  # the issue it created is closed, and unlinked
    assert _by_title(gh, number)["Export"]["state"] == "closed"

    gh.emu.reset_requests()
    _redeliver_comment(gh, number, f"{TRIGGER} rollback {run_id}")
    assert _links(gh, number) == after
    assert not any("/dependencies/" in path for _, path in _writes(gh))


def test_a_link_changed_by_hand_is_neither_duplicated_nor_restored_by_rollback(
    gh: Harness, ai: FakeAIServer
) -> None:
    number, _ = _spawn(gh, ai, SPEC, ACCOUNTS, BOOKMARKS, SEARCH)
    issues = _by_title(gh, number)
    search, accounts = issues[SEARCH[0]], issues[ACCOUNTS[0]]
    repo = Github(base_url=gh.emu.base_url, auth=Auth.Token(gh.emu.token_for("alice"))).get_repo(
        REPO
    )
    repo.get_issue(search["number"]).add_blocked_by(repo.get_issue(accounts["number"]))  # by hand
    result = _edit(
        gh,
        ai,
        number,
        SPEC + "\nSearch waits for accounts too.\n",
        ACCOUNTS,
        BOOKMARKS,
        (SEARCH[0], SEARCH[1], [1, 2]),
    )
    assert result.outputs["status"] == "completed", result.log
    assert _links(gh, number)[SEARCH[0]] == {ACCOUNTS[0], BOOKMARKS[0]}
    (relink,) = _runs(gh, number)[result.outputs["run-id"]].changes
    assert relink.op == "relink" and relink.added == () and relink.removed == ()

    gh.comment(number, f"{TRIGGER} rollback {result.outputs['run-id']}")
    assert _links(gh, number)[SEARCH[0]] == {ACCOUNTS[0], BOOKMARKS[0]}  # the person's stays
