"""Spawn: plan a spec into a run, preview it or create it; and what a repeated or edited event
means for the run it started."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from openproducer import GitHubError, PlanError
from openproducer.clock import iso, new_run_id
from openproducer.commands import parse_issue_body
from openproducer.dedup import body_hash, content_hash, dedup_key
from openproducer.handlers.create import execute
from openproducer.handlers.runs import run_outcome, write_run
from openproducer.handlers.turn import Outcome, Turn, note
from openproducer.hierarchy import MAX_SUB_ISSUES, shape_plan
from openproducer.model import Options, Plan, PlannedIssue, Spec
from openproducer.render import code, render_option_errors, render_reply
from openproducer.safety import find_keywords, neutralize
from openproducer.spec import parse_spec, parse_spec_source
from openproducer.state import RunState, SkippedIssue, parse_item_marker

MAX_SPEC_BYTES = 256 * 1024


def spawn(turn: Turn) -> Outcome:
    event = turn.event
    text = turn.command.spec_text
    if text is None:  # a bare mention in a comment plans the issue body
        body_command = parse_issue_body(event.issue_body, trigger=turn.settings.trigger)
        text = body_command.spec_text if body_command else event.issue_body
    previous = [r for r in turn.thread.runs.values() if r.trigger_key == event.trigger_key]
    if event.action == "edited":
        return _spec_edited(turn, text or "", previous)
    if previous:
        return _repeated_event(turn, previous[-1])
    return _start_run(turn, text or "")


def _repeated_event(turn: Turn, run: RunState) -> Outcome:
    """The same event again (GitHub's "Re-run jobs"): finish what the first job started."""
    if run.status in ("creating", "partial"):
        turn.log(f"Resuming {run.run_id}: {len(run.created)} issues already created.")
        return execute(turn, run, turn.thread.plan_for(run), resume=True)
    turn.log(f"This event was already handled by {run.run_id} ({run.status}).")
    return Outcome(
        command="spawn",
        status=run.status,
        run_id=run.run_id,
        created=tuple(c.number for c in run.created),
    )


def _spec_edited(turn: Turn, text: str, previous: list[RunState]) -> Outcome:
    if not previous:
        return _start_run(turn, text)
    run = previous[-1]
    if run.status in ("completed", "partial"):  # reconcile its issues with the edited spec
        from openproducer.handlers.sync import on_spec_edited  # sync plans through this module

        return on_spec_edited(turn, run, text)
    spec_hash = body_hash(text)
    if spec_hash == run.spec_hash:
        return turn.ignore("The spec did not change; nothing to do.")
    if run.status == "pending":
        return _replan_preview(turn, run, text)
    notice = f"edit:{run.run_id}:{spec_hash}"
    if notice not in turn.thread.notices:
        turn.reply(
            render_reply(
                "✏️ The spec changed, but this run already happened",
                f"Run `{run.run_id}` is **{run.status.replace('_', ' ')}**, so I did not "
                "re-plan it. To plan the edited spec, comment "
                f"{code(turn.settings.trigger)} on this issue (a new run), or roll back first "
                f"with {code(turn.command_text('rollback', run.run_id))}.",
            ),
            hidden=[f"<!-- openproducer:notice {notice} -->"],
        )
    return Outcome(command="spawn", status=run.status, run_id=run.run_id)


def _start_run(turn: Turn, text: str) -> Outcome:
    prepared = prepare_plan(turn, text)
    if isinstance(prepared, Outcome):
        return prepared
    spec, plan = prepared
    started = turn.clock.now()
    run = RunState(
        run_id=new_run_id(started),
        status="pending",
        issue=turn.event.issue_number,
        requester=turn.event.sender,
        started_at=iso(started),
        trigger_key=turn.event.trigger_key,
        updated_at=iso(started),
        seq=1,
        spec_hash=body_hash(text),
        planner=plan.planner,
        options=options_json(spec),
        reasons=_preview_reasons(turn, spec, plan),
        notes=plan.notes,
        uncovered=plan.uncovered,
        usage=dataclasses.asdict(plan.usage) if plan.usage else {},
    )
    redone = [
        r.run_id
        for r in turn.thread.runs.values()
        if r.status == "rolled_back" and r.spec_hash == run.spec_hash
    ]
    if redone:
        run = note(
            run,
            f"This redoes run `{redone[-1]}`, which was rolled back; the issues it closed "
            "stay closed and new ones are created.",
        )
    run = replace(run, skipped=tuple(_duplicates(turn, plan.issues, spec)))
    if run.reasons:
        write_run(turn, run, plan.issues, preview=True)
        turn.log(f"Run {run.run_id}: preview of {len(plan.issues)} issues posted.")
        return run_outcome(turn, "spawn", run, plan.issues)
    run = replace(run, status="creating", claim=turn.job.claim_token, updated_at=turn.now_iso())
    comment_id = write_run(turn, run, plan.issues, preview=False)
    return execute(turn, replace(run, comment_id=comment_id), plan.issues, resume=False)


def _replan_preview(turn: Turn, run: RunState, text: str) -> Outcome:
    prepared = prepare_plan(turn, text)
    if isinstance(prepared, Outcome):
        return prepared
    spec, plan = prepared
    reasons = _preview_reasons(turn, spec, plan)
    updated = replace(
        run,
        seq=run.seq + 1,
        updated_at=turn.now_iso(),
        spec_hash=body_hash(text),
        planner=plan.planner,
        options=options_json(spec),
        # When the edit removed every reason to confirm, the preview stays: a person still
        # says go.
        reasons=reasons or ("The spec was edited after the preview.",),
        notes=plan.notes,
        uncovered=plan.uncovered,
        skipped=tuple(_duplicates(turn, plan.issues, spec)),
    )
    for comment_id in turn.thread.plan_comments.get(run.plan_sha, ()):
        if comment_id != run.comment_id:
            turn.port.delete_comment(turn.event.issue_number, comment_id)
    turn.job.homes.forget(run.plan_sha)  # the new plan is written afresh
    write_run(turn, updated, plan.issues, preview=True, comment_id=run.comment_id)
    return run_outcome(turn, "spawn", updated, plan.issues)


def prepare_plan(turn: Turn, text: str) -> tuple[Spec, Plan] | Outcome:
    """Parse and plan, or reply with what is wrong (nothing is created then)."""
    settings = turn.settings
    if len(text.encode()) > MAX_SPEC_BYTES:
        return turn.fail(
            "spawn",
            "📏 This spec is too large",
            f"It has {len(text.encode()) // 1024} KB; the limit is "
            f"{MAX_SPEC_BYTES // 1024} KB. Split it over several issues.",
        )
    spec = parse_spec(text, max_issues=settings.max_issues)
    if spec.errors:
        reply = render_option_errors(spec.errors, trigger=settings.trigger)
        turn.reply(reply)
        return Outcome(command="spawn", status="invalid", summary=reply)
    source_note = ""
    if spec.options.spec:
        loaded = _spec_from_file(turn, spec)
        if isinstance(loaded, Outcome):
            return loaded
        spec, source_note = loaded
    try:
        plan = turn.job.planner(spec, settings.max_issues)
    except PlanError as exc:
        return turn.fail("spawn", "🤔 I could not plan issues from this spec", str(exc))
    if source_note:
        plan = replace(plan, notes=(source_note, *plan.notes))
    return spec, _shape(turn, spec, _finish_plan(turn, spec, plan))


def _spec_from_file(turn: Turn, spec: Spec) -> tuple[Spec, str] | Outcome:
    """The spec in the file the `spec` option names, with this issue's options on top.

    Files are only ever read (the contents API), and only from this repository.
    """
    source, _ = parse_spec_source(spec.options.spec or "")
    assert source is not None  # the option was checked when the spec was parsed
    here = turn.port.full_name
    title = "📄 I could not read the spec file"
    if source.repo and source.repo.lower() != here.lower():
        return turn.fail(
            "spawn",
            title,
            f"`spec` links to a file of {code(source.repo)}; I only read files of this "
            f"repository, {code(here)}. Link to a file here, or copy the spec into this issue.",
        )
    where = source.path + (f"@{source.ref}" if source.ref else "")
    try:
        found = turn.port.read_file(source.path, ref=source.ref)
    except GitHubError as exc:
        if exc.status in (404, 422):  # 422: GitHub's "No commit found" for an unknown ref
            why = (
                f"There is no file {code(where)} in this repository. Check the path, and the "
                "branch, tag or commit after `@`."
            )
        elif exc.status in (401, 403):
            why = f"I may not read {code(where)}: the workflow needs `permissions: contents: read`."
        else:
            why = str(exc)
        return turn.fail("spawn", title, why)
    size = len(found.text.encode())
    if size > MAX_SPEC_BYTES:
        return turn.fail(
            "spawn",
            "📏 This spec is too large",
            f"{code(where)} has {size // 1024} KB; the limit is {MAX_SPEC_BYTES // 1024} KB. "
            "Split it over several files or issues.",
        )
    inner = parse_spec(found.text, max_issues=turn.settings.max_issues)
    if inner.errors:
        reply = render_option_errors(inner.errors, trigger=turn.settings.trigger)
        reply = reply.replace("\n\n", f"\n\nThe lines are those of {code(where)}.\n\n", 1)
        turn.reply(reply)
        return Outcome(command="spawn", status="invalid", summary=reply)
    options = _merged(spec.options, inner.options)
    note = f"Planned [`{found.path}` at `{found.commit[:7]}`]({found.url}), not this issue's text."
    return replace(inner, options=options), note


def _merged(issue: Options, file: Options) -> Options:
    """Options from the spec file, except where this issue sets one: the issue's wins."""
    default = Options()
    chosen = {
        f.name: getattr(issue, f.name)
        if getattr(issue, f.name) != getattr(default, f.name)
        else getattr(file, f.name)
        for f in dataclasses.fields(Options)
    }
    return Options(**chosen)


def _finish_plan(turn: Turn, spec: Spec, plan: Plan) -> Plan:
    """Apply the option and input labels and the hard cap, whatever the planner did.

    Secrets an AI echoed are scrubbed here, before the plan is hashed, shown or stored.
    """
    scrub = turn.job.scrubber.scrub
    limit = turn.settings.max_issues
    extra = (*spec.options.labels, *turn.settings.labels)
    issues = tuple(
        replace(
            i,
            title=scrub(i.title),
            body=scrub(i.body),
            labels=tuple(dict.fromkeys(scrub(label) for label in (*i.labels, *extra))),
            covers=tuple(scrub(c) for c in i.covers),
            group=scrub(i.group) if i.group else i.group,
        )
        for i in plan.issues[:limit]
    )
    notes = tuple(scrub(n) for n in plan.notes)
    if len(plan.issues) > limit:
        notes += (
            f"The plan had {len(plan.issues)} issues; only the first {limit} (`max-issues`) "
            "are kept.",
        )
    return replace(plan, issues=issues, notes=notes)


def _shape(turn: Turn, spec: Spec, plan: Plan) -> Plan:
    """Group the plan under section issues, as the `group` option or input asks, or when the
    parent cannot take it all."""
    if len(plan.issues) <= 1:
        return plan
    parent = turn.event.issue_number
    try:
        room = MAX_SUB_ISSUES - turn.port.sub_issue_count(parent)
    except GitHubError:
        room = MAX_SUB_ISSUES
    mode = spec.options.group or turn.settings.group
    issues, grouped = shape_plan(plan.issues, mode=mode, room=max(room, 1), parent=parent)
    if grouped is None:
        return plan
    return replace(plan, issues=issues, notes=(*plan.notes, grouped))


def _preview_reasons(turn: Turn, spec: Spec, plan: Plan) -> tuple[str, ...]:
    settings = turn.settings
    reasons = []
    dry_run = spec.options.dry_run if spec.options.dry_run is not None else settings.dry_run
    if dry_run:
        reasons.append("`dry_run` is on: this run only shows the plan.")
    threshold = settings.confirmation_threshold
    if len(plan.issues) > threshold:
        reasons.append(
            f"The plan has {len(plan.issues)} issues, more than the confirmation "
            f"threshold of {threshold}."
        )
    texts = [spec.text, *(i.title for i in plan.issues), *(i.body for i in plan.issues)]
    found = find_keywords(texts, settings.prohibited_keywords)
    if found:
        reasons.append(
            "The spec or the plan mentions prohibited keywords: "
            + ", ".join(code(word) for word in found)
            + "."
        )
    return tuple(reasons)


def _duplicates(turn: Turn, plan: Sequence[PlannedIssue], spec: Spec) -> list[SkippedIssue]:
    """Planned issues that repeat one another or an issue this bot created before.

    Issues a rollback closed do not count: undoing a run and redoing it must work.
    """
    unique_by = spec.options.unique_by
    runs = turn.thread.runs.values()
    undone = {n for r in runs if r.status == "rolled_back" for n in r.closed}
    known: dict[str, int | None] = {}
    for issue in turn.port.issues_by(turn.job.identity):
        marker = parse_item_marker(issue.body)
        if issue.number in undone and issue.state == "closed":
            continue
        if marker:
            key = dedup_key(
                unique_by=unique_by, title=issue.title, content=marker.hash, body=marker.body_hash
            )
            known.setdefault(key, issue.number)
    skipped = []
    for item in plan:
        key = _item_dedup_key(item, unique_by)
        if key in known:
            existing = known[key]
            reason = (
                f"same {unique_by} as #{existing}, created earlier"
                if existing
                else f"same {unique_by} as an earlier item of this plan"
            )
            skipped.append(SkippedIssue(item.key, item.title, reason, existing))
        else:
            known[key] = None
    return skipped


def _item_dedup_key(item: PlannedIssue, unique_by: Any) -> str:
    return dedup_key(
        unique_by=unique_by,
        title=item.title,
        content=content_hash(item),
        body=body_hash(neutralize(item.body.strip())),
    )


def options_json(spec: Spec) -> dict[str, Any]:
    data = dataclasses.asdict(spec.options)
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in data.items()
        if v not in (None, (), "")
    }
