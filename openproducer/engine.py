"""The dispatcher: guards, then one handler per command (see `handlers/`).

Runs live in hidden state blocks in the bot's comments (see `state`); every handler gets them
from one pass over the thread, and returns early when its work is already done, so re-running
any event is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from openproducer import GitHubError
from openproducer.clock import Clock, SystemClock, new_run_id
from openproducer.commands import Command, parse_comment, parse_issue_body
from openproducer.config import ACTIONS_BOT_LOGIN, Settings
from openproducer.events import Event
from openproducer.handlers import decide, edit, rollback, spawn, status, sync
from openproducer.handlers.turn import Job, Log, Outcome, PlanHomes, Planner, Turn
from openproducer.ports import GitHub
from openproducer.render import code, plural, render_reply
from openproducer.safety import Scrubber, permission_at_least
from openproducer.state import BotComment, Thread, read_thread

Handler = Callable[[Turn], Outcome]

# verb -> (handler, whether the sender needs `allowed-permission`). A new command is a module in
# `handlers/`, a row here, and a row in the help table (`replies.render_help`).
COMMANDS: dict[str, tuple[Handler, bool]] = {
    "spawn": (spawn.spawn, True),
    "confirm": (decide.confirm, True),
    "cancel": (decide.cancel, True),
    "rollback": (rollback.rollback, True),
    "sync": (sync.sync, True),
    **{verb: (edit.edit_plan, True) for verb in ("drop", "merge", "rename", "add", "edit")},
    "status": (status.status, False),
    "help": (status.help_, False),
    "unknown": (status.unknown, False),
}
# After the 👀, how the command ended, on the command itself: 🚀 done, 👍 answered, 😕 failed.
FINAL_REACTIONS = {
    "completed": "rocket",
    "rolled_back": "+1",
    "cancelled": "+1",
    "pending": "+1",
    "ok": "+1",
    "failed": "confused",
    "refused": "confused",
    "invalid": "confused",
}
COMMENT_VERBS = tuple(v for v in COMMANDS if v not in ("spawn", "unknown"))


class Engine:
    """Handles one event at a time for one repository."""

    def __init__(
        self,
        *,
        port: GitHub,
        settings: Settings,
        planner: Planner,
        log: Log = print,
        claim_token: str = "",
        backoff: float = 1.0,
        hourly_writes: int = 500,
        scrubber: Scrubber | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.port = port
        self.settings = settings
        self.planner = planner
        self.log = log
        self.clock = clock or SystemClock()
        self.claim_token = claim_token or new_run_id(self.clock.now())[-8:]
        self.backoff = backoff
        self.hourly_writes = hourly_writes
        self.scrubber = scrubber or Scrubber()
        self.started = self.clock.monotonic()
        self.homes = PlanHomes()

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
        job = self._job()
        terminal = event.origin == "terminal"  # typed by a person, not written by the bot
        if not terminal and event.sender.lower() == job.identity.lower():
            return self._ignore("Ignoring my own comment or issue.")
        if not terminal:
            self._react(event)
        handler, privileged = COMMANDS[command.verb]
        permission = "none"
        if privileged:
            permission = self._permission(event.sender)
            if not permission_at_least(permission, self.settings.allowed_permission):
                refused = self._refuse(event, command, permission)
                if not terminal:
                    self._react(event, FINAL_REACTIONS[refused.status])
                return refused
        thread = self._read_thread(job, event.issue_number)
        turn = Turn(job=job, event=event, command=command, thread=thread, permission=permission)
        _report_tampering(turn)
        try:
            outcome = handler(turn)
        except Exception:
            if not terminal:
                self._react(event, "confused")
            raise
        if not terminal and outcome.status in FINAL_REACTIONS:
            self._react(event, FINAL_REACTIONS[outcome.status])
        return outcome

    def _job(self) -> Job:
        identity = self.settings.bot_login or self.port.whoami() or ACTIONS_BOT_LOGIN
        return Job(
            port=self.port,
            settings=self.settings,
            planner=self.planner,
            log=self.log,
            clock=self.clock,
            identity=identity,
            claim_token=self.claim_token,
            scrubber=self.scrubber,
            started=self.started,
            homes=self.homes,
            backoff=self.backoff,
            hourly_writes=self.hourly_writes,
        )

    def _parse_command(self, event: Event) -> Command | None:
        trigger = self.settings.trigger
        if event.name == "issue_comment":
            return parse_comment(event.comment_body, trigger=trigger, verbs=COMMENT_VERBS)
        return parse_issue_body(event.issue_body, trigger=trigger)

    def _ignore(self, message: str) -> Outcome:
        self.log(message)
        return Outcome(command="none", status="ignored")

    def _react(self, event: Event, content: str = "eyes") -> None:
        try:
            self.port.react(event.issue_number, comment_id=event.comment_id, content=content)
        except GitHubError as exc:  # a missing reaction must not stop the command
            self.log(f"::warning title=OpenProducer::Could not add the {content} reaction: {exc}")

    def _permission(self, login: str) -> str:
        try:
            return self.port.permission(login)
        except GitHubError as exc:
            self.log(f"::warning title=OpenProducer::Permission check failed: {exc}")
            return "unknown"

    def _refuse(self, event: Event, command: Command, permission: str) -> Outcome:
        text = render_reply(
            "🔒 Not allowed",
            f"{code(command.verb)} needs **{self.settings.allowed_permission}** access to this "
            f"repository; {code(event.sender)} has **{permission}**. Nothing was changed.",
        )
        self.port.post_comment(event.issue_number, text)
        return Outcome(command=command.verb, status="refused", summary=text)

    def _read_thread(self, job: Job, number: int) -> Thread:
        me = job.identity.lower()
        comments = [
            BotComment(c.id, c.body, c.url)
            for c in self.port.comments(number)
            if c.author.lower() == me
        ]
        thread = read_thread(comments, secret=self.settings.state_secret)
        self.homes.seed(thread)
        if thread.rejected:
            self.log(
                f"::warning title=OpenProducer::Ignored {len(thread.rejected)} state block(s) "
                "that failed the integrity check."
            )
        return thread


def _report_tampering(turn: Turn) -> None:
    """Blocks that fail the integrity check are ignored, and said so once per comment."""
    thread = turn.thread
    fresh = [cid for cid in thread.rejected if f"tamper:{cid}" not in thread.notices]
    if not fresh:
        return
    turn.reply(
        render_reply(
            "⚠️ I ignored state that did not pass its integrity check",
            f"{plural(len(fresh), 'hidden state block')} in my comments here were changed by "
            "someone else or signed with another `state-secret`, so I did not trust them. "
            "Runs recorded there may be missing from `status`.",
        ),
        hidden=[f"<!-- openproducer:notice tamper:{cid} -->" for cid in fresh],
    )
