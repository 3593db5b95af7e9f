"""Rollback: close a run's issues as not planned and remove the links it made."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace

from openproducer import GitHubError
from openproducer.dedup import body_hash
from openproducer.handlers import sync
from openproducer.handlers.create import find_marked
from openproducer.handlers.runs import run_block
from openproducer.handlers.turn import Outcome, Turn
from openproducer.ports import IssueInfo
from openproducer.render import issue_head, plural, render_reply
from openproducer.state import CreatedIssue, RunState, parse_item_marker


def rollback(turn: Turn) -> Outcome:
    key = turn.event.trigger_key
    done = [r for r in turn.thread.runs.values() if key in r.edit_keys]
    if done:  # GitHub delivered this comment again: `last` would now name another run
        return turn.ignore(f"This rollback was already done ({done[-1].run_id}).")
    wanted = (turn.command.argument.split() or ["last"])[0]
    if wanted == "last":
        found = _last(turn)
        if found is None:
            return turn.answer(
                "rollback",
                "🤷 Nothing left to roll back",
                "No run in this issue has open issues that I created.",
            )
        run: RunState | Outcome = found
    else:
        run = turn.find_run("rollback", wanted)
    if isinstance(run, Outcome):
        return run
    if run.kind == "reconcile":
        return sync.roll_back(turn, run)
    if not _open_numbers(run):
        what = "was already rolled back" if run.status == "rolled_back" else "created no issues"
        return turn.answer(
            "rollback", "ℹ️ Nothing to roll back", f"Run `{run.run_id}` {what}.", run=run
        )
    return _roll_back(turn, run)


def _open_numbers(run: RunState) -> set[int]:
    return {c.number for c in run.created} - set(run.closed)


def _last(turn: Turn) -> RunState | None:
    """The newest run with issues left open; the markers tell when its state comment is gone."""
    candidates = [
        r
        for r in turn.thread.runs.values()
        if _open_numbers(r) or (r.kind == "reconcile" and r.status in sync.APPLIED)
    ]
    if not candidates:
        rebuilt = (r.run for r in turn.rebuilt().values())
        candidates = sorted(
            (r for r in rebuilt if r.status != "rolled_back"), key=lambda r: r.started_at
        )
    return candidates[-1] if candidates else None


def _roll_back(turn: Turn, run: RunState) -> Outcome:
    live = find_marked(turn, run)
    closed: list[CreatedIssue] = []
    active: list[CreatedIssue] = []
    refused: list[CreatedIssue] = []
    already: list[CreatedIssue] = []
    unlinked = 0
    for created in run.created:
        if created.number in run.closed:
            continue
        info = live.get(created.key)
        if info is None or info.number != created.number:
            refused.append(created)  # not the bot's issue, or its marker is gone
            continue
        if _has_activity(info, created):
            active.append(created)
        unlinked += _unlink(turn, created)
        if info.state == "closed":
            already.append(created)
            continue
        try:
            turn.port.close_issue(info.number, reason="not_planned")
        except GitHubError as exc:
            refused.append(replace(created, title=f"{created.title} ({exc})"))
            continue
        closed.append(created)
    numbers = tuple(sorted({*run.closed, *(c.number for c in closed + already)}))
    rebuilt_note = run.notes[0] if not run.comment_id and run.notes else ""
    run = replace(
        run,
        status="rolled_back",
        closed=numbers,
        seq=run.seq + 1,
        updated_at=turn.now_iso(),
        edit_keys=(*run.edit_keys, turn.event.trigger_key),
    )
    text = render_reply(
        f"↩️ Rolled back run `{run.run_id}`",
        f"ℹ️ {rebuilt_note}" if rebuilt_note else "",
        _issue_list("Closed as not planned", closed),
        _issue_list("Already closed by someone else", already),
        _issue_list(
            "Had activity from people (comments or edits); closed anyway, "
            "reopen what you still need",
            active,
        ),
        _issue_list(
            "Not closed: not created by me or no longer carrying this run's marker", refused
        ),
        f"Removed {plural(unlinked, 'sub-issue and dependency link')}, so the parent's "
        "sub-issue count is free again."
        if unlinked
        else "",
    )
    turn.reply(text, hidden=[run_block(turn, run)])
    return Outcome(
        command="rollback",
        status="rolled_back",
        run_id=run.run_id,
        created=tuple(c.number for c in closed),
        summary=text,
    )


def _unlink(turn: Turn, created: CreatedIssue) -> int:
    """Remove the sub-issue and "blocked by" links a run made; missing ones are fine."""
    steps: list[Callable[[], None]] = [
        functools.partial(turn.port.remove_blocked_by, created.number, blocker)
        for blocker in created.blocked_by
    ]
    if created.parent:
        steps.append(functools.partial(turn.port.remove_sub_issue, created.parent, created.id))
    removed = 0
    for step in steps:
        try:
            step()
            removed += 1
        except GitHubError as exc:
            turn.log(f"Could not remove a link of #{created.number}: {exc}")
    return removed


def _has_activity(info: IssueInfo, created: CreatedIssue) -> bool:
    marker = parse_item_marker(info.body)
    edited = marker is not None and body_hash(issue_head(info.body)) != marker.body_hash
    return info.comments > 0 or edited or info.title != created.title


def _issue_list(title: str, issues: Sequence[CreatedIssue]) -> str:
    if not issues:
        return ""
    return f"**{title}** ({len(issues)}): " + ", ".join(f"#{c.number}" for c in issues)
