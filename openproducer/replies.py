"""Replies to the conversational commands: help, unknown text, one run's issues (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from openproducer.config import Settings
from openproducer.ports import IssueInfo
from openproducer.render import (
    STATUS_ICONS,
    cell,
    code,
    details,
    render_change_counts,
    render_changes_table,
    render_reply,
    when,
)
from openproducer.spec import render_option_help
from openproducer.state import RunState

DOCS_URL = "https://github.com/openproducer/action#commands"


def render_help(settings: Settings) -> str:
    t = settings.trigger
    commands = "\n".join(
        [
            "| Comment | What it does |",
            "|---|---|",
            f"| {code(t)} + a spec (or an issue body that mentions me) | Plan issues from the "
            "spec; create them, or show a preview first when confirmation is needed |",
            f"| {code(f'{t} confirm [run_id]')} | Create the issues of the pending preview |",
            f"| {code(f'{t} cancel [run_id]')} | Drop the pending preview |",
            f"| {code(f'{t} drop 3 5')} · {code(f'{t} merge 2 3')} · {code(f'{t} rename 4: Title')}"
            f" · {code(f'{t} add: Title')} · {code(f'{t} edit 4')} | Edit the pending preview "
            "(`add` and `edit` take the text on the next lines) |",
            f"| {code(f'{t} sync [run_id]')} | Bring the issues a run created in step with the "
            "spec as it is now (editing the spec does it too); closing issues waits for "
            "`confirm` |",
            f"| {code(f'{t} status [run_id]')} | The runs of this issue, or one run's issues |",
            f"| {code(f'{t} rollback last')} / {code(f'{t} rollback <run_id>')} | Close a run's "
            "issues as not planned |",
            f"| {code(f'{t} help')} | This reference |",
        ]
    )
    limits = (
        f"At most **{settings.max_issues}** issues per run; a preview is shown above "
        f"**{settings.confirmation_threshold}** issues, with `dry_run`, or when the spec "
        "mentions a prohibited keyword. Starting, confirming, cancelling and rolling back "
        f"need **{settings.allowed_permission}** access. The legacy `/spawn-issues` works "
        f"like {code(t)}."
    )
    return render_reply(
        "📖 OpenProducer commands",
        commands,
        details(
            "Spec options",
            "Options go at the top of the spec as `key: value` lines, or in a fenced `yaml` "
            "block:\n\n" + render_option_help(max_issues=settings.max_issues),
        ),
        limits,
        f"Full reference: {DOCS_URL}",
    )


def render_unknown(text: str, *, trigger: str) -> str:
    return render_reply(
        "🤔 I did not understand that",
        f"I read “{cell(text, 80)}”, which is not a command or a spec. Comment "
        f"{code(f'{trigger} help')} for the commands.",
    )


def render_run_issues(run: RunState, live: Mapping[str, IssueInfo]) -> str:
    rows = ["| # | Issue | State |", "|---:|---|---|"]
    for index, created in enumerate(run.created, start=1):
        info = live.get(created.key)
        if info is None:
            state = "not found (deleted, transferred or no longer marked)"
        else:
            state = (
                "🟢 open"
                if info.state == "open"
                else f"⚪ closed ({info.state_reason or 'completed'})"
            )
        rows.append(f"| {index} | #{created.number} {cell(created.title, 100)} | {state} |")
    open_count = sum(1 for c in run.created if (i := live.get(c.key)) and i.state == "open")
    link = f" · [run comment]({run.comment_url})" if run.comment_url else ""
    asked = code(run.requester) if run.requester else "someone"
    return render_reply(
        f"{STATUS_ICONS.get(run.status, '')} Run `{run.run_id}`: {run.status.replace('_', ' ')}",
        f"{len(run.created)} created · {open_count} open · {len(run.skipped)} skipped · "
        f"requested by {asked} at {when(run.started_at)}{link}",
        "\n".join(rows) if run.created else "This run created no issues.",
    )


def render_reconcile_status(run: RunState) -> str:
    link = f" · [run comment]({run.comment_url})" if run.comment_url else ""
    asked = code(run.requester) if run.requester else "someone"
    return render_reply(
        f"{STATUS_ICONS.get(run.status, '')} Reconcile run `{run.run_id}`: "
        f"{run.status.replace('_', ' ')}",
        f"Brings the issues of run `{run.base}` in step with the spec · "
        f"{render_change_counts(run, done_only=run.status != 'pending')} · requested by {asked} "
        f"at {when(run.started_at)}{link}",
        render_changes_table(run) if run.changes else "",
    )
