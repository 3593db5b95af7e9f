"""The emulator's in-memory GitHub: users, tokens, repositories, issues and their rules.

No HTTP here. Every method expects the caller to hold `Store.lock`; the server takes it once per
request, the `GitHubEmulator` inspection helpers once per call. Rules that GitHub documents are
cited next to the code that follows them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, invalid, not_found, too_long
from .model import (
    ACTIONS_ID,
    ACTIONS_LOGIN,
    REACTIONS,
    Comment,
    Issue,
    Label,
    Milestone,
    Reaction,
    Repo,
    User,
    parse_time,
    role_rank,
)

TITLE_LIMIT = 256
BODY_LIMIT = 65536  # https://docs.github.com/en/rest/issues/issues#create-an-issue
SUB_ISSUE_LIMIT = 100  # https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/adding-sub-issues
NESTING_LIMIT = 8
DEPENDENCY_LIMIT = 50  # https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/creating-issue-dependencies

# The labels GitHub puts in every new repository.
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)

UNSET: Any = object()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user (PAT), the Actions installation, or nobody (anonymous)."""

    user: User | None = None
    installation: bool = False

    @property
    def login(self) -> str | None:
        return self.user.login if self.user else None


ANONYMOUS = Actor()


class Store:
    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # token -> lower-cased login
        self.installation_tokens: set[str] = set()
        self.repos: dict[str, Repo] = {}
        self.issues_by_id: dict[int, Issue] = {}
        self.comments_by_id: dict[int, Comment] = {}
        self._next_user_id = 1_000_001
        self._next_id = 2_100_000_001  # database ids: large and global, unlike issue numbers
        self.users[ACTIONS_LOGIN] = User(ACTIONS_LOGIN, ACTIONS_ID, "Bot")

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # users and tokens -------------------------------------------------------------------------

    def add_user(self, login: str, *, type: str = "User") -> User:
        existing = self.users.get(login.lower())
        if existing:
            return existing
        self._next_user_id += 1
        user = User(login, self._next_user_id, type, self.clock())
        self.users[login.lower()] = user
        return user

    def user(self, login: str) -> User:
        found = self.users.get(login.lower())
        if found is None:
            raise not_found()
        return found

    def token_for(self, login: str) -> str:
        user = self.add_user(login)
        for token, owner in self.tokens.items():
            if owner == user.login.lower():
                return token
        token = "ghp_" + secrets.token_hex(18)
        self.tokens[token] = user.login.lower()
        return token

    def actions_token(self) -> str:
        token = "ghs_" + secrets.token_hex(18)
        self.installation_tokens.add(token)
        return token

    def identify(self, token: str | None) -> Actor:
        """The actor behind an `Authorization` token; 401 "Bad credentials" when unknown."""
        if token is None:
            return ANONYMOUS
        if token in self.installation_tokens:
            return Actor(self.users[ACTIONS_LOGIN], installation=True)
        login = self.tokens.get(token)
        if login is None:
            raise ApiError(401, "Bad credentials")
        return Actor(self.users[login])

    # repositories and roles -------------------------------------------------------------------

    def add_repo(
        self, full_name: str, *, private: bool = False, default_labels: bool = True
    ) -> Repo:
        existing = self.repos.get(full_name.lower())
        if existing:
            return existing
        owner, name = full_name.split("/", 1)
        repo = Repo(self.new_id(), self.add_user(owner).login, name, private, self.clock())
        if default_labels:
            for label_name, color, description in DEFAULT_LABELS:
                repo.labels[label_name] = Label(self.new_id(), label_name, color, description, True)
        self.repos[repo.key] = repo
        return repo

    def repo(self, full_name: str) -> Repo:
        found = self.repos.get(full_name.lower())
        if found is None:
            raise not_found()
        return found

    def role_of(self, repo: Repo, login: str | None) -> str:
        """A login's role; without an explicit one, public repositories grant `read` to all."""
        if login is None:
            return "none" if repo.private else "read"
        if login.lower() == repo.owner.lower():
            return "admin"
        if login == ACTIONS_LOGIN:
            return "write"  # GITHUB_TOKEN with `issues: write`
        explicit = repo.permissions.get(login.lower())
        if explicit is not None:
            return explicit
        return "none" if repo.private else "read"

    def has_role(self, repo: Repo, actor: Actor, role: str) -> bool:
        return role_rank(self.role_of(repo, actor.login)) >= role_rank(role)

    def commit_file(self, repo: Repo, path: str, text: str, *, branch: str = "") -> str:
        """A new commit on ``branch`` (default: the default branch) that writes one file."""
        branch = branch or repo.default_branch
        tree = dict(repo.commits.get(repo.branches.get(branch, ""), {}))
        tree[path] = text
        sha = hashlib.sha1(f"{repo.key}:{branch}:{len(repo.commits)}:{path}".encode()).hexdigest()
        repo.commits[sha] = tree
        repo.branches[branch] = sha
        return sha

    def resolve_ref(self, repo: Repo, ref: str) -> str:
        """The commit a ref names: a branch, ``HEAD``, or a commit sha (or its prefix)."""
        ref = ref or "HEAD"
        name = repo.default_branch if ref == "HEAD" else ref
        if name in repo.branches:
            return repo.branches[name]
        found = [sha for sha in repo.commits if len(ref) >= 7 and sha.startswith(ref)]
        if len(found) == 1:
            return found[0]
        raise ApiError(422, f"No commit found for SHA: {ref}") if ref != "HEAD" else not_found()

    def visible_repo(self, full_name: str, actor: Actor) -> Repo:
        """The repository, or 404 for one the actor cannot see, as GitHub hides private ones."""
        repo = self.repo(full_name)
        if not self.has_role(repo, actor, "read"):
            raise not_found()
        return repo

    def require(self, repo: Repo, actor: Actor, role: str) -> None:
        if actor.user is None:
            raise ApiError(401, "Requires authentication")
        if not self.has_role(repo, actor, role):
            raise ApiError(403, _forbidden_message(actor))

    def set_permission(self, repo: Repo, login: str, role: str) -> None:
        if role not in ("admin", "maintain", "write", "triage", "read", "none"):
            raise ValueError(f"unknown permission {role!r}")
        self.add_user(login)
        repo.permissions[login.lower()] = role

    def is_assignable(self, repo: Repo, login: str) -> bool:
        """Assignable users: the owner and collaborators with at least triage."""
        user = self.users.get(login.lower())
        if user is None or user.type == "Bot":
            return False
        return role_rank(self.role_of(repo, user.login)) >= role_rank("triage")

    def assignable_users(self, repo: Repo) -> list[User]:
        return [u for u in self.users.values() if self.is_assignable(repo, u.login)]

    def author_association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        role = repo.permissions.get(login.lower(), "none")
        return "COLLABORATOR" if role != "none" else "NONE"

    # labels and milestones --------------------------------------------------------------------

    def label(self, repo: Repo, name: str) -> Label:
        found = repo.labels.get(name.lower())
        if found is None:
            raise not_found()
        return found

    def create_label(self, repo: Repo, payload: Mapping[str, Any]) -> Label:
        name = payload.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("Label", "name", "missing_field")
        if name.lower() in repo.labels:
            raise invalid("Label", "name", "already_exists")
        label = Label(self.new_id(), name, _color(payload.get("color", "ededed")))
        label.description = payload.get("description")
        repo.labels[name.lower()] = label
        return label

    def update_label(self, repo: Repo, name: str, payload: Mapping[str, Any]) -> Label:
        label = self.label(repo, name)
        new_name = payload.get("new_name") or payload.get("name") or label.name
        if not isinstance(new_name, str):
            raise invalid("Label", "name", value=new_name)
        if new_name.lower() != label.name.lower() and new_name.lower() in repo.labels:
            raise invalid("Label", "name", "already_exists")
        if "color" in payload:
            label.color = _color(payload["color"])
        if "description" in payload:
            label.description = payload["description"]
        del repo.labels[label.name.lower()]
        for issue in repo.issues.values():
            issue.labels = [
                new_name.lower() if k == label.name.lower() else k for k in issue.labels
            ]
        label.name = new_name
        repo.labels[new_name.lower()] = label
        return label

    def delete_label(self, repo: Repo, name: str) -> None:
        label = self.label(repo, name)
        del repo.labels[label.name.lower()]
        for issue in repo.issues.values():
            issue.labels = [k for k in issue.labels if k != label.name.lower()]

    def resolve_labels(self, repo: Repo, names: Iterable[Any]) -> list[str]:
        """Label keys for names (or `{"name": …}` objects); unknown names become new labels."""
        keys: list[str] = []
        for item in names:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name.strip():
                raise invalid("Label", "name", "invalid", value=name)
            if name.lower() not in repo.labels:
                repo.labels[name.lower()] = Label(self.new_id(), name)
            if name.lower() not in keys:
                keys.append(name.lower())
        return keys

    def create_milestone(self, repo: Repo, actor: str, payload: Mapping[str, Any]) -> Milestone:
        title = payload.get("title")
        if not isinstance(title, str) or not title.strip():
            raise invalid("Milestone", "title", "missing_field")
        if any(m.title == title for m in repo.milestones.values()):
            raise invalid("Milestone", "title", "already_exists")
        state = payload.get("state", "open")
        if state not in ("open", "closed"):
            raise invalid("Milestone", "state")
        now = self.clock()
        number = len(repo.milestones) + 1
        milestone = Milestone(self.new_id(), number, title, actor, now, now, state=state)
        milestone.description = payload.get("description")
        milestone.due_on = payload.get("due_on")
        milestone.closed_at = now if state == "closed" else None
        repo.milestones[number] = milestone
        return milestone

    def milestone(self, repo: Repo, number: int) -> Milestone:
        found = repo.milestones.get(number)
        if found is None:
            raise not_found()
        return found

    # issues -----------------------------------------------------------------------------------

    def issue(self, repo: Repo, number: int) -> Issue:
        found = repo.issues.get(number)
        if found is None:
            raise not_found()
        return found

    def issue_by_id(self, issue_id: Any) -> Issue:
        found = self.issues_by_id.get(issue_id) if isinstance(issue_id, int) else None
        if found is None:
            raise not_found()
        return found

    def create_issue(
        self, repo: Repo, author: str, payload: Mapping[str, Any], *, privileged: bool
    ) -> Issue:
        """Open an issue. Labels, assignees and milestone need push access: "silently dropped
        otherwise" (https://docs.github.com/en/rest/issues/issues#create-an-issue)."""
        title = _title(payload.get("title"))
        body = _body(payload.get("body"), "Issue")
        now = self.clock()
        issue = Issue(self.new_id(), repo.key, len(repo.issues) + 1, title, body, author, now, now)
        if privileged:
            self._apply_meta(repo, issue, payload)
        repo.issues[issue.number] = issue
        self.issues_by_id[issue.id] = issue
        return issue

    def update_issue(
        self, repo: Repo, issue: Issue, actor: str, payload: Mapping[str, Any], *, privileged: bool
    ) -> Issue:
        changed = False
        if "title" in payload:
            issue.title, changed = _title(payload["title"]), True
        if "body" in payload:
            issue.body, changed = _body(payload["body"], "Issue"), True
        if "state" in payload or "state_reason" in payload:
            changed = self._apply_state(issue, actor, payload) or changed
        if privileged:
            changed = self._apply_meta(repo, issue, payload) or changed
        if "locked" in payload:
            issue.locked, changed = bool(payload["locked"]), True
        if changed:
            issue.updated_at = self.clock()
        return issue

    def _apply_state(self, issue: Issue, actor: str, payload: Mapping[str, Any]) -> bool:
        state = payload.get("state", issue.state)
        reason = payload.get("state_reason", UNSET)
        if state not in ("open", "closed"):
            raise invalid("Issue", "state", value=state)
        if reason is not UNSET and reason not in (
            None,
            "completed",
            "not_planned",
            "duplicate",
            "reopened",
        ):
            raise invalid("Issue", "state_reason", value=reason)
        if state == "closed":
            return self._close(issue, actor, reason)
        if issue.state == "closed":
            issue.state, issue.state_reason = "open", "reopened"
            issue.closed_at, issue.closed_by = None, None
            return True
        return False

    def _close(self, issue: Issue, actor: str, reason: Any) -> bool:
        if reason is UNSET or reason in (None, "reopened"):
            reason = issue.state_reason if issue.state == "closed" else "completed"
        if issue.state == "closed" and reason == issue.state_reason:
            return False
        if issue.state != "closed":
            issue.closed_at, issue.closed_by = self.clock(), actor
        issue.state, issue.state_reason = "closed", reason
        return True

    def _apply_meta(self, repo: Repo, issue: Issue, payload: Mapping[str, Any]) -> bool:
        changed = False
        if payload.get("labels") is not None:
            issue.labels, changed = self.resolve_labels(repo, payload["labels"]), True
        assignees = _assignee_logins(payload)
        if assignees is not None:
            issue.assignees, changed = self._check_assignees(repo, assignees), True
        if "milestone" in payload:
            issue.milestone, changed = self._check_milestone(repo, payload["milestone"]), True
        return changed

    def _check_assignees(self, repo: Repo, logins: list[str]) -> list[str]:
        result: list[str] = []
        for login in logins:
            if not self.is_assignable(repo, login):
                raise invalid("Issue", "assignees", value=login)
            result.append(self.users[login.lower()].login)
        return list(dict.fromkeys(result))

    def _check_milestone(self, repo: Repo, value: Any) -> int | None:
        if value is None:
            return None
        number = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
        if number is None or number not in repo.milestones:
            raise invalid("Issue", "milestone", value=value)
        return number

    def list_issues(self, repo: Repo, query: Mapping[str, str]) -> list[Issue]:
        """GET /repos/{owner}/{repo}/issues filters and order
        (https://docs.github.com/en/rest/issues/issues#list-repository-issues)."""
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise invalid("Issue", "state", value=state)
        wanted = [n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()]
        since = _since(query)
        found = [
            issue
            for issue in repo.issues.values()
            if (state == "all" or issue.state == state)
            and _matches_login(issue.author, query.get("creator"))
            and all(name in issue.labels for name in wanted)
            and _matches_assignee(issue, query.get("assignee"))
            and _matches_milestone(issue, query.get("milestone"))
            and (since is None or issue.updated_at >= since)
        ]
        return _order_issues(found, query.get("sort", "created"), query.get("direction", "desc"))

    # comments and reactions -------------------------------------------------------------------

    def create_comment(self, repo: Repo, issue: Issue, author: str, body: Any) -> Comment:
        text = _body(body, "IssueComment", required=True)
        assert text is not None
        now = self.clock()
        comment = Comment(self.new_id(), repo.key, issue.number, author, text, now, now)
        self.comments_by_id[comment.id] = comment
        issue.comments.append(comment.id)
        issue.updated_at = now
        return comment

    def comment(self, repo: Repo, comment_id: int) -> Comment:
        found = self.comments_by_id.get(comment_id)
        if found is None or found.repo != repo.key:
            raise not_found()
        return found

    def edit_comment(self, comment: Comment, body: Any) -> Comment:
        text = _body(body, "IssueComment", required=True)
        assert text is not None
        comment.body, comment.updated_at = text, self.clock()
        return comment

    def delete_comment(self, repo: Repo, comment: Comment) -> None:
        issue = self.issue(repo, comment.issue_number)
        issue.comments.remove(comment.id)
        issue.updated_at = self.clock()
        del self.comments_by_id[comment.id]

    def list_comments(self, comments: Iterable[Comment], query: Mapping[str, str]) -> list[Comment]:
        since = _since(query)
        found = [c for c in comments if since is None or c.updated_at >= since]
        key = "updated_at" if query.get("sort") == "updated" else "created_at"
        found.sort(key=lambda c: (getattr(c, key), c.id), reverse=query.get("direction") == "desc")
        return found

    def react(self, reactions: list[Reaction], login: str, content: Any) -> tuple[Reaction, bool]:
        """Add a reaction; (reaction, created). The same user and content answers the old one."""
        if content not in REACTIONS:
            raise invalid("Reaction", "content", value=content)
        for reaction in reactions:
            if reaction.user == login and reaction.content == content:
                return reaction, False
        reaction = Reaction(self.new_id(), login, content, self.clock())
        reactions.append(reaction)
        return reaction, True

    # sub-issues -------------------------------------------------------------------------------

    def add_sub_issue(self, parent: Issue, payload: Mapping[str, Any]) -> Issue:
        """Link a child (https://docs.github.com/en/rest/issues/sub-issues#add-sub-issue)."""
        child = self.issue_by_id(payload.get("sub_issue_id"))
        self._check_sub_issue(parent, child, replace=bool(payload.get("replace_parent")))
        if child.parent is not None:
            self.issues_by_id[child.parent].children.remove(child.id)
        child.parent = parent.id
        parent.children.append(child.id)
        return child

    def _check_sub_issue(self, parent: Issue, child: Issue, *, replace: bool) -> None:
        if self._owner_of(child) != self._owner_of(parent):
            _sub_issue_error("Sub-issue must belong to the same repository owner as the parent")
        if child.id in parent.children:
            _sub_issue_error("Issue may not contain duplicate sub-issues")
        if child.parent is not None and not replace:
            _sub_issue_error("Sub issue may only have one parent")
        if child.id == parent.id or child.id in self._ancestors(parent):
            _sub_issue_error("Sub issue cannot be an ancestor of its parent")
        if len(parent.children) >= SUB_ISSUE_LIMIT:
            _sub_issue_error(f"Parent issue cannot have more than {SUB_ISSUE_LIMIT} sub-issues")
        if len(self._ancestors(parent)) + 1 + self._height(child) > NESTING_LIMIT:
            _sub_issue_error(f"Sub-issues cannot be nested more than {NESTING_LIMIT} levels deep")

    def check_new_sub_issue(self, parent: Issue, repo: Repo) -> None:
        """The rules `add_sub_issue` applies, for an issue of ``repo`` not created yet."""
        if repo.owner.lower() != self._owner_of(parent):
            _sub_issue_error("Sub-issue must belong to the same repository owner as the parent")
        if len(parent.children) >= SUB_ISSUE_LIMIT:
            _sub_issue_error(f"Parent issue cannot have more than {SUB_ISSUE_LIMIT} sub-issues")
        if len(self._ancestors(parent)) + 1 > NESTING_LIMIT:
            _sub_issue_error(f"Sub-issues cannot be nested more than {NESTING_LIMIT} levels deep")

    def remove_sub_issue(self, parent: Issue, payload: Mapping[str, Any]) -> Issue:
        child = self.issue_by_id(payload.get("sub_issue_id"))
        if child.parent != parent.id:
            raise not_found()
        parent.children.remove(child.id)
        child.parent = None
        return child

    def reprioritize_sub_issue(self, parent: Issue, payload: Mapping[str, Any]) -> Issue:
        child = self.issue_by_id(payload.get("sub_issue_id"))
        anchor_id = payload.get("after_id") or payload.get("before_id")
        if child.id not in parent.children or (anchor_id and anchor_id not in parent.children):
            raise invalid("Issue", "sub_issue_id")
        parent.children.remove(child.id)
        if anchor_id is None:
            parent.children.insert(0, child.id)
        else:
            offset = 1 if payload.get("after_id") else 0
            parent.children.insert(parent.children.index(anchor_id) + offset, child.id)
        return child

    def parent_of(self, issue: Issue) -> Issue:
        if issue.parent is None:
            raise not_found()
        return self.issues_by_id[issue.parent]

    def children_of(self, issue: Issue) -> list[Issue]:
        return [self.issues_by_id[i] for i in issue.children]

    def _ancestors(self, issue: Issue) -> list[int]:
        chain: list[int] = []
        while issue.parent is not None:
            chain.append(issue.parent)
            issue = self.issues_by_id[issue.parent]
        return chain

    def _height(self, issue: Issue) -> int:
        """Levels of sub-issues below `issue` (0 for a leaf)."""
        return max((1 + self._height(c) for c in self.children_of(issue)), default=0)

    def _owner_of(self, issue: Issue) -> str:
        return self.repos[issue.repo].owner.lower()

    # dependencies -----------------------------------------------------------------------------

    def add_blocked_by(self, issue: Issue, payload: Mapping[str, Any]) -> Issue:
        """Record that `issue` is blocked by another one
        (https://docs.github.com/en/rest/issues/issue-dependencies)."""
        blocker = self.issue_by_id(payload.get("issue_id"))
        if blocker.id == issue.id:
            _dependency_error("An issue cannot be blocked by itself")
        if blocker.id in issue.blocked_by:
            _dependency_error("Issue is already blocked by this issue")
        if len(issue.blocked_by) >= DEPENDENCY_LIMIT or len(self.blocking(blocker)) >= (
            DEPENDENCY_LIMIT
        ):
            _dependency_error(f"An issue can have at most {DEPENDENCY_LIMIT} dependencies")
        issue.blocked_by.append(blocker.id)
        return issue

    def remove_blocked_by(self, issue: Issue, blocker_id: int) -> Issue:
        if blocker_id not in issue.blocked_by:
            raise not_found()
        issue.blocked_by.remove(blocker_id)
        return issue

    def blockers(self, issue: Issue) -> list[Issue]:
        return [self.issues_by_id[i] for i in issue.blocked_by]

    def blocking(self, issue: Issue) -> list[Issue]:
        return [i for i in self.issues_by_id.values() if issue.id in i.blocked_by]


def _forbidden_message(actor: Actor) -> str:
    if actor.installation:
        return "Resource not accessible by integration"
    return "Resource not accessible by personal access token"


def _sub_issue_error(message: str) -> None:
    raise invalid("Issue", "sub_issue_id", "custom", message=message)


def _dependency_error(message: str) -> None:
    raise invalid("IssueDependency", "issue_id", "custom", message=message)


def _color(value: Any) -> str:
    color = str(value).lstrip("#").lower()
    if len(color) != 6 or any(ch not in "0123456789abcdef" for ch in color):
        raise invalid("Label", "color", value=value)
    return color


def _title(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the schema allows an integer title
    if not isinstance(value, str) or not value.strip():
        raise invalid("Issue", "title", "missing_field")
    if len(value) > TITLE_LIMIT:
        raise too_long("Issue", "title", TITLE_LIMIT)
    return value


def _body(value: Any, resource: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(resource, "body", "missing_field")
    if len(value) > BODY_LIMIT:
        raise too_long(resource, "body", BODY_LIMIT)
    return value


def _assignee_logins(payload: Mapping[str, Any]) -> list[str] | None:
    if payload.get("assignees") is not None:
        return [a.get("login", "") if isinstance(a, dict) else str(a) for a in payload["assignees"]]
    if "assignee" in payload:
        single = payload["assignee"]
        return [] if single is None else [str(single)]
    return None


def _since(query: Mapping[str, str]) -> datetime | None:
    if "since" not in query:
        return None
    moment = parse_time(query["since"])
    if moment is None:
        raise invalid("Issue", "since", value=query["since"])
    return moment


def _matches_login(login: str, wanted: str | None) -> bool:
    return wanted is None or login.lower() == wanted.lower()


def _matches_assignee(issue: Issue, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == "none":
        return not issue.assignees
    if wanted == "*":
        return bool(issue.assignees)
    return wanted.lower() in (a.lower() for a in issue.assignees)


def _matches_milestone(issue: Issue, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == "none":
        return issue.milestone is None
    if wanted == "*":
        return issue.milestone is not None
    return str(issue.milestone) == wanted


def _order_issues(issues: list[Issue], sort: str, direction: str) -> list[Issue]:
    def key(issue: Issue) -> tuple[Any, int]:
        if sort == "updated":
            return issue.updated_at, issue.id
        if sort == "comments":
            return len(issue.comments), issue.id
        return issue.created_at, issue.id

    return sorted(issues, key=key, reverse=direction != "asc")
