"""`openproducer demo`: the whole flow against the local GitHub emulator, no token or AI key."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any, TextIO

from openproducer.action import main as action_main
from openproducer.sandbox import GitHubEmulator

DEMO_REPO = "acme/webshop"
DEMO_USER = "alice"
TRIGGER = "@TheOpenProducerBot"
TUNING = ("GITHUB_TIMEOUT", "HOURLY_WRITES", "BACKOFF", "SECONDARY_WAIT")


def event_payload(
    action: str,
    *,
    issue: dict[str, Any],
    repository: dict[str, Any],
    sender: dict[str, Any],
    comment: dict[str, Any] | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A webhook payload as GitHub delivers it, built from the API's own objects.

    With ``template`` (a real delivery), every other key of the delivery is kept as it was.
    """
    payload = copy.deepcopy(template) if template else {}
    payload.update(action=action, issue=issue, repository=repository, sender=sender)
    if comment is not None:
        payload["comment"] = comment
    else:
        payload.pop("comment", None)
    return payload


def action_env(
    emu: GitHubEmulator,
    *,
    event_name: str,
    event_path: str,
    repo: str,
    workdir: str,
    token: str,
    **inputs: str,
) -> dict[str, str]:
    """The environment the Actions runner gives a Docker action, pointed at the emulator."""
    env = {
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": event_path,
        "GITHUB_REPOSITORY": repo,
        "GITHUB_API_URL": emu.base_url,
        "GITHUB_SERVER_URL": emu.server_url,
        "GITHUB_RUN_ID": "1",
        "GITHUB_OUTPUT": os.path.join(workdir, "output.txt"),
        "GITHUB_STEP_SUMMARY": os.path.join(workdir, "summary.md"),
        "INPUT_GITHUB-TOKEN": token,
        "INPUT_AI-PROVIDER": "none",
        "OPENPRODUCER_BACKOFF": "0.05",
        "OPENPRODUCER_SECONDARY_WAIT": "1",
    }
    for name, value in inputs.items():
        knob = name.upper()
        if knob in TUNING:  # not Action inputs: the engine's tuning knobs
            env[f"OPENPRODUCER_{knob}"] = value
        else:
            env[f"INPUT_{knob.replace('_', '-')}"] = value
    return env


def _plain(markdown: str) -> str:
    """A comment as a terminal shows it: hidden blocks out, tags and markup thinned."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    text = re.sub(r"</?(details|summary|sub)[^>]*>", "", text)
    text = text.replace("\u200d", "")
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


STEPS = ("spawn", "confirm", "issue", "status", "rollback")


class _Tour:
    """The demo's repository, its spec issue, and the Action run on each event in turn."""

    def __init__(self, emu: GitHubEmulator, *, workdir: str, out: TextIO) -> None:
        self.emu, self.workdir, self.out = emu, workdir, out
        self.repository = emu.add_repo(DEMO_REPO)
        self.sender = emu.add_user(DEMO_USER)
        emu.set_permission(DEMO_REPO, DEMO_USER, "write")
        self.jobs = 0
        self.step = 0

    def heading(self, title: str) -> None:
        self.step += 1
        print(f"\n{'━' * 72}\nStep {self.step}: {title}\n{'━' * 72}", file=self.out)

    def run(self, event_name: str, payload: dict[str, Any]) -> int:
        """One job of the Action, its log kept out of the tour (it is in the thread anyway)."""
        self.jobs += 1
        path = Path(self.workdir, f"event-{self.jobs}.json")
        path.write_text(json.dumps(payload))
        env = action_env(
            self.emu,
            event_name=event_name,
            event_path=str(path),
            repo=DEMO_REPO,
            workdir=self.workdir,
            token=self.emu.actions_token(),
            rate_limit_per_minute="6000",
        )
        with contextlib.redirect_stdout(io.StringIO()):
            return action_main(env)

    def comment(self, number: int, body: str) -> int:
        print(f"💬 {DEMO_USER}: {body}", file=self.out)
        comment = self.emu.create_comment(DEMO_REPO, number, author=DEMO_USER, body=body)
        payload = event_payload(
            "created",
            issue=self.emu.issue(DEMO_REPO, number),
            repository=self.repository,
            sender=self.sender,
            comment=comment,
        )
        return self.run("issue_comment", payload)

    def show_reply(self, number: int) -> None:
        reply = self.emu.comments(DEMO_REPO, number)[-1]
        print(
            f"\n💬 {reply['user']['login']}:\n" + textwrap.indent(_plain(reply["body"]), "   "),
            file=self.out,
        )


def run_demo(spec_text: str, *, workdir: str, out: TextIO, stop_after: str = "") -> int:
    """A labelled tour: the spec, its preview, confirm, a created issue, status, rollback.

    ``stop_after`` (one of `STEPS`) ends the tour early, e.g. after the spawn for scripts.
    """
    with GitHubEmulator() as emu:
        tour = _Tour(emu, workdir=workdir, out=out)
        body = f"dry_run: true\n{TRIGGER}\n\n{spec_text}"
        issue = emu.create_issue(
            DEMO_REPO, author=DEMO_USER, title="Spec: the next release", body=body
        )
        number = issue["number"]
        print(f"Local GitHub emulator at {emu.base_url}, repository {DEMO_REPO}.", file=out)

        tour.heading(f"{DEMO_USER} opens #{number} with a spec and mentions {TRIGGER}")
        lines = spec_text.strip().splitlines()
        print(
            "\n".join(lines[:8]) + (f"\n… ({len(lines) - 8} more lines)" if len(lines) > 8 else ""),
            file=out,
        )
        print("\n(`dry_run: true` at the top asks for a preview first.)", file=out)
        code = tour.run(
            "issues",
            event_payload("opened", issue=issue, repository=tour.repository, sender=tour.sender),
        )
        tour.show_reply(number)
        if code or stop_after == "spawn":
            return code

        tour.heading(f"Confirm: the previewed plan is created, as sub-issues of #{number}")
        code = tour.comment(number, f"{TRIGGER} confirm")
        tour.show_reply(number)
        created = [i for i in emu.issues(DEMO_REPO) if i["number"] != number]
        print(f"\nIssues created ({len(created)}):", file=out)
        for item in created:
            labels = ", ".join(label["name"] for label in item["labels"])
            print(
                f"  #{item['number']:<4} {item['title']}" + (f"  [{labels}]" if labels else ""),
                file=out,
            )
        if code or stop_after == "confirm" or not created:
            return code

        tour.heading("One created issue in full")
        shown = next((i for i in created if emu.blocked_by(DEMO_REPO, i["number"])), created[0])
        blockers = ", ".join(f"#{b['number']}" for b in emu.blocked_by(DEMO_REPO, shown["number"]))
        labels = ", ".join(label["name"] for label in shown["labels"]) or "none"
        print(f"#{shown['number']} {shown['title']}", file=out)
        print(
            f"   labels: {labels} · sub-issue of #{number} · blocked by: {blockers or 'nothing'}",
            file=out,
        )
        print(textwrap.indent(_plain(shown["body"] or ""), "   "), file=out)
        if stop_after == "issue":
            return 0

        tour.heading("Status: the runs of the issue, rebuilt from the thread alone")
        code = tour.comment(number, f"{TRIGGER} status")
        tour.show_reply(number)
        if code or stop_after == "status":
            return code

        tour.heading("Rollback: the run's issues are closed as not planned, links removed")
        code = tour.comment(number, f"{TRIGGER} rollback last")
        tour.show_reply(number)
        print(f"\nThat was the whole conversation. `{TRIGGER} help` lists every command.", file=out)
        return code
