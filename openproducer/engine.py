"""The pipeline: one method per command, talking to GitHub only through `GitHubPort`.

Runs live in hidden state blocks in the bot's comments (see `state`); every handler rebuilds
them from one pass over the thread, and returns early when its work is already done, so
re-running any event is safe.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from openproducer import GitHubError, PlanError
from openproducer.clock import iso, new_run_id, now, parse_iso, seconds_between
from openproducer.commands import Command, parse_comment, parse_issue_body
from openproducer.config import ACTIONS_BOT_LOGIN, Settings
from openproducer.dedup import body_hash, content_hash, dedup_key
from openproducer.events import Event
from openproducer.github import GitHubPort, IssueInfo
from openproducer.hierarchy import (
    MAX_SUB_ISSUES,
    group_for_sub_issue_limit,
    label_color,
)
from openproducer.model import Plan, PlannedIssue, Spec
from openproducer.recovery import Rebuilt, parse_run_time, runs_from_markers
from openproducer.render import (
    View,
    code,
    issue_head,
    plural,
    render_issue_body,
    render_option_errors,
    render_preview,
    render_reply,
    render_runs_table,
    render_summary,
)
from openproducer.replies import render_help, render_run_issues, render_unknown
from openproducer.safety import Scrubber, find_keywords, neutralize, permission_at_least
from openproducer.spec import parse_spec
from openproducer.state import (
    BotComment,
    CreatedIssue,
    RunState,
    SkippedIssue,
    Thread,
    encode_plan,
    encode_run,
    parse_item_marker,
    read_thread,
)

Planner = Callable[[Spec, int], Plan]
COMMENT_LIMIT = 65_536  # characters; https://docs.github.com/en/rest/issues/comments
COMMENT_BUDGET = 65_000
MAX_SPEC_BYTES = 256 * 1024
PROGRESS_EVERY = 10
# The lease of a creating run: its job saves progress at least every HEARTBEAT seconds and
# stops by itself when it has not managed to for SELF_STOP seconds, so a run whose state was
# not updated for STALE_AFTER has no job left and `confirm` may resume it.
HEARTBEAT = 300.0
SELF_STOP = 1200.0
STALE_AFTER = timedelta(minutes=30)
RATE_RESERVE = 15  # requests kept back so a run that stops can still record where it is
PRIVILEGED = ("spawn", "confirm", "cancel", "rollback")


@dataclass(frozen=True)
class Outcome:
    """What a handled event did: the Action's outputs and step summary come from it."""

    command: str
    status: str
    run_id: str = ""
    created: tuple[int, ...] = ()
    summary: str = ""
    usage: dict[str, Any] = field(default_factory=dict)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, GitHubError) and exc.retryable


class Engine:
    def __init__(
        self,
        *,
        port: GitHubPort,
        settings: Settings,
        planner: Planner,
        log: Callable[[str], None] = print,
        claim_token: str = "",
        backoff: float = 1.0,
        hourly_writes: int = 500,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.port = port
        self.settings = settings
        self.planner = planner
        self.log = log
        self.claim_token = claim_token or new_run_id(now())[-8:]
        self.backoff = backoff
        self.scrubber = scrubber or Scrubber()
        self._identity: str | None = None
        self._assignees: list[str] = []
        self._sender_permission = "none"  # set by the permission check of privileged commands
        self._milestone_number: int | None = None
        self._recent_writes = 0
        self._base_writes = 0
        self.hourly_writes = hourly_writes
        self._started = time.monotonic()
        # plan sha -> comments holding its blocks: plan data is written once per plan.
        self._plan_homes: dict[str, set[int]] = {}

    # -- entry -----------------------------------------------------------------------------

    def handle(self, event: Event) -> Outcome:
        if not event.supported:
            kind = (
                "a pull request comment"
                if event.is_pull_request
                else f"{event.name}.{event.action}"
            )
            return self._ignore(f"Ignoring {kind}: OpenProducer only acts on issues.")
        command = self._parse_command(event)
        if command is None:
            return self._ignore("No trigger in this event; nothing to do.")
        if event.sender_is_bot and event.sender.lower() not in self.settings.allowed_bots:
            return self._ignore(f"Ignoring an event from the bot account {event.sender}.")
        terminal = event.origin == "terminal"  # typed by a person, not written by the bot
        if not terminal and event.sender.lower() == self.identity().lower():
            return self._ignore("Ignoring my own comment or issue.")
        if not terminal:
            self._react(event)
        if command.verb in PRIVILEGED:
            refusal = self._refuse_unless_allowed(event, command)
            if refusal:
                return refusal
        thread = self._read_thread(event.issue_number)
        self._report_tampering(event, thread)
        handler = getattr(self, f"_on_{command.verb}")
        outcome: Outcome = handler(event, command, thread)
        return outcome

    def identity(self) -> str:
        """The bot's login: `bot-login`, else the token's user, else the Actions bot."""
        if self._identity is None:
            self._identity = self.settings.bot_login or self.port.whoami() or ACTIONS_BOT_LOGIN
        return self._identity

    def _parse_command(self, event: Event) -> Command | None:
        if event.name == "issue_comment":
            return parse_comment(event.comment_body, trigger=self.settings.trigger)
        return parse_issue_body(event.issue_body, trigger=self.settings.trigger)

    def _ignore(self, message: str) -> Outcome:
        self.log(message)
        return Outcome(command="none", status="ignored")

    def _react(self, event: Event) -> None:
        try:
            self.port.react(event.issue_number, comment_id=event.comment_id)
        except GitHubError as exc:  # a missing 👀 must not stop the command
            self.log(f"::warning::Could not add the 👀 reaction: {exc}")

    def _refuse_unless_allowed(self, event: Event, command: Command) -> Outcome | None:
        needed = self.settings.allowed_permission
        try:
            self._sender_permission = self.port.permission(event.sender)
        except GitHubError as exc:
            self.log(f"::warning::Permission check failed: {exc}")
            self._sender_permission = "unknown"
        if permission_at_least(self._sender_permission, needed):
            return None
        text = render_reply(
            "🔒 Not allowed",
            f"{code(command.verb)} needs **{needed}** access to this repository; "
            f"{code(event.sender)} has **{self._sender_permission}**. Nothing was changed.",
        )
        self._reply(event, text)
        return Outcome(command=command.verb, status="refused", summary=text)

    # -- thread and replies ----------------------------------------------------------------

    def _read_thread(self, number: int) -> Thread:
        me = self.identity().lower()
        comments = [
            BotComment(c.id, c.body, c.url)
            for c in self.port.comments(number)
            if c.author.lower() == me
        ]
        thread = read_thread(comments, secret=self.settings.state_secret)
        for sha, ids in thread.plan_comments.items():
            self._plan_homes.setdefault(sha, set()).update(ids)
        cutoff = now() - timedelta(hours=1)
        self._recent_writes = sum(
            r.writes
            for r in thread.runs.values()
            if r.updated_at and parse_iso(r.updated_at) > cutoff
        )
        if thread.rejected:
            self.log(
                f"::warning::Ignored {len(thread.rejected)} state block(s) that failed "
                "the integrity check."
            )
        return thread

    def _report_tampering(self, event: Event, thread: Thread) -> None:
        """Blocks that fail the integrity check are ignored, and said so once per comment."""
        fresh = [cid for cid in thread.rejected if f"tamper:{cid}" not in thread.notices]
        if not fresh:
            return
        self._reply(
            event,
            render_reply(
                "⚠️ I ignored state that did not pass its integrity check",
                f"{plural(len(fresh), 'hidden state block')} in my comments here were changed by "
                "someone else or signed with another `state-secret`, so I did not trust them. "
                "Runs recorded there may be missing from `status`.",
            ),
            hidden=[f"<!-- openproducer:notice tamper:{cid} -->" for cid in fresh],
        )

    def _reply(self, event: Event, text: str, hidden: Sequence[str] = ()) -> int:
        """Post ``text`` (cut to fit), then the bot's own hidden blocks, whole."""
        room = COMMENT_LIMIT - sum(len(block) + 2 for block in hidden)
        return self.port.post_comment(event.issue_number, text[:room], hidden=hidden).id

    # -- spawn -----------------------------------------------------------------------------

    def _on_spawn(self, event: Event, command: Command, thread: Thread) -> Outcome:
        text = command.spec_text
        if text is None:  # a bare mention in a comment plans the issue body
            body_command = parse_issue_body(event.issue_body, trigger=self.settings.trigger)
            text = body_command.spec_text if body_command else event.issue_body
        previous = [r for r in thread.runs.values() if r.trigger_key == event.trigger_key]
        if event.action == "edited":
            return self._on_spec_edited(event, text or "", thread, previous)
        if previous:
            return self._on_repeated_event(event, previous[-1], thread)
        return self._start_run(event, text or "", thread)

    def _on_repeated_event(self, event: Event, run: RunState, thread: Thread) -> Outcome:
        """The same event again (GitHub's "Re-run jobs"): finish what the first job started."""
        if run.status in ("creating", "partial"):
            self.log(f"Resuming {run.run_id}: {len(run.created)} issues already created.")
            return self._execute(event, run, thread.plan_for(run), resume=True)
        self.log(f"This event was already handled by {run.run_id} ({run.status}).")
        return Outcome(
            command="spawn",
            status=run.status,
            run_id=run.run_id,
            created=tuple(c.number for c in run.created),
        )

    def _on_spec_edited(
        self, event: Event, text: str, thread: Thread, previous: list[RunState]
    ) -> Outcome:
        if not previous:
            return self._start_run(event, text, thread)
        run = previous[-1]
        spec_hash = body_hash(text)
        if spec_hash == run.spec_hash:
            return self._ignore("The spec did not change; nothing to do.")
        if run.status == "pending":
            return self._replan_preview(event, run, text, thread)
        notice = f"edit:{run.run_id}:{spec_hash}"
        if notice not in thread.notices:
            self._reply(
                event,
                render_reply(
                    "✏️ The spec changed, but this run already happened",
                    f"Run `{run.run_id}` is **{run.status.replace('_', ' ')}**, so I did not "
                    "re-plan it. To plan the edited spec, comment "
                    f"{code(self.settings.trigger)} on this issue (a new run), or roll back first "
                    f"with {code(f'{self.settings.trigger} rollback {run.run_id}')}.",
                ),
                hidden=[f"<!-- openproducer:notice {notice} -->"],
            )
        return Outcome(command="spawn", status=run.status, run_id=run.run_id)

    def _prepare(self, event: Event, text: str) -> tuple[Spec, Plan] | Outcome:
        """Parse and plan, or reply with what is wrong (nothing is created then)."""
        if len(text.encode()) > MAX_SPEC_BYTES:
            return self._fail(
                event,
                "spawn",
                "📏 This spec is too large",
                f"It has {len(text.encode()) // 1024} KB; the limit is "
                f"{MAX_SPEC_BYTES // 1024} KB. Split it over several issues.",
            )
        spec = parse_spec(text, max_issues=self.settings.max_issues)
        if spec.errors:
            reply = render_option_errors(spec.errors, trigger=self.settings.trigger)
            self._reply(event, reply)
            return Outcome(command="spawn", status="invalid", summary=reply)
        try:
            plan = self.planner(spec, self.settings.max_issues)
        except PlanError as exc:
            return self._fail(event, "spawn", "🤔 I could not plan issues from this spec", str(exc))
        return spec, self._shape(self._finish_plan(spec, plan), parent=event.issue_number)

    def _finish_plan(self, spec: Spec, plan: Plan) -> Plan:
        """Apply the option and input labels and the hard cap, whatever the planner did.

        Secrets an AI echoed are scrubbed here, before the plan is hashed, shown or stored.
        """
        scrub = self.scrubber.scrub
        extra = (*spec.options.labels, *self.settings.labels)
        issues = tuple(
            replace(
                i,
                title=scrub(i.title),
                body=scrub(i.body),
                labels=tuple(dict.fromkeys(scrub(label) for label in (*i.labels, *extra))),
                covers=tuple(scrub(c) for c in i.covers),
                group=scrub(i.group) if i.group else i.group,
            )
            for i in plan.issues[: self.settings.max_issues]
        )
        notes = tuple(scrub(note) for note in plan.notes)
        if len(plan.issues) > self.settings.max_issues:
            notes += (
                f"The plan had {len(plan.issues)} issues; only the first "
                f"{self.settings.max_issues} (`max-issues`) are kept.",
            )
        return replace(plan, issues=issues, notes=notes)

    def _shape(self, plan: Plan, *, parent: int) -> Plan:
        """Group the plan under section issues when the parent cannot take it all."""
        if len(plan.issues) <= 1:
            return plan
        try:
            room = MAX_SUB_ISSUES - self.port.sub_issue_count(parent)
        except GitHubError:
            room = MAX_SUB_ISSUES
        issues, note = group_for_sub_issue_limit(plan.issues, room=max(room, 1), parent=parent)
        if note is None:
            return plan
        return replace(plan, issues=issues, notes=(*plan.notes, note))

    def _fail(self, event: Event, verb: str, title: str, message: str) -> Outcome:
        text = render_reply(f"{title}", message, "Nothing was created.")
        self._reply(event, text)
        return Outcome(command=verb, status="failed", summary=text)

    def _start_run(self, event: Event, text: str, thread: Thread) -> Outcome:
        prepared = self._prepare(event, text)
        if isinstance(prepared, Outcome):
            return prepared
        spec, plan = prepared
        started = now()
        run = RunState(
            run_id=new_run_id(started),
            status="pending",
            issue=event.issue_number,
            requester=event.sender,
            started_at=iso(started),
            trigger_key=event.trigger_key,
            updated_at=iso(started),
            seq=1,
            spec_hash=body_hash(text),
            planner=plan.planner,
            options=_options_json(spec),
            reasons=self._preview_reasons(spec, plan),
            notes=plan.notes,
            uncovered=plan.uncovered,
            usage=dataclasses.asdict(plan.usage) if plan.usage else {},
        )
        skipped = self._duplicates(plan.issues, spec, thread)
        redone = [
            r.run_id
            for r in thread.runs.values()
            if r.status == "rolled_back" and r.spec_hash == run.spec_hash
        ]
        if redone:
            run = self._note(
                run,
                f"This redoes run `{redone[-1]}`, which was rolled back; the issues it closed "
                "stay closed and new ones are created.",
            )
        run = replace(run, skipped=tuple(skipped))
        if run.reasons:
            self._post_run(event, run, plan.issues, preview=True)
            self.log(f"Run {run.run_id}: preview of {len(plan.issues)} issues posted.")
            return self._outcome("spawn", run, plan.issues)
        run = replace(run, status="creating", claim=self.claim_token, updated_at=iso(now()))
        comment_id = self._post_run(event, run, plan.issues, preview=False)
        run = replace(run, comment_id=comment_id)
        return self._execute(event, run, plan.issues, resume=False)

    def _replan_preview(self, event: Event, run: RunState, text: str, thread: Thread) -> Outcome:
        prepared = self._prepare(event, text)
        if isinstance(prepared, Outcome):
            return prepared
        spec, plan = prepared
        updated = replace(
            run,
            seq=run.seq + 1,
            updated_at=iso(now()),
            spec_hash=body_hash(text),
            planner=plan.planner,
            options=_options_json(spec),
            reasons=self._preview_reasons(spec, plan),
            notes=plan.notes,
            uncovered=plan.uncovered,
            skipped=tuple(self._duplicates(plan.issues, spec, thread)),
        )
        for comment_id in thread.plan_comments.get(run.plan_sha, ()):
            if comment_id != run.comment_id:
                self.port.delete_comment(event.issue_number, comment_id)
        self._plan_homes.pop(run.plan_sha, None)  # the new plan is written afresh
        if updated.reasons:
            self._write_run(event, updated, plan.issues, preview=True, comment_id=run.comment_id)
            return self._outcome("spawn", updated, plan.issues)
        # The edit removed every reason to confirm: the preview stays, so a person still says go.
        updated = replace(updated, reasons=("The spec was edited after the preview.",))
        self._write_run(event, updated, plan.issues, preview=True, comment_id=run.comment_id)
        return self._outcome("spawn", updated, plan.issues)

    def _preview_reasons(self, spec: Spec, plan: Plan) -> tuple[str, ...]:
        reasons = []
        dry_run = (
            spec.options.dry_run if spec.options.dry_run is not None else self.settings.dry_run
        )
        if dry_run:
            reasons.append("`dry_run` is on: this run only shows the plan.")
        threshold = self.settings.confirmation_threshold
        if len(plan.issues) > threshold:
            reasons.append(
                f"The plan has {len(plan.issues)} issues, more than the confirmation "
                f"threshold of {threshold}."
            )
        texts = [spec.text, *(i.title for i in plan.issues), *(i.body for i in plan.issues)]
        found = find_keywords(texts, self.settings.prohibited_keywords)
        if found:
            reasons.append(
                "The spec or the plan mentions prohibited keywords: "
                + ", ".join(code(word) for word in found)
                + "."
            )
        return tuple(reasons)

    def _duplicates(
        self, plan: Sequence[PlannedIssue], spec: Spec, thread: Thread
    ) -> list[SkippedIssue]:
        """Planned issues that repeat one another or an issue this bot created before.

        Issues a rollback closed do not count: undoing a run and redoing it must work.
        """
        unique_by = spec.options.unique_by
        undone = {n for r in thread.runs.values() if r.status == "rolled_back" for n in r.closed}
        known: dict[str, int | None] = {}
        for issue in self.port.issues_by(self.identity()):
            marker = parse_item_marker(issue.body)
            if issue.number in undone and issue.state == "closed":
                continue
            if marker:
                key = dedup_key(
                    unique_by=unique_by,
                    title=issue.title,
                    content=marker.hash,
                    body=marker.body_hash,
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

    # -- writing run comments --------------------------------------------------------------

    def _post_run(
        self, event: Event, run: RunState, plan: Sequence[PlannedIssue], *, preview: bool
    ) -> int:
        return self._write_run(event, run, plan, preview=preview, comment_id=None)

    def _write_run(
        self,
        event: Event,
        run: RunState,
        plan: Sequence[PlannedIssue],
        *,
        preview: bool,
        comment_id: int | None,
    ) -> int:
        """Post or edit the run's comment: visible text, then the hidden state blocks.

        The plan's data is written once: beside the text when it fits, else in continuation
        comments; a comment written later for the same plan only points to it by its sha.
        """
        visible = self._render_run(run, plan, preview=preview)
        sha, inline = self._plan_blocks(run.run_id, plan, chunk=COMMENT_BUDGET)
        run = replace(run, plan_sha=sha)
        homes = self._plan_homes.setdefault(sha, set())
        room = COMMENT_BUDGET - len(visible) - len(self._run_block(run)) - 100
        continuation: list[str] = []
        if homes - {comment_id}:
            inline = []  # stored in another comment already
        elif sum(len(b) for b in inline) > room:
            _, continuation = self._plan_blocks(run.run_id, plan, chunk=60_000)
            inline = []
        hidden = [*inline, self._run_block(run)]
        if comment_id:
            self.port.edit_comment(event.issue_number, comment_id, visible, hidden=hidden)
        else:
            comment_id = self.port.post_comment(event.issue_number, visible, hidden=hidden).id
        if inline:
            homes.add(comment_id)
        for index, block in enumerate(continuation, start=1):
            posted = self.port.post_comment(
                event.issue_number,
                (
                    f"<sub>📦 Plan data for run `{run.run_id}` "
                    f"(part {index} of {len(continuation)}), kept by OpenProducer so "
                    "`confirm`, `status` and `rollback` work. Please leave this comment as it "
                    "is.</sub>"
                ),
                hidden=[block],
            )
            homes.add(posted.id)
        return comment_id

    def _run_block(self, run: RunState) -> str:
        return encode_run(run, secret=self.settings.state_secret, scrub=self.scrubber.scrub)

    def _plan_blocks(
        self, run_id: str, plan: Sequence[PlannedIssue], *, chunk: int
    ) -> tuple[str, list[str]]:
        secret = self.settings.state_secret
        return encode_plan(run_id, plan, secret=secret, chunk=chunk, scrub=self.scrubber.scrub)

    def _render_run(self, run: RunState, plan: Sequence[PlannedIssue], *, preview: bool) -> str:
        view = View(
            trigger=self.settings.trigger, plan=plan, elapsed=time.monotonic() - self._started
        )
        if preview:
            skipped = {s.key: s.reason for s in run.skipped}
            return render_preview(run, view, skipped=skipped)
        return render_summary(run, view)

    def _outcome(self, verb: str, run: RunState, plan: Sequence[PlannedIssue]) -> Outcome:
        return Outcome(
            command=verb,
            status=run.status,
            run_id=run.run_id,
            created=tuple(c.number for c in run.created),
            summary=self._render_run(run, plan, preview=run.status == "pending"),
            usage=run.usage,
        )

    # -- creating issues -------------------------------------------------------------------

    def _execute(
        self, event: Event, run: RunState, plan: Sequence[PlannedIssue], *, resume: bool
    ) -> Outcome:
        """Create every planned issue not yet created, exactly once, then write the summary."""
        if not plan:
            return self._fail(
                event,
                "spawn",
                "❌ The plan of this run could not be read back",
                f"Run `{run.run_id}` has no readable plan in this thread.",
            )
        run = replace(run, status="creating")
        self._base_writes = run.writes - self.port.writes
        marked = self._find_marked(run) if resume else {}
        run = self._prepare_fields(run, plan)
        links = _Links(
            numbers={c.key: c.number for c in run.created},
            ids={c.key: c.id for c in run.created},
            milestone=self._milestone_number,
        )
        done = run.created_keys | {s.key for s in run.skipped}
        budget = self._write_budget()
        saved = time.monotonic()  # when the run's state was last written
        stopped = False  # stopped early for a reason `confirm` can resume from
        for index, item in enumerate(plan, start=1):
            if item.key in done:
                continue
            reason = self._stop_reason(run, item, budget=budget, saved=saved)
            if reason:
                run, stopped = self._note(run, reason), True
                break
            try:
                found = marked.get(item.key)
                info = found or self._create(run, item, index=index, total=len(plan), links=links)
            except GitHubError as exc:
                if exc.status in (403, 429) or exc.retryable:
                    run = self._note(
                        run,
                        f"GitHub stopped accepting new issues ({exc}). Comment "
                        f"`{self._confirm_command(run)}` later to create the rest.",
                    )
                    stopped = True
                    break
                failed = SkippedIssue(item.key, item.title, str(exc))
                run = replace(run, failed=(*run.failed, failed))
                continue
            record = self._link(run, item, info, links)
            run = replace(run, created=(*run.created, record))
            if len(run.created) % PROGRESS_EVERY == 0 or time.monotonic() - saved > HEARTBEAT:
                run = self._checkpoint(event, run, plan)
                saved = time.monotonic()
        run = replace(run, notes=run.notes + tuple(links.notes))
        remaining = len(plan) - len(run.created) - len(run.skipped)
        resumable = run.created or stopped
        status = "completed" if remaining == 0 else ("partial" if resumable else "failed")
        run = replace(run, status=status, finished_at=iso(now()))
        run = self._checkpoint(event, run, plan)
        self.log(f"Run {run.run_id}: {status}, created {len(run.created)} of {len(plan)} planned.")
        return self._outcome("spawn", run, plan)

    def _stop_reason(
        self, run: RunState, item: PlannedIssue, *, budget: int, saved: float
    ) -> str | None:
        """Why the run must stop before creating ``item`` (then `confirm` resumes it), if so."""
        confirm = self._confirm_command(run)
        needed = 2 + len(item.depends_on)
        if self.port.writes + needed > budget:
            return (
                "GitHub allows about 500 writes an hour; this run used its share. "
                f"Comment `{confirm}` in an hour to create the rest."
            )
        left, reset = self.port.rate_left()
        if left < RATE_RESERVE + needed:
            at = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
            return (
                f"This token has {left} GitHub requests left this hour, so I stopped while I "
                f"could still record the run. The limit resets at {at}; comment `{confirm}` "
                "after that to create the rest."
            )
        if time.monotonic() - saved > SELF_STOP:
            return (
                f"I could not save this run's progress for {int(SELF_STOP // 60)} minutes, so I "
                f"stopped to stay safe. Comment `{confirm}` to create the rest."
            )
        return None

    def _confirm_command(self, run: RunState) -> str:
        return f"{self.settings.trigger} confirm {run.run_id}"

    @staticmethod
    def _note(run: RunState, note: str) -> RunState:
        return replace(run, notes=(*run.notes, note))

    def _write_budget(self) -> int:
        """Writes this job may make: GitHub's hourly guidance less this thread's recent use.

        Runs record their writes in their state, so the budget holds across jobs of one issue
        (not across issues: the thread is all the bot reads).
        https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
        """
        return self.hourly_writes - self._recent_writes

    def _prepare_fields(self, run: RunState, plan: Sequence[PlannedIssue]) -> RunState:
        """Pace, milestone, assignees and labels: checked once before the first issue."""
        pace = run.options.get("rate_limit_per_minute")
        if pace and int(pace) < self.port.writes_per_minute:
            self.port.set_pace(int(pace))
        self._milestone_number, notes = self._milestone(run)
        assignees = [str(a) for a in run.options.get("assignees", ())]
        valid = [a for a in assignees if self._assignable(a)]
        if len(valid) < len(assignees):
            bad = ", ".join(code(a) for a in assignees if a not in valid)
            notes += (f"Not assignable in this repository, so left out: {bad}.",)
        self._assignees = valid
        notes += self._ensure_labels(plan)
        return replace(run, notes=run.notes + notes)

    def _assignable(self, login: str) -> bool:
        try:
            return self.port.is_assignable(login)
        except GitHubError:
            return False

    def _ensure_labels(self, plan: Sequence[PlannedIssue]) -> tuple[str, ...]:
        """Create missing labels with a colour (GitHub would create them grey)."""
        wanted = {label.casefold(): label for issue in plan for label in issue.labels}
        if not wanted:
            return ()
        try:
            existing = self.port.label_names()  # one listing, not one per label
            missing = [name for key, name in wanted.items() if key not in existing]
            for name in missing:
                self.port.create_label(name, label_color(name))
        except GitHubError as exc:
            return (f"Could not create the labels beforehand ({exc}); GitHub adds them grey.",)
        return ()

    def _link(
        self, run: RunState, item: PlannedIssue, info: IssueInfo, links: _Links
    ) -> CreatedIssue:
        """Make the issue a sub-issue and add its "blocked by" links; degrade on a 404."""
        links.numbers[item.key] = info.number
        links.ids[item.key] = info.id
        parent = links.numbers.get(item.parent_key or "", run.issue)
        linked_parent = 0
        if links.sub_issues:
            try:
                self.port.add_sub_issue(parent, info.id)
                linked_parent = parent
            except GitHubError as exc:
                if _already_linked(exc):  # a resumed run re-meets its own link
                    linked_parent = parent
                else:
                    links.fail_sub_issues(exc)
        blocked: list[int] = []
        for dep in item.depends_on:
            if dep in links.ids and links.dependencies:
                try:
                    self.port.add_blocked_by(info.number, links.ids[dep])
                    blocked.append(links.ids[dep])
                except GitHubError as exc:
                    if _already_linked(exc):
                        blocked.append(links.ids[dep])
                    else:
                        links.fail_dependencies(exc)
        return CreatedIssue(
            item.key,
            info.number,
            info.id,
            item.title,
            content_hash(item),
            linked_parent,
            tuple(blocked),
        )

    def _checkpoint(self, event: Event, run: RunState, plan: Sequence[PlannedIssue]) -> RunState:
        writes = self._base_writes + self.port.writes + 1
        run = replace(run, seq=run.seq + 1, updated_at=iso(now()), writes=writes)
        self._write_run(event, run, plan, preview=False, comment_id=run.comment_id or None)
        return run

    def _create(
        self, run: RunState, item: PlannedIssue, *, index: int, total: int, links: _Links
    ) -> IssueInfo:
        """Create one issue; after a failure that may have reached GitHub, look before retrying.

        A 422 naming an optional field (assignees, milestone, type) is retried without it.
        """
        blocked_by = [links.numbers[k] for k in item.depends_on if k in links.numbers]
        body = render_issue_body(
            item,
            parent=run.issue,
            run_id=run.run_id,
            index=index,
            total=total,
            blocked_by=blocked_by,
            content=content_hash(item),
        )
        fields: dict[str, Any] = {
            "assignees": self._assignees,
            "milestone": links.milestone,
            "issue_type": run.options.get("issue_type"),
        }
        for attempt in Retrying(
            stop=stop_after_attempt(4),
            reraise=True,
            wait=wait_exponential_jitter(initial=self.backoff, max=30 * self.backoff),
            retry=retry_if_exception(_retryable),
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    found = self._find_marked(run).get(item.key)
                    if found:
                        return found
                try:
                    return self.port.create_issue(
                        title=item.title,
                        body=body.text,
                        hidden=(body.marker,),
                        labels=item.labels,
                        **fields,
                    )
                except GitHubError as exc:
                    dropped = _drop_named_field(exc, fields)
                    if not dropped:
                        raise
                    links.notes.add(
                        f"GitHub refused the {dropped} (“{exc}”); issues were created without it."
                    )
                    return self.port.create_issue(
                        title=item.title,
                        body=body.text,
                        hidden=(body.marker,),
                        labels=item.labels,
                        **fields,
                    )
        raise AssertionError("unreachable")  # pragma: no cover

    def _rebuilt(self, event: Event, thread: Thread, run_id: str = "") -> dict[str, Rebuilt]:
        """Runs of this issue that only their issues' markers still record.

        With ``run_id``, only the bot's issues created since that run started are listed.
        """
        since = ""
        if run_id:
            started = parse_run_time(run_id)
            if started is None:
                return {}
            since = iso(started - timedelta(minutes=5))
        issues = self.port.issues_by(self.identity(), since=since)
        found = runs_from_markers(issues, parent=event.issue_number, known=thread.runs)
        return {k: v for k, v in found.items() if not run_id or k == run_id}

    def _find_marked(self, run: RunState) -> dict[str, IssueInfo]:
        """The bot's issues that carry this run's marker, by plan key (the source of truth)."""
        since = iso(parse_iso(run.started_at) - timedelta(minutes=5))
        found: dict[str, IssueInfo] = {}
        for issue in self.port.issues_by(self.identity(), since=since):
            marker = parse_item_marker(issue.body)
            if marker and marker.run_id == run.run_id:
                found.setdefault(marker.key, issue)
        return found

    def _milestone(self, run: RunState) -> tuple[int | None, tuple[str, ...]]:
        name = run.options.get("milestone")
        if not name:
            return None, ()
        number = self.port.milestone_number(str(name))
        if number is None:
            return None, (f"There is no milestone “{name}”; the issues were created without one.",)
        return number, ()

    # -- confirm / cancel ------------------------------------------------------------------

    def _pick_run(
        self, event: Event, verb: str, command: Command, thread: Thread
    ) -> RunState | Outcome:
        wanted = command.argument.split()[0] if command.argument else ""
        if wanted:
            run = thread.runs.get(wanted)
            if run is None:
                return self._answer(
                    event,
                    verb,
                    "🔎 No such run",
                    f"I found no run {code(wanted[:40])} in this issue. "
                    f"Comment {code(f'{self.settings.trigger} status')} to list them.",
                )
            return run
        pending = [r for r in thread.runs.values() if r.status in ("pending", "partial")]
        # Nothing pending: answer about the newest run ("already created", "cancelled", ...).
        pending = pending or list(thread.runs.values())[-1:]
        if not pending:
            return self._answer(
                event,
                verb,
                "🤷 Nothing is waiting for confirmation",
                f"Comment {code(f'{self.settings.trigger} status')} to see the runs.",
            )
        return pending[-1]

    def _answer(
        self, event: Event, verb: str, title: str, *lines: str, run: RunState | None = None
    ) -> Outcome:
        text = render_reply(title, *lines)
        self._reply(event, text)
        return Outcome(
            command=verb,
            status=run.status if run else "ok",
            run_id=run.run_id if run else "",
            summary=text,
            created=tuple(c.number for c in run.created) if run else (),
        )

    def _may_decide(self, event: Event, run: RunState) -> bool:
        """Only the requester, or someone with maintain or admin, confirms or cancels a run."""
        if event.sender.lower() == run.requester.lower():
            return True
        return permission_at_least(self._sender_permission, "maintain")

    def _on_confirm(self, event: Event, command: Command, thread: Thread) -> Outcome:
        picked = self._pick_run(event, "confirm", command, thread)
        if isinstance(picked, Outcome):
            return picked
        run = picked
        blocked = self._decision_blocked(event, "confirm", run)
        if blocked:
            return blocked
        plan = thread.plan_for(run)
        claimed = replace(
            run,
            status="creating",
            seq=run.seq + 1,
            claim=self.claim_token,
            updated_at=iso(now()),
            requester=run.requester,
        )
        comment_id = self._post_run(event, claimed, plan, preview=False)
        if not self._won_claim(event, claimed, comment_id):
            self.port.delete_comment(event.issue_number, comment_id)
            self.log(f"Another job is already creating {run.run_id}; leaving it to that job.")
            return Outcome(command="confirm", status="creating", run_id=run.run_id)
        claimed = replace(claimed, comment_id=comment_id)
        if run.status == "creating":
            claimed = self._note(
                claimed,
                f"Resumed by {code(event.sender)}: the job creating this run stopped without "
                f"finishing (no progress since {_clock_time(run.updated_at)}).",
            )
        resume = run.status in ("partial", "creating")
        outcome = self._execute(event, claimed, plan, resume=resume)
        return replace(outcome, command="confirm")

    def _decision_blocked(self, event: Event, verb: str, run: RunState) -> Outcome | None:
        messages = {
            "cancelled": f"Run `{run.run_id}` was cancelled, so nothing will be created. "
            f"Mention me again to plan a new run.",
            "completed": f"Run `{run.run_id}` already created its issues.",
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
                f"{code(f'{self.settings.trigger} rollback {run.run_id}')}."
            )
        if verb == "confirm" and _stale(run):
            del messages["creating"]  # its job is gone: this confirm takes it over
        if run.status in messages:
            link = f" ([run comment]({run.comment_url}))" if run.comment_url else ""
            return self._answer(
                event, verb, f"ℹ️ Nothing to {verb}", messages[run.status] + link, run=run
            )
        if not self._may_decide(event, run):
            return self._answer(
                event,
                verb,
                "🔒 Not allowed",
                f"Only {code(run.requester)}, who asked for run `{run.run_id}`, or "
                "someone with maintain or admin access can "
                f"{verb} it. Nothing was changed.",
                run=run,
            )
        return None

    def _won_claim(self, event: Event, claimed: RunState, comment_id: int) -> bool:
        """Re-read the thread: of the jobs that claimed this step, the first comment wins."""
        contenders = [comment_id]
        me = self.identity().lower()
        for comment in self.port.comments(event.issue_number):
            if comment.author.lower() != me or claimed.run_id not in comment.body:
                continue
            runs = read_thread(
                [BotComment(comment.id, comment.body)], secret=self.settings.state_secret
            ).runs
            other = runs.get(claimed.run_id)
            if other and other.seq == claimed.seq and other.status == "creating":
                contenders.append(comment.id)
        return min(contenders) == comment_id

    def _on_cancel(self, event: Event, command: Command, thread: Thread) -> Outcome:
        picked = self._pick_run(event, "cancel", command, thread)
        if isinstance(picked, Outcome):
            return picked
        blocked = self._decision_blocked(event, "cancel", picked)
        if blocked:
            return blocked
        run = replace(picked, status="cancelled", seq=picked.seq + 1, finished_at=iso(now()))
        text = render_reply(
            "🚫 Cancelled", f"Run `{run.run_id}` is cancelled; nothing was created."
        )
        self._reply(event, text, hidden=[self._run_block(run)])
        return Outcome(command="cancel", status="cancelled", run_id=run.run_id, summary=text)

    # -- status / rollback / help ----------------------------------------------------------

    def _on_status(self, event: Event, command: Command, thread: Thread) -> Outcome:
        runs = list(thread.runs.values())
        wanted = command.argument.split()[0] if command.argument else ""
        if wanted:
            run = thread.runs.get(wanted)
            if run is None:
                again = self._rebuilt(event, thread, wanted).get(wanted)
                run = again.run if again else None
            if run is None:
                return self._answer(
                    event,
                    "status",
                    "🔎 No such run",
                    f"I found no run {code(wanted[:40])} in this issue.",
                )
            live = self._find_marked(run)
            text = render_run_issues(run, live)
            if run.run_id not in thread.runs:
                text += f"\n\n> ℹ️ {run.notes[0]}"
            self._reply(event, text)
            return Outcome(
                command="status",
                status=run.status,
                run_id=run.run_id,
                summary=text,
                created=tuple(c.number for c in run.created),
            )
        rebuilt = self._rebuilt(event, thread)
        runs = sorted([*runs, *(r.run for r in rebuilt.values())], key=lambda r: r.started_at)
        if not runs:
            return self._answer(
                event,
                "status",
                "📋 No runs yet",
                f"Mention {code(self.settings.trigger)} in an issue with a spec.",
            )
        planned = {r.run_id: len(thread.plan_for(r)) for r in runs}
        planned.update({run_id: r.planned for run_id, r in rebuilt.items()})
        text = render_reply(
            f"📋 Runs in this issue ({len(runs)})",
            render_runs_table(runs, planned=planned),
            (
                f"ℹ️ I rebuilt {plural(len(rebuilt), 'run')} ("
                + ", ".join(f"`{run_id}`" for run_id in rebuilt)
                + ") from the markers of the issues they created: their state comments are gone."
            )
            if rebuilt
            else "",
        )
        self._reply(event, text)
        return Outcome(command="status", status="ok", summary=text)

    def _on_rollback(self, event: Event, command: Command, thread: Thread) -> Outcome:
        wanted = (command.argument.split() or ["last"])[0]
        if wanted == "last":
            candidates = [
                r for r in thread.runs.values() if set(c.number for c in r.created) - set(r.closed)
            ]
            if not candidates:  # the state comments may be gone: the markers still tell
                rebuilt = self._rebuilt(event, thread).values()
                candidates = sorted(
                    (r.run for r in rebuilt if r.run.status != "rolled_back"),
                    key=lambda r: r.started_at,
                )
            if not candidates:
                return self._answer(
                    event,
                    "rollback",
                    "🤷 Nothing left to roll back",
                    "No run in this issue has open issues that I created.",
                )
            run = candidates[-1]
        else:
            found = thread.runs.get(wanted)
            if found is None:
                again = self._rebuilt(event, thread, wanted).get(wanted)
                found = again.run if again else None
            if found is None:
                return self._answer(
                    event,
                    "rollback",
                    "🔎 No such run",
                    f"I found no run {code(wanted[:40])} in this issue.",
                )
            run = found
        if not set(c.number for c in run.created) - set(run.closed):
            what = "was already rolled back" if run.status == "rolled_back" else "created no issues"
            return self._answer(
                event, "rollback", "ℹ️ Nothing to roll back", f"Run `{run.run_id}` {what}.", run=run
            )
        return self._roll_back(event, run)

    def _roll_back(self, event: Event, run: RunState) -> Outcome:
        live = self._find_marked(run)
        closed, active, refused, already = [], [], [], []
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
            unlinked += self._unlink(created)
            if info.state == "closed":
                already.append(created)
                continue
            try:
                self.port.close_issue(info.number, reason="not_planned")
            except GitHubError as exc:
                refused.append(replace(created, title=f"{created.title} ({exc})"))
                continue
            closed.append(created)
        numbers = tuple(sorted({*run.closed, *(c.number for c in closed + already)}))
        run = replace(
            run, status="rolled_back", closed=numbers, seq=run.seq + 1, updated_at=iso(now())
        )
        text = render_reply(
            f"↩️ Rolled back run `{run.run_id}`",
            f"ℹ️ {run.notes[0]}" if not run.comment_id and run.notes else "",
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
        self._reply(event, text, hidden=[self._run_block(run)])
        return Outcome(
            command="rollback",
            status="rolled_back",
            run_id=run.run_id,
            created=tuple(c.number for c in closed),
            summary=text,
        )

    def _unlink(self, created: CreatedIssue) -> int:
        """Remove the sub-issue and "blocked by" links a run made; missing ones are fine."""
        steps: list[Callable[[], None]] = [
            functools.partial(self.port.remove_blocked_by, created.number, blocker)
            for blocker in created.blocked_by
        ]
        if created.parent:
            steps.append(functools.partial(self.port.remove_sub_issue, created.parent, created.id))
        removed = 0
        for step in steps:
            try:
                step()
                removed += 1
            except GitHubError as exc:
                self.log(f"Could not remove a link of #{created.number}: {exc}")
        return removed

    def _on_help(self, event: Event, command: Command, thread: Thread) -> Outcome:
        text = render_help(self.settings)
        self._reply(event, text)
        return Outcome(command="help", status="ok", summary=text)

    def _on_unknown(self, event: Event, command: Command, thread: Thread) -> Outcome:
        text = render_unknown(command.argument, trigger=self.settings.trigger)
        self._reply(event, text)
        return Outcome(command="unknown", status="ok", summary=text)


def _stale(run: RunState) -> bool:
    """A creating run whose job is gone: no progress for longer than the lease allows."""
    if run.status != "creating" or not run.updated_at:
        return False
    return now() - parse_iso(run.updated_at) > STALE_AFTER


def _clock_time(moment: str, later: timedelta = timedelta(0)) -> str:
    return (parse_iso(moment) + later).strftime("%H:%M UTC")


def _already_linked(exc: GitHubError) -> bool:
    """GitHub's 422 for a link that exists: linking again is then a success, not a failure.

    https://docs.github.com/en/rest/issues/sub-issues#add-sub-issue and
    https://docs.github.com/en/rest/issues/issue-dependencies
    """
    text = str(exc).lower()
    return exc.status == 422 and ("duplicate sub-issues" in text or "already blocked by" in text)


def _drop_named_field(exc: GitHubError, fields: dict[str, Any]) -> str:
    """On a 422 naming an optional field that was sent, clear it and return its name."""
    if exc.status != 422:
        return ""
    text = str(exc).lower()
    for name, word in (
        ("assignees", "assignee"),
        ("milestone", "milestone"),
        ("issue_type", "type"),
    ):
        if fields.get(name) and word in text:
            fields[name] = [] if name == "assignees" else None
            return name.replace("_", " ")
    return ""


@dataclass
class _Links:
    """What one job knows while creating: numbers and ids by plan key, what GitHub supports."""

    numbers: dict[str, int]
    ids: dict[str, int]
    milestone: int | None = None
    sub_issues: bool = True
    dependencies: bool = True
    notes: set[str] = field(default_factory=set)

    def fail_sub_issues(self, exc: GitHubError) -> None:
        if exc.status == 404:
            self.sub_issues = False
            self.notes.add(
                "This GitHub has no sub-issues API, so the issues link to the spec "
                "in their bodies and are listed here instead."
            )
        else:
            self.notes.add(f"Some issues could not be added as sub-issues: {exc}")

    def fail_dependencies(self, exc: GitHubError) -> None:
        if exc.status == 404:
            self.dependencies = False
            self.notes.add(
                "This GitHub has no issue-dependencies API, so “Blocked by” is only "
                "written in the issue bodies."
            )
        else:
            self.notes.add(f"Some “blocked by” links could not be added: {exc}")


def _has_activity(info: IssueInfo, created: CreatedIssue) -> bool:
    marker = parse_item_marker(info.body)
    edited = marker is not None and body_hash(issue_head(info.body)) != marker.body_hash
    return info.comments > 0 or edited or info.title != created.title


def _issue_list(title: str, issues: Sequence[CreatedIssue]) -> str:
    if not issues:
        return ""
    return f"**{title}** ({len(issues)}): " + ", ".join(f"#{c.number}" for c in issues)


def _item_dedup_key(item: PlannedIssue, unique_by: Any) -> str:
    return dedup_key(
        unique_by=unique_by,
        title=item.title,
        content=content_hash(item),
        body=body_hash(neutralize(item.body.strip())),
    )


def _options_json(spec: Spec) -> dict[str, Any]:
    data = dataclasses.asdict(spec.options)
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in data.items()
        if v not in (None, (), "")
    }


__all__ = ["Engine", "Outcome", "seconds_between"]
