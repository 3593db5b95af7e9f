"""The GitHub port on PyGithub (`ports.GitHub`): the only module that imports `github`.

Every method returns plain frozen values; every PyGithub exception becomes a `GitHubError`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from github import Auth, Github, GithubException, GithubRetry
from requests.exceptions import RequestException
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from openproducer import GitHubError, ports
from openproducer.outbound import Outbound
from openproducer.ports import CommentInfo, IssueInfo, NodeIds, RepoFile
from openproducer.safety import PERMISSION_ORDER

DEFAULT_API_URL = "https://api.github.com"
# https://docs.github.com/en/graphql/reference/mutations#createissue
CREATE_ISSUE = """
mutation OpenProducerCreate($input: CreateIssueInput!) {
  createIssue(input: $input) {
    issue { id databaseId number title body url state createdAt updatedAt }
  }
}
"""


class PostSafeRetry(GithubRetry):
    """GithubRetry, except that a POST is never repeated once it may have reached GitHub.

    A create that answered 5xx or lost its connection may still have succeeded; the engine
    checks its markers before trying again. Rate-limit answers (403/429 with Retry-After or a
    rate-limit message) and connection failures before sending are still retried here.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method == "POST" and status_code >= 500:
            return False
        return bool(super().is_retry(method, status_code, has_retry_after))

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Any:
        # A read error: the request was sent, the answer lost (what urllib3 itself counts as one).
        if method == "POST" and isinstance(error, ReadTimeoutError | ProtocolError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _login(user: Any) -> str:
    return str(user.login) if user is not None else ""


def _issue_info(issue: Any) -> IssueInfo:
    return IssueInfo(
        number=issue.number,
        id=issue.id,
        title=issue.title,
        body=issue.body or "",
        author=_login(issue.user),
        state=issue.state,
        url=issue.html_url,
        comments=issue.comments,
        created_at=_iso(issue.created_at),
        updated_at=_iso(issue.updated_at),
        # Not `issue.pull_request`: an issue's JSON has no such key, and reading an absent
        # attribute of a listed object makes PyGithub fetch the whole issue again.
        is_pull_request="/pull/" in (issue.html_url or ""),
        state_reason=issue.state_reason,
        node_id=issue.node_id or "",
    )


def _created_issue(data: dict[str, Any]) -> IssueInfo:
    """The answer to a create or an edit, as JSON (not a PyGithub object built by hand)."""
    url = str(data.get("html_url") or "")
    return IssueInfo(
        number=int(data["number"]),
        id=int(data["id"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        author=str((data.get("user") or {}).get("login") or ""),
        state=str(data.get("state") or "open"),
        url=url,
        comments=int(data.get("comments") or 0),
        created_at=str(data.get("created_at") or ""),
        updated_at=str(data.get("updated_at") or ""),
        is_pull_request="/pull/" in url,
        state_reason=data.get("state_reason"),
        node_id=str(data.get("node_id") or ""),
    )


def build_ids_query(
    *, numbers: Sequence[int], labels: Sequence[str], logins: Sequence[str], milestone: int | None
) -> tuple[str, dict[str, Any]]:
    """One query for every id a run needs, one alias each; also whether `createIssue` takes
    `parentIssueId` here (GitHub Enterprise Server versions without sub-issues lack it)."""
    params = ["$owner: String!", "$name: String!"]
    fields = ["id"]
    variables: dict[str, Any] = {}
    for i, number in enumerate(numbers):
        params.append(f"$n{i}: Int!")
        fields.append(f"n{i}: issue(number: $n{i}) {{ id }}")
        variables[f"n{i}"] = number
    for i, name in enumerate(labels):
        params.append(f"$l{i}: String!")
        fields.append(f"l{i}: label(name: $l{i}) {{ id name }}")
        variables[f"l{i}"] = name
    if milestone is not None:
        params.append("$m: Int!")
        fields.append("milestone(number: $m) { id }")
        variables["m"] = milestone
    users = []
    for i, login in enumerate(logins):
        params.append(f"$u{i}: String!")
        users.append(f"u{i}: user(login: $u{i}) {{ id }}")
        variables[f"u{i}"] = login
    query = (
        f"query OpenProducerIds({', '.join(params)}) {{\n"
        f"  repository(owner: $owner, name: $name) {{ {' '.join(fields)} }}\n"
        + "".join(f"  {u}\n" for u in users)
        + '  input: __type(name: "CreateIssueInput") { inputFields { name } }\n}'
    )
    return query, variables


def parse_ids(
    data: dict[str, Any], *, numbers: Sequence[int], labels: Sequence[str], logins: Sequence[str]
) -> NodeIds:
    repo = data.get("repository") or {}
    inputs = (data.get("input") or {}).get("inputFields") or []
    found = {f"l{i}": name for i, name in enumerate(labels)}
    return NodeIds(
        repository=str(repo["id"]),
        issues={n: str(repo[f"n{i}"]["id"]) for i, n in enumerate(numbers) if repo.get(f"n{i}")},
        labels={found[k].casefold(): str(v["id"]) for k, v in repo.items() if k in found and v},
        users={
            u.lower(): str(data[f"u{i}"]["id"]) for i, u in enumerate(logins) if data.get(f"u{i}")
        },
        milestone=str(repo["milestone"]["id"]) if repo.get("milestone") else None,
        parent_field=any(f.get("name") == "parentIssueId" for f in inputs),
    )


def decipher_graphql(body: Any, action: str) -> dict[str, Any]:
    """The `data` of a GraphQL answer; its `errors` (GitHub sends them in a 200) as one
    GitHubError whose status the core reads as REST's: 403 for rate limits (the primary one,
    type RATE_LIMITED, and secondary ones), 404, 502 for GitHub's own failures, else 422.
    https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
    """
    if not isinstance(body, dict):
        raise GitHubError(f"GitHub answered no JSON when trying to {action}.", status=502)
    errors = [e for e in body.get("errors") or () if isinstance(e, dict)]
    if errors or not isinstance(body.get("data"), dict):
        text = "; ".join(str(e.get("message") or e.get("type")) for e in errors)
        status = _graphql_status({str(e.get("type")) for e in errors}, text.lower())
        raise GitHubError(
            f"GitHub answered {status} when trying to {action}: {text[:500]}", status=status
        )
    data: dict[str, Any] = body["data"]
    return data


def _graphql_status(types: set[str], text: str) -> int:
    if "RATE_LIMITED" in types or "rate limit" in text or "FORBIDDEN" in types:
        return 403
    if "NOT_FOUND" in types:
        return 404
    if types & {"INTERNAL", "SERVICE_UNAVAILABLE", "TIMEOUT"}:
        return 502
    return 422


def _graphql_issue(data: dict[str, Any]) -> IssueInfo:
    """A created issue from GraphQL (its author left out: GraphQL names bots without "[bot]")."""
    url = str(data.get("url") or "")
    return IssueInfo(
        number=int(data["number"]),
        id=int(data["databaseId"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        author="",
        state=str(data.get("state") or "OPEN").lower(),
        url=url,
        created_at=str(data.get("createdAt") or ""),
        updated_at=str(data.get("updatedAt") or ""),
        node_id=str(data.get("id") or ""),
    )


def _comment_info(comment: Any) -> CommentInfo:
    return CommentInfo(
        id=comment.id,
        author=_login(comment.user),
        body=comment.body or "",
        url=comment.html_url,
        created_at=_iso(comment.created_at),
        updated_at=_iso(comment.updated_at),
    )


@contextlib.contextmanager
def _translated(action: str, secret: str = "") -> Iterator[None]:
    """Translate PyGithub and transport errors into GitHubError, in one place.

    GitHub's error bodies can echo the request; the token is scrubbed from every message.
    """
    try:
        yield
    except GithubException as exc:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
        detail = f"{message}" + (f" ({errors})" if errors else "") if message else ""
        if secret:
            detail = detail.replace(secret, "***")
        raise GitHubError(
            f"GitHub answered {exc.status} when trying to {action}: {detail[:500]}",
            status=exc.status,
        ) from exc
    except (RequestException, Urllib3Error, OSError) as exc:
        raise GitHubError(f"Could not reach GitHub to {action}: {type(exc).__name__}") from exc


class GitHubPort:
    """The repository operations the engine needs, with pacing and retries from PyGithub.

    Every title, body and comment it sends passes through ``outbound`` first, so nothing the
    bot writes can ping, carry control characters or leak a configured secret.
    """

    def __init__(
        self,
        *,
        token: str,
        repo: str,
        api_url: str = DEFAULT_API_URL,
        writes_per_minute: int = 60,
        timeout: int = 20,
        retries: int = 5,
        secondary_rate_wait: float = 60.0,
        outbound: Outbound | None = None,
    ) -> None:
        self._token = token
        self._out = outbound or Outbound()
        self.full_name = repo
        self._options: dict[str, Any] = {
            "auth": Auth.Token(token) if token else None,
            "base_url": api_url,
            "timeout": timeout,
            "per_page": 100,
            "lazy": True,
            "seconds_between_requests": None,
            "seconds_between_writes": None,  # paced here instead (see `set_pace`)
            # A primary rate limit that resets in more than a few minutes ends the run as
            # partial (resumable with `confirm`) instead of holding the runner for an hour.
            # 429 joins the statuses retried (honouring Retry-After): the request was refused,
            # so even a create is safe to send again.
            "retry": PostSafeRetry(
                total=retries,
                backoff_factor=0.5,
                max_rate_limit_wait=300,
                secondary_rate_wait=secondary_rate_wait,
                status_forcelist=[*range(500, 600), 429],
            ),
        }
        self.writes = 0
        self._next_write = 0.0  # monotonic time the next write may start
        self.calls = 0  # port methods that talked to GitHub (each one or more requests)
        self.set_pace(writes_per_minute)

    def set_pace(self, writes_per_minute: int) -> None:
        """Writes start at least 60 / ``writes_per_minute`` seconds apart.

        Spaced start to start, not as PyGithub's ``seconds_between_writes`` does (from the end
        of the last one), so a write's own latency does not slow the pace below the ceiling:
        at 60 a minute that is GitHub's "one second between writes", under its 80 a minute.
        https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#avoid-concurrent-requests
        """
        self.writes_per_minute = writes_per_minute
        self._spacing = 60.0 / writes_per_minute
        self._gh = Github(**self._options)
        self._repo = self._gh.get_repo(self.full_name)
        self._requester = self._gh.requester

    def _write(self) -> None:
        """Count one content-creating request, first waiting for its turn in the pace."""
        wait = self._next_write - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next_write = time.monotonic() + self._spacing
        self.writes += 1

    def _translated(self, action: str) -> contextlib.AbstractContextManager[None]:
        self.calls += 1
        return _translated(action, self._token)

    # -- identity and permissions ------------------------------------------------------------

    def whoami(self) -> str | None:
        """The token's login, or None when GitHub does not say.

        An installation token (``ghs_``: the workflow's GITHUB_TOKEN or a GitHub App's) gets a
        403 from ``GET /user``, so it is not asked: the caller knows the login already.
        """
        if self._token.startswith("ghs_"):
            return None
        try:
            with self._translated("read the authenticated user"):
                return str(self._gh.get_user().login)
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise

    def permission(self, login: str) -> str:
        with self._translated(f"read the permission of {login}"):
            # role_name tells maintain and triage apart; custom roles fall back to permission.
            role = str(self._repo.get_collaborator_role_name(login))
            if role in PERMISSION_ORDER:
                return role
            return str(self._repo.get_collaborator_permission(login))

    def rate_left(self) -> tuple[int, int]:
        """(requests left this hour, reset time in epoch seconds) from GitHub's last answer.

        https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#checking-the-status-of-your-rate-limit
        """
        with self._translated("read the rate limit"):
            remaining, _ = self._gh.rate_limiting
            return int(remaining), int(self._gh.rate_limiting_resettime)

    # -- reads ---------------------------------------------------------------------------------

    def comments(self, number: int) -> list[CommentInfo]:
        """All comments of an issue: one request per 100 comments."""
        with self._translated(f"read the comments of #{number}"):
            return [_comment_info(c) for c in self._repo.get_issue(number).get_comments()]

    def comments_since(self, since: str) -> list[CommentInfo]:
        """One request per 100 comments of the whole repository (the bot's budget reads it)."""
        moment = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ")
        with self._translated("read the repository's recent comments"):
            # https://docs.github.com/en/rest/issues/comments#list-issue-comments-for-a-repository
            found = self._repo.get_issues_comments(sort="updated", direction="asc", since=moment)
            return [_comment_info(c) for c in found]

    def issues_by(self, creator: str, *, since: str = "") -> list[IssueInfo]:
        """Issues (open and closed) opened by ``creator``, newest first, without pull requests."""
        kwargs: dict[str, Any] = {
            "state": "all",
            "creator": creator,
            "sort": "created",
            "direction": "desc",
        }
        if since:
            kwargs["since"] = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ")
        with self._translated(f"list the issues opened by {creator}"):
            found = [_issue_info(i) for i in self._repo.get_issues(**kwargs)]
        return [i for i in found if not i.is_pull_request]

    # -- writes --------------------------------------------------------------------------------

    def post_comment(self, number: int, body: str, *, hidden: Sequence[str] = ()) -> CommentInfo:
        """``hidden``: the bot's own blocks (state, notices), appended unchanged after ``body``."""
        text = self._out.body(body, hidden)
        with self._translated(f"comment on #{number}"):
            self._write()
            return _comment_info(self._repo.get_issue(number).create_comment(text))

    def edit_comment(
        self, number: int, comment_id: int, body: str, *, hidden: Sequence[str] = ()
    ) -> None:
        text = self._out.body(body, hidden)
        with self._translated(f"edit comment {comment_id}"):
            self._write()
            self._repo.get_issue(number).get_comment(comment_id).edit(text)

    def delete_comment(self, number: int, comment_id: int) -> None:
        with self._translated(f"delete comment {comment_id}"):
            self._write()
            self._repo.get_issue(number).get_comment(comment_id).delete()

    def react(self, number: int, *, comment_id: int | None = None, content: str = "eyes") -> None:
        with self._translated("add a reaction"):
            self._write()
            issue = self._repo.get_issue(number)
            target = issue.get_comment(comment_id) if comment_id else issue
            target.create_reaction(content)

    def create_issue(
        self,
        *,
        title: str,
        body: str,
        labels: Sequence[str] = (),
        assignees: Sequence[str] = (),
        milestone: int | None = None,
        issue_type: str | None = None,
        hidden: Sequence[str] = (),
    ) -> IssueInfo:
        """``hidden``: the item marker, appended unchanged after ``body``."""
        title = self._out.title(title)
        if not title:
            raise GitHubError("An issue needs a visible title; this one has none once cleaned.")
        payload: dict[str, Any] = {"title": title, "body": self._out.body(body, hidden)}
        if labels:
            payload["labels"] = list(labels)
        if assignees:
            payload["assignees"] = list(assignees)
        if milestone is not None:
            payload["milestone"] = milestone
        if issue_type:
            payload["type"] = issue_type
        with self._translated(f"create the issue “{title[:60]}”"):
            self._write()
            # https://docs.github.com/en/rest/issues/issues#create-an-issue
            _, data = self._requester.requestJsonAndCheck(
                "POST", f"{self._repo.url}/issues", input=payload
            )
            return _created_issue(data)

    def _graphql(self, action: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request through PyGithub's requester (its retries and pacing apply)."""
        with self._translated(action):
            _, body = self._requester.requestJsonAndCheck(
                "POST", self._requester.graphql_url, input={"query": query, "variables": variables}
            )
        return decipher_graphql(body, action)

    def node_ids(
        self,
        *,
        numbers: Sequence[int] = (),
        labels: Sequence[str] = (),
        logins: Sequence[str] = (),
        milestone: int | None = None,
    ) -> NodeIds:
        query, variables = build_ids_query(
            numbers=numbers, labels=labels, logins=logins, milestone=milestone
        )
        owner, name = self.full_name.split("/", 1)
        data = self._graphql("look up ids", query, {"owner": owner, "name": name, **variables})
        return parse_ids(data, numbers=numbers, labels=labels, logins=logins)

    def create_sub_issue(
        self,
        *,
        repository_id: str,
        parent_id: str,
        title: str,
        body: str,
        label_ids: Sequence[str] = (),
        assignee_ids: Sequence[str] = (),
        milestone_id: str | None = None,
        hidden: Sequence[str] = (),
    ) -> IssueInfo:
        """``hidden``: the item marker, appended unchanged after ``body``."""
        title = self._out.title(title)
        if not title:
            raise GitHubError("An issue needs a visible title; this one has none once cleaned.")
        fields: dict[str, Any] = {
            "repositoryId": repository_id,
            "parentIssueId": parent_id,
            "title": title,
            "body": self._out.body(body, hidden),
        }
        if label_ids:
            fields["labelIds"] = list(label_ids)
        if assignee_ids:
            fields["assigneeIds"] = list(assignee_ids)
        if milestone_id:
            fields["milestoneId"] = milestone_id
        self._write()
        data = self._graphql(f"create the issue “{title[:60]}”", CREATE_ISSUE, {"input": fields})
        return _graphql_issue(data["createIssue"]["issue"])

    def add_sub_issue(self, parent: int, child_id: int) -> None:
        """https://docs.github.com/en/rest/issues/sub-issues#add-sub-issue (child by id)."""
        with self._translated(f"add a sub-issue to #{parent}"):
            self._write()
            self._repo.get_issue(parent).add_sub_issue(child_id)

    def remove_sub_issue(self, parent: int, child_id: int) -> None:
        with self._translated(f"remove a sub-issue from #{parent}"):
            self._write()
            self._repo.get_issue(parent).remove_sub_issue(child_id)

    def sub_issue_count(self, number: int) -> int:
        """Sub-issues the issue has (closed ones too: they count towards GitHub's 100)."""
        with self._translated(f"read issue #{number}"):
            _, data = self._requester.requestJsonAndCheck(
                "GET", f"{self._repo.url}/issues/{number}"
            )
        summary = data.get("sub_issues_summary") or {}
        return int(summary.get("total", 0))

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        """https://docs.github.com/en/rest/issues/issue-dependencies#add-a-dependency-an-issue-is-blocked-by"""
        with self._translated(f"mark #{number} as blocked"):
            self._write()
            self._requester.requestJsonAndCheck(
                "POST",
                f"{self._repo.url}/issues/{number}/dependencies/blocked_by",
                input={"issue_id": blocker_id},
            )

    def remove_blocked_by(self, number: int, blocker_id: int) -> None:
        with self._translated(f"remove a dependency of #{number}"):
            self._write()
            self._requester.requestJsonAndCheck(
                "DELETE", f"{self._repo.url}/issues/{number}/dependencies/blocked_by/{blocker_id}"
            )

    def label_names(self) -> set[str]:
        with self._translated("list labels"):
            return {label.name.lower() for label in self._repo.get_labels()}

    def create_label(self, name: str, color: str) -> None:
        with self._translated(f"create the label {name}"):
            self._write()
            self._repo.create_label(name, color)

    def is_assignable(self, login: str) -> bool:
        with self._translated(f"check whether {login} can be assigned"):
            return bool(self._repo.has_in_assignees(login))

    def issue(self, number: int) -> IssueInfo:
        with self._translated(f"read #{number}"):
            # https://docs.github.com/en/rest/issues/issues#get-an-issue
            _, data = self._requester.requestJsonAndCheck(
                "GET", f"{self._repo.url}/issues/{number}"
            )
            return _created_issue(data)

    def edit_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        hidden: Sequence[str] = (),
    ) -> IssueInfo:
        payload: dict[str, Any] = {}
        if title is not None:
            payload["title"] = self._out.title(title)
            if not payload["title"]:
                raise GitHubError("An issue needs a visible title; this one has none once cleaned.")
        if body is not None:
            payload["body"] = self._out.body(body, hidden)
        with self._translated(f"edit #{number}"):
            self._write()
            # https://docs.github.com/en/rest/issues/issues#update-an-issue
            _, data = self._requester.requestJsonAndCheck(
                "PATCH", f"{self._repo.url}/issues/{number}", input=payload
            )
            return _created_issue(data)

    def close_issue(self, number: int, *, reason: str = "not_planned") -> None:
        with self._translated(f"close #{number}"):
            self._write()
            self._repo.get_issue(number).edit(state="closed", state_reason=reason)

    def reopen_issue(self, number: int) -> None:
        with self._translated(f"reopen #{number}"):
            self._write()
            self._requester.requestJsonAndCheck(
                "PATCH", f"{self._repo.url}/issues/{number}", input={"state": "open"}
            )

    def milestone_number(self, name: str) -> int | None:
        """A milestone given as a number or a title, or None when there is no such milestone."""
        if name.isdigit():
            return int(name)
        with self._translated("list milestones"):
            for milestone in self._repo.get_milestones(state="all"):
                if milestone.title.strip().lower() == name.strip().lower():
                    return int(milestone.number)
        return None

    def read_file(self, path: str, *, ref: str = "") -> RepoFile:
        """Read, never write: the commit is resolved first, so the text is exactly its."""
        where = f"{path}@{ref}" if ref else path
        with self._translated(f"read {where}"):
            # https://docs.github.com/en/rest/commits/commits#get-a-commit
            resolved = self._repo.get_commit(ref or "HEAD")
            resolved.complete()  # lazy objects only fetch on use; the sha must be the real one
            commit = resolved.sha
            # https://docs.github.com/en/rest/repos/contents#get-repository-content
            found = self._repo.get_contents(path, ref=commit)
        if isinstance(found, list) or found.type != "file":
            raise GitHubError(f"{path} is a directory, not a file.", status=422)
        try:
            text = found.decoded_content.decode("utf-8")
        except (UnicodeDecodeError, AssertionError) as exc:
            raise GitHubError(f"{path} is not a UTF-8 text file.", status=422) from exc
        return RepoFile(path=found.path, text=text, commit=commit, url=found.html_url)


def _conforms(port: GitHubPort) -> ports.GitHub:
    return port  # mypy checks here that the adapter has every method the handlers use
