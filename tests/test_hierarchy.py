"""Native hierarchy: sub-issues, blocked-by links, the 100-child limit, and old servers."""

from __future__ import annotations

import json
from pathlib import Path

from openproducer.sandbox import GitHubEmulator
from tests.conftest import REPO, TRIGGER, Harness
from tests.fakes.ai_server import openai_reply, serve_ai

SPEC = f"""{TRIGGER}

## Checkout
Customers pay for their cart with a card, see a receipt and get an e-mail.
"""


def _ai_plan(n: int) -> str:
    issues = [
        {
            "title": f"Checkout step {i}: part of the payment flow",
            "body": f"## Context\nStep {i}.\n## What to do\nBuild it.\n"
            "## Acceptance criteria\n- [ ] works",
            "labels": ["checkout"],
            "depends_on": [i - 1] if i > 1 else [],
            "size": "S",
            "covers": ["Checkout"],
        }
        for i in range(1, n + 1)
    ]
    if n > 5:
        issues[5]["depends_on"] = [1, 3]
    return json.dumps({"issues": issues, "notes": []})


def test_ai_plan_with_dependencies_becomes_sub_issues_with_blocked_by_links(
    gh: Harness,
) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(_ai_plan(12)))
        issue, result = gh.open_issue(
            SPEC, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
        )
        assert len(ai.requests) == 1
    assert result.outputs["status"] == "completed", result.log
    parent = issue["number"]
    created = sorted(gh.created(parent), key=lambda i: i["number"])
    assert len(created) == 12
    children = gh.emu.sub_issues(REPO, parent)
    assert sorted(c["number"] for c in children) == [i["number"] for i in created]
    by_title = {i["title"]: i for i in created}
    sixth = by_title["Checkout step 6: part of the payment flow"]
    blockers = {b["number"] for b in gh.emu.blocked_by(REPO, sixth["number"])}
    assert blockers == {created[0]["number"], created[2]["number"]}
    for item in created[1:]:
        for blocker in gh.emu.blocked_by(REPO, item["number"]):
            assert blocker["number"] < item["number"]  # every dependency existed first
            assert f"#{blocker['number']}" in item["body"]  # and is written in the body too
    assert json.loads(result.outputs["ai-usage"])["prompt_tokens"] > 0

    rolled = gh.comment(parent, f"{TRIGGER} rollback last")
    assert rolled.outputs["status"] == "rolled_back"
    assert gh.emu.sub_issues(REPO, parent) == []
    assert gh.emu.blocked_by(REPO, sixth["number"]) == []
    assert "sub-issue and dependency link" in gh.last_reply(parent)


def test_confirm_makes_no_ai_request(gh: Harness) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(_ai_plan(4)))
        ai_inputs = {"ai_provider": "openai", "ai_api_key": "sk-test", "ai_base_url": ai.openai_url}
        issue, preview = gh.open_issue(SPEC, dry_run="true", **ai_inputs)
        assert preview.outputs["status"] == "pending", preview.log
        confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm", **ai_inputs)
        assert len(ai.requests) == 1
    assert confirmed.outputs["status"] == "completed"
    assert len(gh.created(issue["number"])) == 4


def test_a_130_issue_plan_respects_the_100_child_limit(gh: Harness) -> None:
    sections = "\n".join(
        f"## Area {a}\n" + "\n".join(f"- Task {a}.{i} for area {a}" for i in range(n))
        for a, n in (("A", 50), ("B", 40), ("C", 40))
    )
    issue, _ = gh.open_issue(f"{TRIGGER}\n{sections}", max_issues="150")
    assert "grouped under 3 section issues" in gh.last_reply(issue["number"])
    confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm", max_issues="150")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    top = gh.emu.sub_issues(REPO, issue["number"])
    assert len(top) == 3
    assert sorted(len(gh.emu.sub_issues(REPO, g["number"])) for g in top) == [40, 40, 50]


def test_without_the_endpoints_the_run_completes_with_text_links(tmp_path: Path) -> None:
    with GitHubEmulator(sub_issues=False, dependencies=False) as emu:
        gh = Harness(emu, tmp_path)
        gh.user("alice")
        with serve_ai() as ai:
            ai.queue(openai_reply(_ai_plan(6)))
            issue, result = gh.open_issue(
                SPEC, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
            )
        assert result.outputs["status"] == "completed", result.log
        created = sorted(gh.created(issue["number"]), key=lambda i: i["number"])
        assert len(created) == 6
        assert f"Blocked by #{created[0]['number']}" in created[1]["body"]
        summary = gh.bot_comments(issue["number"])[0]["body"]
        assert all(f"- [ ] #{i['number']}" in summary for i in created)
        assert summary.count("no sub-issues API") == 1
