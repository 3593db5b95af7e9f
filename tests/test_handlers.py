"""Each command's handler against the in-memory GitHub (tests/fakes/github.py): fast tables.

The conversations through the Action and the emulator are in test_conversation, test_action,
test_faults and test_recovery; these check the handlers' decisions one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from openproducer.action import make_planner
from openproducer.config import parse_settings
from openproducer.engine import COMMANDS, Engine
from openproducer.events import Event
from openproducer.handlers.turn import Outcome
from tests.fakes.github import BOT, FakeGitHub

TRIGGER = "@TheOpenProducerBot"
SPEC = (
    f"{TRIGGER}\n\n## Exports\n"
    "- [ ] Export invoices as CSV\n- [ ] Export invoices as PDF\n- [ ] Email the export\n"
)
NO_AI = {"OPENPRODUCER_AI_PROVIDER": "none", "OPENPRODUCER_AI_CACHE_DIR": "off"}


@dataclass
class Bot:
    """The engine on a fake repository, driven by events built in place."""

    github: FakeGitHub = field(default_factory=FakeGitHub)
    inputs: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def engine(self) -> Engine:
        settings = parse_settings(self.inputs)
        return Engine(
            port=self.github,
            settings=settings,
            planner=make_planner(settings, NO_AI),
            log=self.log.append,
            backoff=0.0,
        )

    def open(self, body: str = SPEC, *, sender: str = "alice") -> tuple[int, Outcome]:
        issue = self.github.open_issue(body, author=sender)
        event = Event(
            name="issues",
            action="opened",
            issue_number=issue.number,
            issue_id=issue.id,
            issue_title=issue.title,
            issue_body=body,
            issue_author=sender,
            sender=sender,
            sender_type="User",
        )
        return issue.number, self.engine().handle(event)

    def say(self, number: int, text: str, *, sender: str = "alice", **kw: Any) -> Outcome:
        comment = self.github.say(number, text, author=sender)
        issue = self.github.issues[number]
        event = Event(
            name="issue_comment",
            action="created",
            issue_number=number,
            issue_id=issue.id,
            issue_title=issue.title,
            issue_body=issue.body,
            issue_author=issue.author,
            sender=sender,
            sender_type=kw.get("sender_type", "User"),
            comment_id=comment.id,
            comment_body=text,
            comment_author=sender,
            **{k: v for k, v in kw.items() if k != "sender_type"},
        )
        return self.engine().handle(event)

    def reply(self, number: int) -> str:
        return self.github.bot_comments(number)[-1].body


@pytest.fixture
def bot() -> Bot:
    made = Bot()
    made.github.permissions.update({"alice": "write", "rita": "read", "mo": "maintain"})
    return made


def test_every_comment_command_has_a_row_in_help() -> None:
    from openproducer.engine import COMMENT_VERBS
    from openproducer.replies import render_help

    text = render_help(parse_settings({}))
    assert {"spawn", "unknown"} < set(COMMANDS)
    for verb in COMMENT_VERBS:
        assert f"`{TRIGGER} {verb}" in text, verb


@pytest.mark.parametrize(
    ("text", "status", "expected"),
    [
        ("status", "ok", "No runs yet"),
        ("help", "ok", "OpenProducer commands"),
        ("confirm", "ok", "Nothing is waiting for confirmation"),
        ("cancel", "ok", "Nothing is waiting for confirmation"),
        ("rollback last", "ok", "Nothing left to roll back"),
        ("rollback run_20260101_000000_AbCdEfGh", "ok", "No such run"),
        ("status run_20260101_000000_AbCdEfGh", "ok", "No such run"),
        ("confirm not-a-run", "ok", "No such run"),
        ("make me a sandwich", "ok", "make me a sandwich"),
    ],
)
def test_commands_on_an_issue_without_runs(bot: Bot, text: str, status: str, expected: str) -> None:
    issue = bot.github.open_issue("Just an issue.")
    outcome = bot.say(issue.number, f"{TRIGGER} {text}")
    assert outcome.status == status
    assert expected in bot.reply(issue.number)
    assert bot.github.created_by_bot() == []


@pytest.mark.parametrize(
    ("sender", "text", "status"),
    [
        ("rita", "status", "ok"),
        ("rita", "help", "ok"),
        ("rita", "confirm", "refused"),
        ("rita", "cancel", "refused"),
        ("rita", "rollback last", "refused"),
        ("rita", "", "refused"),  # a bare mention plans the issue: a spawn
        ("alice", "rollback last", "ok"),
    ],
)
def test_privileged_commands_need_the_allowed_permission(
    bot: Bot, sender: str, text: str, status: str
) -> None:
    issue = bot.github.open_issue("Just an issue.")
    outcome = bot.say(issue.number, f"{TRIGGER} {text}".strip(), sender=sender)
    assert outcome.status == status
    if status == "refused":
        assert "needs **write** access" in bot.reply(issue.number)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sender": BOT}, "from the bot account"),
        ({"sender": "renovate[bot]", "sender_type": "Bot"}, "from the bot account"),
    ],
)
def test_events_from_bots_are_ignored(bot: Bot, change: dict[str, str], message: str) -> None:
    issue = bot.github.open_issue("Just an issue.")
    outcome = bot.say(issue.number, f"{TRIGGER} help", **change)
    assert outcome.status == "ignored"
    assert any(message in line for line in bot.log)
    assert len(bot.github.comment_log[issue.number]) == 1  # only the comment itself


def test_a_terminal_command_from_the_bots_own_user_is_handled_without_a_reaction(
    bot: Bot,
) -> None:
    bot.inputs["bot-login"] = "alice"
    issue = bot.github.open_issue("Just an issue.")
    ignored = bot.say(issue.number, f"{TRIGGER} help")
    assert ignored.status == "ignored"  # a comment by the bot's own identity: a loop guard
    handled = bot.say(issue.number, f"{TRIGGER} help", origin="terminal", nonce="n1")
    assert handled.status == "ok"
    assert "react" not in bot.github.calls


def test_spawn_creates_linked_issues_once_even_when_the_event_comes_again(bot: Bot) -> None:
    number, outcome = bot.open()
    assert outcome.status == "completed"
    created = bot.github.created_by_bot()
    assert len(created) == 3 == len(outcome.created)
    assert bot.github.children[number] == [i.id for i in created]
    assert all(f"Part of #{number}" in i.body for i in created)
    issue = bot.github.issues[number]
    again = Event(
        "issues", "opened", number, issue.id, issue.title, issue.body, "alice", "alice", "User"
    )
    repeated = bot.engine().handle(again)
    assert repeated.status == "completed" and repeated.run_id == outcome.run_id
    assert len(bot.github.created_by_bot()) == 3


@pytest.mark.parametrize(
    ("decider", "verb", "status", "expected"),
    [
        ("alice", "confirm", "completed", "Created 3 issues"),
        ("alice", "cancel", "cancelled", "is cancelled; nothing was created"),
        ("mo", "confirm", "completed", "Created 3 issues"),  # maintain may decide for others
        ("bob", "confirm", "pending", "Only `alice`"),  # write, but not the requester
    ],
)
def test_a_preview_is_decided_by_its_requester_or_a_maintainer(
    bot: Bot, decider: str, verb: str, status: str, expected: str
) -> None:
    bot.github.permissions["bob"] = "write"
    number, preview = bot.open(SPEC.replace(f"{TRIGGER}\n", f"dry_run: true\n{TRIGGER}\n"))
    assert preview.status == "pending"
    outcome = bot.say(number, f"{TRIGGER} {verb}", sender=decider)
    assert outcome.status == status
    assert expected in (outcome.summary or bot.reply(number))
    assert len(bot.github.created_by_bot()) == (3 if status == "completed" else 0)


@pytest.mark.parametrize(
    ("first", "then", "expected"),
    [
        ("confirm", "confirm", "already created its issues"),
        ("confirm", "cancel", "already created its issues"),
        ("cancel", "confirm", "was cancelled"),
        ("cancel", "cancel", "was cancelled"),
    ],
)
def test_a_decided_run_cannot_be_decided_again(
    bot: Bot, first: str, then: str, expected: str
) -> None:
    number, _ = bot.open(SPEC.replace(f"{TRIGGER}\n", f"dry_run: true\n{TRIGGER}\n"))
    bot.say(number, f"{TRIGGER} {first}")
    before = len(bot.github.created_by_bot())
    bot.say(number, f"{TRIGGER} {then}")
    assert expected in bot.reply(number)
    assert len(bot.github.created_by_bot()) == before


def test_a_create_that_fails_on_githubs_side_is_retried_and_made_once(bot: Bot) -> None:
    bot.github.fail("create_issue", 502, times=2)
    _, outcome = bot.open()
    assert outcome.status == "completed"
    titles = [i.title for i in bot.github.created_by_bot()]
    assert len(titles) == 3 == len(set(titles))
    assert bot.github.calls.count("create_issue") == 5  # two failures, three creates


def test_a_refused_create_is_listed_and_the_run_goes_on(bot: Bot) -> None:
    bot.github.fail("create_issue", 422)
    _, outcome = bot.open()
    assert outcome.status == "partial"
    assert len(bot.github.created_by_bot()) == 2
    assert "**failed** 1" in outcome.summary and "Not created (1)" in outcome.summary
    assert "GitHub answered 422" in outcome.summary


def test_low_on_requests_the_run_stops_as_partial_and_confirm_resumes(bot: Bot) -> None:
    bot.github.rate_remaining = 16  # under the reserve before the first issue
    number, outcome = bot.open()
    assert outcome.status == "partial" and outcome.created == ()
    assert "requests left this hour" in outcome.summary
    bot.github.rate_remaining = 5000
    resumed = bot.say(number, f"{TRIGGER} confirm")
    assert resumed.status == "completed" and len(resumed.created) == 3


def test_rollback_closes_what_the_run_made_and_removes_its_links(bot: Bot) -> None:
    number, outcome = bot.open()
    rolled = bot.say(number, f"{TRIGGER} rollback last")
    assert rolled.status == "rolled_back"
    assert all(i.state == "closed" for i in bot.github.created_by_bot())
    assert bot.github.children[number] == []
    shown = bot.say(number, f"{TRIGGER} status {outcome.run_id}")
    assert shown.status == "rolled_back"


def test_edited_issue_with_a_changed_spec_replans_a_pending_preview(bot: Bot) -> None:
    body = SPEC.replace(f"{TRIGGER}\n", f"dry_run: true\n{TRIGGER}\n")
    number, preview = bot.open(body)
    edited_body = body + "- [ ] Archive old exports\n"
    issue = replace(bot.github.issues[number], body=edited_body)
    bot.github.issues[number] = issue
    event = Event(
        "issues", "edited", number, issue.id, issue.title, edited_body, "alice", "alice", "User"
    )
    outcome = bot.engine().handle(event)
    assert outcome.status == "pending" and outcome.run_id == preview.run_id
    assert "Archive old exports" in outcome.summary
    assert len(bot.github.bot_comments(number)) == 1  # the preview was edited in place


@pytest.mark.parametrize(
    ("option", "status", "created"),
    [
        ("spec: docs/a.md", "completed", 2),
        ("spec: docs/a.md@v2", "completed", 1),
        ("spec: docs/missing.md", "failed", 0),
        ("spec: https://github.com/octo-org/specs/blob/v2/docs/a.md", "completed", 1),
        ("spec: https://github.com/other/repo/blob/main/docs/a.md", "failed", 0),
    ],
)
def test_the_spec_option_reads_a_file_of_this_repository(
    bot: Bot, option: str, status: str, created: int
) -> None:
    bot.github.files["docs/a.md@"] = "## Work\n- [ ] First thing\n- [ ] Second thing\n"
    bot.github.files["docs/a.md@v2"] = "## Work\n- [ ] Only thing\n"
    _, outcome = bot.open(f"{option}\n{TRIGGER}")
    assert outcome.status == status
    assert len(bot.github.created_by_bot()) == created
