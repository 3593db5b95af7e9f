"""Creating issues as sub-issues with GraphQL: the adapter's translation, and whole runs."""

from __future__ import annotations

from typing import Any

import pytest

from openproducer import GitHubError
from openproducer.github import decipher_graphql
from openproducer.sandbox import Fault, GitHubEmulator
from tests.conftest import REPO, Harness
from tests.test_action import SPEC


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}, 403),
        ({"errors": [{"message": "You have exceeded a secondary rate limit."}]}, 403),
        ({"data": None, "errors": [{"type": "FORBIDDEN", "message": "no"}]}, 403),
        ({"data": {"x": None}, "errors": [{"type": "NOT_FOUND", "message": "gone"}]}, 404),
        ({"errors": [{"type": "UNPROCESSABLE", "message": "more than 100 sub-issues"}]}, 422),
        ({"errors": [{"message": "Field 'nonsense' doesn't exist on type 'Repository'"}]}, 422),
        ({"errors": [{"type": "INTERNAL", "message": "Something went wrong"}]}, 502),
        ("not json", 502),
    ],
)
def test_graphql_errors_become_github_errors_with_a_rest_status(body: Any, status: int) -> None:
    with pytest.raises(GitHubError) as caught:
        decipher_graphql(body, "create the issue")
    assert caught.value.status == status


def test_a_graphql_answer_gives_its_data() -> None:
    assert decipher_graphql({"data": {"a": 1}}, "read") == {"a": 1}


def _creates(gh: Harness) -> list[str]:
    return [
        r.graphql or f"{r.method} {r.path}"
        for r in gh.emu.requests
        if r.creates_content and ("createIssue" in r.graphql or r.path.endswith("/issues"))
    ]


def test_each_issue_is_a_sub_issue_from_one_request(gh: Harness) -> None:
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "completed", result.log
    assert "as a sub-issue in one GraphQL request" in result.log
    number = issue["number"]
    assert len(gh.emu.sub_issues(REPO, number)) == 8
    writes = [r for r in gh.emu.requests if r.creates_content]
    assert not any(r.path.endswith("/sub_issues") for r in writes)
    assert _creates(gh).count("mutation createIssue") == 8


@pytest.mark.parametrize(
    ("switch", "why"),
    [({"graphql": False}, "GraphQL is not available"), ({"sub_issues": False}, "no parentIssueId")],
)
def test_without_graphql_or_parent_issue_id_the_run_creates_then_links_and_says_so_once(
    tmp_path: Any, switch: dict[str, bool], why: str
) -> None:
    with GitHubEmulator(**switch) as emu:
        gh = Harness(emu, tmp_path)
        gh.user("alice", "write")
        issue, result = gh.open_issue(SPEC)
        assert result.outputs["status"] == "completed", result.log
        assert result.log.count("Creating issues with REST, then linking them") == 1
        assert why in result.log
        assert not any("createIssue" in r.graphql for r in emu.requests)
        if emu.sub_issues_enabled:
            assert len(emu.sub_issues(REPO, issue["number"])) == 8


def test_a_rate_limited_mutation_ends_the_run_resumable(gh: Harness) -> None:
    limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded."}]}
    gh.emu.inject(Fault("POST", r"/graphql/createIssue$", status=200, skip=2, body=limited))
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "partial", result.log
    assert len(gh.created(issue["number"])) == 2
    assert "confirm" in gh.last_reply(issue["number"])


def test_a_full_parent_gets_its_issue_created_with_rest(gh: Harness) -> None:
    gh.emu.inject(
        Fault(
            "POST",
            r"/graphql/createIssue$",
            status=200,
            body={
                "errors": [
                    {
                        "type": "UNPROCESSABLE",
                        "message": "Parent issue cannot have more than 100 sub-issues",
                    }
                ]
            },
        )
    )
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "completed", result.log
    assert len(gh.created(issue["number"])) == 8
    assert len(gh.emu.sub_issues(REPO, issue["number"])) == 8  # the REST link took it
