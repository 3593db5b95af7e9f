"""The emulator's `POST /graphql`: the bot's subset, GitHub's error shapes, limits and faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from openproducer.sandbox import Fault, GitHubEmulator
from tests.test_sandbox import Answer, call

REPO = "octo/demo"
IDS = """
query Ids($owner: String!, $name: String!, $number: Int!, $label: String!, $login: String!) {
  repository(owner: $owner, name: $name) {
    id
    issue(number: $number) { id number }
    label(name: $label) { id name }
    milestone(number: 1) { id }
  }
  user(login: $login) { id login }
}
"""
CREATE = """
mutation Create($input: CreateIssueInput!) {
  createIssue(input: $input) { issue { id databaseId number title url parent { number } } }
}
"""


@pytest.fixture
def emu() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as emulator:
        emulator.add_repo(REPO)
        emulator.create_issue(REPO, author="octo", title="Spec")
        yield emulator


def graphql(
    emu: GitHubEmulator, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> Answer:
    token = kw.pop("token", None) or emu.token_for("octo")
    body = {"query": query, "variables": variables or {}}
    return call(emu, "POST", "/graphql", token=token, body=body)


def ids(emu: GitHubEmulator) -> dict[str, Any]:
    variables = {"owner": "octo", "name": "demo", "number": 1, "label": "BUG", "login": "octo"}
    answer = graphql(emu, IDS, variables)
    assert answer.status == 200 and "errors" not in answer.body, answer.body
    data: dict[str, Any] = answer.body["data"]
    return data


def create(emu: GitHubEmulator, **fields: Any) -> Answer:
    repo_id = ids(emu)["repository"]["id"]
    return graphql(emu, CREATE, {"input": {"repositoryId": repo_id, "title": "T", **fields}})


def test_ids_are_the_node_ids_of_the_rest_shapes(emu: GitHubEmulator) -> None:
    data = ids(emu)
    rest = call(emu, "GET", f"/repos/{REPO}", token=emu.token_for("octo")).body
    assert data["repository"]["id"] == rest["node_id"]
    assert data["repository"]["issue"] == {"id": emu.issue(REPO, 1)["node_id"], "number": 1}
    labels = call(emu, "GET", f"/repos/{REPO}/labels", token=emu.token_for("octo")).body
    assert data["repository"]["label"]["id"] == next(
        x["node_id"] for x in labels if x["name"] == "bug"
    )
    assert data["repository"]["milestone"] is None
    assert data["user"] == {"id": emu.add_user("octo")["node_id"], "login": "octo"}


def test_create_issue_with_a_parent_makes_a_sub_issue_in_one_request(emu: GitHubEmulator) -> None:
    data = ids(emu)
    emu.reset_requests()
    answer = create(
        emu,
        body="b",
        parentIssueId=data["repository"]["issue"]["id"],
        labelIds=[data["repository"]["label"]["id"]],
        assigneeIds=[data["user"]["id"]],
    )
    issue = answer.body["data"]["createIssue"]["issue"]
    assert issue["number"] == 2 and issue["parent"] == {"number": 1}
    rest = emu.issue(REPO, 2)
    assert issue["databaseId"] == rest["id"] and issue["id"] == rest["node_id"]
    assert [x["name"] for x in rest["labels"]] == ["bug"]
    assert [a["login"] for a in rest["assignees"]] == ["octo"]
    assert [i["number"] for i in emu.sub_issues(REPO, 1)] == [2]
    kinds = [r.graphql for r in emu.requests]
    assert kinds == ["query repository,user", "mutation createIssue"]
    assert [r.creates_content for r in emu.requests] == [False, True]


@pytest.mark.parametrize(
    ("query", "variables", "kind", "words"),
    [
        ('{ repository(owner: "octo", name: "nope") { id } }', {}, "NOT_FOUND", "nope"),
        (
            '{ repository(owner: "octo", name: "demo") { issue(number: 9) { id } } }',
            {},
            "NOT_FOUND",
            "9",
        ),
        ('{ user(login: "ghost") { id } }', {}, "NOT_FOUND", "ghost"),
    ],
)
def test_errors_are_200s_with_a_type(
    emu: GitHubEmulator, query: str, variables: dict[str, Any], kind: str, words: str
) -> None:
    answer = graphql(emu, query, variables)
    assert answer.status == 200
    (error,) = answer.body["errors"]
    assert error["type"] == kind and words in error["message"]


def test_documents_are_validated_against_githubs_schema(emu: GitHubEmulator) -> None:
    answer = graphql(emu, '{ repository(owner: "octo", name: "demo") { nonsense } }')
    assert answer.status == 200 and "data" not in answer.body
    assert "nonsense" in answer.body["errors"][0]["message"]
    broken = graphql(emu, "{ repository(")
    assert broken.status == 200 and broken.body["errors"][0]["message"].startswith("Syntax Error")


def test_without_sub_issues_the_schema_has_no_parent_field() -> None:
    with GitHubEmulator(sub_issues=False) as emu:
        emu.add_repo(REPO)
        emu.create_issue(REPO, author="octo", title="Spec")
        parent = ids(emu)["repository"]["issue"]["id"]
        answer = create(emu, parentIssueId=parent)
        assert "parentIssueId" in answer.body["errors"][0]["message"]
        assert len(emu.issues(REPO)) == 1


def test_graphql_can_be_switched_off() -> None:
    with GitHubEmulator(graphql=False) as emu:
        emu.add_repo(REPO)
        assert graphql(emu, "{ viewer { login } }").status == 404


def test_anonymous_graphql_is_refused(emu: GitHubEmulator) -> None:
    answer = call(emu, "POST", "/graphql", body={"query": "{ viewer { login } }"})
    assert answer.status == 401


def test_a_parent_with_100_children_refuses_the_create_atomically(emu: GitHubEmulator) -> None:
    parent = ids(emu)["repository"]["issue"]["id"]
    for n in range(100):
        child = emu.create_issue(REPO, author="octo", title=f"c{n}")
        call(
            emu,
            "POST",
            f"/repos/{REPO}/issues/1/sub_issues",
            token=emu.token_for("octo"),
            body={"sub_issue_id": child["id"]},
        )
    answer = create(emu, parentIssueId=parent)
    (error,) = answer.body["errors"]
    assert error["type"] == "UNPROCESSABLE" and "more than 100 sub-issues" in error["message"]
    assert answer.body["data"] == {"createIssue": None}
    assert len(emu.issues(REPO)) == 101


def test_mutations_count_towards_the_secondary_limit_and_queries_do_not() -> None:
    with GitHubEmulator(secondary_limit_per_minute=2) as emu:
        emu.add_repo(REPO)
        emu.create_issue(REPO, author="octo", title="Spec")
        assert create(emu).status == 200
        assert create(emu).status == 200
        limited = create(emu)
        assert limited.status == 403
        assert limited.body["message"].startswith("You have exceeded a secondary rate limit")
        assert int(limited.headers["Retry-After"]) >= 1
        assert emu.secondary_limit_hits == 1
        assert ids(emu)["repository"]["id"]  # queries are not content-creating


def test_the_primary_limit_answers_rate_limited_in_a_200() -> None:
    with GitHubEmulator(primary_limit=1) as emu:
        emu.add_repo(REPO)
        token = emu.token_for("octo")
        assert graphql(emu, "{ viewer { login } }", token=token).status == 200
        limited = graphql(emu, "{ viewer { login } }", token=token)
        assert limited.status == 200
        assert limited.body["errors"][0]["type"] == "RATE_LIMITED"
        assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_faults_aim_at_one_operation_by_its_root_field(emu: GitHubEmulator) -> None:
    emu.inject(Fault("POST", r"/graphql/createIssue$", status=502, apply=True))
    data = ids(emu)  # a query does not match the fault
    answer = graphql(
        emu, CREATE, {"input": {"repositoryId": data["repository"]["id"], "title": "T"}}
    )
    assert answer.status == 502
    assert len(emu.issues(REPO)) == 2  # applied: created although the client saw a 502
    assert emu.requests[-1].status == 502
