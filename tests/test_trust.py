"""Who may command the bot, no loops, no forged state, no pings, no leaked secrets."""

from __future__ import annotations

import re

from openproducer.sandbox import Fault
from openproducer.state import BotComment, CreatedIssue, encode_run, read_thread
from tests.conftest import REPO, TRIGGER, Harness
from tests.test_action import SPEC
from tests.test_conversation import DRY

LIVE_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")


def test_read_user_cannot_spawn_confirm_or_rollback(gh: Harness) -> None:
    gh.user("rita", "read")
    issue, result = gh.open_issue(SPEC, author="rita")
    assert result.outputs["status"] == "refused"
    assert gh.created(issue["number"]) == []
    reply = gh.last_reply(issue["number"])
    assert "**write**" in reply and "**read**" in reply

    issue, _ = gh.open_issue(DRY)
    for command in ("confirm", "cancel", "rollback last"):
        refused = gh.comment(issue["number"], f"{TRIGGER} {command}", author="rita")
        assert refused.outputs["status"] == "refused"
    assert gh.created(issue["number"]) == []
    status = gh.comment(issue["number"], f"{TRIGGER} status", author="rita")
    assert status.outputs["command"] == "status"  # open to anyone


def test_only_the_requester_or_a_maintainer_confirms(gh: Harness) -> None:
    gh.user("wendy", "write")
    gh.user("mona", "maintain")
    issue, _ = gh.open_issue(DRY)
    other = gh.comment(issue["number"], f"{TRIGGER} confirm", author="wendy")
    assert other.outputs["status"] == "pending"
    assert "Only `alice`" in gh.last_reply(issue["number"])
    assert gh.created(issue["number"]) == []
    maintainer = gh.comment(issue["number"], f"{TRIGGER} confirm", author="mona")
    assert maintainer.outputs["status"] == "completed"


def test_permission_api_error_fails_closed(gh: Harness) -> None:
    gh.emu.inject(Fault("GET", r"/collaborators/.+/permission$", status=500, times=10))
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "refused"
    assert gh.created(issue["number"]) == []


def test_with_a_personal_token_the_bots_own_writes_never_trigger_it(gh: Harness) -> None:
    gh.user("opbot", "write")
    gh.token = gh.emu.token_for("opbot")
    issue, first = gh.open_issue(SPEC)
    assert len(first.created) == 8
    before = len(gh.emu.issues(REPO)), len(gh.emu.comments(REPO, issue["number"]))
    for comment in gh.emu.comments(REPO, issue["number"]):
        replay = gh.run(
            "issue_comment",
            {
                "action": "created",
                "issue": gh.emu.issue(REPO, issue["number"]),
                "comment": comment,
                "repository": gh.repository,
                "sender": comment["user"],
            },
        )
        assert replay.outputs["status"] == "ignored"
    for created in gh.emu.issues(REPO):
        if created["number"] == issue["number"]:
            continue
        replay = gh.run(
            "issues",
            {
                "action": "opened",
                "issue": created,
                "repository": gh.repository,
                "sender": created["user"],
            },
        )
        assert replay.outputs["status"] == "ignored"
    assert (len(gh.emu.issues(REPO)), len(gh.emu.comments(REPO, issue["number"]))) == before


def test_an_edited_bot_state_block_cannot_close_a_humans_issue(gh: Harness) -> None:
    issue, run = gh.open_issue(SPEC)
    number = issue["number"]
    human = gh.emu.create_issue(REPO, author="alice", title="Human", body="precious")
    summary = gh.bot_comments(number)[0]
    state = read_thread([BotComment(summary["id"], summary["body"])], secret="").runs
    original = state[run.outputs["run-id"]]
    forged = original.__class__(
        **{
            **original.__dict__,
            "created": (CreatedIssue("1", human["number"], human["id"], "Human", "0" * 16),),
            "seq": 99,
        }
    )
    gh.emu.edit_comment(
        REPO, summary["id"], body=summary["body"] + "\n" + encode_run(forged, secret="")
    )
    gh.comment(number, f"{TRIGGER} rollback {original.run_id}")
    assert gh.emu.issue(REPO, human["number"])["state"] == "open"
    assert "Not closed" in gh.last_reply(number)


def test_with_a_state_secret_an_unsigned_edit_is_ignored(gh: Harness) -> None:
    gh.inputs["state_secret"] = "s3cret-value"
    issue, run = gh.open_issue(SPEC)
    number = issue["number"]
    summary = gh.bot_comments(number)[0]
    state = read_thread([BotComment(summary["id"], summary["body"])], secret="s3cret-value").runs
    original = state[run.outputs["run-id"]]
    forged = original.__class__(**{**original.__dict__, "status": "pending", "seq": 99})
    gh.emu.edit_comment(
        REPO, summary["id"], body=summary["body"] + "\n" + encode_run(forged, secret="")
    )
    result = gh.comment(number, f"{TRIGGER} confirm {original.run_id}")
    assert result.outputs["status"] == "completed"  # the signed block still says completed
    assert len(gh.created(number)) == 8
    warnings = [c for c in gh.bot_comments(number) if "integrity check" in c["body"]]
    assert len(warnings) == 1
    gh.comment(number, f"{TRIGGER} status")  # reported once, not on every event
    assert len([c for c in gh.bot_comments(number) if "integrity check" in c["body"]]) == 1
    assert "s3cret-value" not in result.log.replace("::add-mask::s3cret-value", "")


def test_nothing_the_bot_writes_pings_anyone_or_triggers_it(gh: Harness) -> None:
    spec = (
        f"{TRIGGER}\n## Team\n- [ ] Ask @octocat and @octo-org/design for review\n"
        f"- [ ] Then {TRIGGER} confirm and /spawn-issues again\n"
        "- [ ] Smuggle <!-- openproducer:state v=1 kind=run run=run_x part=1/1 -->\n"
    )
    issue, result = gh.open_issue(spec)
    assert len(result.created) == 3, result.log
    texts = [i["title"] + "\n" + i["body"] for i in gh.created(issue["number"])]
    texts += [c["body"] for c in gh.bot_comments(issue["number"])]
    for text in texts:
        visible = re.sub(r"`[^`]*`", "", text)  # code spans never ping
        assert not LIVE_MENTION.search(visible), text
        assert "/spawn-issues" not in visible
        assert "<!-- openproducer:state v=1 kind=run run=run_x" not in text


def test_no_secret_in_comments_outputs_or_logs_when_github_echoes_it(gh: Harness) -> None:
    token = gh.token
    gh.emu.inject(
        Fault(
            "POST",
            r"/issues$",
            status=400,
            times=20,
            body={"message": f"Bad request with token {token}"},
        )
    )
    issue, result = gh.open_issue(SPEC, ai_api_key="sk-test-secret-key-123")
    everything = [result.log, result.summary, str(result.outputs)]
    everything += [c["body"] for c in gh.emu.comments(REPO, issue["number"])]
    for text in everything:
        assert token not in text.replace(f"::add-mask::{token}", "")
        assert "sk-test-secret-key-123" not in text.replace(
            "::add-mask::sk-test-secret-key-123", ""
        )


def test_an_echoed_argument_with_backticks_stays_inert(gh: Harness) -> None:
    issue, _ = gh.open_issue(DRY)
    for command in ("status a`@octocat", "confirm x`@TheOpenProducerBot", "cancel ``@org/team"):
        gh.comment(issue["number"], f"{TRIGGER} {command}")
        reply = gh.last_reply(issue["number"])
        assert "No such run" in reply, reply
        # Remove closed code spans (inert on GitHub): a run of N backticks up to the next run of N.
        spans = re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", reply)
        assert not LIVE_MENTION.search(spans), reply
        assert "`@" not in spans and "@octocat" not in spans.replace("`", ""), reply
