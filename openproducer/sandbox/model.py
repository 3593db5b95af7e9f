"""The emulator's records: plain mutable dataclasses, owned by the store and guarded by its lock."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

ACTIONS_LOGIN = "github-actions[bot]"
ACTIONS_ID = 41898282  # the id GitHub gives the github-actions[bot] account

# Repository roles in increasing order of power
# (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization).
ROLES = ("none", "read", "triage", "write", "maintain", "admin")

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def role_rank(role: str) -> int:
    return ROLES.index(role)


def format_time(moment: datetime) -> str:
    """GitHub's timestamp format: ISO 8601 in UTC, whole seconds, with a `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    """Parse an ISO 8601 timestamp as GitHub accepts it in `since`; None when invalid."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_node_id(prefix: str, number: int) -> str:
    """An opaque global id in the style of GitHub's newer node ids (`I_kwDO…`)."""
    packed = base64.urlsafe_b64encode(struct.pack(">Q", number)).decode().rstrip("=")
    return f"{prefix}_kwDO{packed}"


def parse_node_id(node_id: object) -> tuple[str, int] | None:
    """(prefix, database id) of an id made by `build_node_id`; None for anything else."""
    if not isinstance(node_id, str):
        return None
    prefix, sep, packed = node_id.partition("_kwDO")
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    except ValueError:
        return None
    if not sep or len(raw) != 8:
        return None
    return prefix, int(struct.unpack(">Q", raw)[0])


@dataclass
class User:
    login: str
    id: int
    type: str = "User"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    creator: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    state: str = "open"
    due_on: str | None = None
    closed_at: datetime | None = None


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: datetime


@dataclass
class Comment:
    id: int
    repo: str  # lower-cased full name: the store's key
    issue_number: int
    author: str
    body: str
    created_at: datetime
    updated_at: datetime
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Issue:
    id: int
    repo: str  # lower-cased full name: the store's key
    number: int
    title: str
    body: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)  # label keys (lower-cased names)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    locked: bool = False
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: list[int] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    parent: int | None = None  # database id of the parent issue
    children: list[int] = field(default_factory=list)  # database ids, in priority order
    blocked_by: list[int] = field(default_factory=list)  # database ids


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    created_at: datetime
    permissions: dict[str, str] = field(default_factory=dict)  # lower-cased login -> role
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    milestones: dict[int, Milestone] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    # Files, for the contents API: each commit is a whole tree (path -> text).
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit sha
    commits: dict[str, dict[str, str]] = field(default_factory=dict)  # sha -> tree

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> str:
        return self.full_name.lower()
