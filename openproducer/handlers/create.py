"""The creation loop: each planned issue exactly once, linked, with progress saved as it goes.

Writes are paced by the port (one a second by default, GitHub's documented pace). A run can
stop early and be resumed by `confirm`: before the hourly write budget (`budget.Budget`) or
the token's primary rate limit runs out, and when it could not save progress for too long.
Progress is saved every PROGRESS_SECONDS and at the end, not per issue. Its lease: a job that
could not save for SELF_STOP seconds stops by itself, so a run whose state was not updated for
STALE_AFTER has no job left (see `decide.confirm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from openproducer import GitHubError
from openproducer.clock import iso, parse_iso
from openproducer.dedup import content_hash
from openproducer.handlers.budget import Budget
from openproducer.handlers.runs import run_outcome, write_run
from openproducer.handlers.turn import Outcome, Turn, note
from openproducer.hierarchy import label_color
from openproducer.model import PlannedIssue
from openproducer.ports import IssueInfo, NodeIds
from openproducer.render import IssueBody, code, render_issue_body
from openproducer.state import CreatedIssue, RunState, SkippedIssue, parse_item_marker

PROGRESS_SECONDS = 30.0
SELF_STOP = 1200.0
STALE_AFTER = timedelta(minutes=30)
RATE_RESERVE = 15  # requests kept back so a run that stops can still record where it is


@dataclass(frozen=True)
class Fields:
    """Per-run fields of every issue, checked once before the first one."""

    assignees: tuple[str, ...] = ()
    milestone: int | None = None


def execute(
    turn: Turn, run: RunState, plan: Sequence[PlannedIssue], *, resume: bool, verb: str = "spawn"
) -> Outcome:
    """Create every planned issue not yet created, exactly once, then write the summary."""
    if not plan:
        return turn.fail(
            verb,
            "❌ The plan of this run could not be read back",
            f"Run `{run.run_id}` has no readable plan in this thread.",
        )
    run = replace(run, status="creating")
    budget = Budget.for_run(turn, run)
    marked = find_marked(turn, run) if resume else {}
    run, fields = prepare_fields(turn, run, plan)
    links = Links(
        numbers={c.key: c.number for c in run.created},
        ids={c.key: c.id for c in run.created},
        graph=graph_ids(turn, run, plan, fields),
    )
    done = run.created_keys | {s.key for s in run.skipped}
    saved = turn.clock.monotonic()  # when the run's state was last written
    stopped = False  # stopped early for a reason `confirm` can resume from
    for index, item in enumerate(plan, start=1):
        if item.key in done:
            continue
        reason = _stop_reason(turn, run, item, budget=budget, saved=saved, links=links)
        if reason:
            run, stopped = note(run, reason), True
            break
        try:
            found = marked.get(item.key)
            info, parented = (
                (found, False)
                if found
                else create_issue(
                    turn, run, item, index=index, total=len(plan), links=links, fields=fields
                )
            )
        except GitHubError as exc:
            if exc.status in (403, 429) or worth_retrying(exc):
                run = note(
                    run,
                    f"GitHub stopped accepting new issues ({exc}). Comment "
                    f"`{turn.command_text('confirm', run.run_id)}` later to create the rest.",
                )
                stopped = True
                break
            run = replace(run, failed=(*run.failed, SkippedIssue(item.key, item.title, str(exc))))
            continue
        linked = link_issue(turn, run, item, info, links, parented=parented)
        run = replace(run, created=(*run.created, linked))
        if turn.clock.monotonic() - saved >= PROGRESS_SECONDS:
            run = checkpoint(turn, run, plan, budget)
            budget, saved = budget.refreshed(turn), turn.clock.monotonic()
    run = replace(run, notes=run.notes + tuple(links.notes))
    remaining = len(plan) - len(run.created) - len(run.skipped)
    resumable = run.created or stopped
    status = "completed" if remaining == 0 else ("partial" if resumable else "failed")
    run = replace(run, status=status, finished_at=turn.now_iso())
    run = checkpoint(turn, run, plan, budget)
    turn.log(f"Run {run.run_id}: {status}, created {len(run.created)} of {len(plan)} planned.")
    return run_outcome(turn, verb, run, plan)


def checkpoint(turn: Turn, run: RunState, plan: Sequence[PlannedIssue], budget: Budget) -> RunState:
    """Save the run's progress in its own comment (this write counted too)."""
    run = replace(run, seq=run.seq + 1, updated_at=turn.now_iso(), writes=budget.writes(turn) + 1)
    write_run(turn, run, plan, preview=False, comment_id=run.comment_id or None)
    return run


def find_marked(turn: Turn, run: RunState) -> dict[str, IssueInfo]:
    """The bot's issues that carry this run's marker, by plan key (the source of truth)."""
    since = iso(parse_iso(run.started_at) - timedelta(minutes=5))
    found: dict[str, IssueInfo] = {}
    for issue in turn.port.issues_by(turn.job.identity, since=since):
        marker = parse_item_marker(issue.body)
        if marker and marker.run_id == run.run_id:
            found.setdefault(marker.key, issue)
    return found


def _stop_reason(
    turn: Turn, run: RunState, item: PlannedIssue, *, budget: Budget, saved: float, links: Links
) -> str | None:
    """Why the run must stop before creating ``item`` (then `confirm` resumes it), if so."""
    needed = (1 if links.graph else 2) + len(item.depends_on)
    return stop_reason(turn, run, needed=needed, budget=budget, saved=saved)


def stop_reason(
    turn: Turn,
    run: RunState,
    *,
    needed: int,
    budget: Budget,
    saved: float,
    rest: str = "create the rest",
) -> str | None:
    """Why the run must stop before its next ``needed`` writes (`confirm` does ``rest``)."""
    confirm = turn.command_text("confirm", run.run_id)
    if turn.port.writes + needed > budget.limit:
        moment = turn.clock.now()
        at = budget.resumes_at(moment, used=turn.port.writes, needed=needed)
        minutes = max(1, round((at - moment).total_seconds() / 60))
        return (
            f"GitHub allows about {budget.hourly} content-creating requests an hour, and I "
            f"made {budget.hourly - budget.limit + turn.port.writes} in this repository in the "
            f"last hour, so I stopped. Comment `{confirm}` after {at:%H:%M} UTC (in about "
            f"{minutes} min) to {rest}."
        )
    left, reset = turn.port.rate_left()
    if left < RATE_RESERVE + needed:
        resets = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
        return (
            f"This token has {left} GitHub requests left this hour, so I stopped while I "
            f"could still record the run. The limit resets at {resets}; comment `{confirm}` "
            f"after that to {rest}."
        )
    if turn.clock.monotonic() - saved > SELF_STOP:
        return (
            f"I could not save this run's progress for {int(SELF_STOP // 60)} minutes, so I "
            f"stopped to stay safe. Comment `{confirm}` to {rest}."
        )
    return None


def prepare_fields(
    turn: Turn, run: RunState, plan: Sequence[PlannedIssue]
) -> tuple[RunState, Fields]:
    """Pace, milestone, assignees and labels: checked once before the first issue."""
    apply_pace(turn, run)
    milestone, notes = _milestone(turn, run)
    assignees = [str(a) for a in run.options.get("assignees", ())]
    valid = tuple(a for a in assignees if _assignable(turn, a))
    if len(valid) < len(assignees):
        bad = ", ".join(code(a) for a in assignees if a not in valid)
        notes += (f"Not assignable in this repository, so left out: {bad}.",)
    notes += _ensure_labels(turn, plan)
    return replace(run, notes=run.notes + notes), Fields(valid, milestone)


def apply_pace(turn: Turn, run: RunState) -> None:
    """The run's `rate_limit_per_minute`, when it is slower than the port's pace."""
    pace = run.options.get("rate_limit_per_minute")
    if pace and int(pace) < turn.port.writes_per_minute:
        turn.port.set_pace(int(pace))


def _milestone(turn: Turn, run: RunState) -> tuple[int | None, tuple[str, ...]]:
    name = run.options.get("milestone")
    if not name:
        return None, ()
    number = turn.port.milestone_number(str(name))
    if number is None:
        return None, (f"There is no milestone “{name}”; the issues were created without one.",)
    return number, ()


def _assignable(turn: Turn, login: str) -> bool:
    try:
        return turn.port.is_assignable(login)
    except GitHubError:
        return False


def _ensure_labels(turn: Turn, plan: Sequence[PlannedIssue]) -> tuple[str, ...]:
    """Create missing labels with a colour (GitHub would create them grey)."""
    wanted = {label.casefold(): label for issue in plan for label in issue.labels}
    if not wanted:
        return ()
    try:
        existing = turn.port.label_names()  # one listing, not one per label
        for key, name in wanted.items():
            if key not in existing:
                turn.port.create_label(name, label_color(name))
    except GitHubError as exc:
        return (f"Could not create the labels beforehand ({exc}); GitHub adds them grey.",)
    return ()


def graph_ids(
    turn: Turn,
    run: RunState,
    plan: Sequence[PlannedIssue],
    fields: Fields,
    *,
    known: Mapping[str, int] | None = None,
) -> NodeIds | None:
    """The GraphQL ids for creating each issue as a sub-issue in one request, or None for
    REST's create-then-link; decided once per run, with one log line.

    ``known``: the issue numbers of plan keys that exist already (default: the run's created
    issues), for parents outside ``plan``.
    GraphQL's `createIssue` takes `parentIssueId` but no issue type, and creates no label.
    https://docs.github.com/en/graphql/reference/mutations#createissue
    """
    labels = list({label.casefold(): label for i in plan for label in i.labels}.values())
    parents = {i.parent_key for i in plan if i.parent_key}
    if known is None:
        known = {c.key: c.number for c in run.created}
    numbers = [run.issue, *(n for key, n in known.items() if key in parents and n)]
    why = "issue types are set through REST only" if run.options.get("issue_type") else ""
    try:
        ids = (
            None
            if why
            else turn.port.node_ids(
                numbers=numbers, labels=labels, logins=fields.assignees, milestone=fields.milestone
            )
        )
    except GitHubError as exc:
        why = f"GraphQL is not available ({exc})"
        ids = None
    if ids is not None:
        why = _missing_ids(ids, run=run, labels=labels, fields=fields)
    if ids is None or why:
        turn.log(f"Creating issues with REST, then linking them: {why}.")
        return None
    turn.log("Creating each issue as a sub-issue in one GraphQL request.")
    return ids


def _missing_ids(ids: NodeIds, *, run: RunState, labels: Sequence[str], fields: Fields) -> str:
    """Why these ids cannot create the run's issues, or "" when they can."""
    if not ids.parent_field:
        return "this GitHub's createIssue has no parentIssueId"
    missing = [f"#{run.issue}"] if run.issue not in ids.issues else []
    missing += [name for name in labels if name.casefold() not in ids.labels]
    missing += [login for login in fields.assignees if login.lower() not in ids.users]
    if fields.milestone is not None and not ids.milestone:
        missing.append("the milestone")
    return f"no GraphQL id for {', '.join(missing)}" if missing else ""


def create_issue(
    turn: Turn,
    run: RunState,
    item: PlannedIssue,
    *,
    index: int,
    total: int,
    links: Links,
    fields: Fields,
) -> tuple[IssueInfo, bool]:
    """Create one issue; after a failure that may have reached GitHub, look before retrying.

    With GraphQL ids the issue is created as a sub-issue already (then True); a parent that
    cannot take it (GitHub's 100 sub-issues) gets it created with REST, to be linked after.
    A 422 naming an optional field (assignees, milestone, type) is retried without it.
    """
    body = render_issue_body(
        item,
        parent=run.issue,
        run_id=run.run_id,
        index=index,
        total=total,
        blocked_by=[links.numbers[k] for k in item.depends_on if k in links.numbers],
        content=content_hash(item),
    )
    optional: dict[str, Any] = {
        "assignees": list(fields.assignees),
        "milestone": fields.milestone,
        "issue_type": run.options.get("issue_type"),
    }

    def send() -> tuple[IssueInfo, bool]:
        parent = _parent_node(run, item, links)
        if links.graph and parent:
            try:
                return _send_graph(turn, links.graph, parent, item, body, optional), True
            except GitHubError as exc:
                if exc.status != 422 or "sub-issue" not in str(exc).lower():
                    raise
        info = turn.port.create_issue(
            title=item.title, body=body.text, hidden=(body.marker,), labels=item.labels, **optional
        )
        return info, False

    backoff = turn.job.backoff
    for attempt in Retrying(
        stop=stop_after_attempt(4),
        reraise=True,
        wait=wait_exponential_jitter(initial=backoff, max=30 * backoff),
        retry=retry_if_exception(worth_retrying),
    ):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                found = find_marked(turn, run).get(item.key)
                if found:  # linked or not: `link_issue` meets an existing link as done
                    return found, False
            try:
                return send()
            except GitHubError as exc:
                dropped = _drop_named_field(exc, optional)
                if not dropped:
                    raise
                links.notes.add(
                    f"GitHub refused the {dropped} (“{exc}”); issues were created without it."
                )
                return send()
    raise AssertionError("unreachable")  # pragma: no cover


def _parent_node(run: RunState, item: PlannedIssue, links: Links) -> str:
    """The GraphQL id of the issue ``item`` goes under, "" when unknown."""
    if links.graph is None:
        return ""
    number = links.numbers.get(item.parent_key or "", run.issue)
    return links.nodes.get(item.parent_key or "") or links.graph.issues.get(number, "")


def _send_graph(
    turn: Turn,
    ids: NodeIds,
    parent: str,
    item: PlannedIssue,
    body: IssueBody,
    optional: dict[str, Any],
) -> IssueInfo:
    return turn.port.create_sub_issue(
        repository_id=ids.repository,
        parent_id=parent,
        title=item.title,
        body=body.text,
        hidden=(body.marker,),
        label_ids=[ids.labels[label.casefold()] for label in item.labels],
        assignee_ids=[ids.users[login.lower()] for login in optional["assignees"]],
        milestone_id=ids.milestone if optional["milestone"] is not None else None,
    )


def link_issue(
    turn: Turn,
    run: RunState,
    item: PlannedIssue,
    info: IssueInfo,
    links: Links,
    *,
    parented: bool = False,
) -> CreatedIssue:
    """Make the issue a sub-issue (unless created as one) and add its "blocked by" links;
    degrade on a 404."""
    links.numbers[item.key] = info.number
    links.ids[item.key] = info.id
    if info.node_id:
        links.nodes[item.key] = info.node_id
    parent = links.numbers.get(item.parent_key or "", run.issue)
    linked_parent = parent if parented else 0
    if links.sub_issues and not parented:
        try:
            turn.port.add_sub_issue(parent, info.id)
            linked_parent = parent
        except GitHubError as exc:
            if already_linked(exc):  # a resumed run re-meets its own link
                linked_parent = parent
            else:
                links.fail_sub_issues(exc)
    blocked: list[int] = []
    for dep in item.depends_on:
        if dep in links.ids and links.dependencies:
            try:
                turn.port.add_blocked_by(info.number, links.ids[dep])
                blocked.append(links.ids[dep])
            except GitHubError as exc:
                if already_linked(exc):
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


def worth_retrying(exc: BaseException) -> bool:
    """A GitHub failure that may pass on a second try: GitHub's side (5xx) or the network.

    The adapter only translates errors (a transport failure has no status); this decides.
    """
    return isinstance(exc, GitHubError) and (exc.status is None or exc.status >= 500)


def already_linked(exc: GitHubError) -> bool:
    """GitHub's 422 for a link that exists already: the link is there, which is the goal.

    https://docs.github.com/en/rest/issues/sub-issues#add-sub-issue and
    https://docs.github.com/en/rest/issues/issue-dependencies
    """
    text = str(exc).lower()
    return exc.status == 422 and ("duplicate sub-issues" in text or "already blocked by" in text)


def _drop_named_field(exc: GitHubError, optional: dict[str, Any]) -> str:
    """On a 422 naming an optional field that was sent, clear it and return its name."""
    if exc.status != 422:
        return ""
    text = str(exc).lower()
    for name, word in (
        ("assignees", "assignee"),
        ("milestone", "milestone"),
        ("issue_type", "type"),
    ):
        if optional.get(name) and word in text:
            optional[name] = [] if name == "assignees" else None
            return name.replace("_", " ")
    return ""


@dataclass
class Links:
    """What one job learns while creating: numbers and ids by plan key, what GitHub supports."""

    numbers: dict[str, int]
    ids: dict[str, int]
    graph: NodeIds | None = None  # GraphQL ids: each issue is created as a sub-issue at once
    nodes: dict[str, str] = field(default_factory=dict)  # GraphQL ids by plan key
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
