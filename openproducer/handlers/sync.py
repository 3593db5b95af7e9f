"""Sync: bring the issues a run created in step with its spec as it is now (#16).

Editing a spec whose run created its issues, or commenting `sync`, plans the spec again and
starts a *reconcile* run: a run of its own, with its own comment and state, whose changes are
matched by `reconcile.plan_changes` against the latest applied plan. It waits for `confirm`
when it closes anything, when it is large or `dry_run` is on; otherwise it applies at once.
Applying is safe to repeat: creates are found again by their marker, comments by their notice,
updates and closes by what the issue shows, links by GitHub's 422 for one that exists; each
update and relink is saved before the next write, so its rollback data is never lost. New
issues are created by the spawn's creation code, and every write counts against the shared
hourly budget (`budget.Budget`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import replace

from openproducer import GitHubError
from openproducer.clock import iso, new_run_id
from openproducer.commands import parse_issue_body
from openproducer.dedup import body_hash, content_hash
from openproducer.handlers.budget import Budget
from openproducer.handlers.create import (
    PROGRESS_SECONDS,
    Fields,
    Links,
    already_linked,
    apply_pace,
    checkpoint,
    create_issue,
    find_marked,
    graph_ids,
    link_issue,
    prepare_fields,
    stop_reason,
    worth_retrying,
)
from openproducer.handlers.runs import run_block, run_outcome, write_run
from openproducer.handlers.spawn import options_json, prepare_plan
from openproducer.handlers.turn import Outcome, Turn, first_word, note
from openproducer.model import PlannedIssue, Spec
from openproducer.ports import IssueInfo
from openproducer.reconcile import (
    IssueNow,
    Reconciliation,
    blocked_line,
    head_hash,
    person_edited,
    plan_changes,
    planned_head,
    shown_title,
)
from openproducer.render import (
    IssueBody,
    code,
    plural,
    render_issue_body,
    render_reply,
    render_sync_comment,
)
from openproducer.safety import find_keywords
from openproducer.state import (
    Change,
    CreatedIssue,
    ItemMarker,
    RunState,
    Thread,
    Tracked,
    parse_item_marker,
    render_item_marker,
)

APPLIED = ("completed", "partial")


# -- starting a reconcile --------------------------------------------------------------------


def sync(turn: Turn) -> Outcome:
    """`sync [run_id]`: reconcile a run's issues with the issue body as it is now."""
    base = _base_for_command(turn)
    if isinstance(base, Outcome):
        return base
    return reconcile(turn, base, _spec_text(turn), key=turn.event.trigger_key, asked=True)


def on_spec_edited(turn: Turn, base: RunState, text: str) -> Outcome:
    """The spec of ``base`` was edited after it created its issues.

    The key names the edit (the issue's update time) and the spec's text, so GitHub delivering
    the same edit again finds its run, and a later edit back to an earlier text does not.
    """
    when = turn.event.issue_updated_at
    key = f"edit:{when}:{body_hash(text)}" if when else f"edit:{body_hash(text)}"
    return reconcile(turn, base, text, key=key, asked=False)


def _spec_text(turn: Turn) -> str:
    body = turn.event.issue_body
    command = parse_issue_body(body, trigger=turn.settings.trigger)
    return command.spec_text if command and command.spec_text is not None else body


def _base_for_command(turn: Turn) -> RunState | Outcome:
    wanted = first_word(turn.command)
    if wanted:
        found = turn.find_run("sync", wanted)
        if isinstance(found, Outcome):
            return found
        if found.kind == "reconcile":
            found = turn.thread.runs.get(found.base, found)
        if found.kind == "spawn" and found.status in APPLIED:
            return found
        return turn.answer(
            "sync",
            "ℹ️ Nothing to sync",
            f"Run `{found.run_id}` is **{found.status.replace('_', ' ')}**; only a run that "
            "created issues can be brought in step with its spec.",
            run=found,
        )
    body_key = f"issue:{turn.event.issue_id}"
    runs = [
        r
        for r in turn.thread.runs.values()
        if r.kind == "spawn" and r.trigger_key == body_key and r.status in APPLIED
    ]
    if runs:
        return runs[-1]
    return turn.answer(
        "sync",
        "🤷 Nothing to sync",
        "`sync` follows the issues a run created from this issue's body, and no such run "
        f"exists here. Comment {code(turn.command_text('status'))} to see the runs, or "
        f"{code(turn.command_text('sync', '<run_id>'))} to name one.",
    )


def reconcile(turn: Turn, base: RunState, text: str, *, key: str, asked: bool) -> Outcome:
    runs = reconcile_runs(turn.thread, base.run_id)
    seen = [r for r in runs if r.trigger_key == key]
    if seen:  # GitHub delivered this event again ("Re-run jobs")
        run = seen[-1]
        if run.status == "creating":
            return apply(turn, run, turn.thread.plan_for(run), verb="sync")
        return turn.ignore(f"This event was already handled by {run.run_id} ({run.status}).")
    unfinished = [r for r in runs if r.status in ("partial", "creating")]
    if unfinished:
        return _wait_for(turn, unfinished[-1], key=key)
    basis, old_plan, tracked = baseline(turn.thread, base)
    if not asked and body_hash(text) == basis.spec_hash:
        return turn.ignore("The spec is the one the issues were last brought in step with.")
    prepared = prepare_plan(turn, text)
    if isinstance(prepared, Outcome):
        return replace(prepared, command="sync")
    spec, plan = prepared
    found = plan_changes(
        old=old_plan, tracked=tracked, new=plan.issues, now=_issues_now(turn, tracked)
    )
    for pending in (r for r in runs if r.status == "pending"):
        _supersede(turn, pending)
    if found.empty:
        if not asked:
            return turn.ignore("The edit changes none of the created issues.")
        return turn.answer(
            "sync",
            "✅ The issues are in step with the spec",
            f"I compared the spec with the issues of run `{base.run_id}`: "
            f"{plural(found.unchanged, 'issue')} unchanged, nothing to do.",
            run=base,
        )
    run = _new_run(turn, base=base, basis=basis, spec=spec, text=text, key=key, found=found)
    run = replace(run, planner=plan.planner, notes=(*plan.notes, *_found_notes(found)))
    run = replace(run, reasons=_reasons(turn, spec, plan.issues, found))
    if run.reasons:
        write_run(turn, run, plan.issues, preview=True)
        turn.log(f"Run {run.run_id}: reconcile preview of {len(found.changes)} changes posted.")
        return run_outcome(turn, "sync", run, plan.issues)
    run = replace(run, status="creating", claim=turn.job.claim_token)
    comment_id = write_run(turn, run, plan.issues, preview=False)
    return apply(turn, replace(run, comment_id=comment_id), plan.issues, verb="sync")


def _wait_for(turn: Turn, run: RunState, *, key: str) -> Outcome:
    """A reconcile stopped part way (the hourly budget, a failed job) finishes first: one
    planned now from the run before it would make its changes again. Said once per event."""
    notice = f"wait:{run.run_id}:{body_hash(key)}"
    text = render_reply(
        "⏸️ The last reconcile of these issues is not finished",
        f"Run `{run.run_id}` stopped before it made all its changes, so I did not plan the "
        f"spec again. Comment {code(turn.command_text('confirm', run.run_id))} to apply the "
        f"rest (or {code(turn.command_text('rollback', run.run_id))} to undo it), then "
        f"{code(turn.command_text('sync'))} to bring the issues in step with the spec.",
    )
    if notice not in turn.thread.notices:
        turn.reply(text, hidden=[f"<!-- openproducer:notice {notice} -->"])
    return Outcome(command="sync", status="ok", run_id=run.run_id, summary=text)


def reconcile_runs(thread: Thread, base: str) -> list[RunState]:
    return [r for r in thread.runs.values() if r.kind == "reconcile" and r.base == base]


def baseline(
    thread: Thread, base: RunState
) -> tuple[RunState, tuple[PlannedIssue, ...], dict[str, Tracked]]:
    """The run whose plan the issues last followed, that plan, and its items' issues.

    The newest completed reconcile of ``base``; else ``base`` itself, whose issues show
    exactly what it rendered from its plan (see `reconcile.planned_head`).
    """
    applied = [r for r in reconcile_runs(thread, base.run_id) if r.status == "completed"]
    if applied:
        last = applied[-1]
        return last, thread.plan_for(last), {t.key: t for t in last.tracked}
    plan = thread.plan_for(base)
    items = {item.key: item for item in plan}
    tracked = {
        c.key: Tracked(
            c.key,
            c.number,
            c.id,
            shown_title(c.title),
            head_hash(planned_head(items[c.key])),
            c.parent,
            f"{base.run_id}/{c.key}",
        )
        for c in base.created
        if c.key in items and c.number not in base.closed
    }
    return base, plan, tracked


def _issues_now(turn: Turn, tracked: Mapping[str, Tracked]) -> dict[int, IssueNow]:
    """The tracked issues as GitHub has them: one listing, then one read for any not in it."""
    numbers = {t.number for t in tracked.values() if t.number}
    now = {
        i.number: IssueNow(i.title, i.body, i.state)
        for i in turn.port.issues_by(turn.job.identity)
        if i.number in numbers
    }
    for number in sorted(numbers - set(now)):
        try:
            info = turn.port.issue(number)
        except GitHubError as exc:
            if exc.status in (404, 410):
                continue  # deleted or transferred: left out, and said so
            raise
        now[number] = IssueNow(info.title, info.body, info.state)
    return now


def _new_run(
    turn: Turn,
    *,
    base: RunState,
    basis: RunState,
    spec: Spec,
    text: str,
    key: str,
    found: Reconciliation,
) -> RunState:
    started = turn.clock.now()
    return RunState(
        run_id=new_run_id(started),
        status="pending",
        issue=turn.event.issue_number,
        requester=turn.event.sender,
        started_at=iso(started),
        trigger_key=key,
        updated_at=iso(started),
        seq=1,
        spec_hash=body_hash(text),
        options=options_json(spec),
        kind="reconcile",
        base=base.run_id,
        basis=basis.run_id,
        changes=found.changes,
        tracked=found.tracked,
        unchanged=found.unchanged,
    )


def _found_notes(found: Reconciliation) -> tuple[str, ...]:
    notes = []
    if found.already_closed:
        listed = ", ".join(f"#{n}" for n in found.already_closed)
        notes.append(f"No longer in the spec and already closed, so left as they are: {listed}.")
    if found.missing:
        listed = ", ".join(f"#{n}" for n in found.missing)
        notes.append(f"Changed in the spec, but GitHub no longer has these issues: {listed}.")
    return tuple(notes)


def _reasons(
    turn: Turn, spec: Spec, plan: Sequence[PlannedIssue], found: Reconciliation
) -> tuple[str, ...]:
    settings = turn.settings
    reasons = []
    dry_run = spec.options.dry_run if spec.options.dry_run is not None else settings.dry_run
    if dry_run:
        reasons.append("`dry_run` is on: this run only shows the changes.")
    closing = sum(1 for c in found.changes if c.op == "close")
    if closing:
        reasons.append(
            f"It closes {plural(closing, 'issue')} as not planned, which always needs confirmation."
        )
    if len(found.changes) > settings.confirmation_threshold:
        reasons.append(
            f"It makes {len(found.changes)} changes, more than the confirmation threshold of "
            f"{settings.confirmation_threshold}."
        )
    keys = {c.key for c in found.changes}
    texts = [t for i in plan if i.key in keys for t in (i.title, i.body)]
    words = find_keywords(texts, settings.prohibited_keywords)
    if words:
        reasons.append(
            "The changes mention prohibited keywords: " + ", ".join(code(w) for w in words) + "."
        )
    return tuple(reasons)


def _supersede(turn: Turn, pending: RunState) -> None:
    """A newer edit replaces a reconcile preview still waiting: it can no longer be confirmed."""
    done = replace(
        pending,
        status="cancelled",
        seq=pending.seq + 1,
        finished_at=turn.now_iso(),
        updated_at=turn.now_iso(),
    )
    write_run(
        turn,
        done,
        turn.thread.plan_for(pending),
        preview=True,
        comment_id=pending.comment_id or None,
        decided="🔁 Replaced by a newer reconcile: the spec changed again",
    )


# -- applying --------------------------------------------------------------------------------


def apply(turn: Turn, run: RunState, plan: Sequence[PlannedIssue], *, verb: str) -> Outcome:
    """Make every change of ``run`` not yet made, then write what was done.

    New issues are created as a spawn creates them (`create.create_issue` and `create.link_issue`):
    as sub-issues in one GraphQL request where it can, with the run's fields, at its pace.
    Every write counts against the shared hourly budget: a reconcile that would pass it stops
    as partial, and `confirm` applies the rest.
    """
    items = {item.key: item for item in plan}
    budget = Budget.for_run(turn, run)
    step = _Step(turn, run, plan, {t.key: t for t in run.tracked})
    step.prepare(
        [items[c.key] for c in run.changes if c.op == "create" and not c.done and c.key in items]
    )
    confirm = turn.command_text("confirm", run.run_id)
    changes = list(run.changes)
    saved = turn.clock.monotonic()
    for index, change in enumerate(changes):
        if change.done:
            continue
        item = items.get(change.key)
        needed = step.needed(change, item)
        reason = stop_reason(
            turn, step.run, needed=needed, budget=budget, saved=saved, rest="apply the rest"
        )
        if reason:
            step.run = note(step.run, reason)
            break
        try:
            changes[index] = step.make(change, item)
        except GitHubError as exc:
            if exc.status in (403, 429) or worth_retrying(exc):
                step.run = note(
                    step.run,
                    f"GitHub stopped accepting changes ({exc}). Comment `{confirm}` later to "
                    "apply the rest.",
                )
                break
            step.run = note(step.run, f"Could not {change.op} #{change.number or 'new'}: {exc}")
            continue
        step.run = replace(step.run, changes=tuple(changes), tracked=step.tracked_now())
        # an update's earlier text, a relink's links, must be saved before the next write
        due = turn.clock.monotonic() - saved >= PROGRESS_SECONDS
        if change.op in ("update", "relink") or due:
            step.run = checkpoint(turn, step.run, plan, budget)
            saved = turn.clock.monotonic()
        if due:  # another run may have written meanwhile
            budget = budget.refreshed(turn)
    done = all(c.done for c in changes)
    run = replace(
        step.run,
        status="completed" if done else "partial",
        finished_at=turn.now_iso(),
        created=_created(changes, items, step.tracked),
        notes=(*step.run.notes, *sorted(step.links.notes - set(step.run.notes))),
    )
    run = checkpoint(turn, run, plan, budget)
    turn.log(f"Run {run.run_id}: reconcile {run.status}, {sum(c.done for c in changes)} changes.")
    return run_outcome(turn, verb, run, plan)


def _created(
    changes: Sequence[Change], items: Mapping[str, PlannedIssue], tracked: Mapping[str, Tracked]
) -> tuple[CreatedIssue, ...]:
    return tuple(
        CreatedIssue(
            c.key,
            c.number,
            c.id,
            c.title,
            content_hash(items[c.key]),
            tracked[c.key].parent if c.key in tracked else 0,
            c.added,
        )
        for c in changes
        if c.op == "create" and c.done and c.key in items
    )


class _Step:
    """Makes one change at a time; knows the run's items and their issues as they become."""

    def __init__(
        self,
        turn: Turn,
        run: RunState,
        plan: Sequence[PlannedIssue],
        tracked: dict[str, Tracked],
    ) -> None:
        self.turn = turn
        self.run = run
        self.plan = plan
        self.tracked = tracked
        self.marked: dict[str, IssueInfo] = {}
        self.fields = Fields()
        known = [t for t in tracked.values() if t.number]
        self.links = Links(
            numbers={t.key: t.number for t in known}, ids={t.key: t.id for t in known if t.id}
        )

    def prepare(self, creating: Sequence[PlannedIssue]) -> None:
        """The run's pace; before creating, what a spawn checks once: the issues a stopped job
        created already (by their marker), the fields, and whether GraphQL can create them."""
        apply_pace(self.turn, self.run)
        if not creating:
            return
        self.marked = find_marked(self.turn, self.run)
        self.run, self.fields = prepare_fields(self.turn, self.run, creating)
        self.links.graph = graph_ids(
            self.turn, self.run, creating, self.fields, known=self.links.numbers
        )

    def needed(self, change: Change, item: PlannedIssue | None) -> int:
        """The writes ``change`` may make, at most."""
        depends = len(item.depends_on) if item else 0
        if change.op == "create":
            return (1 if self.links.graph else 2) + depends
        if change.op == "relink":
            return len(change.blockers) + depends + 1  # and its "Blocked by" line
        return 1

    def tracked_now(self) -> tuple[Tracked, ...]:
        return tuple(self.tracked[i.key] for i in self.plan if i.key in self.tracked)

    def make(self, change: Change, item: PlannedIssue | None) -> Change:
        if change.op == "close":
            return self._close(change)
        assert item is not None  # every other change names an item of the new plan
        if change.op == "create":
            return self._create(change, item)
        if change.op == "update":
            return self._update(change, item)
        if change.op == "relink":
            return self._relink(change, item)
        return self._comment(change, item)

    # each returns the change as done

    def _create(self, change: Change, item: PlannedIssue) -> Change:
        info, parented = self.marked.get(item.key), False
        if info is None:
            index = next(i for i, p in enumerate(self.plan, start=1) if p.key == item.key)
            info, parented = create_issue(
                self.turn,
                self.run,
                item,
                index=index,
                total=len(self.plan),
                links=self.links,
                fields=self.fields,
            )
        created = link_issue(self.turn, self.run, item, info, self.links, parented=parented)
        self.tracked[item.key] = Tracked(
            item.key,
            info.number,
            info.id,
            info.title,
            head_hash(info.body),
            created.parent,
            f"{self.run.run_id}/{item.key}",
        )
        return replace(change, done=True, number=info.number, id=info.id, added=created.blocked_by)

    def _update(self, change: Change, item: PlannedIssue) -> Change:
        known = self.tracked[item.key]
        info = self.turn.port.issue(change.number)
        body = self._body(item, known)
        title = shown_title(item.title)
        now = IssueNow(info.title, info.body, info.state)
        if info.title == title and head_hash(info.body) == head_hash(body.text):
            # written by this run already (a job that stopped before saving it)
            self.tracked[item.key] = replace(known, title=info.title, head=head_hash(info.body))
            return replace(change, done=True)
        if person_edited(now, known):  # edited since the preview: propose, never overwrite
            return self._comment(replace(change, op="comment"), item)
        edited = self.turn.port.edit_issue(
            change.number,
            title=item.title if title != info.title else None,
            body=body.text,
            hidden=(body.marker,),
        )
        self.tracked[item.key] = replace(known, title=edited.title, head=head_hash(edited.body))
        return replace(change, done=True, before_title=info.title, before_body=info.body)

    def _comment(self, change: Change, item: PlannedIssue) -> Change:
        port = self.turn.port
        notice = f"sync:{self.run.run_id}:{item.key}"
        me = self.turn.job.identity.lower()
        posted = [
            c.id
            for c in port.comments(change.number)
            if c.author.lower() == me and f"openproducer:notice {notice} " in c.body
        ]
        if not posted:
            text = render_sync_comment(change, spec=self.run.issue, run_id=self.run.run_id)
            hidden = [f"<!-- openproducer:notice {notice} -->"]
            posted = [port.post_comment(change.number, text, hidden=hidden).id]
        return replace(change, done=True, comment=posted[0])

    def _relink(self, change: Change, item: PlannedIssue) -> Change:
        """Add the "blocked by" links the item now has, remove the ones it lost.

        Only the links this run made or removed are recorded (one there already, or already
        gone, is not), so rollback restores exactly the links as they were.
        """
        wanted = list(
            dict.fromkeys(self.links.ids[k] for k in item.depends_on if k in self.links.ids)
        )
        added = [b for b in wanted if b not in change.blockers and self._block(change.number, b)]
        removed = [
            b for b in change.blockers if b not in wanted and self._unblock(change.number, b)
        ]
        before = self._reword_blockers(change, item)
        return replace(
            change, done=True, added=tuple(added), removed=tuple(removed), before_body=before
        )

    def _reword_blockers(self, change: Change, item: PlannedIssue) -> str:
        """The body's "Blocked by #…" line as the links now are, unless a person edited the
        issue; returns the body it replaced ("" when it wrote nothing)."""
        known = self.tracked[item.key]
        info = self.turn.port.issue(change.number)
        body = self._body(item, known)
        if blocked_line(info.body) == blocked_line(body.text):
            return ""  # an update of this run wrote it already, or the line did not change
        if person_edited(IssueNow(info.title, info.body, info.state), known):
            return ""
        edited = self.turn.port.edit_issue(change.number, body=body.text, hidden=(body.marker,))
        self.tracked[item.key] = replace(known, head=head_hash(edited.body))
        return info.body

    def _block(self, number: int, blocker: int) -> bool:
        """Whether this call linked ``number`` as blocked by ``blocker`` (not: already was)."""
        if not self.links.dependencies:
            return False
        try:
            self.turn.port.add_blocked_by(number, blocker)
        except GitHubError as exc:
            if not already_linked(exc):
                self.links.fail_dependencies(exc)
            return False
        return True

    def _unblock(self, number: int, blocker: int) -> bool:
        """Whether this call removed the link (a 404: it was not there, or there is no API)."""
        try:
            self.turn.port.remove_blocked_by(number, blocker)
        except GitHubError as exc:
            if exc.status != 404:
                self.links.notes.add(f"Some “blocked by” links could not be removed: {exc}")
            return False
        return True

    def _close(self, change: Change) -> Change:
        """Close as not planned and take it out of its parent's sub-issues (a closed sub-issue
        would count as done in the parent's progress)."""
        info = self.turn.port.issue(change.number)
        if info.state == "open":
            self.turn.port.close_issue(change.number, reason="not_planned")
        unlinked = 0
        if change.parent and change.id:
            try:
                self.turn.port.remove_sub_issue(change.parent, change.id)
                unlinked = change.parent
            except GitHubError as exc:
                if exc.status != 404:  # a 404: someone unlinked it already
                    raise
        # before_title records the state before: rollback reopens only what this run closed
        return replace(change, done=True, before_title=info.state, parent=unlinked)

    def _body(self, item: PlannedIssue, known: Tracked) -> IssueBody:
        """The body the bot writes for ``item`` in the issue ``known``, marked as the run and
        item that created it."""
        origin_run, _, origin_key = known.origin.partition("/")
        index = next((i for i, p in enumerate(self.plan, start=1) if p.key == item.key), 1)
        return render_issue_body(
            replace(item, key=origin_key or item.key),
            parent=self.run.issue,
            run_id=origin_run or self.run.run_id,
            index=index,
            total=len(self.plan),
            content=content_hash(item),
            blocked_by=[n for n in map(self._number, item.depends_on) if n],
        )

    def _number(self, key: str | None) -> int:
        known = self.tracked.get(key or "")
        return known.number if known else 0


# -- rolling back ----------------------------------------------------------------------------


def roll_back(turn: Turn, run: RunState) -> Outcome:
    """Undo a reconcile: close what it created, restore what it replaced, reopen what it
    closed, delete the comments it posted. Only the newest applied reconcile of a run."""
    if run.status not in APPLIED:
        what = "was already rolled back" if run.status == "rolled_back" else "changed nothing"
        return turn.answer(
            "rollback", "ℹ️ Nothing to roll back", f"Run `{run.run_id}` {what}.", run=run
        )
    newer = [
        r.run_id
        for r in reconcile_runs(turn.thread, run.base)
        if r.status in APPLIED and r.started_at > run.started_at
    ]
    if newer:
        return turn.answer(
            "rollback",
            "ℹ️ Roll back the newer reconcile first",
            f"Run `{newer[-1]}` changed these issues after `{run.run_id}`. Comment "
            f"{code(turn.command_text('rollback', newer[-1]))} first.",
            run=run,
        )
    undo = _Undo(turn, {t.key: t for t in run.tracked})
    for change in reversed(run.changes):
        if change.done:
            undo.revert(change)
    closed = tuple(c.number for c in run.changes if c.op == "create" and c.number in undo.closed)
    run = replace(
        run,
        status="rolled_back",
        closed=closed,
        seq=run.seq + 1,
        updated_at=turn.now_iso(),
        edit_keys=(*run.edit_keys, turn.event.trigger_key),  # a re-delivery finds it done
    )
    text = render_reply(f"↩️ Rolled back run `{run.run_id}`", *undo.report())
    turn.reply(text, hidden=[run_block(turn, run)])
    return Outcome(
        command="rollback", status="rolled_back", run_id=run.run_id, created=closed, summary=text
    )


@dataclasses.dataclass
class _Undo:
    turn: Turn
    tracked: dict[str, Tracked]
    closed: list[int] = dataclasses.field(default_factory=list)
    restored: list[int] = dataclasses.field(default_factory=list)
    reopened: list[int] = dataclasses.field(default_factory=list)
    removed: list[int] = dataclasses.field(default_factory=list)
    relinked: list[int] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)

    def revert(self, change: Change) -> None:
        try:
            getattr(self, f"_{change.op}")(change)
        except GitHubError as exc:
            self.kept.append(f"#{change.number}: {exc}")

    def _create(self, change: Change) -> None:
        port = self.turn.port
        known = self.tracked.get(change.key)
        try:
            for blocker in change.added:
                self._unblock(change.number, blocker)
        except GitHubError as exc:  # it is closed below all the same
            self.turn.log(f"Could not remove a “blocked by” link of #{change.number}: {exc}")
        if known and known.parent:
            try:
                port.remove_sub_issue(known.parent, change.id)
            except GitHubError as exc:
                self.turn.log(f"Could not remove the sub-issue link of #{change.number}: {exc}")
        if port.issue(change.number).state == "open":
            port.close_issue(change.number, reason="not_planned")
        self.closed.append(change.number)

    def _update(self, change: Change) -> None:
        if not change.before_body:
            self.kept.append(f"#{change.number}: its earlier text was not recorded")
            return
        if self._restore_body(change):
            self.restored.append(change.number)

    def _restore_body(self, change: Change) -> bool:
        """The title and body ``change`` replaced, unless a person edited the issue since."""
        known = self.tracked.get(change.key)
        info = self.turn.port.issue(change.number)
        if known is None or person_edited(IssueNow(info.title, info.body), known):
            self.kept.append(f"#{change.number}: edited by a person since, so I left it")
            return False
        text, marker = _split_marker(change.before_body)
        self.turn.port.edit_issue(
            change.number,
            title=change.before_title or None if change.before_title != info.title else None,
            body=text,
            hidden=(render_item_marker(marker),) if marker else (),
        )
        return True

    def _comment(self, change: Change) -> None:
        if change.comment:
            self.turn.port.delete_comment(change.number, change.comment)
            self.removed.append(change.number)

    def _relink(self, change: Change) -> None:
        """The links as they were: remove the ones this run added, add the ones it removed;
        the body's "Blocked by" line as it was, unless a person edited it since."""
        if change.before_body:
            self._restore_body(change)
        for blocker in change.added:
            self._unblock(change.number, blocker)
        for blocker in change.removed:
            try:
                self.turn.port.add_blocked_by(change.number, blocker)
            except GitHubError as exc:
                if not already_linked(exc):
                    raise
        if change.added or change.removed:
            self.relinked.append(change.number)

    def _unblock(self, number: int, blocker: int) -> None:
        try:
            self.turn.port.remove_blocked_by(number, blocker)
        except GitHubError as exc:
            if exc.status != 404:  # a 404: the link is gone already
                raise

    def _close(self, change: Change) -> None:
        if change.before_title == "open":
            self.turn.port.reopen_issue(change.number)
            self.reopened.append(change.number)
        if change.parent and change.id:
            try:
                self.turn.port.add_sub_issue(change.parent, change.id)
            except GitHubError as exc:
                if not already_linked(exc):
                    raise

    def report(self) -> list[str]:
        def listed(title: str, numbers: Sequence[int]) -> str:
            refs = ", ".join(f"#{n}" for n in numbers)
            return f"**{title}** ({len(numbers)}): {refs}" if numbers else ""

        return [
            listed("Closed as not planned (created by this run)", self.closed),
            listed("Title and text restored", self.restored),
            listed("Reopened", self.reopened),
            listed("My comment removed from", self.removed),
            listed("“Blocked by” links restored", self.relinked),
            ("**Left as they are**\n" + "\n".join(f"- {k}" for k in self.kept))
            if self.kept
            else "",
        ]


def _split_marker(body: str) -> tuple[str, ItemMarker | None]:
    """A body as the bot stored it: the text, and its item marker (sent apart, as hidden)."""
    marker = parse_item_marker(body)
    if marker is None:
        return body, None
    return body[: body.rfind("<!-- openproducer:item")].rstrip(), marker
