"""What the handlers need from GitHub: one `GitHub` protocol and the plain values it returns.

`github.GitHubPort` implements it on PyGithub (mypy checks that it conforms); the tests have an
in-memory fake of it in `tests/fakes/github.py`. Every method raises `GitHubError` on failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class IssueInfo:
    number: int
    id: int
    title: str
    body: str
    author: str
    state: str
    url: str
    comments: int = 0
    created_at: str = ""
    updated_at: str = ""
    is_pull_request: bool = False
    state_reason: str | None = None
    node_id: str = ""  # GraphQL's global id ("" when the answer had none)


@dataclass(frozen=True)
class CommentInfo:
    id: int
    author: str
    body: str
    url: str
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class RepoFile:
    """A file of the repository as it was at one commit."""

    path: str
    text: str
    commit: str  # the full sha it was read at
    url: str  # the file at that commit, on the web


@dataclass(frozen=True)
class NodeIds:
    """GraphQL global ids of what a run's issues refer to, looked up once per run."""

    repository: str
    issues: Mapping[int, str] = field(default_factory=dict)  # by issue number
    labels: Mapping[str, str] = field(default_factory=dict)  # by case-folded name
    users: Mapping[str, str] = field(default_factory=dict)  # by lower-cased login
    milestone: str | None = None
    parent_field: bool = False  # `createIssue` takes `parentIssueId` on this GitHub


class GitHub(Protocol):
    """One repository, as the handlers use it."""

    @property
    def full_name(self) -> str:
        """OWNER/REPO."""

    @property
    def writes(self) -> int:
        """Write requests made so far by this job."""

    @property
    def writes_per_minute(self) -> int: ...

    def set_pace(self, writes_per_minute: int) -> None: ...

    def whoami(self) -> str | None: ...

    def permission(self, login: str) -> str: ...

    def rate_left(self) -> tuple[int, int]: ...

    def comments(self, number: int) -> list[CommentInfo]: ...

    def comments_since(self, since: str) -> list[CommentInfo]:
        """Comments of every issue in the repository updated at or after ``since``."""

    def issues_by(self, creator: str, *, since: str = "") -> list[IssueInfo]: ...

    def post_comment(
        self, number: int, body: str, *, hidden: Sequence[str] = ()
    ) -> CommentInfo: ...

    def edit_comment(
        self, number: int, comment_id: int, body: str, *, hidden: Sequence[str] = ()
    ) -> None: ...

    def delete_comment(self, number: int, comment_id: int) -> None: ...

    def react(
        self, number: int, *, comment_id: int | None = None, content: str = "eyes"
    ) -> None: ...

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
    ) -> IssueInfo: ...

    def node_ids(
        self,
        *,
        numbers: Sequence[int] = (),
        labels: Sequence[str] = (),
        logins: Sequence[str] = (),
        milestone: int | None = None,
    ) -> NodeIds:
        """One GraphQL query; GitHubError 404 where there is no GraphQL API."""

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
        """Create an issue that is a sub-issue of ``parent_id`` already: one request."""

    def issue(self, number: int) -> IssueInfo:
        """One issue as it is now (GitHubError 404 when there is none)."""

    def edit_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        hidden: Sequence[str] = (),
    ) -> IssueInfo:
        """Replace what is given (``hidden`` goes after ``body``); the issue as it is after."""

    def close_issue(self, number: int, *, reason: str = "not_planned") -> None: ...

    def reopen_issue(self, number: int) -> None: ...

    def add_sub_issue(self, parent: int, child_id: int) -> None: ...

    def remove_sub_issue(self, parent: int, child_id: int) -> None: ...

    def sub_issue_count(self, number: int) -> int: ...

    def add_blocked_by(self, number: int, blocker_id: int) -> None: ...

    def remove_blocked_by(self, number: int, blocker_id: int) -> None: ...

    def label_names(self) -> set[str]: ...

    def create_label(self, name: str, color: str) -> None: ...

    def is_assignable(self, login: str) -> bool: ...

    def milestone_number(self, name: str) -> int | None: ...

    def read_file(self, path: str, *, ref: str = "") -> RepoFile:
        """A text file at ``ref`` (default: the default branch); GitHubError 404 if missing."""
