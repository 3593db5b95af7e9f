"""A run's own comment: its visible text, then its hidden state, written once per plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from openproducer.handlers.turn import Outcome, Turn
from openproducer.model import PlannedIssue
from openproducer.render import View, code, render_preview, render_reconcile, render_summary
from openproducer.state import RunState, encode_plan, encode_run

COMMENT_BUDGET = 65_000  # a run comment's size, with room to spare under GitHub's limit
CONTINUATION_CHUNK = 60_000


def run_block(turn: Turn, run: RunState) -> str:
    secret = turn.settings.state_secret
    return encode_run(run, secret=secret, scrub=turn.job.scrubber.scrub)


def plan_blocks(
    turn: Turn, run_id: str, plan: Sequence[PlannedIssue], *, chunk: int
) -> tuple[str, list[str]]:
    secret = turn.settings.state_secret
    return encode_plan(run_id, plan, secret=secret, chunk=chunk, scrub=turn.job.scrubber.scrub)


def write_run(
    turn: Turn,
    run: RunState,
    plan: Sequence[PlannedIssue],
    *,
    preview: bool,
    comment_id: int | None = None,
    decided: str = "",
) -> int:
    """Post (or edit ``comment_id``) the run's comment; returns the comment's id.

    The plan's data is written once: beside the text when it fits, else in continuation
    comments; a comment written later for the same plan only points to it by its sha.
    """
    number = turn.event.issue_number
    visible = render_run(turn, run, plan, preview=preview, decided=decided)
    sha, inline = plan_blocks(turn, run.run_id, plan, chunk=COMMENT_BUDGET)
    run = replace(run, plan_sha=sha)
    room = COMMENT_BUDGET - len(visible) - len(run_block(turn, run)) - 100
    continuation: list[str] = []
    if turn.job.homes.elsewhere(sha, comment_id):
        inline = []  # stored in another comment already
    elif sum(len(b) for b in inline) > room:
        _, continuation = plan_blocks(turn, run.run_id, plan, chunk=CONTINUATION_CHUNK)
        inline = []
    hidden = [*inline, run_block(turn, run)]
    if comment_id:
        turn.port.edit_comment(number, comment_id, visible, hidden=hidden)
    else:
        comment_id = turn.port.post_comment(number, visible, hidden=hidden).id
    if inline:
        turn.job.homes.add(sha, comment_id)
    for index, block in enumerate(continuation, start=1):
        posted = turn.port.post_comment(
            number,
            f"<sub>📦 Plan data for run `{run.run_id}` (part {index} of {len(continuation)}), "
            "kept by OpenProducer so `confirm`, `status` and `rollback` work. Please leave this "
            "comment as it is.</sub>",
            hidden=[block],
        )
        turn.job.homes.add(sha, posted.id)
    return comment_id


def render_run(
    turn: Turn, run: RunState, plan: Sequence[PlannedIssue], *, preview: bool, decided: str = ""
) -> str:
    elapsed = turn.clock.monotonic() - turn.job.started
    view = View(trigger=turn.settings.trigger, plan=plan, elapsed=elapsed, decided=decided)
    if run.kind == "reconcile":
        return render_reconcile(run, view, preview=preview)
    if preview:
        return render_preview(run, view, skipped={s.key: s.reason for s in run.skipped})
    return render_summary(run, view)


def mark_decided(
    turn: Turn, preview: RunState, plan: Sequence[PlannedIssue], what: str, comment_id: int
) -> None:
    """Rewrite a decided preview's heading so it no longer asks for a decision.

    Its state block is written again as it was: the decision's own comment has a newer seq.
    """
    if not preview.comment_id or preview.status != "pending":
        return
    base = preview.comment_url.split("#", 1)[0]
    link = f"{base}#issuecomment-{comment_id}" if base else ""
    text = f"{what} by {code(turn.event.sender)}" + (f": [see here]({link})" if link else "")
    write_run(turn, preview, plan, preview=True, comment_id=preview.comment_id, decided=text)


def run_outcome(turn: Turn, verb: str, run: RunState, plan: Sequence[PlannedIssue]) -> Outcome:
    return Outcome(
        command=verb,
        status=run.status,
        run_id=run.run_id,
        created=tuple(c.number for c in run.created),
        summary=render_run(turn, run, plan, preview=run.status == "pending"),
        usage=run.usage,
    )
