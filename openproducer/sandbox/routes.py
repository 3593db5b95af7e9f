"""The REST endpoints: one small handler per operation, a route table, and GitHub's access rules.

Handlers run under the store's lock, get the parsed request and return a `Reply`; a reply whose
`listing` is set is a whole collection the server paginates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from .errors import ApiError, invalid, not_found
from .model import Issue, Json, Reaction, Repo
from .shapes import Renderer
from .store import Actor, Store


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Sequence[tuple[str, str]]
    body: Any
    actor: Actor

    def arg(self, name: str) -> str | None:
        return dict(self.query).get(name)


@dataclass
class Reply:
    """An answer. A listing's `body` holds raw records: the server takes the requested page,
    then renders only that page with `render`."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    render: Callable[[Any], Any] | None = None


def listing(items: Sequence[T], render: Callable[[T], Any]) -> Reply:
    return Reply(body=list(items), render=render)


@dataclass(frozen=True)
class Ctx:
    store: Store
    render: Renderer
    request: Request

    @property
    def actor(self) -> Actor:
        return self.request.actor

    @property
    def login(self) -> str:
        """The acting login of a request that passed `require` (never anonymous)."""
        assert self.actor.login is not None
        return self.actor.login

    @property
    def payload(self) -> dict[str, Any]:
        body = self.request.body
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return body


T = TypeVar("T")
Params = dict[str, str]
Handler = Callable[[Ctx, Params], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    feature: str | None = None  # "sub_issues" or "dependencies": 404 when switched off


ROUTES: list[Route] = []
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
ISSUE = REPO + r"/issues/(?P<number>\d+)"
COMMENT = REPO + r"/issues/comments/(?P<comment_id>\d+)"


def route(method: str, pattern: str, feature: str | None = None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(f"^{pattern}/?$"), handler, feature))
        return handler

    return register


def find_route(method: str, path: str) -> tuple[Route, Params] | None:
    for candidate in ROUTES:
        match = candidate.pattern.match(path)
        if match and candidate.method == method:
            return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


# helpers ----------------------------------------------------------------------------------------


def _repo(ctx: Ctx, p: Params) -> Repo:
    return ctx.store.visible_repo(f"{p['owner']}/{p['repo']}", ctx.actor)


def _issue(ctx: Ctx, p: Params) -> tuple[Repo, Issue]:
    repo = _repo(ctx, p)
    return repo, ctx.store.issue(repo, int(p["number"]))


def _writable_issue(ctx: Ctx, p: Params, role: str = "write") -> tuple[Repo, Issue]:
    repo, issue = _issue(ctx, p)
    ctx.store.require(repo, ctx.actor, role)
    return repo, issue


def _issues(ctx: Ctx, issues: Sequence[Issue], *, full: bool = False) -> Reply:
    return listing(issues, lambda i: ctx.render.issue(i, full=full))


def _created(body: Json, created: bool = True) -> Reply:
    headers = {"Location": body["url"]} if created and "url" in body else {}
    return Reply(201 if created else 200, body, headers)


def _may_edit(ctx: Ctx, repo: Repo, author: str) -> bool:
    """Authors may edit their own items; others need write access."""
    return ctx.actor.login == author or ctx.store.has_role(repo, ctx.actor, "write")


# users, rate limit, repositories ----------------------------------------------------------------


@route("GET", r"/user")
def get_authenticated_user(ctx: Ctx, p: Params) -> Reply:
    if ctx.actor.installation:
        raise ApiError(403, "Resource not accessible by integration")
    if ctx.actor.user is None:
        raise ApiError(401, "Requires authentication")
    return Reply(body=ctx.render.authenticated_user(ctx.actor.user))


@route("GET", r"/users/(?P<login>[^/]+)")
def get_user(ctx: Ctx, p: Params) -> Reply:
    return Reply(body=ctx.render.user(ctx.store.user(p["login"])))


@route("GET", REPO)
def get_repo(ctx: Ctx, p: Params) -> Reply:
    return Reply(body=ctx.render.repo(_repo(ctx, p), ctx.actor.login))


@route("GET", REPO + r"/collaborators/(?P<login>[^/]+)/permission")
def get_permission(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    if ctx.actor.user is None:
        raise ApiError(401, "Requires authentication")
    if not ctx.store.has_role(repo, ctx.actor, "write"):
        raise ApiError(403, "Must have push access to view repository collaborators.")
    return Reply(body=ctx.render.permission(repo, ctx.store.user(p["login"])))


@route("GET", REPO + r"/assignees")
def list_assignees(ctx: Ctx, p: Params) -> Reply:
    users = ctx.store.assignable_users(_repo(ctx, p))
    return listing(users, ctx.render.user)


@route("GET", REPO + r"/assignees/(?P<login>[^/]+)")
@route("GET", ISSUE + r"/assignees/(?P<login>[^/]+)")
def check_assignee(ctx: Ctx, p: Params) -> Reply:
    if not ctx.store.is_assignable(_repo(ctx, p), p["login"]):
        raise not_found()
    return Reply(204)


# issues -----------------------------------------------------------------------------------------


@route("GET", REPO + r"/issues")
def list_issues(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    return _issues(ctx, ctx.store.list_issues(repo, dict(ctx.request.query)))


@route("POST", REPO + r"/issues")
def create_issue(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    ctx.store.require(repo, ctx.actor, "read")
    privileged = ctx.store.has_role(repo, ctx.actor, "write")
    issue = ctx.store.create_issue(repo, ctx.login, ctx.payload, privileged=privileged)
    return _created(ctx.render.issue(issue))


@route("GET", ISSUE)
def get_issue(ctx: Ctx, p: Params) -> Reply:
    return Reply(body=ctx.render.issue(_issue(ctx, p)[1]))


@route("PATCH", ISSUE)
def update_issue(ctx: Ctx, p: Params) -> Reply:
    """Authors may edit and close their issues; triage may close others', write may edit them
    (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization)."""
    repo, issue = _issue(ctx, p)
    ctx.store.require(repo, ctx.actor, "read")
    payload = ctx.payload
    author = ctx.login == issue.author
    if not (author or ctx.store.has_role(repo, ctx.actor, "triage")):
        raise ApiError(403, "You do not have permission to update this issue.")
    if ("title" in payload or "body" in payload) and not _may_edit(ctx, repo, issue.author):
        raise ApiError(403, "You do not have permission to update this issue.")
    privileged = ctx.store.has_role(repo, ctx.actor, "write")
    payload = {k: v for k, v in payload.items() if k != "locked"}
    issue = ctx.store.update_issue(repo, issue, ctx.login, payload, privileged=privileged)
    return Reply(body=ctx.render.issue(issue))


@route("POST", ISSUE + r"/assignees")
def add_assignees(ctx: Ctx, p: Params) -> Reply:
    """Logins that cannot be assigned are silently ignored, as GitHub does."""
    repo, issue = _writable_issue(ctx, p, "triage")
    wanted = [str(a) for a in ctx.payload.get("assignees", [])]
    valid = [ctx.store.users[a.lower()].login for a in wanted if ctx.store.is_assignable(repo, a)]
    issue.assignees = list(dict.fromkeys(issue.assignees + valid))
    issue.updated_at = ctx.store.clock()
    return Reply(201, ctx.render.issue(issue))


@route("DELETE", ISSUE + r"/assignees")
def remove_assignees(ctx: Ctx, p: Params) -> Reply:
    _, issue = _writable_issue(ctx, p, "triage")
    gone = {str(a).lower() for a in ctx.payload.get("assignees", [])}
    issue.assignees = [a for a in issue.assignees if a.lower() not in gone]
    issue.updated_at = ctx.store.clock()
    return Reply(body=ctx.render.issue(issue))


# comments ---------------------------------------------------------------------------------------


@route("GET", ISSUE + r"/comments")
def list_issue_comments(ctx: Ctx, p: Params) -> Reply:
    _, issue = _issue(ctx, p)
    comments = [ctx.store.comments_by_id[i] for i in issue.comments]
    found = ctx.store.list_comments(comments, dict(ctx.request.query))
    return listing(found, ctx.render.comment)


@route("POST", ISSUE + r"/comments")
def create_comment(ctx: Ctx, p: Params) -> Reply:
    repo, issue = _issue(ctx, p)
    ctx.store.require(repo, ctx.actor, "read")
    if issue.locked and not ctx.store.has_role(repo, ctx.actor, "write"):
        raise ApiError(403, "Unable to create comment because issue is locked.")
    comment = ctx.store.create_comment(repo, issue, ctx.login, ctx.payload.get("body"))
    return _created(ctx.render.comment(comment))


@route("GET", REPO + r"/issues/comments")
def list_repo_comments(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    comments = [c for c in ctx.store.comments_by_id.values() if c.repo == repo.key]
    found = ctx.store.list_comments(comments, dict(ctx.request.query))
    return listing(found, ctx.render.comment)


@route("GET", COMMENT)
def get_comment(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    return Reply(body=ctx.render.comment(ctx.store.comment(repo, int(p["comment_id"]))))


@route("PATCH", COMMENT)
def update_comment(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    comment = ctx.store.comment(repo, int(p["comment_id"]))
    ctx.store.require(repo, ctx.actor, "read")
    if not _may_edit(ctx, repo, comment.author):
        raise ApiError(403, "You do not have permission to update this comment.")
    ctx.store.edit_comment(comment, ctx.payload.get("body"))
    return Reply(body=ctx.render.comment(comment))


@route("DELETE", COMMENT)
def delete_comment(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    comment = ctx.store.comment(repo, int(p["comment_id"]))
    ctx.store.require(repo, ctx.actor, "read")
    if not _may_edit(ctx, repo, comment.author):
        raise ApiError(403, "You do not have permission to delete this comment.")
    ctx.store.delete_comment(repo, comment)
    return Reply(204)


# reactions --------------------------------------------------------------------------------------


def _reactions_of(ctx: Ctx, p: Params) -> tuple[Repo, list[Reaction]]:
    if "comment_id" in p:
        repo = _repo(ctx, p)
        return repo, ctx.store.comment(repo, int(p["comment_id"])).reactions
    repo, issue = _issue(ctx, p)
    return repo, issue.reactions


@route("GET", ISSUE + r"/reactions")
@route("GET", COMMENT + r"/reactions")
def list_reactions(ctx: Ctx, p: Params) -> Reply:
    _, reactions = _reactions_of(ctx, p)
    content = ctx.request.arg("content")
    found = [r for r in reactions if content is None or r.content == content]
    return listing(found, ctx.render.reaction)


@route("POST", ISSUE + r"/reactions")
@route("POST", COMMENT + r"/reactions")
def create_reaction(ctx: Ctx, p: Params) -> Reply:
    """201 for a new reaction, 200 when this user already reacted with this content."""
    repo, reactions = _reactions_of(ctx, p)
    ctx.store.require(repo, ctx.actor, "read")
    reaction, created = ctx.store.react(reactions, ctx.login, ctx.payload.get("content"))
    return Reply(201 if created else 200, ctx.render.reaction(reaction))


@route("DELETE", ISSUE + r"/reactions/(?P<reaction_id>\d+)")
@route("DELETE", COMMENT + r"/reactions/(?P<reaction_id>\d+)")
def delete_reaction(ctx: Ctx, p: Params) -> Reply:
    repo, reactions = _reactions_of(ctx, p)
    ctx.store.require(repo, ctx.actor, "read")
    found = [r for r in reactions if r.id == int(p["reaction_id"])]
    if not found:
        raise not_found()
    if found[0].user != ctx.login and not ctx.store.has_role(repo, ctx.actor, "admin"):
        raise ApiError(403, "You do not have permission to delete this reaction.")
    reactions.remove(found[0])
    return Reply(204)


# labels -----------------------------------------------------------------------------------------


@route("GET", REPO + r"/labels")
def list_labels(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    return listing(list(repo.labels.values()), lambda lab: ctx.render.label(repo, lab))


@route("POST", REPO + r"/labels")
def create_label(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    ctx.store.require(repo, ctx.actor, "write")
    return _created(ctx.render.label(repo, ctx.store.create_label(repo, ctx.payload)))


@route("GET", REPO + r"/labels/(?P<name>[^/]+)")
def get_label(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    return Reply(body=ctx.render.label(repo, ctx.store.label(repo, p["name"])))


@route("PATCH", REPO + r"/labels/(?P<name>[^/]+)")
def update_label(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    ctx.store.require(repo, ctx.actor, "write")
    label = ctx.store.update_label(repo, p["name"], ctx.payload)
    return Reply(body=ctx.render.label(repo, label))


@route("DELETE", REPO + r"/labels/(?P<name>[^/]+)")
def delete_label(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    ctx.store.require(repo, ctx.actor, "write")
    ctx.store.delete_label(repo, p["name"])
    return Reply(204)


def _label_names(ctx: Ctx) -> list[Any]:
    """Issue-label bodies are a bare list or `{"labels": [...]}`."""
    body = ctx.request.body
    names = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(names, list):
        raise invalid("Label", "labels")
    return names


def _issue_labels(ctx: Ctx, repo: Repo, issue: Issue) -> Reply:
    labels = [repo.labels[key] for key in issue.labels]
    return listing(labels, lambda lab: ctx.render.label(repo, lab))


@route("GET", ISSUE + r"/labels")
def list_issue_labels(ctx: Ctx, p: Params) -> Reply:
    return _issue_labels(ctx, *_issue(ctx, p))


@route("POST", ISSUE + r"/labels")
@route("PUT", ISSUE + r"/labels")
def add_issue_labels(ctx: Ctx, p: Params) -> Reply:
    repo, issue = _writable_issue(ctx, p, "triage")
    keys = ctx.store.resolve_labels(repo, _label_names(ctx))
    base = issue.labels if ctx.request.method == "POST" else []
    issue.labels = list(dict.fromkeys(base + keys))
    issue.updated_at = ctx.store.clock()
    return _issue_labels(ctx, repo, issue)


@route("DELETE", ISSUE + r"/labels")
def remove_all_issue_labels(ctx: Ctx, p: Params) -> Reply:
    _, issue = _writable_issue(ctx, p, "triage")
    issue.labels = []
    issue.updated_at = ctx.store.clock()
    return Reply(204)


@route("DELETE", ISSUE + r"/labels/(?P<name>[^/]+)")
def remove_issue_label(ctx: Ctx, p: Params) -> Reply:
    repo, issue = _writable_issue(ctx, p, "triage")
    if p["name"].lower() not in issue.labels:
        raise ApiError(404, "Label does not exist")
    issue.labels.remove(p["name"].lower())
    issue.updated_at = ctx.store.clock()
    return _issue_labels(ctx, repo, issue)


# milestones -------------------------------------------------------------------------------------


@route("GET", REPO + r"/milestones")
def list_milestones(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    state = ctx.request.arg("state") or "open"
    found = [m for m in repo.milestones.values() if state in ("all", m.state)]
    return listing(found, lambda m: ctx.render.milestone(repo, m))


@route("POST", REPO + r"/milestones")
def create_milestone(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    ctx.store.require(repo, ctx.actor, "write")
    milestone = ctx.store.create_milestone(repo, ctx.login, ctx.payload)
    return _created(ctx.render.milestone(repo, milestone))


@route("GET", REPO + r"/milestones/(?P<milestone>\d+)")
def get_milestone(ctx: Ctx, p: Params) -> Reply:
    repo = _repo(ctx, p)
    return Reply(body=ctx.render.milestone(repo, ctx.store.milestone(repo, int(p["milestone"]))))


# sub-issues -------------------------------------------------------------------------------------


@route("GET", ISSUE + r"/sub_issues", "sub_issues")
def list_sub_issues(ctx: Ctx, p: Params) -> Reply:
    return _issues(ctx, ctx.store.children_of(_issue(ctx, p)[1]))


@route("POST", ISSUE + r"/sub_issues", "sub_issues")
def add_sub_issue(ctx: Ctx, p: Params) -> Reply:
    _, parent = _writable_issue(ctx, p)
    child = ctx.store.add_sub_issue(parent, _visible_ids(ctx, "sub_issue_id"))
    return _created(ctx.render.issue(child))


@route("DELETE", ISSUE + r"/sub_issue", "sub_issues")
def remove_sub_issue(ctx: Ctx, p: Params) -> Reply:
    _, parent = _writable_issue(ctx, p)
    child = ctx.store.remove_sub_issue(parent, ctx.payload)
    return Reply(body=ctx.render.issue(child), headers={"Location": ctx.render.issue(child)["url"]})


@route("PATCH", ISSUE + r"/sub_issues/priority", "sub_issues")
def reprioritize_sub_issue(ctx: Ctx, p: Params) -> Reply:
    _, parent = _writable_issue(ctx, p)
    return Reply(body=ctx.render.issue(ctx.store.reprioritize_sub_issue(parent, ctx.payload)))


@route("GET", ISSUE + r"/parent", "sub_issues")
def get_parent(ctx: Ctx, p: Params) -> Reply:
    return Reply(body=ctx.render.issue(ctx.store.parent_of(_issue(ctx, p)[1])))


def _visible_ids(ctx: Ctx, key: str) -> dict[str, Any]:
    """The payload, after checking that the issue its `key` names is one the actor can see."""
    payload = ctx.payload
    target = ctx.store.issue_by_id(payload.get(key))
    ctx.store.visible_repo(ctx.store.repos[target.repo].full_name, ctx.actor)
    return payload


# dependencies -----------------------------------------------------------------------------------


@route("GET", ISSUE + r"/dependencies/blocked_by", "dependencies")
def list_blocked_by(ctx: Ctx, p: Params) -> Reply:
    return _issues(ctx, ctx.store.blockers(_issue(ctx, p)[1]))


@route("GET", ISSUE + r"/dependencies/blocking", "dependencies")
def list_blocking(ctx: Ctx, p: Params) -> Reply:
    return _issues(ctx, ctx.store.blocking(_issue(ctx, p)[1]))


@route("POST", ISSUE + r"/dependencies/blocked_by", "dependencies")
def add_blocked_by(ctx: Ctx, p: Params) -> Reply:
    """Answers the blocked issue itself, which PyGithub's `Issue.add_blocked_by` reads back."""
    _, issue = _writable_issue(ctx, p)
    ctx.store.add_blocked_by(issue, _visible_ids(ctx, "issue_id"))
    body = ctx.render.issue(issue)
    return Reply(201, body, {"Location": f"{body['url']}/dependencies/blocked_by"})


@route("DELETE", ISSUE + r"/dependencies/blocked_by/(?P<issue_id>\d+)", "dependencies")
def remove_blocked_by(ctx: Ctx, p: Params) -> Reply:
    _, issue = _writable_issue(ctx, p)
    ctx.store.remove_blocked_by(issue, int(p["issue_id"]))
    return Reply(body=ctx.render.issue(issue))


# repository files (read only) -------------------------------------------------------------------


@route("GET", REPO + r"/contents/(?P<path>.+)")
def get_contents(ctx: Ctx, p: Params) -> Reply:
    """https://docs.github.com/en/rest/repos/contents#get-repository-content (files only)."""
    repo = _repo(ctx, p)
    ref = ctx.request.arg("ref") or ""
    try:
        sha = ctx.store.resolve_ref(repo, ref)
    except ApiError:
        raise ApiError(404, f"No commit found for the ref {ref}") from None
    path = p["path"].strip("/")
    tree = repo.commits[sha]
    if path not in tree:
        raise not_found()
    return Reply(body=ctx.render.content_file(repo, path, tree[path], ref or repo.default_branch))


@route("GET", REPO + r"/commits/(?P<ref>[^/]+)")
def get_commit(ctx: Ctx, p: Params) -> Reply:
    """https://docs.github.com/en/rest/commits/commits#get-a-commit"""
    repo = _repo(ctx, p)
    return Reply(body=ctx.render.commit(repo, ctx.store.resolve_ref(repo, p["ref"])))
