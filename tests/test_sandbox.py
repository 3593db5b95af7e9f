"""The GitHub emulator, driven through PyGithub and raw HTTP over real loopback HTTP."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait

from openproducer.sandbox import Fault, GitHubEmulator
from tests.openapi_check import load_spec, response_schema, validate

REPO = "octo/demo"
Client = Callable[..., Github]


def ticking_clock() -> Callable[[], datetime]:
    """A clock one second further on each reading, so timestamps order events strictly."""
    moments = (datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=n) for n in count())
    return lambda: next(moments)


@pytest.fixture
def emu() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(clock=ticking_clock()) as emulator:
        emulator.add_repo(REPO)
        yield emulator


@pytest.fixture
def client(emu: GitHubEmulator) -> Iterator[Client]:
    """Build PyGithub clients for a login (or the Actions token); closed after the test."""
    made: list[Github] = []

    def build(login: str | None = "octo", **options: Any) -> Github:
        token = emu.actions_token() if login == emu.ACTIONS_LOGIN else emu.token_for(login or "")
        gh = Github(
            base_url=emu.base_url,
            auth=Auth.Token(token) if login else None,
            retry=None,
            timeout=5,
            seconds_between_requests=None,
            seconds_between_writes=None,
            **options,
        )
        made.append(gh)
        return gh

    yield build
    for gh in made:
        gh.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(
    emu: GitHubEmulator, method: str, path: str, *, token: str | None = None, body: Any = None
) -> Answer:
    """One raw request, for what PyGithub hides (status codes, headers, error bodies)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emu.base_url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw, status, headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, dict(error.headers)
        error.close()
    return Answer(status, headers, json.loads(raw) if raw else None)


def error_of(excinfo: pytest.ExceptionInfo[GithubException]) -> tuple[int, Any]:
    return excinfo.value.status, excinfo.value.data


# issues, numbers, timestamps --------------------------------------------------------------------


def test_issue_numbers_are_per_repo_and_ids_are_large_global(
    emu: GitHubEmulator, client: Client
) -> None:
    emu.add_repo("octo/other")
    gh = client()
    first = [gh.get_repo(REPO).create_issue(f"a{i}") for i in range(3)]
    other = gh.get_repo("octo/other").create_issue("b")
    assert [i.number for i in first] == [1, 2, 3]
    assert other.number == 1
    ids = {i.id for i in [*first, other]}
    assert len(ids) == 4 and min(ids) > 1_000_000
    raw = emu.issue(REPO, 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", raw["created_at"])
    assert raw["html_url"] == f"{emu.server_url}/{REPO}/issues/1"
    assert raw["url"] == f"{emu.base_url}/repos/{REPO}/issues/1"
    assert raw["user"]["login"] == "octo" and raw["author_association"] == "OWNER"


def test_pagination_walks_link_headers(emu: GitHubEmulator, client: Client) -> None:
    for i in range(250):
        emu.create_issue(REPO, author="octo", title=f"issue {i}")
    repo = client(per_page=100).get_repo(REPO)
    emu.reset_requests()
    numbers = [issue.number for issue in repo.get_issues(state="all")]
    assert numbers == list(range(250, 0, -1))
    pages = [r.query for r in emu.requests if r.path.endswith("/issues")]
    assert len(pages) == 3 and "page=3" in pages[2]


def test_link_header_is_in_githubs_format(emu: GitHubEmulator) -> None:
    for i in range(250):
        emu.create_issue(REPO, author="octo", title=f"issue {i}")
    base = f"{emu.base_url}/repos/{REPO}/issues"
    middle = call(emu, "GET", f"/repos/{REPO}/issues?state=all&per_page=100&page=2")
    assert middle.headers["Link"] == (
        f'<{base}?state=all&per_page=100&page=1>; rel="prev", '
        f'<{base}?state=all&per_page=100&page=3>; rel="next", '
        f'<{base}?state=all&per_page=100&page=3>; rel="last", '
        f'<{base}?state=all&per_page=100&page=1>; rel="first"'
    )
    first = call(emu, "GET", f"/repos/{REPO}/issues")
    assert len(first.body) == 30
    assert first.headers["Link"] == (f'<{base}?page=2>; rel="next", <{base}?page=9>; rel="last"')
    assert len(call(emu, "GET", f"/repos/{REPO}/issues?per_page=500").body) == 100
    assert "Link" not in call(emu, "GET", f"/repos/{REPO}/labels").headers


def test_list_filters(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="alice", title="one", labels=["bug", "ui"])
    emu.create_issue(REPO, author="bob", title="two", labels=["bug"])
    emu.create_issue(REPO, author="alice", title="three")
    emu.edit_issue(REPO, 3, state="closed")
    repo = client().get_repo(REPO)

    def numbers(**filters: Any) -> list[int]:
        return [i.number for i in repo.get_issues(**filters)]

    assert numbers() == [2, 1]
    assert numbers(state="closed") == [3]
    assert numbers(state="all", creator="alice") == [3, 1]
    assert numbers(labels=["bug", "UI"]) == [1]
    assert numbers(state="all", direction="asc") == [1, 2, 3]
    assert numbers(state="all", since=repo.get_issue(1).updated_at) == [3, 2, 1]
    assert call(emu, "GET", f"/repos/{REPO}/issues?state=bogus").status == 422


def test_create_issue_with_labels_assignees_and_milestone(
    emu: GitHubEmulator, client: Client
) -> None:
    emu.set_permission(REPO, "carol", "triage")
    repo = client().get_repo(REPO)
    milestone = repo.create_milestone("v1")
    issue = repo.create_issue(
        "t", body="b", labels=["bug", "brand-new"], assignees=["carol"], milestone=milestone
    )
    assert [lab.name for lab in issue.labels] == ["bug", "brand-new"]
    assert repo.get_label("brand-new").color == "ededed"
    assert [a.login for a in issue.assignees] == ["carol"]
    assert emu.issue(REPO, 1)["assignee"]["login"] == "carol"
    assert issue.milestone.number == 1
    assert repo.get_milestone(1).open_issues == 1


def test_writes_of_a_reader_drop_labels_silently(emu: GitHubEmulator, client: Client) -> None:
    issue = client("stranger").get_repo(REPO).create_issue("from outside", labels=["bug"])
    assert issue.labels == [] and issue.user.login == "stranger"
    assert emu.issue(REPO, 1)["author_association"] == "NONE"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"body": "no title"}, {"resource": "Issue", "field": "title", "code": "missing_field"}),
        ({"title": "   "}, {"resource": "Issue", "field": "title", "code": "missing_field"}),
        ({"title": "x" * 257}, {"resource": "Issue", "field": "title", "code": "custom"}),
        (
            {"title": "t", "body": "x" * 65537},
            {
                "resource": "Issue",
                "field": "body",
                "code": "custom",
                "message": "body is too long (maximum is 65536 characters)",
            },
        ),
        ({"title": "t", "assignees": ["nobody"]}, {"field": "assignees", "code": "invalid"}),
        ({"title": "t", "assignees": ["reader"]}, {"field": "assignees", "code": "invalid"}),
        ({"title": "t", "milestone": 7}, {"field": "milestone", "code": "invalid"}),
    ],
)
def test_create_issue_validation(
    emu: GitHubEmulator, payload: dict[str, Any], error: dict[str, str]
) -> None:
    emu.set_permission(REPO, "reader", "read")
    answer = call(emu, "POST", f"/repos/{REPO}/issues", token=emu.token_for("octo"), body=payload)
    assert answer.status == 422
    assert answer.body["message"] == "Validation Failed"
    assert answer.body["documentation_url"].startswith("https://docs.github.com/")
    assert error.items() <= answer.body["errors"][0].items()
    assert emu.issues(REPO) == []


def test_body_of_exactly_the_limit_is_accepted(emu: GitHubEmulator, client: Client) -> None:
    issue = client().get_repo(REPO).create_issue("t", body="x" * 65536)
    assert len(issue.body) == 65536


def test_close_as_not_planned_and_reopen(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="alice", title="t")
    issue = client().get_repo(REPO).get_issue(1)
    issue.edit(state="closed", state_reason="not_planned")
    assert (issue.state, issue.state_reason) == ("closed", "not_planned")
    closed = emu.issue(REPO, 1)
    assert closed["closed_by"]["login"] == "octo" and closed["closed_at"] is not None
    issue.edit(state="open")
    reopened = emu.issue(REPO, 1)
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == (
        "open",
        "reopened",
        None,
    )
    issue.edit(state="closed")
    assert issue.state_reason == "completed"


def test_edit_title_body_labels(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="octo", title="t", labels=["bug"])
    issue = client().get_repo(REPO).get_issue(1)
    issue.edit(title="new", body="changed", labels=["question"])
    assert emu.issue(REPO, 1)["title"] == "new"
    assert [lab["name"] for lab in emu.issue(REPO, 1)["labels"]] == ["question"]
    issue.add_to_labels("enhancement")
    issue.remove_from_labels("question")
    assert [lab.name for lab in issue.get_labels()] == ["enhancement"]


def test_permissions_on_issue_edits(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="alice", title="t")
    emu.set_permission(REPO, "tria", "triage")
    with pytest.raises(GithubException) as stranger:
        client("mallory").get_repo(REPO).get_issue(1).edit(state="closed")
    assert stranger.value.status == 403
    with pytest.raises(GithubException) as triager:
        client("tria").get_repo(REPO).get_issue(1).edit(title="hijack")
    assert triager.value.status == 403
    client("tria").get_repo(REPO).get_issue(1).edit(state="closed")
    client("alice").get_repo(REPO).get_issue(1).edit(state="open", title="mine")
    assert emu.issue(REPO, 1)["title"] == "mine"


def test_authentication_rules(emu: GitHubEmulator) -> None:
    emu.add_repo("octo/secret", private=True)
    emu.create_issue(REPO, author="octo", title="t")
    assert call(emu, "GET", f"/repos/{REPO}/issues/1").status == 200
    anonymous = call(emu, "POST", f"/repos/{REPO}/issues", body={"title": "x"})
    assert anonymous.status == 401
    bad = call(emu, "GET", f"/repos/{REPO}", token="ghp_nope")
    assert (bad.status, bad.body["message"]) == (401, "Bad credentials")
    assert call(emu, "GET", "/repos/octo/secret", token=emu.token_for("eve")).status == 404
    assert call(emu, "GET", "/repos/octo/secret", token=emu.token_for("octo")).status == 200
    assert call(emu, "GET", "/user").status == 401
    missing = call(emu, "GET", "/no/such/thing")
    assert (missing.status, missing.body["message"]) == (404, "Not Found")


def test_rate_limit_headers_and_endpoint(emu: GitHubEmulator, client: Client) -> None:
    token = emu.token_for("octo")
    first = call(emu, "GET", f"/repos/{REPO}", token=token)
    second = call(emu, "GET", f"/repos/{REPO}", token=token)
    assert first.headers["X-RateLimit-Limit"] == "5000"
    assert (
        int(second.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )
    assert int(second.headers["X-RateLimit-Reset"]) > time.time()
    assert call(emu, "GET", f"/repos/{REPO}").headers["X-RateLimit-Limit"] == "60"
    assert client().get_rate_limit().resources.core.limit == 5000


def test_repository_shape(client: Client) -> None:
    repo = client().get_repo(REPO)
    assert (repo.private, repo.owner.login, repo.permissions.admin) == (False, "octo", True)
    assert client("reader").get_repo(REPO).permissions.push is False


# users and the Actions token --------------------------------------------------------------------


def test_actions_token_identity(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="octo", title="t")
    gh = client(emu.ACTIONS_LOGIN)
    with pytest.raises(GithubException) as excinfo:
        _ = gh.get_user().login
    assert error_of(excinfo) == (
        403,
        {
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest",
            "status": "403",
        },
    )
    comment = gh.get_repo(REPO).get_issue(1).create_comment("hello from the bot")
    assert (comment.user.login, comment.user.type, comment.user.id) == (
        "github-actions[bot]",
        "Bot",
        41898282,
    )
    assert emu.comments(REPO, 1)[0]["user"]["login"] == "github-actions[bot]"
    label = gh.get_repo(REPO).create_label("bot-made", "112233")
    assert label.name == "bot-made"


def test_user_endpoints(emu: GitHubEmulator, client: Client) -> None:
    assert emu.add_user("dora") == emu.add_user("dora")
    assert emu.token_for("dora") == emu.token_for("dora")
    assert client("dora").get_user().login == "dora"
    assert client().get_user("dora").id == emu.add_user("dora")["id"]


@pytest.mark.parametrize(
    ("login", "role", "private", "permission", "role_name"),
    [
        ("octo", None, False, "admin", "admin"),
        ("wendy", "write", False, "write", "write"),
        ("mia", "maintain", False, "write", "maintain"),
        ("tom", "triage", False, "read", "triage"),
        ("nina", "none", False, "none", "none"),
        ("randy", None, False, "read", "read"),
        ("randy", None, True, "none", "none"),
    ],
)
def test_collaborator_permission(
    emu: GitHubEmulator,
    client: Client,
    login: str,
    role: str | None,
    private: bool,
    permission: str,
    role_name: str,
) -> None:
    name = "octo/private" if private else REPO
    emu.add_repo(name, private=private)
    emu.add_user(login)
    if role:
        emu.set_permission(name, login, role)
    repo = client(emu.ACTIONS_LOGIN).get_repo(name)
    assert repo.get_collaborator_permission(login) == permission
    assert repo.get_collaborator_role_name(login) == role_name


def test_collaborator_permission_of_unknown_user_is_404(client: Client) -> None:
    with pytest.raises(GithubException) as excinfo:
        client().get_repo(REPO).get_collaborator_permission("ghost")
    assert excinfo.value.status == 404


def test_assignees(emu: GitHubEmulator, client: Client) -> None:
    emu.set_permission(REPO, "wendy", "write")
    emu.set_permission(REPO, "rita", "read")
    repo = client().get_repo(REPO)
    assert repo.has_in_assignees("wendy") and repo.has_in_assignees("octo")
    assert not repo.has_in_assignees("rita") and not repo.has_in_assignees("ghost")
    assert sorted(u.login for u in repo.get_assignees()) == ["octo", "wendy"]


# comments and reactions -------------------------------------------------------------------------


def test_comments_lifecycle(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="octo", title="t")
    issue = client().get_repo(REPO).get_issue(1)
    before = issue.updated_at
    first = issue.create_comment("first")
    second = issue.create_comment("second")
    assert emu.issue(REPO, 1)["comments"] == 2
    assert issue.get_comment(first.id).body == "first"
    assert [c.id for c in issue.get_comments(since=second.updated_at)] == [second.id]
    first.edit("edited")
    assert emu.comments(REPO, 1)[0]["body"] == "edited"
    assert [c.body for c in issue.get_comments()] == ["edited", "second"]
    assert [c.id for c in client().get_repo(REPO).get_issues_comments()] == [first.id, second.id]
    assert [c.id for c in issue.get_comments(since=first.updated_at)] == [first.id]
    second.delete()
    refreshed = client().get_repo(REPO).get_issue(1)
    assert refreshed.comments == 1 and refreshed.updated_at >= before
    assert second.html_url.endswith(f"/issues/1#issuecomment-{second.id}")


def test_comment_rules(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="octo", title="t")
    comment = emu.create_comment(REPO, 1, author="alice", body="hi")
    token = emu.token_for("octo")
    long = call(
        emu, "POST", f"/repos/{REPO}/issues/1/comments", token=token, body={"body": "x" * 65537}
    )
    assert long.status == 422 and long.body["errors"][0]["field"] == "body"
    path = f"/repos/{REPO}/issues/comments/{comment['id']}"
    assert call(emu, "PATCH", path, token=emu.token_for("bob"), body={"body": "x"}).status == 403
    assert call(emu, "PATCH", path, token=token, body={"body": "by owner"}).status == 200
    assert emu.edit_comment(REPO, comment["id"], body="again")["body"] == "again"
    emu.edit_issue(REPO, 1, locked=True)
    locked = call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/1/comments",
        token=emu.token_for("bob"),
        body={"body": "x"},
    )
    assert locked.status == 403


def test_reactions(emu: GitHubEmulator, client: Client) -> None:
    emu.create_issue(REPO, author="octo", title="t")
    comment = emu.create_comment(REPO, 1, author="octo", body="c")
    token = emu.token_for("bob")
    path = f"/repos/{REPO}/issues/1/reactions"
    assert call(emu, "POST", path, token=token, body={"content": "eyes"}).status == 201
    assert call(emu, "POST", path, token=token, body={"content": "eyes"}).status == 200
    assert call(emu, "POST", path, token=token, body={"content": "nope"}).status == 422
    client().get_repo(REPO).get_issue(1).create_reaction("+1")
    issue = client().get_repo(REPO).get_issue(1)
    assert [r["content"] for r in emu.reactions(REPO, 1)] == ["eyes", "+1"]
    assert issue.reactions["total_count"] == 2 and issue.reactions["eyes"] == 1
    assert [r.content for r in issue.get_reactions()] == ["eyes", "+1"]
    on_comment = issue.get_comment(comment["id"])
    on_comment.create_reaction("rocket")
    assert [r.user.login for r in on_comment.get_reactions()] == ["octo"]


# labels and milestones --------------------------------------------------------------------------


def test_labels(emu: GitHubEmulator, client: Client) -> None:
    repo = client().get_repo(REPO)
    assert "bug" in [lab.name for lab in repo.get_labels()]
    label = repo.create_label("Area: API", "#00ff00", "the API")
    assert (label.color, label.description) == ("00ff00", "the API")
    with pytest.raises(GithubException) as excinfo:
        repo.create_label("area: api", "000000")
    assert excinfo.value.status == 422
    assert excinfo.value.data["errors"][0] == {
        "resource": "Label",
        "field": "name",
        "code": "already_exists",
    }
    label.edit("area: web", "111111")
    assert repo.get_label("AREA: WEB").color == "111111"
    repo.get_label("area: web").delete()
    assert call(emu, "GET", f"/repos/{REPO}/labels/area%3A%20web").status == 404


def test_milestones(emu: GitHubEmulator, client: Client) -> None:
    repo = client().get_repo(REPO)
    repo.create_milestone("v1", description="first")
    repo.create_milestone("v2", state="closed")
    assert [m.title for m in repo.get_milestones()] == ["v1"]
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1", "v2"]
    with pytest.raises(GithubException):
        client("reader").get_repo(REPO).create_milestone("v3")


# sub-issues and dependencies --------------------------------------------------------------------


def test_sub_issues(emu: GitHubEmulator, client: Client) -> None:
    repo = client().get_repo(REPO)
    parent, child, other = (repo.create_issue(t) for t in ("parent", "child", "other"))
    linked = parent.add_sub_issue(child)
    assert linked.number == child.number
    assert [i.number for i in parent.get_sub_issues()] == [2]
    assert emu.sub_issues(REPO, 1)[0]["number"] == 2
    parent_json = call(emu, "GET", f"/repos/{REPO}/issues/2/parent").body
    assert parent_json["number"] == 1
    assert emu.issue(REPO, 2)["parent_issue_url"].endswith(f"/repos/{REPO}/issues/1")
    child.edit(state="closed")
    assert emu.issue(REPO, 1)["sub_issues_summary"] == {
        "total": 1,
        "completed": 1,
        "percent_completed": 100,
    }
    with pytest.raises(GithubException) as excinfo:
        other.add_sub_issue(child)
    assert excinfo.value.status == 422
    token = emu.token_for("octo")
    moved = call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/3/sub_issues",
        token=token,
        body={"sub_issue_id": child.id, "replace_parent": True},
    )
    assert moved.status == 201 and emu.sub_issues(REPO, 1) == []
    other.remove_sub_issue(child)
    assert emu.sub_issues(REPO, 3) == []
    assert call(emu, "GET", f"/repos/{REPO}/issues/2/parent").status == 404


def test_sub_issue_limit_counts_closed_children(emu: GitHubEmulator, client: Client) -> None:
    for i in range(102):
        emu.create_issue(REPO, author="octo", title=f"i{i}")
    token = emu.token_for("octo")
    ids = [issue["id"] for issue in emu.issues(REPO)]
    for index, child_id in enumerate(ids[1:101]):
        body = {"sub_issue_id": child_id}
        assert (
            call(emu, "POST", f"/repos/{REPO}/issues/1/sub_issues", token=token, body=body).status
            == 201
        )
        if index % 2:
            emu.edit_issue(REPO, index + 2, state="closed")
    over = call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/1/sub_issues",
        token=token,
        body={"sub_issue_id": ids[101]},
    )
    assert over.status == 422 and over.body["message"] == "Validation Failed"
    assert emu.issue(REPO, 1)["sub_issues_summary"]["total"] == 100


def test_sub_issue_nesting_and_cycles(emu: GitHubEmulator) -> None:
    for i in range(10):
        emu.create_issue(REPO, author="octo", title=f"level {i}")
    token = emu.token_for("octo")
    ids = [issue["id"] for issue in emu.issues(REPO)]

    def link(parent: int, child: int) -> int:
        body = {"sub_issue_id": ids[child - 1]}
        return call(
            emu, "POST", f"/repos/{REPO}/issues/{parent}/sub_issues", token=token, body=body
        ).status

    assert [link(n, n + 1) for n in range(1, 9)] == [201] * 8  # root plus 8 nested levels
    assert link(9, 10) == 422
    assert link(5, 1) == 422  # the root under its own descendant


def test_dependencies(emu: GitHubEmulator, client: Client) -> None:
    repo = client().get_repo(REPO)
    blocked, blocker = repo.create_issue("blocked"), repo.create_issue("blocker")
    blocked.add_blocked_by(blocker)
    assert blocked.number == 1  # PyGithub reads the answer back into the blocked issue
    assert [i.number for i in blocked.get_blocked_by()] == [2]
    assert [i.number for i in blocker.get_blocking()] == [1]
    assert [i["number"] for i in emu.blocked_by(REPO, 1)] == [2]
    assert emu.issue(REPO, 1)["issue_dependencies_summary"] == {
        "blocked_by": 1,
        "blocking": 0,
        "total_blocked_by": 1,
        "total_blocking": 1 - 1,
    }
    with pytest.raises(GithubException) as excinfo:
        blocked.add_blocked_by(blocker)
    assert excinfo.value.status == 422
    blocked.remove_blocked_by(blocker)
    assert emu.blocked_by(REPO, 1) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/issues/1/sub_issues"),
        ("POST", "/issues/1/sub_issues"),
        ("DELETE", "/issues/1/sub_issue"),
        ("GET", "/issues/1/parent"),
        ("GET", "/issues/1/dependencies/blocked_by"),
        ("POST", "/issues/1/dependencies/blocked_by"),
        ("GET", "/issues/1/dependencies/blocking"),
    ],
)
def test_switched_off_features_answer_404(method: str, path: str) -> None:
    with GitHubEmulator(sub_issues=False, dependencies=False) as emu:
        emu.add_repo(REPO)
        emu.create_issue(REPO, author="octo", title="t")
        answer = call(emu, method, f"/repos/{REPO}{path}", token=emu.token_for("octo"), body={})
        assert answer.status == 404
        assert "sub_issues_summary" not in emu.issue(REPO, 1)


# faults -----------------------------------------------------------------------------------------


def test_fault_status_then_recovery(emu: GitHubEmulator, client: Client) -> None:
    emu.inject(Fault("GET", r"/repos/octo/demo$", status=503, times=2, skip=1))
    gh = client()
    gh.get_repo(REPO)
    for _ in range(2):
        with pytest.raises(GithubException) as excinfo:
            gh.get_repo(REPO)
        assert (
            excinfo.value.status == 503 and excinfo.value.data["message"] == "Service Unavailable"
        )
    assert gh.get_repo(REPO).name == "demo"
    assert [r.status for r in emu.requests] == [200, 503, 503, 200]


def test_fault_applied_then_502_created_once(emu: GitHubEmulator, client: Client) -> None:
    emu.inject(Fault("POST", r"/issues$", status=502, apply=True))
    repo = client().get_repo(REPO)
    with pytest.raises(GithubException) as excinfo:
        repo.create_issue("looks failed")
    assert excinfo.value.status == 502
    assert [i["title"] for i in emu.issues(REPO)] == ["looks failed"]


@pytest.mark.parametrize("apply", [False, True])
def test_fault_drop_closes_the_connection(emu: GitHubEmulator, client: Client, apply: bool) -> None:
    emu.inject(Fault("POST", r"/issues$", drop=True, apply=apply))
    repo = client().get_repo(REPO)
    with pytest.raises(requests.exceptions.ConnectionError):
        repo.create_issue("dropped")
    assert len(emu.issues(REPO)) == (1 if apply else 0)
    assert emu.requests[-1].status == 0
    assert repo.create_issue("after").number == (2 if apply else 1)


def test_fault_delay_and_retry_after_header(emu: GitHubEmulator) -> None:
    emu.inject(Fault("*", r"/labels", status=429, delay=0.2, headers={"Retry-After": "1"}))
    started = time.monotonic()
    answer = call(emu, "GET", f"/repos/{REPO}/labels")
    assert time.monotonic() - started >= 0.2
    assert answer.status == 429 and answer.headers["Retry-After"] == "1"
    assert call(emu, "GET", f"/repos/{REPO}/labels").status == 200


def test_fault_custom_body_and_clear(emu: GitHubEmulator) -> None:
    emu.inject(Fault("GET", r"/labels", status=500, times=5, body={"message": "boom"}))
    assert call(emu, "GET", f"/repos/{REPO}/labels").body == {"message": "boom"}
    emu.clear_faults()
    assert call(emu, "GET", f"/repos/{REPO}/labels").status == 200


def test_latency_and_request_records() -> None:
    with GitHubEmulator(latency=0.05) as emu:
        emu.add_repo(REPO)
        token = emu.token_for("octo")
        started = time.monotonic()
        call(emu, "GET", f"/repos/{REPO}/issues?state=all", token=token)
        assert time.monotonic() - started >= 0.05
        record = emu.requests[-1]
        assert (record.method, record.path, record.query, record.status, record.login) == (
            "GET",
            f"/repos/{REPO}/issues",
            "state=all",
            200,
            "octo",
        )
        assert record.time <= time.monotonic()


def test_secondary_rate_limit() -> None:
    with GitHubEmulator(secondary_limit_per_minute=3) as emu:
        emu.add_repo(REPO)
        token = emu.token_for("octo")
        statuses = [
            call(emu, "POST", f"/repos/{REPO}/issues", token=token, body={"title": f"t{i}"}).status
            for i in range(3)
        ]
        assert statuses == [201, 201, 201]
        limited = call(emu, "POST", f"/repos/{REPO}/issues", token=token, body={"title": "x"})
        assert limited.status == 403
        assert limited.body["message"].startswith("You have exceeded a secondary rate limit")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert call(emu, "GET", f"/repos/{REPO}/issues", token=token).status == 200
        other = emu.token_for("someone")
        assert (
            call(emu, "POST", f"/repos/{REPO}/issues", token=other, body={"title": "y"}).status
            == 201
        )
        assert emu.secondary_limit_hits == 1
        assert len(emu.issues(REPO)) == 4


def test_primary_rate_limit_is_enforced_when_asked_and_resets() -> None:
    with GitHubEmulator(primary_limit=3) as emu:
        emu.add_repo(REPO)
        token = emu.actions_token()
        answers = [call(emu, "GET", f"/repos/{REPO}/issues", token=token) for _ in range(3)]
        assert [a.status for a in answers] == [200, 200, 200]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        limited = call(emu, "POST", f"/repos/{REPO}/issues", token=token, body={"title": "x"})
        assert limited.status == 403
        assert limited.body["message"].startswith("API rate limit exceeded for installation ID")
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert int(limited.headers["X-RateLimit-Reset"]) > time.time() + 3000
        assert emu.issues(REPO) == []  # refused: nothing happened
        assert call(emu, "GET", "/rate_limit", token=token).status == 200  # never counted
        # PyGithub reads it as GitHub's primary limit, and says it cannot wait that long.
        gh = Github(
            base_url=emu.base_url,
            auth=Auth.Token(token),
            seconds_between_requests=None,
            lazy=True,
            retry=GithubRetry(total=2, max_rate_limit_wait=5),
        )
        with pytest.raises(RateLimitExceededExceedsMaxWait) as raised:
            list(gh.get_repo(REPO).get_issues())
        assert raised.value.status == 403 and raised.value.wait > 3000
        emu.reset_primary_limit()
        assert call(emu, "GET", f"/repos/{REPO}/issues", token=token).status == 200
        assert call(emu, "GET", f"/repos/{REPO}", token=emu.token_for("octo")).status == 200


def test_concurrent_creates_get_distinct_numbers(emu: GitHubEmulator) -> None:
    tokens = [emu.token_for(f"user{n}") for n in range(8)]

    def create(token: str) -> None:
        for i in range(15):
            call(emu, "POST", f"/repos/{REPO}/issues", token=token, body={"title": f"t{i}"})

    threads = [threading.Thread(target=create, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [i["number"] for i in emu.issues(REPO)] == list(range(1, 121))
    assert len(emu.requests) == 120


# shape conformance ------------------------------------------------------------------------------

SPEC = load_spec()
ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id}"


@pytest.fixture
def populated(emu: GitHubEmulator) -> GitHubEmulator:
    emu.set_permission(REPO, "wendy", "write")
    token = emu.token_for("octo")
    call(emu, "POST", f"/repos/{REPO}/milestones", token=token, body={"title": "v1"})
    body = {"title": "a", "body": "b", "labels": ["bug"], "assignees": ["wendy"], "milestone": 1}
    call(emu, "POST", f"/repos/{REPO}/issues", token=token, body=body)
    for title in ("child", "blocker"):
        emu.create_issue(REPO, author="wendy", title=title)
    emu.edit_issue(REPO, 1, state="closed", state_reason="not_planned")
    call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/1/sub_issues",
        token=token,
        body={"sub_issue_id": emu.issue(REPO, 2)["id"]},
    )
    call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/1/dependencies/blocked_by",
        token=token,
        body={"issue_id": emu.issue(REPO, 3)["id"]},
    )
    emu.create_comment(REPO, 1, author="wendy", body="hello")
    call(emu, "POST", f"/repos/{REPO}/issues/1/reactions", token=token, body={"content": "eyes"})
    return emu


def _comment_id(emu: GitHubEmulator) -> int:
    return int(emu.comments(REPO, 1)[0]["id"])


SHAPES: list[tuple[str, str, str, int, Any]] = [
    ("GET", "/rate_limit", "/rate_limit", 200, None),
    ("GET", "/user", "/user", 200, None),
    ("GET", "/repos/{owner}/{repo}", "/repos/octo/demo", 200, None),
    (
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        "/repos/octo/demo/collaborators/wendy/permission",
        200,
        None,
    ),
    ("GET", "/repos/{owner}/{repo}/issues", "/repos/octo/demo/issues?state=all", 200, None),
    (
        "POST",
        "/repos/{owner}/{repo}/issues",
        "/repos/octo/demo/issues",
        201,
        {"title": "new", "labels": ["x"]},
    ),
    ("POST", "/repos/{owner}/{repo}/issues", "/repos/octo/demo/issues", 422, {"title": ""}),
    ("GET", ISSUE, "/repos/octo/demo/issues/1", 200, None),
    ("PATCH", ISSUE, "/repos/octo/demo/issues/2", 200, {"state": "closed"}),
    ("GET", ISSUE + "/comments", "/repos/octo/demo/issues/1/comments", 200, None),
    ("POST", ISSUE + "/comments", "/repos/octo/demo/issues/1/comments", 201, {"body": "hi"}),
    ("GET", "/repos/{owner}/{repo}/issues/comments", "/repos/octo/demo/issues/comments", 200, None),
    ("GET", COMMENT, "/repos/octo/demo/issues/comments/{comment}", 200, None),
    ("PATCH", COMMENT, "/repos/octo/demo/issues/comments/{comment}", 200, {"body": "edited"}),
    ("GET", ISSUE + "/reactions", "/repos/octo/demo/issues/1/reactions", 200, None),
    (
        "POST",
        ISSUE + "/reactions",
        "/repos/octo/demo/issues/1/reactions",
        201,
        {"content": "rocket"},
    ),
    ("POST", ISSUE + "/reactions", "/repos/octo/demo/issues/1/reactions", 200, {"content": "eyes"}),
    (
        "POST",
        COMMENT + "/reactions",
        "/repos/octo/demo/issues/comments/{comment}/reactions",
        201,
        {"content": "heart"},
    ),
    (
        "GET",
        COMMENT + "/reactions",
        "/repos/octo/demo/issues/comments/{comment}/reactions",
        200,
        None,
    ),
    ("GET", "/repos/{owner}/{repo}/labels", "/repos/octo/demo/labels", 200, None),
    (
        "POST",
        "/repos/{owner}/{repo}/labels",
        "/repos/octo/demo/labels",
        201,
        {"name": "n", "color": "abcdef"},
    ),
    ("GET", "/repos/{owner}/{repo}/labels/{name}", "/repos/octo/demo/labels/bug", 200, None),
    (
        "PATCH",
        "/repos/{owner}/{repo}/labels/{name}",
        "/repos/octo/demo/labels/bug",
        200,
        {"description": "d"},
    ),
    ("GET", ISSUE + "/labels", "/repos/octo/demo/issues/1/labels", 200, None),
    ("POST", ISSUE + "/labels", "/repos/octo/demo/issues/1/labels", 200, {"labels": ["z"]}),
    ("GET", "/repos/{owner}/{repo}/milestones", "/repos/octo/demo/milestones", 200, None),
    (
        "POST",
        "/repos/{owner}/{repo}/milestones",
        "/repos/octo/demo/milestones",
        201,
        {"title": "v2"},
    ),
    (
        "POST",
        ISSUE + "/assignees",
        "/repos/octo/demo/issues/2/assignees",
        201,
        {"assignees": ["wendy"]},
    ),
    ("GET", ISSUE + "/sub_issues", "/repos/octo/demo/issues/1/sub_issues", 200, None),
    ("GET", ISSUE + "/parent", "/repos/octo/demo/issues/2/parent", 200, None),
    (
        "GET",
        ISSUE + "/dependencies/blocked_by",
        "/repos/octo/demo/issues/1/dependencies/blocked_by",
        200,
        None,
    ),
    (
        "GET",
        ISSUE + "/dependencies/blocking",
        "/repos/octo/demo/issues/3/dependencies/blocking",
        200,
        None,
    ),
]


@pytest.mark.parametrize(("method", "template", "path", "status", "body"), SHAPES)
def test_responses_match_the_openapi_description(
    populated: GitHubEmulator, method: str, template: str, path: str, status: int, body: Any
) -> None:
    path = path.replace("{comment}", str(_comment_id(populated)))
    answer = call(populated, method, path, token=populated.token_for("octo"), body=body)
    assert answer.status == status
    assert validate(answer.body, response_schema(SPEC, template, method, status)) == []


def test_mutating_shapes_match_the_openapi_description(populated: GitHubEmulator) -> None:
    token = populated.token_for("octo")
    child_id = populated.issue(REPO, 2)["id"]
    blocker_id = populated.issue(REPO, 3)["id"]
    checks = [
        ("DELETE", ISSUE + "/sub_issue", "/issues/1/sub_issue", 200, {"sub_issue_id": child_id}),
        ("POST", ISSUE + "/sub_issues", "/issues/1/sub_issues", 201, {"sub_issue_id": child_id}),
        (
            "DELETE",
            ISSUE + "/dependencies/blocked_by/{issue_id}",
            f"/issues/1/dependencies/blocked_by/{blocker_id}",
            200,
            None,
        ),
        (
            "POST",
            ISSUE + "/dependencies/blocked_by",
            "/issues/1/dependencies/blocked_by",
            201,
            {"issue_id": blocker_id},
        ),
        ("DELETE", ISSUE + "/labels/{name}", "/issues/1/labels/bug", 200, None),
    ]
    for method, template, suffix, status, body in checks:
        answer = call(populated, method, f"/repos/{REPO}{suffix}", token=token, body=body)
        assert answer.status == status, (method, suffix, answer.body)
        assert validate(answer.body, response_schema(SPEC, template, method, status)) == []


def test_webhook_issue_shape_keys_are_all_served(emu: GitHubEmulator) -> None:
    """Every key of a real `issues.opened` payload's issue exists in the emulator's issue."""
    from pathlib import Path

    payload = json.loads((Path(__file__).parent / "data/webhooks/issues.opened.1.json").read_text())
    served = emu.create_issue(REPO, author="octo", title="t")
    assert set(payload["issue"]) - set(served) <= {"draft"}  # a pull-request-only field
    assert set(payload["issue"]["user"]) <= set(served["user"]) | {"user_view_type"}


@pytest.mark.parametrize(
    ("value", "schema", "problem"),
    [
        ({"a": 1}, {"type": "object", "required": ["b"]}, "$: missing 'b'"),
        (
            {"a": "x"},
            {"type": "object", "properties": {"a": {"type": "integer"}}},
            "$.a: expected integer, got str",
        ),
        (True, {"type": "integer"}, "$: expected integer, got boolean"),
        (None, {"type": "string"}, "$: null not allowed"),
        ("z", {"type": "string", "enum": ["a"]}, "$: 'z' not in ['a']"),
        (
            [1, "x"],
            {"type": "array", "items": {"type": "integer"}},
            "$[1]: expected integer, got str",
        ),
        (
            "2024-01-01 10:00",
            {"type": "string", "format": "date-time"},
            "$: '2024-01-01 10:00' is not a date-time",
        ),
        (
            3,
            {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
            "$: matches no anyOf alternative; closest: $: expected string, got int",
        ),
        ({"k": 1}, {"allOf": [{"required": ["k"]}, {"required": ["j"]}]}, "$: missing 'j'"),
    ],
)
def test_openapi_checker_reports_problems(value: Any, schema: dict[str, Any], problem: str) -> None:
    assert validate(value, schema) == [problem]


@pytest.mark.parametrize(
    ("value", "schema"),
    [
        (None, {"type": "string", "nullable": True}),
        ("a", {"oneOf": [{"type": "string"}, {"type": "string", "enum": ["a"]}]}),
        (
            {"x": None},
            {"type": "object", "properties": {"x": {"type": "string", "nullable": True}}},
        ),
    ],
)
def test_openapi_checker_accepts(value: Any, schema: dict[str, Any]) -> None:
    assert validate(value, schema) == []
