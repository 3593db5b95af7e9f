"""Render the store's records as GitHub's REST JSON (the shapes of GitHub's OpenAPI description)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from .model import (
    ACTIONS_LOGIN,
    REACTIONS,
    Comment,
    Issue,
    Json,
    Label,
    Milestone,
    Reaction,
    Repo,
    User,
    build_node_id,
    format_time,
)
from .store import Store

# The legacy base role the permission endpoint reports in `permission`; `role_name` has the role
# (https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user).
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}

# Repository URL templates, relative to the repository's API URL.
REPO_URLS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


@dataclass(frozen=True)
class Renderer:
    store: Store
    api: str  # API base URL, no trailing slash
    web: str  # web base URL for html_url
    sub_issues: bool = True
    dependencies: bool = True

    # users ------------------------------------------------------------------------------------

    def user(self, user: User) -> Json:
        url = f"{self.api}/users/{quote(user.login)}"
        bot = user.login == ACTIONS_LOGIN
        return {
            "login": user.login,
            "id": user.id,
            "node_id": build_node_id("BOT" if user.type == "Bot" else "U", user.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/apps/github-actions" if bot else f"{self.web}/{user.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def login(self, login: str) -> Json:
        return self.user(self.store.users[login.lower()])

    def authenticated_user(self, user: User) -> Json:
        """GET /user: the public profile plus the private counters of the token's owner."""
        profile = self.user(user)
        profile.update(
            name=None,
            company=None,
            blog="",
            location=None,
            email=None,
            hireable=None,
            bio=None,
            twitter_username=None,
            public_repos=sum(r.owner == user.login and not r.private for r in self._repos()),
            public_gists=0,
            followers=0,
            following=0,
            created_at=format_time(user.created_at),
            updated_at=format_time(user.created_at),
            private_gists=0,
            total_private_repos=sum(r.owner == user.login and r.private for r in self._repos()),
            owned_private_repos=sum(r.owner == user.login and r.private for r in self._repos()),
            disk_usage=0,
            collaborators=0,
            two_factor_authentication=True,
        )
        return profile

    def permission(self, repo: Repo, user: User) -> Json:
        role = self.store.role_of(repo, user.login)
        return {
            "permission": LEGACY_PERMISSION[role],
            "role_name": role,
            "user": {**self.user(user), "role_name": role},
        }

    # repositories -----------------------------------------------------------------------------

    def _repos(self) -> list[Repo]:
        return list(self.store.repos.values())

    def repo(self, repo: Repo, viewer: str | None) -> Json:
        url = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.web}/{repo.full_name}"
        created = format_time(repo.created_at)
        open_count = sum(i.state == "open" for i in repo.issues.values())
        host = self.web.split("://", 1)[-1]
        body: Json = {
            "id": repo.id,
            "node_id": build_node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.login(repo.owner),
            "html_url": html,
            "description": None,
            "fork": False,
            "url": url,
            **{key: url + suffix for key, suffix in REPO_URLS.items()},
            "created_at": created,
            "updated_at": created,
            "pushed_at": created,
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "default_branch": "main",
            "network_count": 0,
            "subscribers_count": 0,
        }
        if viewer is not None:
            body["permissions"] = self._repo_permissions(repo, viewer)
        return body

    def _repo_permissions(self, repo: Repo, viewer: str) -> dict[str, bool]:
        rank = ("none", "read", "triage", "write", "maintain", "admin").index(
            self.store.role_of(repo, viewer)
        )
        return {
            "admin": rank >= 5,
            "maintain": rank >= 4,
            "push": rank >= 3,
            "triage": rank >= 2,
            "pull": rank >= 1,
        }

    # labels and milestones --------------------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": build_node_id("LA", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name)}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def milestone(self, repo: Repo, milestone: Milestone) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/milestones/{milestone.number}"
        states = [i.state for i in repo.issues.values() if i.milestone == milestone.number]
        return {
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/milestone/{milestone.number}",
            "labels_url": f"{url}/labels",
            "id": milestone.id,
            "node_id": build_node_id("MI", milestone.id),
            "number": milestone.number,
            "title": milestone.title,
            "description": milestone.description,
            "creator": self.login(milestone.creator),
            "open_issues": states.count("open"),
            "closed_issues": states.count("closed"),
            "state": milestone.state,
            "created_at": format_time(milestone.created_at),
            "updated_at": format_time(milestone.updated_at),
            "due_on": milestone.due_on,
            "closed_at": format_time(milestone.closed_at) if milestone.closed_at else None,
        }

    # issues -----------------------------------------------------------------------------------

    def issue(self, issue: Issue, *, full: bool = True) -> Json:
        """An issue; `full` adds `closed_by`, which GitHub only sends for a single issue."""
        repo = self.store.repos[issue.repo]
        url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        assignees = [self.login(login) for login in issue.assignees]
        body: Json = {
            "url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.web}/{repo.full_name}/issues/{issue.number}",
            "id": issue.id,
            "node_id": build_node_id("I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.login(issue.author),
            "labels": [self.label(repo, repo.labels[key]) for key in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self._issue_milestone(repo, issue),
            "comments": len(issue.comments),
            "created_at": format_time(issue.created_at),
            "updated_at": format_time(issue.updated_at),
            "closed_at": format_time(issue.closed_at) if issue.closed_at else None,
            "author_association": self.store.author_association(repo, issue.author),
            "type": None,
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self.reaction_summary(f"{url}/reactions", issue.reactions),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if full:
            body["closed_by"] = self.login(issue.closed_by) if issue.closed_by else None
        self._add_relations(body, issue)
        return body

    def _issue_milestone(self, repo: Repo, issue: Issue) -> Json | None:
        if issue.milestone is None:
            return None
        return self.milestone(repo, repo.milestones[issue.milestone])

    def _add_relations(self, body: Json, issue: Issue) -> None:
        if self.sub_issues:
            children = self.store.children_of(issue)
            done = sum(c.state == "closed" for c in children)
            body["sub_issues_summary"] = {
                "total": len(children),
                "completed": done,
                "percent_completed": done * 100 // len(children) if children else 0,
            }
            if issue.parent is not None:
                parent = self.store.issues_by_id[issue.parent]
                parent_repo = self.store.repos[parent.repo].full_name
                body["parent_issue_url"] = f"{self.api}/repos/{parent_repo}/issues/{parent.number}"
        if self.dependencies:
            blockers, blocking = self.store.blockers(issue), self.store.blocking(issue)
            body["issue_dependencies_summary"] = {
                "blocked_by": sum(i.state == "open" for i in blockers),
                "blocking": sum(i.state == "open" for i in blocking),
                "total_blocked_by": len(blockers),
                "total_blocking": len(blocking),
            }

    # comments and reactions -------------------------------------------------------------------

    def content_file(self, repo: Repo, path: str, text: str, ref: str) -> Json:
        data = text.encode()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        api = f"{self.api}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
        html = f"{self.web}/{repo.full_name}/blob/{quote(ref)}/{quote(path)}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.encodebytes(data).decode(),
            "sha": blob,
            "url": api,
            "git_url": f"{self.api}/repos/{repo.full_name}/git/blobs/{blob}",
            "html_url": html,
            "download_url": None,
            "_links": {"self": api, "git": None, "html": html},
        }

    def commit(self, repo: Repo, sha: str) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/commits/{sha}"
        return {
            "sha": sha,
            "node_id": build_node_id("C", int(sha[:8], 16)),
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "commit": {
                "message": "Update files",
                "url": f"{self.api}/repos/{repo.full_name}/git/commits/{sha}",
            },
            "parents": [],
            "files": [],
        }

    def comment(self, comment: Comment) -> Json:
        repo = self.store.repos[comment.repo]
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        html = f"{self.web}/{repo.full_name}/issues/{comment.issue_number}"
        return {
            "url": url,
            "html_url": f"{html}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": build_node_id("IC", comment.id),
            "user": self.login(comment.author),
            "created_at": format_time(comment.created_at),
            "updated_at": format_time(comment.updated_at),
            "author_association": self.store.author_association(repo, comment.author),
            "body": comment.body,
            "reactions": self.reaction_summary(f"{url}/reactions", comment.reactions),
            "performed_via_github_app": None,
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": build_node_id("REA", reaction.id),
            "user": self.login(reaction.user),
            "content": reaction.content,
            "created_at": format_time(reaction.created_at),
        }

    def reaction_summary(self, url: str, reactions: list[Reaction]) -> Json:
        counts = [r.content for r in reactions]
        summary: Json = {"url": url, "total_count": len(counts)}
        summary.update({content: counts.count(content) for content in REACTIONS})
        return summary


def build_rate_limit(*, limit: int, used: int, reset: int) -> Json:
    """GET /rate_limit: the core bucket is tracked; the others are reported full."""
    core = {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset}
    search = {"limit": 30, "used": 0, "remaining": 30, "reset": reset}
    graphql = {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
    return {"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core}
