"""One command's world: the frozen `Turn` every handler receives, and what handlers share.

A `Job` holds what stays the same for every command one Action job handles (the GitHub port,
the settings, the planner, the clock, the bot's identity); a `Turn` adds the event, the parsed
command, the thread as read once, and the sender's permission. Handlers are functions of a
`Turn` that return an `Outcome`; state passes as arguments and return values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from openproducer.clock import Clock, iso
from openproducer.commands import Command
from openproducer.config import Settings
from openproducer.events import Event
from openproducer.model import Plan, Spec
from openproducer.ports import GitHub
from openproducer.recovery import Rebuilt, parse_run_time, runs_from_markers
from openproducer.render import code, command_text, render_reply
from openproducer.safety import Scrubber
from openproducer.state import RunState, Thread

Planner = Callable[[Spec, int], Plan]
Log = Callable[[str], None]
COMMENT_LIMIT = 65_536  # characters; https://docs.github.com/en/rest/issues/comments


@dataclass(frozen=True)
class Outcome:
    """What a handled event did: the Action's outputs and step summary come from it."""

    command: str
    status: str
    run_id: str = ""
    created: tuple[int, ...] = ()
    summary: str = ""
    usage: dict[str, Any] = field(default_factory=dict)


class PlanHomes:
    """Which comments hold each plan's data (by plan sha), so a plan is written only once.

    Seeded from the thread, then kept up to date by this job's own writes.
    """

    def __init__(self) -> None:
        self._homes: dict[str, set[int]] = {}

    def seed(self, thread: Thread) -> None:
        for sha, ids in thread.plan_comments.items():
            self._homes.setdefault(sha, set()).update(ids)

    def elsewhere(self, sha: str, comment_id: int | None) -> bool:
        """Whether the plan is stored in a comment other than ``comment_id``."""
        return bool(self._homes.get(sha, set()) - {comment_id})

    def add(self, sha: str, comment_id: int) -> None:
        self._homes.setdefault(sha, set()).add(comment_id)

    def forget(self, sha: str) -> None:
        self._homes.pop(sha, None)


@dataclass(frozen=True)
class Job:
    """What every command of one job shares."""

    port: GitHub
    settings: Settings
    planner: Planner
    log: Log
    clock: Clock
    identity: str  # the bot's login: its comments hold the state
    claim_token: str  # names this job when it claims a run
    scrubber: Scrubber
    started: float  # the clock's monotonic time when the job began
    homes: PlanHomes
    backoff: float = 1.0
    hourly_writes: int = 500


@dataclass(frozen=True)
class Turn:
    """One event being handled."""

    job: Job
    event: Event
    command: Command
    thread: Thread
    permission: str = "none"  # the sender's, when the command needed checking

    @property
    def port(self) -> GitHub:
        return self.job.port

    @property
    def settings(self) -> Settings:
        return self.job.settings

    @property
    def clock(self) -> Clock:
        return self.job.clock

    def log(self, message: str) -> None:
        self.job.log(message)

    def command_text(self, verb: str, argument: str = "") -> str:
        return command_text(self.settings.trigger, verb, argument)

    def now_iso(self) -> str:
        return iso(self.clock.now())

    # -- replying ------------------------------------------------------------------------

    def reply(self, text: str, hidden: Sequence[str] = ()) -> int:
        """Post ``text`` (cut to fit), then the bot's own hidden blocks, whole."""
        room = COMMENT_LIMIT - sum(len(block) + 2 for block in hidden)
        return self.port.post_comment(self.event.issue_number, text[:room], hidden=hidden).id

    def answer(self, verb: str, title: str, *lines: str, run: RunState | None = None) -> Outcome:
        text = render_reply(title, *lines)
        self.reply(text)
        return Outcome(
            command=verb,
            status=run.status if run else "ok",
            run_id=run.run_id if run else "",
            summary=text,
            created=tuple(c.number for c in run.created) if run else (),
        )

    def fail(self, verb: str, title: str, message: str) -> Outcome:
        text = render_reply(title, message, "Nothing was created.")
        self.reply(text)
        return Outcome(command=verb, status="failed", summary=text)

    def ignore(self, message: str) -> Outcome:
        self.log(message)
        return Outcome(command="none", status="ignored")

    # -- finding runs ----------------------------------------------------------------------

    def find_run(self, verb: str, wanted: str) -> RunState | Outcome:
        """The run named ``wanted``: from the thread, else rebuilt from its issues' markers."""
        run = self.thread.runs.get(wanted)
        if run is None:
            rebuilt = self.rebuilt(wanted).get(wanted)
            run = rebuilt.run if rebuilt else None
        if run is not None:
            return run
        return self.answer(
            verb,
            "🔎 No such run",
            f"I found no run {code(wanted[:40])} in this issue. "
            f"Comment {code(self.command_text('status'))} to list them.",
        )

    def rebuilt(self, run_id: str = "") -> dict[str, Rebuilt]:
        """Runs of this issue that only their issues' markers still record.

        With ``run_id``, only the bot's issues created since that run started are listed.
        """
        since = ""
        if run_id:
            started = parse_run_time(run_id)
            if started is None:
                return {}
            since = iso(started - timedelta(minutes=5))
        issues = self.port.issues_by(self.job.identity, since=since)
        found = runs_from_markers(issues, parent=self.event.issue_number, known=self.thread.runs)
        return {k: v for k, v in found.items() if not run_id or k == run_id}


def note(run: RunState, text: str) -> RunState:
    return replace(run, notes=(*run.notes, text))


def first_word(command: Command) -> str:
    return command.argument.split()[0] if command.argument else ""
