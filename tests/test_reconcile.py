"""Reconciling created issues with an edited spec (#16): the pure matching, then whole
conversations through the Action against the local GitHub."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openproducer.demo import event_payload
from openproducer.model import PlannedIssue
from openproducer.outbound import Outbound
from openproducer.reconcile import (
    IssueNow,
    head_hash,
    match_plans,
    person_edited,
    plan_changes,
    planned_head,
    render_diff,
)
from openproducer.render import render_issue_body
from openproducer.state import (
    BotComment,
    Change,
    RunState,
    Tracked,
    encode_run,
    read_thread,
)
from tests.conftest import BOT, TRIGGER, Harness, webhook
from tests.test_action import SPEC

# -- matching (pure) -------------------------------------------------------------------------


def _item(key: str, title: str, section: str, task: str = "") -> PlannedIssue:
    body = f"> **Spec section:** {section}\n> The intro every item quotes.\n\n### Task\n\n"
    return PlannedIssue(key, title, body + (task or title), covers=(section,), group=section)


OLD = (
    _item("1", "Accounts", "Accounts", "Users sign up with e-mail and password."),
    _item("2", "Save a link with title and tags", "Bookmarks"),
    _item("3", "Edit a bookmark's title and tags", "Bookmarks"),
    _item("4", "Delete a bookmark with undo", "Bookmarks"),
    _item("5", "Search", "Search", "Full-text search over titles, tags and page text."),
)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(OLD, {k: k for k in "12345"}, id="same plan"),
        pytest.param(
            (
                *OLD[:3],
                _item("4", "Delete a bookmark, with undo for ten seconds", "Bookmarks"),
                OLD[4],
            ),
            {k: k for k in "12345"},
            id="a reworded bullet is the same item",
        ),
        pytest.param(
            (OLD[0], OLD[2], OLD[3], OLD[4]),
            {"1": "1", "3": "3", "4": "4", "5": "5"},
            id="a deleted bullet leaves its siblings matched",
        ),
        pytest.param(
            (
                _item("1", "Sign-up", "Sign-up", "Users sign up with e-mail and password."),
                *OLD[1:],
            ),
            {k: k for k in "12345"},
            id="a renamed section is matched by its text",
        ),
        pytest.param(
            (*OLD, _item("6", "Export", "Export", "Export every bookmark as CSV.")),
            {k: k for k in "12345"},
            id="a new section is new",
        ),
        pytest.param(
            (_item("9", "Search", "Search", "Full-text search over titles, tags and page text."),),
            {"9": "5"},
            id="keys of the new plan are its own",
        ),
    ],
)
def test_items_are_matched_by_section_and_title_then_by_similarity(
    new: tuple[PlannedIssue, ...], expected: dict[str, str]
) -> None:
    assert match_plans(OLD, new) == expected


def _tracked(item: PlannedIssue, number: int) -> Tracked:
    return Tracked(
        item.key,
        number,
        number * 10,
        item.title,
        head_hash(planned_head(item)),
        0,
        f"run_a/{item.key}",
    )


def _now(item: PlannedIssue, number: int, **overrides: str) -> IssueNow:
    body = str(
        render_issue_body(item, parent=1, run_id="run_a", index=1, total=5, content="0" * 16)
    )
    fields = {"title": item.title, "body": Outbound().body(body), "state": "open", **overrides}
    return IssueNow(**fields)


def test_changes_are_classified_and_unchanged_items_only_counted() -> None:
    tracked = {i.key: _tracked(i, 10 + int(i.key)) for i in OLD}
    now = {10 + int(i.key): _now(i, 10 + int(i.key)) for i in OLD}
    now[13] = _now(OLD[2], 13, body="A person rewrote this issue.")
    now[12] = _now(OLD[1], 12, state="closed")
    new = (
        replace_task(OLD[0], "Users sign up with e-mail or a passkey."),
        _item("3", "Edit a bookmark's title, tags and note", "Bookmarks"),
        OLD[3],
        _item("6", "Export", "Export", "Export every bookmark as CSV."),
    )
    found = plan_changes(old=OLD, tracked=tracked, new=new, now=now)
    ops = [(c.op, c.key, c.number) for c in found.changes]
    assert ops == [
        ("update", "1", 11),
        ("comment", "3", 13),
        ("create", "6", 0),
        ("close", "", 15),  # Search went; #12 (Save a link) went too but was closed already
    ]
    assert found.unchanged == 1 and found.already_closed == (12,)
    assert "+Users sign up with e-mail or a passkey." in found.changes[0].diff
    assert [t.key for t in found.tracked] == ["1", "3", "4", "6"]
    assert found.tracked[0].number == 11 and found.tracked[3].number == 0


def test_changed_dependencies_are_a_relink_of_the_issue_whatever_its_text() -> None:
    old = (OLD[0], replace(OLD[1], depends_on=("1",)), replace(OLD[2], depends_on=("2",)))
    tracked = {i.key: _tracked(i, 10 + int(i.key)) for i in old}
    now = {10 + int(i.key): _now(i, 10 + int(i.key)) for i in old}
    export = _item("9", "Export", "Export", "Export every bookmark as CSV.")
    new = (
        OLD[0],
        OLD[1],  # no longer waits for accounts
        replace(replace_task(OLD[2], "Edit title, tags and a note."), depends_on=("1", "9")),
        export,
    )
    found = plan_changes(old=old, tracked=tracked, new=new, now=now)
    ops = [(c.op, c.key, c.number, c.blockers) for c in found.changes]
    assert ops == [
        ("update", "3", 13, ()),
        ("create", "9", 0, ()),
        ("relink", "2", 12, (110,)),  # relinks come after the creates they may need
        ("relink", "3", 13, (120,)),
    ]
    assert found.changes[2].diff == "-Blocked by #11"
    assert found.changes[3].diff == "-Blocked by #12\n+Blocked by #11, “Export” (new)"
    assert found.unchanged == 1
    same = plan_changes(old=old, tracked=tracked, new=old, now=now)
    assert same.empty and same.unchanged == 3


def replace_task(item: PlannedIssue, task: str) -> PlannedIssue:
    return _item(item.key, item.title, item.covers[0], task)


def test_what_the_bot_wrote_is_recognised_through_the_outbound_guard_and_the_footer() -> None:
    item = _item("1", "Mention @octocat", "Accounts", "Ping @octocat about <!-- this -->.")
    tracked = _tracked(item, 5)
    body = render_issue_body(
        item, parent=1, run_id="run_a", index=1, total=1, content="0" * 16, blocked_by=[3]
    )
    stored = Outbound().body(body.text, (body.marker,))
    title = Outbound().title(item.title)
    tracked = Tracked(tracked.key, 5, 50, title, tracked.head)
    assert not person_edited(IssueNow(title, stored), tracked)
    assert person_edited(IssueNow(title, stored.replace("Ping", "Call")), tracked)
    assert person_edited(IssueNow("Another title", stored), tracked)


def test_a_diff_is_short_and_names_the_changed_lines() -> None:
    old = _item("1", "Search", "Search", "\n".join(f"line {i}" for i in range(40)))
    new = _item("1", "Search", "Search", "\n".join(f"line {i}!" for i in range(40)))
    diff = render_diff(old, new).splitlines()
    assert diff[0] == "-line 0" and diff[-1] == "… 68 more changed lines"
    assert len(diff) == 13


def test_a_reconcile_run_round_trips_and_old_run_blocks_still_read() -> None:
    run = RunState(
        run_id="run_20261202_100000_abcd",
        status="completed",
        issue=1,
        requester="alice",
        started_at="2026-12-02T10:00:00Z",
        kind="reconcile",
        base="run_20261202_090000_abcd",
        basis="run_20261202_090000_abcd",
        changes=(
            Change("update", "2", 7, "New", "Old", "-a\n+b", True, 70, "Old", "body"),
            Change("relink", "2", 7, "New", done=True, id=70, blockers=(50,), added=(60, 61)),
        ),
        tracked=(Tracked("2", 7, 70, "New", "f" * 16, 1, "run_20261202_090000_abcd/2"),),
        unchanged=3,
    )
    block = encode_run(run, secret="s")
    back = read_thread([BotComment(1, block)], secret="s").runs[run.run_id]
    assert back == run.__class__(**{**run.__dict__, "comment_id": 1})
    spawn = RunState("run_20261202_090000_abcd", "completed", 1, "alice", "2026-12-02T09:00:00Z")
    old_block = encode_run(spawn, secret="s")
    assert '"kind"' not in old_block  # a spawn run's block has what version 1 always wrote
    read = read_thread([BotComment(2, old_block)], secret="s").runs[spawn.run_id]
    assert read.kind == "spawn" and read.changes == ()


# -- through the Action ----------------------------------------------------------------------

REWORDED = SPEC.replace(
    "- [ ] Delete a bookmark with undo", "- [ ] Delete a bookmark, with undo for ten seconds"
)
ADDED = SPEC + "\n## Export\nExport every bookmark as a CSV file.\n"
DELETED = SPEC.replace(
    "## Operations\nNightly backups, an uptime alert and a dashboard of sign-ups and saved "
    "links.\n",
    "",
)


def _issues(gh: Harness, number: int) -> dict[int, dict[str, Any]]:
    return {i["number"]: i for i in gh.created(number)}


def _by_title(gh: Harness, number: int, start: str) -> dict[str, Any]:
    return next(i for i in gh.created(number) if i["title"].startswith(start))


def _writes(gh: Harness) -> list[tuple[str, str]]:
    """Writes other than reactions (every delivery gets its 👀, a re-delivery too)."""
    return [
        (r.method, r.path)
        for r in gh.emu.requests
        if r.method in ("POST", "PATCH", "DELETE") and not r.path.endswith("/reactions")
    ]


def _issue_writes(gh: Harness, numbers: set[int]) -> list[tuple[str, str]]:
    paths = {f"/repos/{gh.repo}/issues/{n}" for n in numbers}
    return [(m, p) for m, p in _writes(gh) if any(p == q or p.startswith(q + "/") for q in paths)]


def _run_comment(gh: Harness, number: int, run_id: str) -> str:
    """The newest comment that shows the run (a confirmed preview's summary is a new one)."""
    return [
        str(c["body"])
        for c in gh.bot_comments(number)
        if f"kind=run run={run_id}" in c["body"] and "Rolled back" not in c["body"]
    ][-1]


def _redeliver_edit(gh: Harness, number: int, **inputs: str) -> Any:
    payload = event_payload(
        "edited",
        issue=gh.emu.issue(gh.repo, number),
        repository=gh.repository,
        sender=gh.emu.add_user("alice"),
        template=webhook("issues.edited.1"),
    )
    return gh.run("issues", payload, **inputs)


def _redeliver_comment(gh: Harness, number: int, text: str) -> Any:
    comment = [c for c in gh.emu.comments(gh.repo, number) if c["body"] == text][-1]
    payload = event_payload(
        "created",
        issue=gh.emu.issue(gh.repo, number),
        repository=gh.repository,
        sender=gh.emu.add_user(comment["user"]["login"]),
        comment=comment,
        template=webhook("issue_comment.created.1"),
    )
    return gh.run("issue_comment", payload)


def test_an_edit_that_adds_a_section_creates_its_issue_linked_and_writes_nothing_else(
    gh: Harness,
) -> None:
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    before = _issues(gh, number)
    gh.emu.reset_requests()
    result = gh.edit_issue(number, ADDED)
    assert result.outputs["status"] == "completed", result.log
    assert result.outputs["command"] == "sync"
    new = [i for n, i in _issues(gh, number).items() if n not in before]
    assert [i["title"] for i in new] == ["Export every bookmark as a CSV file"]
    assert "Export every bookmark as a CSV file." in new[0]["body"]
    assert result.outputs["run-id"] in new[0]["body"]  # its marker names the reconcile run
    assert new[0]["number"] in [i["number"] for i in gh.emu.sub_issues(gh.repo, number)]
    assert _issue_writes(gh, set(before)) == []  # unchanged issues receive no write
    summary = _run_comment(gh, number, result.outputs["run-id"])
    assert "1 created · 8 unchanged" in summary and "rollback" in summary
    assert first.outputs["run-id"] in summary or "in step" in summary


def test_an_edit_that_rewords_a_bullet_updates_that_issue_and_no_other(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC)
    number = issue["number"]
    target = _by_title(gh, number, "Delete a bookmark")
    others = set(_issues(gh, number)) - {target["number"]}
    gh.emu.reset_requests()
    result = gh.edit_issue(number, REWORDED)
    assert result.outputs["status"] == "completed", result.log
    updated = gh.emu.issue(gh.repo, target["number"])
    assert updated["title"] == "Delete a bookmark, with undo for ten seconds"
    assert "with undo for ten seconds" in updated["body"]
    assert f"run={first.outputs['run-id']}" in updated["body"]  # still the first run's issue
    assert len(gh.created(number)) == 8
    assert _issue_writes(gh, others) == []
    summary = _run_comment(gh, number, result.outputs["run-id"])
    assert "1 updated · 7 unchanged" in summary
    assert "-# Delete a bookmark with undo" in summary and "```diff" in summary


def test_an_edit_that_deletes_a_section_proposes_closing_and_confirm_closes(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    operations = _by_title(gh, number, "Operations")
    preview = gh.edit_issue(number, DELETED)
    assert preview.outputs["status"] == "pending", preview.log
    assert gh.emu.issue(gh.repo, operations["number"])["state"] == "open"
    text = gh.last_reply(number)
    assert "Reconcile preview" in text and f"| ✖️ close | #{operations['number']} |" in text
    assert "always needs confirmation" in text

    done = gh.comment(number, f"{TRIGGER} confirm")
    assert done.outputs["status"] == "completed", done.log
    closed = gh.emu.issue(gh.repo, operations["number"])
    assert closed["state"] == "closed" and closed["state_reason"] == "not_planned"
    assert sum(i["state"] == "open" for i in gh.created(number)) == 7
    children = [i["number"] for i in gh.emu.sub_issues(gh.repo, number)]
    assert operations["number"] not in children and len(children) == 7  # progress stays true
    assert "▶️ Confirmed" in str(gh.bot_comments(number)[1]["body"])


def test_an_issue_a_person_edited_is_not_overwritten_but_gets_a_comment(gh: Harness) -> None:
    gh.user("bob", "write")
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    search = _by_title(gh, number, "Full-text search")
    mine = "Search, as bob sees it.\n\n" + search["body"]
    gh.emu.edit_issue(gh.repo, search["number"], body=mine, actor="bob")
    spec = SPEC.replace("ranked by recency and matches", "ranked by matches only")
    result = gh.edit_issue(number, spec)
    assert result.outputs["status"] == "completed", result.log
    assert gh.emu.issue(gh.repo, search["number"])["body"] == mine
    comments = [c for c in gh.emu.comments(gh.repo, search["number"]) if c["user"]["login"] == BOT]
    assert len(comments) == 1
    assert "edited this issue since I wrote it" in comments[0]["body"]
    assert (
        "+Full-text search over titles, tags and page text, ranked by matches only."
        in (comments[0]["body"])
    )
    assert "@" not in comments[0]["body"].split("openproducer:notice")[0].replace("@\u200d", "")
    summary = _run_comment(gh, number, result.outputs["run-id"])
    assert "1 commented on" in summary and "not overwritten" in summary


def _snapshot(gh: Harness, number: int) -> dict[int, tuple[str, str, str]]:
    return {n: (i["title"], i["body"], i["state"]) for n, i in _issues(gh, number).items()}


def test_rollback_of_a_reconcile_restores_the_issues_as_they_were(gh: Harness) -> None:
    gh.user("bob", "write")
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    search = _by_title(gh, number, "Full-text search")
    gh.emu.edit_issue(gh.repo, search["number"], body="Rewritten by bob.", actor="bob")
    before = _snapshot(gh, number)
    spec = (
        DELETED.replace(
            "- [ ] Delete a bookmark with undo",
            "- [ ] Delete a bookmark, with undo for ten seconds",
        ).replace("ranked by recency and matches", "ranked by matches only")
        + "\n## Export\nExport every bookmark as a CSV file.\n"
    )
    preview = gh.edit_issue(number, spec)
    assert preview.outputs["status"] == "pending", preview.log
    run_id = preview.outputs["run-id"]
    applied = gh.comment(number, f"{TRIGGER} confirm {run_id}")
    assert applied.outputs["status"] == "completed", applied.log
    summary = _run_comment(gh, number, run_id)
    assert "1 created · 1 updated · 1 commented on · 1 closed · 5 unchanged" in summary
    assert _snapshot(gh, number) != before

    status = gh.comment(number, f"{TRIGGER} status")
    assert run_id in gh.last_reply(number) and status.outputs["status"] == "ok"
    gh.comment(number, f"{TRIGGER} status {run_id}")
    assert "Reconcile run" in gh.last_reply(number) and "✏️ update ✓" in gh.last_reply(number)

    rolled = gh.comment(number, f"{TRIGGER} rollback {run_id}")
    assert rolled.outputs["status"] == "rolled_back", rolled.log
    after = _snapshot(gh, number)
    created = set(after) - set(before)
    assert len(created) == 1 and after[created.pop()][2] == "closed"
    assert {n: v for n, v in after.items() if n in before} == before
    assert [
        c for c in gh.emu.comments(gh.repo, search["number"]) if c["user"]["login"] == BOT
    ] == []
    reply = gh.last_reply(number)
    assert "Reopened" in reply and "Title and text restored" in reply
    operations = _by_title(gh, number, "Operations")["number"]
    assert operations in [i["number"] for i in gh.emu.sub_issues(gh.repo, number)]

    again = gh.comment(number, f"{TRIGGER} rollback {run_id}")
    assert "already rolled back" in gh.last_reply(number) and again.outputs["status"]
    assert _snapshot(gh, number) == after


def test_re_delivering_every_event_changes_nothing_twice(gh: Harness) -> None:
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    gh.edit_issue(number, REWORDED)  # applied at once
    state = _snapshot(gh, number)
    gh.emu.reset_requests()
    again = _redeliver_edit(gh, number)
    assert again.outputs["status"] == "ignored", again.log
    assert _writes(gh) == [] and _snapshot(gh, number) == state

    preview = gh.edit_issue(number, REWORDED.replace("## Search", "## Sharing first"))
    gh.edit_issue(number, DELETED)
    preview = gh.edit_issue(number, DELETED.replace("- [ ] Delete a bookmark with undo", ""))
    assert preview.outputs["status"] == "pending", preview.log
    comments = len(gh.bot_comments(number))
    gh.emu.reset_requests()
    assert _redeliver_edit(gh, number).outputs["status"] == "ignored"
    assert _writes(gh) == [] and len(gh.bot_comments(number)) == comments

    confirmed = gh.comment(number, f"{TRIGGER} confirm")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    state = _snapshot(gh, number)
    gh.emu.reset_requests()
    _redeliver_comment(gh, number, f"{TRIGGER} confirm")
    assert _issue_writes(gh, set(state)) == [] and _snapshot(gh, number) == state
    assert "already applied its changes" in gh.last_reply(number)

    gh.comment(number, f"{TRIGGER} rollback last")
    state = _snapshot(gh, number)
    gh.emu.reset_requests()
    _redeliver_comment(gh, number, f"{TRIGGER} rollback last")
    assert _issue_writes(gh, set(state)) == [] and _snapshot(gh, number) == state

    synced = gh.comment(number, f"{TRIGGER} sync")
    assert synced.outputs["command"] == "sync", synced.log
    state = _snapshot(gh, number)
    comments = len(gh.bot_comments(number))
    gh.emu.reset_requests()
    assert _redeliver_comment(gh, number, f"{TRIGGER} sync").outputs["status"] == "ignored"
    assert _issue_writes(gh, set(state)) == [] and len(gh.bot_comments(number)) == comments


def test_sync_says_when_the_issues_are_in_step_and_a_dry_run_spec_always_previews(
    gh: Harness,
) -> None:
    spec = SPEC.replace(f"{TRIGGER} please plan this.\n", f"dry_run: true\n{TRIGGER}\n")
    issue, _ = gh.open_issue(spec)
    number = issue["number"]
    gh.comment(number, f"{TRIGGER} confirm")
    in_step = gh.comment(number, f"{TRIGGER} sync")
    assert in_step.outputs["status"] == "completed", in_step.log
    assert "in step with the spec" in gh.last_reply(number)

    preview = gh.edit_issue(number, spec + "\n## Export\nExport every bookmark as CSV.\n")
    assert preview.outputs["status"] == "pending", preview.log
    assert "`dry_run` is on" in gh.last_reply(number)
    newer = gh.edit_issue(number, spec + "\n## Export\nExport every bookmark as JSON.\n")
    assert newer.outputs["run-id"] != preview.outputs["run-id"]
    first = _run_comment(gh, number, preview.outputs["run-id"])
    assert "Replaced by a newer reconcile" in first and "To apply them" not in first
    late = gh.comment(number, f"{TRIGGER} confirm {preview.outputs['run-id']}")
    assert late.outputs["status"] == "cancelled" and len(gh.created(number)) == 8

    cancelled = gh.comment(number, f"{TRIGGER} cancel")
    assert cancelled.outputs["status"] == "cancelled", cancelled.log
    assert "nothing was changed" in gh.last_reply(number)
    assert len(gh.created(number)) == 8
    rows = re.findall(r"^\| \[`(run_\w+)`\]", _status(gh, number), flags=re.M)
    assert rows[1:] == [preview.outputs["run-id"], newer.outputs["run-id"]]


def _status(gh: Harness, number: int) -> str:
    gh.comment(number, f"{TRIGGER} status")
    return gh.last_reply(number)


def test_help_and_a_spec_run_from_a_comment_are_not_synced_by_default(gh: Harness) -> None:
    issue = gh.emu.create_issue(gh.repo, author="alice", title="Notes", body="Just notes.")
    number = issue["number"]
    gh.comment(number, f"{TRIGGER}\n## Search\nFull-text search.\n")
    gh.comment(number, f"{TRIGGER} sync")
    assert "Nothing to sync" in gh.last_reply(number)
    gh.comment(number, f"{TRIGGER} help")
    assert "sync [run_id]" in gh.last_reply(number)


GROUPED = "".join(
    f"## {area}\n" + "".join(f"- [ ] {area}: task number {n} of the area\n" for n in range(1, 12))
    for area in ("Backend", "Frontend")
)


def test_a_reworded_item_of_a_grouped_plan_changes_that_issue_only(gh: Harness) -> None:
    issue, first = gh.open_issue(f"{TRIGGER}\n{GROUPED}", **{"confirmation-threshold": "50"})
    number = issue["number"]
    assert first.outputs["status"] == "completed", first.log
    parents = [i for i in gh.emu.sub_issues(gh.repo, number)]
    assert sorted(p["title"] for p in parents) == ["Backend", "Frontend"]  # grouped by default
    before = {i["number"]: i for i in gh.created(number)}
    gh.emu.reset_requests()
    edited = GROUPED.replace("Frontend: task number 7 of", "Frontend: task number 7, reworded, of")
    result = gh.edit_issue(number, f"{TRIGGER}\n{edited}")
    assert result.outputs["status"] == "completed", result.log
    after = {i["number"]: i for i in gh.created(number)}
    assert set(after) == set(before)  # nothing created, nothing closed
    changed = [n for n in after if after[n]["title"] != before[n]["title"]]
    assert [after[n]["title"] for n in changed] == [
        "Frontend: task number 7, reworded, of the area"
    ]
    assert {p for _, p in _issue_writes(gh, set(before))} == {
        f"/repos/{gh.repo}/issues/{changed[0]}"
    }


def test_a_spec_edited_back_and_forth_is_brought_in_step_each_time(gh: Harness) -> None:
    ticks = iter(range(1, 1000))
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    gh.emu.store.clock = lambda: start + timedelta(seconds=next(ticks))  # each edit its own time
    issue, _ = gh.open_issue(SPEC)
    number = issue["number"]
    target = _by_title(gh, number, "Delete a bookmark")["number"]
    for text, title in [
        (REWORDED, "Delete a bookmark, with undo for ten seconds"),
        (SPEC, "Delete a bookmark with undo"),
        (REWORDED, "Delete a bookmark, with undo for ten seconds"),  # a text seen before
    ]:
        result = gh.edit_issue(number, text)
        assert result.outputs["status"] == "completed", result.log
        assert gh.emu.issue(gh.repo, target)["title"] == title
    again = _redeliver_edit(gh, number)  # the last edit, delivered again, is still one
    assert again.outputs["status"] == "ignored", again.log
