"""`openproducer demo`: the whole flow against the local GitHub emulator, no token or AI key."""

from __future__ import annotations

import copy
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


def run_demo(spec_text: str, *, workdir: str, out: TextIO) -> int:
    with GitHubEmulator() as emu:
        repository = emu.add_repo(DEMO_REPO)
        sender = emu.add_user(DEMO_USER)
        emu.set_permission(DEMO_REPO, DEMO_USER, "write")
        body = f"{TRIGGER} please turn this spec into issues.\n\n{spec_text}"
        issue = emu.create_issue(
            DEMO_REPO, author=DEMO_USER, title="Spec: the next release", body=body
        )
        path = Path(workdir, "event.json")
        path.write_text(
            json.dumps(event_payload("opened", issue=issue, repository=repository, sender=sender))
        )
        print(f"Local GitHub emulator at {emu.base_url}", file=out)
        print(
            f"{DEMO_USER} opened #{issue['number']} “{issue['title']}” mentioning "
            f"{TRIGGER}; running the Action on the issues.opened event…\n",
            file=out,
        )
        env = action_env(
            emu,
            event_name="issues",
            event_path=str(path),
            repo=DEMO_REPO,
            workdir=workdir,
            token=emu.actions_token(),
            rate_limit_per_minute="6000",
        )
        code = action_main(env)
        print("\n" + "=" * 72 + f"\nThread of #{issue['number']}\n" + "=" * 72, file=out)
        for comment in emu.comments(DEMO_REPO, issue["number"]):
            print(
                f"\n💬 {comment['user']['login']}:\n"
                + textwrap.indent(_plain(comment["body"]), "   "),
                file=out,
            )
        created = [i for i in emu.issues(DEMO_REPO) if i["number"] != issue["number"]]
        print("\n" + "=" * 72 + f"\nIssues created ({len(created)})\n" + "=" * 72, file=out)
        for item in created:
            labels = ", ".join(label["name"] for label in item["labels"])
            print(
                f"#{item['number']:<4} {item['title']}" + (f"  [{labels}]" if labels else ""),
                file=out,
            )
        return code
