"""Confirm and cancel: a person decides about a run, and exactly one job acts on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from openproducer.clock import parse_iso
from openproducer.handlers import sync
from openproducer.handlers.create import STALE_AFTER, execute
from openproducer.handlers.runs import mark_decided, run_block, write_run
from openproducer.handlers.turn import Outcome, Turn, first_word, note
from openproducer.render import code, render_reply
from openproducer.safety import permission_at_least
from openproducer.state import BotComment, RunState, read_thread


def confirm(turn: Turn) -> Outcome:
    run = _decidable(turn, "confirm")
    if isinstance(run, Outcome):
        return run
    plan = turn.thread.plan_for(run)
    claimed = replace(
        run,
        status="creating",
        seq=run.seq + 1,
        claim=turn.job.claim_token,
        updated_at=turn.now_iso(),
    )
    comment_id = write_run(turn, claimed, plan, preview=False)
    if not _won_claim(turn, claimed, comment_id):
        turn.port.delete_comment(turn.event.issue_number, comment_id)
        turn.log(f"Another job is already creating {run.run_id}; leaving it to that job.")
        return Outcome(command="confirm", status="creating", run_id=run.run_id)
    claimed = replace(claimed, comment_id=comment_id)
    mark_decided(turn, run, plan, "▶️ Confirmed", comment_id)
    if run.status == "creating":
        claimed = note(
            claimed,
            f"Resumed by {code(turn.event.sender)}: the job creating this run stopped without "
            f"finishing (no progress since {_clock_time(run.updated_at)}).",
        )
    if run.kind == "reconcile":
        return sync.apply(turn, claimed, plan, verb="confirm")
    resume = run.status in ("partial", "creating")
    return execute(turn, claimed, plan, resume=resume, verb="confirm")


def cancel(turn: Turn) -> Outcome:
    picked = _decidable(turn, "cancel")
    if isinstance(picked, Outcome):
        return picked
    run = replace(picked, status="cancelled", seq=picked.seq + 1, finished_at=turn.now_iso())
    nothing = "nothing was changed" if run.kind == "reconcile" else "nothing was created"
    text = render_reply("🚫 Cancelled", f"Run `{run.run_id}` is cancelled; {nothing}.")
    reply_id = turn.reply(text, hidden=[run_block(turn, run)])
    mark_decided(turn, picked, turn.thread.plan_for(picked), "🚫 Cancelled", reply_id)
    return Outcome(command="cancel", status="cancelled", run_id=run.run_id, summary=text)


def _decidable(turn: Turn, verb: str) -> RunState | Outcome:
    """The run this decision is about, or the reply that says why there is none to decide."""
    run = _pick_run(turn, verb)
    if isinstance(run, Outcome):
        return run
    return _decision_blocked(turn, verb, run) or run


def _pick_run(turn: Turn, verb: str) -> RunState | Outcome:
    """The run named in the command, else the newest pending (or partial) one."""
    wanted = first_word(turn.command)
    if wanted:
        return turn.find_run(verb, wanted)
    runs = list(turn.thread.runs.values())
    pending = [r for r in runs if r.status in ("pending", "partial")]
    # Nothing pending: answer about the newest run ("already created", "cancelled", ...).
    pending = pending or runs[-1:]
    if not pending:
        return turn.answer(
            verb,
            "🤷 Nothing is waiting for confirmation",
            f"Comment {code(turn.command_text('status'))} to see the runs.",
        )
    return pending[-1]


def _decision_blocked(turn: Turn, verb: str, run: RunState) -> Outcome | None:
    messages = {
        "cancelled": f"Run `{run.run_id}` was cancelled, so nothing will be created. "
        f"Mention me again to plan a new run.",
        "completed": f"Run `{run.run_id}` already "
        + ("applied its changes." if run.kind == "reconcile" else "created its issues."),
        "creating": f"Run `{run.run_id}` is being created right now"
        + (
            f" (last progress at {_clock_time(run.updated_at)}; if its job has stopped, "
            f"`confirm` resumes it from {_clock_time(run.updated_at, STALE_AFTER)})."
            if run.updated_at
            else "."
        ),
        "rolled_back": f"Run `{run.run_id}` was rolled back.",
        "failed": f"Run `{run.run_id}` failed; mention me again to plan a new run.",
    }
    if verb == "cancel" and run.status == "partial" and run.created:
        messages["partial"] = (
            f"Run `{run.run_id}` already created some issues; use "
            f"{code(turn.command_text('rollback', run.run_id))}."
        )
    if verb == "confirm" and _stale(turn, run):
        del messages["creating"]  # its job is gone: this confirm takes it over
    if run.status in messages:
        link = f" ([run comment]({run.comment_url}))" if run.comment_url else ""
        return turn.answer(verb, f"ℹ️ Nothing to {verb}", messages[run.status] + link, run=run)
    if not may_decide(turn, run):
        return turn.answer(
            verb,
            "🔒 Not allowed",
            f"Only {code(run.requester)}, who asked for run `{run.run_id}`, or "
            "someone with maintain or admin access can "
            f"{verb} it. Nothing was changed.",
            run=run,
        )
    return None


def may_decide(turn: Turn, run: RunState) -> bool:
    """Only the requester, or someone with maintain or admin, confirms or cancels a run."""
    if turn.event.sender.lower() == run.requester.lower():
        return True
    return permission_at_least(turn.permission, "maintain")


def _won_claim(turn: Turn, claimed: RunState, comment_id: int) -> bool:
    """Re-read the thread: of the jobs that claimed this step, the first comment wins."""
    contenders = [comment_id]
    me = turn.job.identity.lower()
    for comment in turn.port.comments(turn.event.issue_number):
        if comment.author.lower() != me or claimed.run_id not in comment.body:
            continue
        runs = read_thread(
            [BotComment(comment.id, comment.body)], secret=turn.settings.state_secret
        ).runs
        other = runs.get(claimed.run_id)
        if other and other.seq == claimed.seq and other.status == "creating":
            contenders.append(comment.id)
    return min(contenders) == comment_id


def _stale(turn: Turn, run: RunState) -> bool:
    """A creating run whose job is gone: no progress for longer than the lease allows."""
    if run.status != "creating" or not run.updated_at:
        return False
    return turn.clock.now() - parse_iso(run.updated_at) > STALE_AFTER


def _clock_time(moment: str, later: timedelta = timedelta(0)) -> str:
    return (parse_iso(moment) + later).strftime("%H:%M UTC")
