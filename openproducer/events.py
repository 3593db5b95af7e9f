"""Webhook payloads as GitHub delivers them, validated into one `Event` (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from openproducer import UserError

SUPPORTED = {("issues", "opened"), ("issues", "edited"), ("issue_comment", "created")}


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    login: str
    type: str = "User"


class _Issue(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: int
    id: int
    title: str = ""
    body: str | None = None
    user: _User
    pull_request: dict[str, Any] | None = None
    html_url: str = ""
    updated_at: str | None = None


class _Comment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    body: str | None = None
    user: _User
    html_url: str = ""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: str
    issue: _Issue
    comment: _Comment | None = None
    sender: _User


@dataclass(frozen=True)
class Event:
    name: str  # "issues" | "issue_comment"
    action: str
    issue_number: int
    issue_id: int
    issue_title: str
    issue_body: str
    issue_author: str
    sender: str
    sender_type: str
    is_pull_request: bool = False
    comment_id: int | None = None
    comment_body: str = ""
    comment_author: str = ""
    # "webhook" for GitHub's deliveries; "terminal" for a person running the CLI, whose
    # commands are not in a comment (no reaction) and may come from the token's own user.
    origin: str = "webhook"
    nonce: str = ""  # a terminal command's own id: it names the run it starts
    issue_updated_at: str = ""  # an edit's time: two edits to the same text are two events

    @property
    def supported(self) -> bool:
        return (self.name, self.action) in SUPPORTED and not self.is_pull_request

    @property
    def trigger_key(self) -> str:
        """Names the event that starts a run, so a re-run of the same job resumes that run."""
        if self.nonce:
            return f"terminal:{self.nonce}"
        if self.comment_id is not None:
            return f"comment:{self.comment_id}"
        return f"issue:{self.issue_id}"

    @property
    def sender_is_bot(self) -> bool:
        return self.sender_type == "Bot" or self.sender.lower().endswith("[bot]")


def parse_event(name: str, payload: dict[str, Any]) -> Event | None:
    """None for payloads without an issue (nothing for this bot); UserError when malformed."""
    if "issue" not in payload:
        return None
    try:
        data = _Payload.model_validate(payload)
    except ValidationError as exc:
        raise UserError(f"The {name} event payload is not what GitHub sends: {exc}") from exc
    comment = data.comment if name == "issue_comment" else None
    return Event(
        name=name,
        action=data.action,
        issue_number=data.issue.number,
        issue_id=data.issue.id,
        issue_title=data.issue.title,
        issue_body=data.issue.body or "",
        issue_author=data.issue.user.login,
        sender=data.sender.login,
        sender_type=data.sender.type,
        is_pull_request=data.issue.pull_request is not None,
        comment_id=comment.id if comment else None,
        comment_body=(comment.body or "") if comment else "",
        comment_author=comment.user.login if comment else "",
        issue_updated_at=data.issue.updated_at or "",
    )
