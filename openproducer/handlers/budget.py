"""The hourly write budget, shared by every run of the bot in the repository.

GitHub allows about 500 content-creating requests an hour (and 80 a minute):
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits

Two large runs in different issues of one hour must not both assume the full budget, so before
creating, a run counts what the bot wrote in the repository in the last hour from what GitHub
tells cheaply: one listing of the repository's recent comments (the bot's run comments carry
each run's signed write count) and one of the bot's recent issues (an issue of no known run
counts as one write). It counts again at each progress save (`Budget.refreshed`), so a run in
another issue that writes meanwhile is seen within 30 seconds. The bot's reactions and a run's
writes older than its last update are not seen; GitHub's own limit still holds, and a run
refused by it stops as partial.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openproducer import GitHubError
from openproducer.clock import iso, parse_iso
from openproducer.handlers.turn import Turn
from openproducer.state import BotComment, RunState, parse_item_marker, read_thread

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Spent:
    """Writes the bot made, counted as made at ``at`` (a run's: at its last update)."""

    at: datetime
    writes: int


@dataclass(frozen=True)
class Budget:
    """Write requests this job may make: the hourly budget less the bot's use in the last hour.

    ``spent`` excludes this job's writes, which the port counts as it goes.
    """

    hourly: int
    spent: tuple[Spent, ...]
    recorded: int  # writes the run had recorded before this job, less the port's count then
    run_id: str = ""
    own: tuple[Spent, ...] = ()  # the run's writes before this job, if in the last hour

    @classmethod
    def for_run(cls, turn: Turn, run: RunState) -> Budget:
        moment = turn.clock.now()
        own = run.writes and _after(run.updated_at, moment - HOUR)
        return cls(
            hourly=turn.job.hourly_writes,
            spent=tuple(recent_spending(turn, moment, exclude=run.run_id)),
            recorded=run.writes - turn.port.writes,
            run_id=run.run_id,
            own=(Spent(parse_iso(run.updated_at), run.writes),) if own else (),
        )

    def refreshed(self, turn: Turn) -> Budget:
        """The budget with the bot's other writes counted again: a run in another issue may
        have written since this job began (two large runs of one hour)."""
        spent = recent_spending(turn, turn.clock.now(), exclude=self.run_id)
        return replace(self, spent=tuple(spent))

    @property
    def limit(self) -> int:
        """Writes this job may make in all."""
        return self.hourly - sum(s.writes for s in (*self.spent, *self.own))

    def writes(self, turn: Turn) -> int:
        """What the run has written in all, this job included."""
        return self.recorded + turn.port.writes

    def resumes_at(self, moment: datetime, *, used: int, needed: int) -> datetime:
        """When ``needed`` more writes fit again, this job having made ``used`` at ``moment``."""
        spending = sorted([*self.spent, *self.own, Spent(moment, used)], key=lambda s: s.at)
        for index, entry in enumerate(spending):
            later = sum(s.writes for s in spending[index + 1 :])
            if later + needed <= self.hourly:
                return max(entry.at + HOUR, moment)
        return moment + HOUR


def recent_spending(turn: Turn, moment: datetime, *, exclude: str = "") -> list[Spent]:
    """The bot's writes in the repository in the hour before ``moment``, this thread included;
    not those of run ``exclude`` (its own job counts them as it goes)."""
    cutoff = moment - HOUR
    runs = dict(turn.thread.runs)
    me = turn.job.identity.lower()
    spent: list[Spent] = []
    try:
        comments = [c for c in turn.port.comments_since(iso(cutoff)) if c.author.lower() == me]
        issues = turn.port.issues_by(turn.job.identity, since=iso(cutoff))
    except GitHubError as exc:
        turn.log(f"Counting the hourly budget from this issue only: {exc}.")
        comments, issues = [], []
    for comment in comments:
        block = [BotComment(comment.id, comment.body)]
        found = read_thread(block, secret=turn.settings.state_secret)
        for run in found.runs.values():
            if run.run_id not in runs or run.seq > runs[run.run_id].seq:
                runs[run.run_id] = run
        if not found.runs and _after(comment.created_at, cutoff):
            spent.append(Spent(parse_iso(comment.created_at), 1))  # a reply: one write
    for run in runs.values():
        if run.run_id != exclude and run.writes and _after(run.updated_at, cutoff):
            spent.append(Spent(parse_iso(run.updated_at), run.writes))
    for issue in issues:
        marker = parse_item_marker(issue.body)
        known = marker is not None and (marker.run_id in runs or marker.run_id == exclude)
        if _after(issue.created_at, cutoff) and not known:
            spent.append(Spent(parse_iso(issue.created_at), 1))
    return spent


def _after(stamp: str, cutoff: datetime) -> bool:
    return bool(stamp) and parse_iso(stamp) > cutoff
