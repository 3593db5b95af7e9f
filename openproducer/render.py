"""Every comment and issue body the bot writes, as GitHub-flavoured Markdown (pure).

User and AI text goes through `safety.neutralize` here, so nothing the bot posts pings anyone,
triggers the bot or carries a forged hidden marker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openproducer.clock import seconds_between
from openproducer.dedup import body_hash
from openproducer.hierarchy import render_mermaid
from openproducer.model import OptionError, PlannedIssue
from openproducer.safety import neutralize
from openproducer.state import Change, CreatedIssue, ItemMarker, RunState, render_item_marker

STATUS_ICONS = {
    "pending": "⏸️",
    "creating": "⏳",
    "completed": "✅",
    "partial": "⚠️",
    "failed": "❌",
    "cancelled": "🚫",
    "rolled_back": "↩️",
}
MAX_TABLE_ROWS = 200


def cell(text: str, limit: int = 120) -> str:
    """Text safe inside one Markdown table cell: one line, pipes escaped, neutralized."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    # Neutralized after flattening and cutting: either can re-pair backticks into new spans.
    return neutralize(flat).replace("|", "\\|")


def code(text: str) -> str:
    """One line of user text as an inert code span, whatever backticks it contains.

    The fence is one backtick longer than the longest run inside, so no run can close it early
    (CommonMark: a span ends only at a run of exactly its length); the padding keeps a leading
    or trailing backtick inside. Mentions and triggers in a closed span neither ping nor trigger.
    """
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def command_text(trigger: str, verb: str, argument: str = "") -> str:
    """What a person comments to run ``verb``: ``@Bot confirm run_…`` (show it with `code`)."""
    return f"{trigger} {verb} {argument}".strip()


def details(summary: str, body: str, *, open_: bool = False) -> str:
    return (
        f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n\n{body}\n\n</details>"
    )


_BLOCK_MARKS = re.compile(r"^\s*(?:>\s*)*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,9}[.)]\s+)?")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def summary_line(body: str, *, title: str = "") -> str:
    """The first line of a body that says something the title does not, as plain prose.

    Headings, quoted context (the breadcrumb, the spec's intro), tables, fences and HTML are
    skipped; list marks and bold markers are dropped, so no literal ``**`` reaches a cell.
    """
    lines = body.splitlines()
    task = [i for i, line in enumerate(lines) if line.strip().lower() in ("### task", "## task")]
    for line in lines[task[0] + 1 :] if task else lines:  # the task says it best, if named
        text = _EMPHASIS.sub(r"\2", _BLOCK_MARKS.sub("", line)).strip()
        if (
            not text
            or line.lstrip().startswith(("#", "|", "```", "~~~", "<", ">"))
            or text.lower().startswith(("spec section:", "from the spec"))
            or text.casefold().rstrip(".:") == title.casefold().rstrip(".:")
        ):
            continue
        return text
    return ""


def when(moment: str) -> str:
    """A recorded ISO time as the bot shows every time: ``2026-12-02 18:03 UTC``."""
    return f"{moment[:10]} {moment[11:16]} UTC" if len(moment) >= 16 else moment


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


# -- created issues --------------------------------------------------------------------------


FOOTER_SEPARATOR = "\n\n---\n<sub>Part of #"


@dataclass(frozen=True)
class IssueBody:
    """A created issue's body: ``text`` people read, and the hidden ``marker`` after it."""

    text: str
    marker: str

    def __str__(self) -> str:  # the body as it is stored on GitHub
        return f"{self.text}\n\n{self.marker}"


def render_issue_body(
    issue: PlannedIssue,
    *,
    parent: int,
    run_id: str,
    index: int,
    total: int,
    content: str,
    blocked_by: Sequence[int] = (),
) -> IssueBody:
    """The planned text, then a footer naming the parent and the run, then the item marker.

    The marker carries a hash of the text above the footer, so a later rollback can tell
    whether a person edited the issue.
    """
    head = neutralize(issue.body.strip()) or "_No description._"
    if blocked_by:
        head += "\n\nBlocked by " + ", ".join(f"#{n}" for n in blocked_by)
    marker = ItemMarker(run_id, issue.key, content, body_hash(head))
    return IssueBody(
        f"{head}{FOOTER_SEPARATOR}{parent} · item {index} of {total} · planned by "
        f"OpenProducer run `{run_id}`</sub>",
        render_item_marker(marker),
    )


def issue_head(body: str) -> str:
    """The part of a created issue's body above the bot's footer."""
    return body.split(FOOTER_SEPARATOR)[0]


# -- run comments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What a run comment needs besides the state itself."""

    trigger: str
    plan: Sequence[PlannedIssue]
    elapsed: float = 0.0
    decided: str = ""  # for a preview someone confirmed or cancelled: what happened, linked


def render_plan_table(plan: Sequence[PlannedIssue], *, skipped: Mapping[str, str]) -> str:
    rows = ["| # | Title | Labels | Summary |", "|---:|---|---|---|"]
    for index, issue in enumerate(plan[:MAX_TABLE_ROWS], start=1):
        title = ("↳ " if issue.parent_key else "") + cell(issue.title, 100)
        if issue.key in skipped:
            title = f"~~{title}~~ (skip: {cell(skipped[issue.key], 60)})"
        labels = " ".join(code(label) for label in issue.labels[:5])
        summary = cell(summary_line(issue.body, title=issue.title), 90)
        rows.append(f"| {index} | {title} | {labels} | {summary} |")
    if len(plan) > MAX_TABLE_ROWS:
        rows.append(f"| … | {len(plan) - MAX_TABLE_ROWS} more | | |")
    return "\n".join(rows)


def render_preview(run: RunState, view: View, *, skipped: Mapping[str, str]) -> str:
    plan = view.plan
    to_create = len(plan) - len(skipped)
    command = command_text(view.trigger, "confirm", run.run_id)
    reasons = "\n".join(f"- {neutralize(reason)}" for reason in run.reasons)
    table = render_plan_table(plan, skipped=skipped)
    graph = render_mermaid(plan)
    if view.decided:
        head = [f"### {view.decided}"]
    else:
        head = [
            f"### ⏸️ Preview: {plural(to_create, 'issue')} planned, waiting for confirmation",
            f"Nothing has been created yet. Confirmation is needed because:\n{reasons}",
        ]
    body = [
        *head,
        details(f"Planned issues ({len(plan)})", table, open_=len(plan) <= 15),
        details("Tree and dependencies", graph) if graph else "",
        *_notes(run),
        "**Edits**\n" + "\n".join(f"- {neutralize(e)}" for e in run.edits) if run.edits else "",
        ""
        if view.decided
        else f"**To create them**, comment {code(command)}\n"
        f"**To drop this plan**, comment {code(f'{view.trigger} cancel {run.run_id}')}\n\n"
        "Editing the spec while this preview is pending updates the plan here.",
        _footer(run),
    ]
    return "\n\n".join(part for part in body if part)


def render_summary(run: RunState, view: View) -> str:
    icon = STATUS_ICONS.get(run.status, "")
    planned = len(view.plan)
    done = len(run.created)
    headline = {
        "creating": f"{icon} Creating issues… {done} of {planned - len(run.skipped)} so far",
        "completed": f"{icon} Created {plural(done, 'issue')} from this spec",
        "partial": f"{icon} Created {done} of {planned - len(run.skipped)} planned issues",
        "failed": f"{icon} Could not create the planned issues",
    }.get(run.status, f"{icon} Run {run.status.replace('_', ' ')}")
    counts = (
        f"**Planned** {planned} · **created** {done} · **skipped** {len(run.skipped)}"
        + (f" · **failed** {len(run.failed)}" if run.failed else "")
        + (f" · **duration** {duration(view.elapsed)}" if view.elapsed else "")
    )
    linked = any(c.parent for c in run.created)
    listing = _created_table(run.created) if linked else _checklist(run.created)
    parts = [f"### {headline}", counts, listing]
    if run.skipped:
        rows = "\n".join(
            neutralize(f"- {cell(s.title)}: {cell(s.reason, 200)}")  # again: joins re-pair spans
            + (f" (#{s.existing})" if s.existing else "")
            for s in run.skipped
        )
        parts.append(details(f"Skipped ({len(run.skipped)})", rows))
    if run.failed:
        rows = "\n".join(
            neutralize(f"- {cell(s.title)}: {cell(s.reason, 300)}") for s in run.failed
        )
        parts.append(details(f"Not created ({len(run.failed)})", rows, open_=True))
    parts.extend(_notes(run))
    if run.status in ("completed", "partial") and run.created:
        parts.append(
            "To close these issues again, comment "
            f"{code(command_text(view.trigger, 'rollback', run.run_id))}."
        )
    if run.status == "partial":
        confirm = code(command_text(view.trigger, "confirm", run.run_id))
        parts.append(f"To create the rest, comment {confirm}.")
    parts.append(_footer(run))
    return "\n\n".join(p for p in parts if p)


def _created_table(created: Sequence[CreatedIssue]) -> str:
    if not created:
        return ""
    rows = ["| # | Issue |", "|---:|---|"]
    rows += [
        f"| {i} | #{c.number} {cell(c.title, 100)} |"
        for i, c in enumerate(created[: MAX_TABLE_ROWS * 2], start=1)
    ]
    table = "\n".join(rows)
    return table if len(created) <= 30 else details(f"Created issues ({len(created)})", table)


def _checklist(created: Sequence[CreatedIssue]) -> str:
    """Without sub-issues, a task list of issue references still tracks progress on GitHub."""
    return "\n".join(f"- [ ] #{c.number}" for c in created)


def _notes(run: RunState) -> list[str]:
    parts = []
    if run.notes:
        parts.append("**Notes**\n" + "\n".join(f"- {neutralize(n)}" for n in run.notes))
    if run.uncovered:
        parts.append(
            "**Sections no issue covers**\n" + "\n".join(f"- {cell(s, 200)}" for s in run.uncovered)
        )
    return parts


def _footer(run: RunState) -> str:
    bits = [f"Run `{run.run_id}`", f"requested by {code(run.requester)}", f"planner: {run.planner}"]
    usage = run.usage
    if usage.get("model"):
        bits.append(
            f"model {code(str(usage['model']))}, "
            f"{usage.get('prompt_tokens', 0)}+{usage.get('completion_tokens', 0)} tokens"
        )
    return "<sub>" + " · ".join(bits) + "</sub>"


# -- replies ---------------------------------------------------------------------------------


def render_option_errors(errors: Sequence[OptionError], *, trigger: str) -> str:
    rows = ["| Line | Option | Problem |", "|---:|---|---|"]
    rows += [
        f"| {e.line or '–'} | {code(e.key) if e.key else ''} | {cell(e.message, 300)} |"
        for e in errors
    ]
    return "\n\n".join(
        [
            f"### ❌ I could not read the options of this spec ({plural(len(errors), 'problem')})",
            "\n".join(rows),
            "Nothing was created. Fix the lines above and mention me again "
            f"(or edit the issue), or comment {code(f'{trigger} help')} for the option reference.",
        ]
    )


def render_reply(title: str, *lines: str) -> str:
    return "\n\n".join([f"### {title}", *[line for line in lines if line]])


def render_runs_table(runs: Sequence[RunState], *, planned: Mapping[str, int]) -> str:
    """Five columns, to fit GitHub's ~760 px comment width."""
    rows = ["| Run | Status | Created | Started | By |", "|---|---|---|---|---|"]
    for run in runs:
        link = f"[`{run.run_id}`]({run.comment_url})" if run.comment_url else f"`{run.run_id}`"
        asked = code(run.requester) if run.requester else "–"
        took = _run_duration(run)
        status = f"{STATUS_ICONS.get(run.status, '')} {run.status.replace('_', ' ')}"
        of = planned.get(run.run_id, 0)
        issues = f"{len(run.created)}" + (f" of {of}" if of != len(run.created) else "")
        if run.kind == "reconcile":
            issues = "🔄 " + render_change_counts(run, done_only=run.status != "pending")
        issues += f" · {len(run.skipped)} skipped" if run.skipped else ""
        issues += f" · {len(run.closed)} closed" if run.closed else ""
        started = when(run.started_at) + (f" ({took})" if took != "–" else "")
        rows.append(f"| {link} | {status} | {issues} | {started} | {asked} |")
    return "\n".join(rows)


def _run_duration(run: RunState) -> str:
    if not run.finished_at:
        return "–"
    return duration(seconds_between(run.started_at, run.finished_at))


# -- reconcile runs --------------------------------------------------------------------------

CHANGE_LABELS = {
    "create": "➕ create",
    "update": "✏️ update",
    "comment": "💬 comment",
    "relink": "🔗 relink",
    "close": "✖️ close",
}
CHANGE_WORDS = {
    "create": "created",
    "update": "updated",
    "comment": "commented on",
    "relink": "relinked",
    "close": "closed",
}


def render_change_counts(run: RunState, *, done_only: bool = False) -> str:
    """ "1 created · 2 updated · 1 closed · 5 unchanged" (or the to-do form for a preview)."""
    counts: dict[str, int] = {}
    for change in run.changes:
        if change.done or not done_only:
            counts[change.op] = counts.get(change.op, 0) + 1
    words = CHANGE_WORDS if done_only else {op: f"to {op}" for op in CHANGE_LABELS}
    bits = [f"{counts[op]} {words[op]}" for op in CHANGE_LABELS if counts.get(op)]
    return " · ".join([*bits, f"{run.unchanged} unchanged"])


def render_changes_table(run: RunState) -> str:
    """Three columns, to fit GitHub's ~760 px comment width."""
    rows = ["| Change | Issue | Title |", "|---|---|---|"]
    for change in run.changes[:MAX_TABLE_ROWS]:
        issue = f"#{change.number}" if change.number else "new"
        title = cell(change.title, 90)
        if change.was:
            title += f" (was: {cell(change.was, 60)})"
        if change.op == "comment":
            title += " — edited by a person, so not overwritten"
        if change.op == "relink":
            title += " — its “blocked by” links"
        label = CHANGE_LABELS[change.op] + (" ✓" if change.done else "")
        rows.append(f"| {label} | {issue} | {title} |")
    if len(run.changes) > MAX_TABLE_ROWS:
        rows.append(f"| … | | {len(run.changes) - MAX_TABLE_ROWS} more |")
    return "\n".join(rows)


def render_diffs(run: RunState) -> str:
    return render_diffs_of(run.changes)


def render_diffs_of(changes: Sequence[Change]) -> str:
    parts = []
    for change in changes:
        if not change.diff:
            continue
        longest = max((len(r) for r in re.findall(r"`+", change.diff)), default=0)
        fence = "`" * max(3, longest + 1)
        parts.append(
            f"**#{change.number}** {cell(change.title, 90)}\n\n{fence}diff\n{change.diff}\n{fence}"
        )
    return "\n\n".join(parts)


def render_reconcile(run: RunState, view: View, *, preview: bool) -> str:
    """A reconcile run's comment: the preview of its changes, or what it did."""
    confirm = command_text(view.trigger, "confirm", run.run_id)
    if view.decided:
        head = [f"### {view.decided}"]
    elif preview:
        reasons = "\n".join(f"- {neutralize(reason)}" for reason in run.reasons)
        head = [
            f"### 🔄 Reconcile preview: the spec changed since run `{run.base}`",
            f"Nothing has been changed yet. Confirmation is needed because:\n{reasons}",
        ]
    else:
        head = [f"### {_reconcile_headline(run)}"]
    counts = render_change_counts(run, done_only=not preview and run.status != "creating")
    diffs = render_diffs(run)
    body = [
        *head,
        counts,
        details(
            f"Changes ({len(run.changes)})", render_changes_table(run), open_=len(run.changes) <= 15
        )
        if run.changes
        else "",
        details("What changes in the text", diffs) if diffs else "",
        *_notes(run),
    ]
    if preview and not view.decided:
        cancel = command_text(view.trigger, "cancel", run.run_id)
        body.append(
            f"**To apply them**, comment {code(confirm)}\n"
            f"**To drop them**, comment {code(cancel)}\n\n"
            "Issues people edited are never overwritten: they get a comment instead."
        )
    elif run.status in ("completed", "partial"):
        body.append(
            "To undo these changes, comment "
            f"{code(command_text(view.trigger, 'rollback', run.run_id))}."
        )
    if run.status == "partial":
        body.append(f"To apply the rest, comment {code(confirm)}.")
    body.append(_footer(run))
    return "\n\n".join(part for part in body if part)


def render_sync_comment(change: Change, *, spec: int, run_id: str) -> str:
    """On an issue a person edited: what the spec's change would have written there."""
    body = [
        "### 🔄 The spec changed what this issue says",
        f"The spec in #{spec} was edited, and the plan for this issue changed with it. Someone "
        "edited this issue since I wrote it, so I left it as it is; here is what changed in "
        "the plan, to take over by hand if it helps.",
        render_diffs_of([change]),
        f"<sub>OpenProducer run `{run_id}`</sub>",
    ]
    return "\n\n".join(part for part in body if part)


def _reconcile_headline(run: RunState) -> str:
    icon = STATUS_ICONS.get(run.status, "")
    done = sum(1 for c in run.changes if c.done)
    return {
        "creating": f"{icon} Bringing the issues in step with the spec… {done} of "
        f"{len(run.changes)} changes so far",
        "completed": f"{icon} Brought the issues in step with the edited spec",
        "partial": f"{icon} Applied {done} of {len(run.changes)} changes",
        "failed": f"{icon} Could not apply the changes",
    }.get(run.status, f"{icon} Reconcile {run.status.replace('_', ' ')}")
