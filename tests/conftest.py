"""Shared fakes: the local GitHub emulator and a harness that runs the Action on real payloads."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from openproducer.action import main as action_main
from openproducer.demo import action_env, event_payload
from openproducer.sandbox import GitHubEmulator

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REPO = "octo-org/specs"
BOT = "github-actions[bot]"
TRIGGER = "@TheOpenProducerBot"


def webhook(name: str) -> dict[str, Any]:
    """A real delivery from GitHub's documentation, e.g. ``issues.opened.1``."""
    loaded: dict[str, Any] = json.loads((DATA / "webhooks" / f"{name}.json").read_text())
    return loaded


@dataclass
class Result:
    code: int
    outputs: dict[str, str]
    summary: str
    log: str

    @property
    def created(self) -> list[int]:
        return list(json.loads(self.outputs.get("created-issues", "[]")))


def _read_outputs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    text = path.read_text()
    return {
        m.group(1): m.group(3)
        for m in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, flags=re.S | re.M)
    }


@dataclass
class Harness:
    """One repository on the emulator, and the Action run on events as the runner does."""

    emu: GitHubEmulator
    tmp: Path
    repo: str = REPO
    inputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # more runner variables, e.g. GITHUB_ACTIONS
    token: str = ""
    runs: int = 0

    def __post_init__(self) -> None:
        self.repository = self.emu.add_repo(self.repo)
        self.token = self.token or self.emu.actions_token()

    def user(self, login: str, permission: str = "write") -> dict[str, Any]:
        user = self.emu.add_user(login)
        self.emu.set_permission(self.repo, login, permission)
        return user

    def run(
        self, event_name: str, payload: dict[str, Any], *, subprocess_: bool = False, **inputs: str
    ) -> Result:
        self.runs += 1
        workdir = self.tmp / f"job{self.runs}"
        workdir.mkdir()
        path = workdir / "event.json"
        path.write_text(json.dumps(payload))
        env = action_env(
            self.emu,
            event_name=event_name,
            event_path=str(path),
            repo=self.repo,
            workdir=str(workdir),
            token=self.token,
            **{"rate_limit_per_minute": "100000", **self.inputs, **inputs},
        )
        env["OPENPRODUCER_AI_CACHE_DIR"] = str(self.tmp / "ai-cache")
        env.update(self.env)
        if subprocess_:
            proc = subprocess.run(
                [sys.executable, "entrypoint.py"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            code, log = proc.returncode, proc.stdout + proc.stderr
        else:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = action_main(env)
            log = buffer.getvalue()
        summary = workdir / "summary.md"
        return Result(
            code,
            _read_outputs(workdir / "output.txt"),
            summary.read_text() if summary.exists() else "",
            log,
        )

    # -- events --------------------------------------------------------------------------

    def open_issue(
        self, body: str, *, author: str = "alice", title: str = "Spec", **inputs: str
    ) -> tuple[dict[str, Any], Result]:
        issue = self.emu.create_issue(self.repo, author=author, title=title, body=body)
        payload = event_payload(
            "opened",
            issue=issue,
            repository=self.repository,
            sender=self.emu.add_user(author),
            template=webhook("issues.opened.1"),
        )
        return issue, self.run("issues", payload, **inputs)

    def edit_issue(self, number: int, body: str, *, sender: str = "alice", **inputs: str) -> Result:
        issue = self.emu.edit_issue(self.repo, number, body=body)
        payload = event_payload(
            "edited",
            issue=issue,
            repository=self.repository,
            sender=self.emu.add_user(sender),
            template=webhook("issues.edited.1"),
        )
        return self.run("issues", payload, **inputs)

    def comment(self, number: int, body: str, *, author: str = "alice", **inputs: str) -> Result:
        comment = self.emu.create_comment(self.repo, number, author=author, body=body)
        payload = event_payload(
            "created",
            issue=self.emu.issue(self.repo, number),
            repository=self.repository,
            sender=self.emu.add_user(author),
            comment=comment,
            template=webhook("issue_comment.created.1"),
        )
        return self.run("issue_comment", payload, **inputs)

    # -- what landed ---------------------------------------------------------------------

    def created(self, parent: int) -> list[dict[str, Any]]:
        return [
            i
            for i in self.emu.issues(self.repo)
            if i["user"]["login"] == BOT and re.search(rf"Part of #{parent}\b", i["body"] or "")
        ]

    def bot_comments(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.emu.comments(self.repo, number) if c["user"]["login"] == BOT]

    def last_reply(self, number: int) -> str:
        return str(self.bot_comments(number)[-1]["body"])


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as emu:
        yield emu


@pytest.fixture
def gh(emulator: GitHubEmulator, tmp_path: Path) -> Harness:
    harness = Harness(emulator, tmp_path)
    harness.user("alice", "write")
    return harness
