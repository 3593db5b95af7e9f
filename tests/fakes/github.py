"""An in-memory `ports.GitHub`: one repository, for fast, table-driven handler tests.

It keeps issues, comments, sub-issue and dependency links, labels and permissions in plain
dicts and answers like GitHub where the handlers care (a 422 for a duplicate link, a 404 for
what does not exist). `fail(method, status, times)` makes the next calls of a method fail.
The emulator conversations in the other test files stay the end-to-end suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import count

from openproducer import GitHubError
from openproducer.outbound import Outbound
from openproducer.ports import CommentInfo, GitHub, IssueInfo, NodeIds, RepoFile

BOT = "github-actions[bot]"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeGitHub:
    """Implements `ports.GitHub`; every write passes the real `Outbound` guard, as on GitHub."""

    bot: str = BOT
    full_name: str = "octo-org/specs"
    files: dict[str, str] = field(default_factory=dict)  # "path@ref" (ref "" = default) -> text
    permissions: dict[str, str] = field(default_factory=dict)
    issues: dict[int, IssueInfo] = field(default_factory=dict)
    comment_log: dict[int, list[CommentInfo]] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)  # parent -> child ids
    blockers: dict[int, list[int]] = field(default_factory=dict)  # number -> blocker ids
    labels: set[str] = field(default_factory=set)
    milestones: dict[str, int] = field(default_factory=dict)
    rate_remaining: int = 5000
    graphql: bool = False  # GraphQL ids and `createIssue` with a parent (off: REST only)
    writes: int = 0
    writes_per_minute: int = 60
    outbound: Outbound = field(default_factory=Outbound)
    calls: list[str] = field(default_factory=list)
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _numbers: count[int] = field(default_factory=lambda: count(1))
    _ids: count[int] = field(default_factory=lambda: count(1000))

    # -- test set-up ---------------------------------------------------------------------

    def open_issue(self, body: str, *, author: str = "alice", title: str = "Spec") -> IssueInfo:
        number = next(self._numbers)
        info = IssueInfo(
            number, next(self._ids), title, body, author, "open", f"https://x/{number}"
        )
        self.issues[number] = replace(info, created_at=_stamp(), updated_at=_stamp())
        return self.issues[number]

    def say(self, number: int, body: str, *, author: str = "alice") -> CommentInfo:
        """A person's comment (not through the guard: people write what they like)."""
        comment_id = next(self._ids)
        comment = CommentInfo(comment_id, author, body, f"https://x/c{comment_id}")
        self.comment_log.setdefault(number, []).append(comment)
        return comment

    def fail(self, method: str, status: int, times: int = 1) -> None:
        self._failures.setdefault(method, []).extend([status] * times)

    def created_by_bot(self) -> list[IssueInfo]:
        return [i for i in self.issues.values() if i.author == self.bot]

    def bot_comments(self, number: int) -> list[CommentInfo]:
        return [c for c in self.comment_log.get(number, []) if c.author == self.bot]

    def _call(self, method: str, *, write: bool = False) -> None:
        self.calls.append(method)
        pending = self._failures.get(method)
        if pending:
            status = pending.pop(0)
            raise GitHubError(f"GitHub answered {status} when trying to {method}", status=status)
        self.rate_remaining -= 1
        if write:
            self.writes += 1

    def _issue(self, number: int) -> IssueInfo:
        if number not in self.issues:
            raise GitHubError(f"GitHub answered 404 for issue #{number}", status=404)
        return self.issues[number]

    # -- ports.GitHub --------------------------------------------------------------------

    def set_pace(self, writes_per_minute: int) -> None:
        self.writes_per_minute = writes_per_minute

    def whoami(self) -> str | None:
        self._call("whoami")
        return None  # as with the workflow's GITHUB_TOKEN

    def permission(self, login: str) -> str:
        self._call("permission")
        return self.permissions.get(login, "read")

    def rate_left(self) -> tuple[int, int]:
        return self.rate_remaining, 2_000_000_000

    def comments(self, number: int) -> list[CommentInfo]:
        self._call("comments")
        return list(self.comment_log.get(number, []))

    def comments_since(self, since: str) -> list[CommentInfo]:
        self._call("comments_since")
        every = [c for thread in self.comment_log.values() for c in thread]
        return [c for c in every if not c.created_at or c.created_at >= since]

    def issues_by(self, creator: str, *, since: str = "") -> list[IssueInfo]:
        self._call("issues_by")
        found = [i for i in self.issues.values() if i.author == creator]
        found = [i for i in found if not since or i.updated_at >= since]
        return sorted(found, key=lambda i: -i.number)

    def post_comment(self, number: int, body: str, *, hidden: Sequence[str] = ()) -> CommentInfo:
        self._call("post_comment", write=True)
        self._issue(number)
        comment_id = next(self._ids)
        comment = CommentInfo(
            comment_id, self.bot, self.outbound.body(body, hidden), f"https://x/c{comment_id}"
        )
        self.comment_log.setdefault(number, []).append(comment)
        return comment

    def edit_comment(
        self, number: int, comment_id: int, body: str, *, hidden: Sequence[str] = ()
    ) -> None:
        self._call("edit_comment", write=True)
        thread = self.comment_log.get(number, [])
        for index, comment in enumerate(thread):
            if comment.id == comment_id:
                thread[index] = replace(comment, body=self.outbound.body(body, hidden))
                return
        raise GitHubError(f"GitHub answered 404 for comment {comment_id}", status=404)

    def delete_comment(self, number: int, comment_id: int) -> None:
        self._call("delete_comment", write=True)
        thread = self.comment_log.get(number, [])
        self.comment_log[number] = [c for c in thread if c.id != comment_id]

    def react(self, number: int, *, comment_id: int | None = None, content: str = "eyes") -> None:
        self._call("react", write=True)

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
        self._call("create_issue", write=True)
        info = self.open_issue(self.outbound.body(body, hidden), author=self.bot, title=title)
        self.labels.update(label.lower() for label in labels)
        return info

    def node_ids(
        self,
        *,
        numbers: Sequence[int] = (),
        labels: Sequence[str] = (),
        logins: Sequence[str] = (),
        milestone: int | None = None,
    ) -> NodeIds:
        self._call("node_ids")
        if not self.graphql:
            raise GitHubError("GitHub answered 404 when trying to look up ids", status=404)
        return NodeIds(
            repository="R_1",
            issues={n: f"I_{n}" for n in numbers if n in self.issues},
            labels={x.casefold(): f"LA_{x.casefold()}" for x in labels if x.lower() in self.labels},
            users={u.lower(): f"U_{u.lower()}" for u in logins},
            milestone=f"MI_{milestone}" if milestone is not None else None,
            parent_field=True,
        )

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
        self._call("create_sub_issue", write=True)
        parent = self._issue(int(parent_id.removeprefix("I_")))
        info = self.open_issue(self.outbound.body(body, hidden), author=self.bot, title=title)
        info = replace(info, node_id=f"I_{info.number}")
        self.issues[info.number] = info
        self.children.setdefault(parent.number, []).append(info.id)
        return info

    def issue(self, number: int) -> IssueInfo:
        self._call("issue")
        return self._issue(number)

    def edit_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        hidden: Sequence[str] = (),
    ) -> IssueInfo:
        self._call("edit_issue", write=True)
        info = self._issue(number)
        if title is not None:
            info = replace(info, title=title)
        if body is not None:
            info = replace(info, body=self.outbound.body(body, hidden))
        self.issues[number] = replace(info, updated_at=_stamp())
        return self.issues[number]

    def close_issue(self, number: int, *, reason: str = "not_planned") -> None:
        self._call("close_issue", write=True)
        info = self._issue(number)
        self.issues[number] = replace(info, state="closed", state_reason=reason)

    def reopen_issue(self, number: int) -> None:
        self._call("reopen_issue", write=True)
        info = self._issue(number)
        self.issues[number] = replace(info, state="open", state_reason="reopened")

    def add_sub_issue(self, parent: int, child_id: int) -> None:
        self._call("add_sub_issue", write=True)
        linked = self.children.setdefault(parent, [])
        if child_id in linked:
            raise GitHubError("422: Issue may not contain duplicate sub-issues", status=422)
        linked.append(child_id)

    def remove_sub_issue(self, parent: int, child_id: int) -> None:
        self._call("remove_sub_issue", write=True)
        linked = self.children.get(parent, [])
        if child_id not in linked:
            raise GitHubError("404: not a sub-issue", status=404)
        linked.remove(child_id)

    def sub_issue_count(self, number: int) -> int:
        self._call("sub_issue_count")
        return len(self.children.get(number, []))

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        self._call("add_blocked_by", write=True)
        linked = self.blockers.setdefault(number, [])
        if blocker_id in linked:
            raise GitHubError("422: Issue is already blocked by this issue", status=422)
        linked.append(blocker_id)

    def remove_blocked_by(self, number: int, blocker_id: int) -> None:
        self._call("remove_blocked_by", write=True)
        linked = self.blockers.get(number, [])
        if blocker_id not in linked:  # as GitHub answers for a link that is not there
            raise GitHubError("404: Not Found", status=404)
        linked.remove(blocker_id)

    def label_names(self) -> set[str]:
        self._call("label_names")
        return set(self.labels)

    def create_label(self, name: str, color: str) -> None:
        self._call("create_label", write=True)
        self.labels.add(name.lower())

    def is_assignable(self, login: str) -> bool:
        self._call("is_assignable")
        return login in self.permissions

    def milestone_number(self, name: str) -> int | None:
        self._call("milestone_number")
        return int(name) if name.isdigit() else self.milestones.get(name.lower())

    def read_file(self, path: str, *, ref: str = "") -> RepoFile:
        self._call("read_file")
        text = self.files.get(f"{path}@{ref}")
        if text is None:
            raise GitHubError(f"GitHub answered 404 when trying to read {path}", status=404)
        commit = "c0ffee" + "0" * 34
        return RepoFile(path, text, commit, f"https://x/{self.full_name}/blob/{commit}/{path}")


def _conforms(fake: FakeGitHub) -> GitHub:
    return fake  # mypy checks here that the fake has every method of the protocol
