"""What the benchmarks share: open a spec issue on the emulator and run the Action on it."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from openproducer.action import main as action_main
from openproducer.demo import action_env, event_payload
from openproducer.sandbox import GitHubEmulator

AUTHOR = "alice"


def add_repo(emu: GitHubEmulator, repo: str) -> dict[str, Any]:
    """The repository (its webhook JSON), with its author allowed to start runs."""
    repository = emu.add_repo(repo)
    emu.add_user(AUTHOR)
    emu.set_permission(repo, AUTHOR, "write")
    return repository


def spawn(
    emu: GitHubEmulator, repository: dict[str, Any], *, body: str, workdir: str, **inputs: str
) -> None:
    """Open an issue with ``body`` and run the Action on its `issues.opened` event, counting
    only the Action's own requests."""
    repo = str(repository["full_name"])
    issue = emu.create_issue(repo, author=AUTHOR, title="Spec", body=body)
    payload = event_payload(
        "opened", issue=issue, repository=repository, sender=emu.add_user(AUTHOR)
    )
    path = Path(workdir, "event.json")
    path.write_text(json.dumps(payload))
    env = action_env(
        emu,
        event_name="issues",
        event_path=str(path),
        repo=repo,
        workdir=workdir,
        token=emu.actions_token(),
        **inputs,
    )
    emu.reset_requests()
    with contextlib.redirect_stdout(io.StringIO()):
        code = action_main(env)
    if code != 0:
        raise SystemExit(f"the Action failed with exit code {code}")
